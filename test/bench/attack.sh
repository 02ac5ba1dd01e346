#!/usr/bin/env bash
# Can load on the HTTP API take acmedns's DNS down? The API and DNS share one
# process (and, here, one pinned core), so every bcrypt the API spends is CPU
# the DNS side does not get. This script starts one CoreDNS build with
# acmedns (DNS and API on free 127.0.0.1 ports), registers ATTACK_ACCOUNTS
# accounts through the API, then runs, each on a freshly started server over
# the same store:
#
#   1 baseline        dnsperf at a fixed ATTACK_QPS (-Q, timeout 1 s) on TXT
#                     queries of the registered names, plus a legitimate
#                     client (127.0.0.2) doing a valid /update every 500 ms
#   2 update-flood    the same, while ATTACK_WORKERS clients from 127.0.0.3
#                     flood POST /update with random well-formed credentials
#   3 register-flood  the same, while ATTACK_WORKERS clients flood /register
#   4 abandon         ATTACK_ABANDON_RATE /update requests a second for
#                     ATTACK_ABANDON_SECONDS, each written in full on a new
#                     connection from 127.0.0.3 and closed unread; a DNS probe
#                     every 10 ms (timeout 1 s) during the flood and for
#                     ATTACK_AFTER_SECONDS after it, and the legitimate client
#   5 random-names    dnsperf at saturation (-c 8 -q 100) on the registered
#                     names, then on ATTACK_RANDOM_NAMES random unregistered
#                     names (each asked once, -n 1); the ratio of the two qps
#   6 conn-flood      as 1, while ATTACK_CONN_WORKERS clients from 127.0.0.3
#                     each loop: connect, POST /update with random
#                     credentials, read the answer, close; with many more
#                     clients than the per-client connection bound, most
#                     connections are refused. Its requests are reported by
#                     status, a refused connection's 503 busy ("503_refused")
#                     apart from the connections reset or closed unanswered
#   7 burst           as 1, and midway through the dnsperf run ATTACK_BURST
#                     POST /update requests start at the same instant from
#                     127.0.0.4, one connection each, each for a different
#                     account whose credentials are valid but not cached, so
#                     each needs a bcrypt compare (as a cluster renewing many
#                     certificates at once). Those accounts are created for
#                     the burst only, in the seeding phase, through the admin
#                     API, all with one cost-10 hash of one random 40-character
#                     key that the attack tool computes once; nothing compares
#                     them before the burst, and each scenario's server is a
#                     fresh process with an empty credential cache. Reported:
#                     the burst's answers (200, the API's 503 busy, 429, a
#                     refused connection's 503) and its failures (connection
#                     errors, resets, timeouts) apart, its slowest answer, and
#                     the server's bcrypt_operations_total{operation="compare"}
#                     over the burst and over the scenario ("–" for a build
#                     without that counter)
#   8 burst-flood     7 while ATTACK_WORKERS clients from 127.0.0.3 flood
#                     /update with random credentials as in 2, from 1 s
#                     before dnsperf until the burst's last answer (so past
#                     dnsperf's end when the burst outlasts it); the compares
#                     beyond one per burst request answered 200 are the
#                     flood's
#
# CPU split (2 cores): CoreDNS (and redis-server) on CPU 0, every load
# generator (dnsperf, the attack tool) on CPU 1, with taskset; the seeding
# server runs unpinned to register faster. DNS p99 comes from dnsperf -v: with
# -v, Debian's dnsperf 2.10 prints one "> RCODE NAME TYPE SECONDS" line per
# answered query, and the attack tool takes the percentiles over those lines
# (so p99 is over answered queries; lost ones are counted in "lost %"). The
# fixed-rate runs allow ATTACK_QPS queries outstanding (-q), one second's
# worth at the 1 s timeout, so dnsperf keeps offering the full rate while the
# server stalls instead of throttling itself at 100 outstanding (with -q 100
# the update flood shows 0 % lost, because dnsperf then sends only ~175 qps).
# ATTACK_PIN=0 lets the server use both cores (shared with the load
# generators); the API's bcrypt work then has twice the CPU, and the DNS
# loses less than on one pinned core.
#
# The Corefile is Corefile.example's shape: bind, errors, acmedns { api, db or
# redis, nameserver, hostmaster, EXTRA }, without the log plugin (a line per
# query would be measured too) and with prometheus on a free port, whose
# acmedns counters are scraped at the end of each scenario and reported.
# When scenario 7 or 8 is to run, the seeding server's Corefile also has an
# admin block (a free loopback port, a random token kept in the temp dir) to
# create the burst's accounts; the measured servers have none.
#
# Knobs (environment):
#   COREDNS                 CoreDNS binary to measure (the repository's ./coredns;
#                           a relative path is taken from the current directory)
#   STORE                   bolt (embedded store in a temp dir) or redis (a
#                           redis-server started here on a free loopback port)
#   EXTRA                   extra lines for the acmedns block, e.g. a new
#                           build's options ("" by default)
#   ATTACK_LABEL            results subdirectory (<coredns basename>-<store>)
#   ATTACK_SCENARIOS        which to run ("baseline update-flood burst burst-flood register-flood
#                           conn-flood abandon random-names")
#   ATTACK_SECONDS          length of scenarios 1-3 and 6-8, and of each scenario-5 run (20)
#   ATTACK_QPS              dnsperf's fixed rate in scenarios 1-3 and 6-8 (5000)
#   ATTACK_OUTSTANDING      dnsperf -q in scenarios 1-3 and 6-8 (ATTACK_QPS; 100 is dnsperf's default)
#   ATTACK_WORKERS          flood clients of scenarios 2, 3 and 8 (32)
#   ATTACK_CONN_WORKERS     connection flood clients of scenario 6 (400)
#   ATTACK_BURST            simultaneous updates of scenarios 7 and 8, one per
#                           account created for them (100; at most 2048)
#   ATTACK_ACCOUNTS         accounts registered through the API first (1000)
#   ATTACK_SEED_TXT         1: also set one TXT value on each of them (1)
#   ATTACK_ABANDON_RATE     abandoned requests per second (100)
#   ATTACK_ABANDON_SECONDS  how long they are sent (10)
#   ATTACK_AFTER_SECONDS    how long probing goes on after them (30)
#   ATTACK_RANDOM_NAMES     random names in scenario 5 (300000)
#   ATTACK_PIN              1: pin as above; 0: everything unpinned (1)
#   ATTACK_QUIET_WAIT       before each scenario, wait up to this many seconds
#                           for the machine to be idle (other processes under
#                           10 % of the CPUs for 3 s running); 0: don't (0)
#
# Raw results: test/bench/results/attack/<label>/ (results.jsonl: one JSON
# line per role and scenario; meta.tsv; logs/). The tables of every label
# present are written to test/bench/results/attack/report.md; this run's are
# printed. Only 127.0.0.0/8 is loaded; every loop is bounded; everything
# started here is stopped on exit. About 7 minutes with the defaults.
set -euo pipefail

CALLER_DIR=$PWD
cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH=$ROOT/test/bench
TOP=$BENCH/results/attack
BIN=$TOP/bin

if [[ -z ${COREDNS:-} ]]; then
	COREDNS=$ROOT/coredns
elif [[ $COREDNS != /* ]]; then
	COREDNS=$CALLER_DIR/$COREDNS # relative to where the script was started
fi
STORE=${STORE:-bolt}
[[ $STORE == embedded ]] && STORE=bolt
EXTRA=${EXTRA:-}
LABEL=${ATTACK_LABEL:-$(basename "$COREDNS")-$STORE}
SCENARIOS=${ATTACK_SCENARIOS:-"baseline update-flood burst burst-flood register-flood conn-flood abandon random-names"}
DURATION=${ATTACK_SECONDS:-20}
QPS=${ATTACK_QPS:-5000}
OUTSTANDING=${ATTACK_OUTSTANDING:-$QPS}
WORKERS=${ATTACK_WORKERS:-32}
CONN_WORKERS=${ATTACK_CONN_WORKERS:-400}
BURST=${ATTACK_BURST:-100}
ACCOUNTS=${ATTACK_ACCOUNTS:-1000}
SEED_TXT=${ATTACK_SEED_TXT:-1}
AB_RATE=${ATTACK_ABANDON_RATE:-100}
AB_SECONDS=${ATTACK_ABANDON_SECONDS:-10}
AFTER_SECONDS=${ATTACK_AFTER_SECONDS:-30}
RANDOM_NAMES=${ATTACK_RANDOM_NAMES:-300000}
PIN=${ATTACK_PIN:-1}
QUIET_WAIT=${ATTACK_QUIET_WAIT:-0}
SERVER_CPU=0
CLIENT_CPU=1
CLK_TCK=$(getconf CLK_TCK)
ZONE=auth.example.test
LEGIT_SRC=127.0.0.2
ATTACK_SRC=127.0.0.3
BURST_SRC=127.0.0.4
T_START=$(date +%s)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { echo "attack.sh: $*" >&2; exit 1; }

[[ $STORE == bolt || $STORE == redis ]] || die "STORE must be bolt (embedded) or redis, not $STORE"
[[ $LABEL =~ ^[A-Za-z0-9._-]+$ ]] || die "ATTACK_LABEL must be a plain name"
for v in DURATION QPS OUTSTANDING WORKERS CONN_WORKERS BURST ACCOUNTS AB_RATE AB_SECONDS AFTER_SECONDS RANDOM_NAMES; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done
((DURATION <= 300 && AB_SECONDS + AFTER_SECONDS <= 300)) || die "scenarios are limited to 300 s"
((BURST <= 2048)) || die "ATTACK_BURST is limited to 2048"
NEED_BURST=0
for s in $SCENARIOS; do
	case $s in
	baseline | update-flood | register-flood | conn-flood | abandon | random-names) ;;
	burst | burst-flood) NEED_BURST=1 ;;
	*) die "unknown scenario $s" ;;
	esac
done

# --- tools -------------------------------------------------------------------
need_apt=()
command -v dnsperf >/dev/null 2>&1 || need_apt+=(dnsperf)
command -v dig >/dev/null 2>&1 || need_apt+=(dnsutils)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [[ $STORE == redis ]]; then
	command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
	command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
fi
if ((${#need_apt[@]})); then
	log "installing ${need_apt[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[[ -x $COREDNS ]] || die "$COREDNS is missing: make build first, or set COREDNS"
if [[ $PIN == 1 ]]; then
	[[ $(nproc) -ge 2 ]] || die "needs at least 2 CPUs for the pinned split (or ATTACK_PIN=0)"
fi

RES=$TOP/$LABEL
LOGS=$RES/logs
rm -rf "$RES"
mkdir -p "$RES" "$LOGS" "$BIN"
WORK=$(mktemp -d /tmp/acmedns-attack.XXXXXX)
OUT=$RES/results.jsonl
: >"$OUT"
log "building the attack tool"
(cd "$ROOT/test" && go build -o "$BIN/attack" ./bench/attack)
ATTACK=$BIN/attack

# --- processes ----------------------------------------------------------------
PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() {
	local keep=() q
	for q in "${PIDS[@]}"; do [[ $q == "$1" ]] || keep+=("$q"); done
	PIDS=("${keep[@]}")
}

stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	forget "$p"
}

# bg_wait pid: waits for a background role we started, bounded by its own
# -duration plus its timeouts; kills it after LIMIT seconds more.
bg_wait() {
	local p=$1 limit=$2
	for _ in $(seq 1 $((limit * 10))); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then
		log "  pid $p overran its time, stopping it"
		stop_pid "$p"
		return
	fi
	wait "$p" 2>/dev/null || log "  pid $p exited with an error"
	forget "$p"
}

USED_PORTS=" 6379 "
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		[[ $USED_PORTS == *" $p "* ]] && continue
		if [[ -z $(ss -Hlntu "( sport = :$p )" 2>/dev/null) ]]; then
			USED_PORTS+="$p "
			echo "$p"
			return
		fi
	done
	die "no free port"
}
DNS_PORT=$(free_port)
API_PORT=$(free_port)
METRICS_PORT=$(free_port)
REDIS_PORT=
[[ $STORE == redis ]] && REDIS_PORT=$(free_port)
ADMIN_PORT=
((NEED_BURST)) && ADMIN_PORT=$(free_port)
API=http://127.0.0.1:$API_PORT
log "label $LABEL: $COREDNS, store $STORE; dns 127.0.0.1:$DNS_PORT, api $API${REDIS_PORT:+, redis 127.0.0.1:$REDIS_PORT}"

server_pin=(taskset -c "$SERVER_CPU")
client_pin=(taskset -c "$CLIENT_CPU")
if [[ $PIN != 1 ]]; then
	server_pin=()
	client_pin=()
fi

REDIS_PID=
if [[ $STORE == redis ]]; then
	"${server_pin[@]}" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
		--dir "$WORK" --protected-mode yes >"$LOGS/redis.log" 2>&1 &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG || die "redis-server did not start"
fi

corefile() { # [admin]: with the admin API (the seeding server's, for the burst's accounts)
	echo "$ZONE:$DNS_PORT {"
	echo "    bind 127.0.0.1"
	echo "    errors"
	echo "    prometheus 127.0.0.1:$METRICS_PORT"
	echo "    acmedns {"
	echo "        api 127.0.0.1:$API_PORT"
	if [[ $STORE == redis ]]; then
		echo "        redis 127.0.0.1:$REDIS_PORT"
	else
		echo "        db $WORK/acmedns.db"
	fi
	echo "        nameserver ns1.$ZONE 127.0.0.1"
	echo "        hostmaster hostmaster@example.test"
	if [[ -n $EXTRA ]]; then
		printf '%s\n' "$EXTRA" | sed 's/^/        /'
	fi
	if [[ ${1:-} == admin ]]; then
		echo "        admin 127.0.0.1:$ADMIN_PORT {"
		echo "            token $(cat "$WORK/admin.token")"
		echo "        }"
	fi
	echo "    }"
	echo "}"
}
corefile >"$WORK/Corefile"
cp "$WORK/Corefile" "$RES/Corefile"
SEED_CONF=$WORK/Corefile
if ((NEED_BURST)); then
	(umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$WORK/admin.token")
	corefile admin >"$WORK/Corefile.seed"
	SEED_CONF=$WORK/Corefile.seed
fi

SERVER_PID=
start_server() { # name pinned|unpinned [Corefile]
	local name=$1 pin=$2 conf=${3:-$WORK/Corefile} cmd=()
	[[ $pin == pinned ]] && cmd=("${server_pin[@]}")
	for _ in $(seq 1 50); do
		[[ -z $(ss -Hlntu "( sport = :$DNS_PORT or sport = :$API_PORT )" 2>/dev/null) ]] && break
		sleep 0.1
	done
	[[ -z $(ss -Hlntu "( sport = :$DNS_PORT or sport = :$API_PORT )" 2>/dev/null) ]] || die "something still listens on $DNS_PORT or $API_PORT"
	"${cmd[@]}" "$COREDNS" -conf "$conf" >"$LOGS/coredns-$name.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	for _ in $(seq 1 300); do
		if dig +time=1 +tries=1 @127.0.0.1 -p "$DNS_PORT" "$ZONE" SOA 2>/dev/null | grep -q 'status: NOERROR' &&
			[[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$API/health" 2>/dev/null || true) != 000 ]]; then
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "attack.sh: CoreDNS did not come up; its log:" >&2
	cat "$LOGS/coredns-$name.log" >&2
	exit 1
}

scrape() { # scenario: the server's acmedns counters, before it stops
	"${client_pin[@]}" "$ATTACK" metrics -url "http://127.0.0.1:$METRICS_PORT/metrics" -scenario "$1" -out "$OUT" >/dev/null 2>>"$LOGS/attack.log" || true
}

stop_server() {
	stop_pid "$SERVER_PID"
	SERVER_PID=
}

warm() { # three passes over the registered names (fills any cache)
	"${client_pin[@]}" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/registered.txt" -n 3 -l 5 -c 8 -T 1 -q 100 -t 1 >/dev/null 2>&1 || true
}

# The machine is shared (another engineer may be compiling or testing): for
# each scenario, the busy commands other than ours that top saw (sampled every
# 2 s, 10 % CPU or more), and CPU 0's busy time from /proc/stat not charged to
# CoreDNS or redis-server, go to meta.tsv. That figure also holds kernel work
# not charged to any process (it read about 25 % in the embedded store's
# baseline with nothing else running, 0 % on Redis's); when the server never
# idles (the floods) it is what other processes took from it.
ticks() { [[ -n ${1:-} ]] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu0_busy() { awk '/^cpu0 / {print $2 + $3 + $4}' /proc/stat; }
all_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# wait_quiet: with no server of ours running, wait (at most QUIET_WAIT s) until
# the whole machine is under 10 % busy for 3 s in a row.
wait_quiet() {
	((QUIET_WAIT > 0)) || return 0
	local quiet=0 a b t0=$SECONDS cap=$(($(nproc) * CLK_TCK / 10))
	while ((SECONDS - t0 < QUIET_WAIT)); do
		a=$(all_busy)
		sleep 1
		b=$(all_busy)
		if ((b - a < cap)); then
			quiet=$((quiet + 1))
			((quiet >= 3)) && { ((SECONDS - t0 > 3)) && log "  waited $((SECONDS - t0)) s for an idle machine"; return 0; }
		else
			quiet=0
		fi
	done
	log "  the machine stayed busy for $QUIET_WAIT s; measuring anyway"
}

MON_PID=
mon_start() { # scenario seconds
	MON_SC=$1
	MON_C0=$(cpu0_busy)
	MON_S=$(ticks "$SERVER_PID")
	MON_R=$(ticks "$REDIS_PID")
	MON_T0=$(date +%s.%N)
	(for _ in $(seq 1 $(($2 / 2 + 2))); do
		sleep 2
		top -bn1 -w 200 | awk 'NR > 7 && $9 + 0 >= 10 {print $12 "\t" $9}'
	done) >"$LOGS/top-$1.tsv" 2>/dev/null &
	MON_PID=$!
	PIDS+=("$MON_PID")
}
mon_end() {
	local c0 s r t1 ours others
	c0=$(cpu0_busy)
	s=$(ticks "$SERVER_PID")
	r=$(ticks "$REDIS_PID")
	t1=$(date +%s.%N)
	stop_pid "$MON_PID"
	ours="^($(basename "$COREDNS")|dnsperf|attack|redis-server|top|taskset|sleep|awk|bash)$"
	others=$(awk -F'\t' -v ours="$ours" '$1 !~ ours {n[$1]++; if ($2 + 0 > m[$1]) m[$1] = $2 + 0}
		END {for (c in n) printf "%s (%d samples, up to %d%%) ", c, n[c], m[c]}' "$LOGS/top-$MON_SC.tsv")
	local line
	line=$(awk -v c="$((c0 - MON_C0))" -v s="$((s - MON_S))" -v r="$((r - MON_R))" -v hz="$CLK_TCK" -v t0="$MON_T0" -v t1="$t1" \
		'BEGIN {o = (c - s - r) / hz; if (o < 0) o = 0; printf "%.1f s of %.1f s (%.0f%%)", o, t1 - t0, 100 * o / (t1 - t0)}')
	printf 'machine during %s\tCPU 0 time not charged to CoreDNS/redis (other processes and kernel work): %s; other busy commands seen by top: %s\n' \
		"$MON_SC" "$line" "${others:-none}" >>"$RES/meta.tsv"
	log "  CPU 0 not ours (other processes, kernel): $line; other busy commands: ${others:-none}"
}

dnsperf_summary() { # file scenario label
	"${client_pin[@]}" "$ATTACK" dnsperf -in "$1" -scenario "$2" -label "$3" -out "$OUT" >/dev/null
	grep -v '^>' "$1" | grep -v 'Timeout\]' | tail -n 30 >"$LOGS/dnsperf-$2-$3.txt" || true
	rm -f "$1"
}

{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'coredns\t%s (sha256 %s, %s)\n' "$COREDNS" "$(sha256sum "$COREDNS" | cut -c1-12)" "$("$COREDNS" -version 2>/dev/null | head -1)"
	printf 'store\t%s\n' "$STORE"
	printf 'extra\t%s\n' "${EXTRA:-none}"
	printf 'pinning\t%s\n' "$([[ $PIN == 1 ]] && echo "CoreDNS${REDIS_PORT:+ and redis-server} on CPU $SERVER_CPU, load generators on CPU $CLIENT_CPU (taskset); seeding unpinned" || echo unpinned)"
	printf 'machine\t%s CPUs, %s\n' "$(nproc)" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
	printf 'dnsperf\t%s\n' "$(dnsperf -h 2>&1 | awk '/^Version/ {print $2}')"
	printf 'knobs\tseconds %s, qps %s, workers %s, connection flood workers %s, burst %s, accounts %s, abandon %s/s for %s s + %s s after, random names %s\n' \
		"$DURATION" "$QPS" "$WORKERS" "$CONN_WORKERS" "$BURST" "$ACCOUNTS" "$AB_RATE" "$AB_SECONDS" "$AFTER_SECONDS" "$RANDOM_NAMES"
	printf 'cmd_dnsperf_fixed\tdnsperf -s 127.0.0.1 -p PORT -d registered.txt -l %s -Q %s -t 1 -c 8 -T 1 -q %s -v\n' "$DURATION" "$QPS" "$OUTSTANDING"
	printf 'cmd_dnsperf_saturation\tdnsperf -s 127.0.0.1 -p PORT -d NAMES -l %s -c 8 -T 1 -q 100 -t 1 -v (random names also -n 1)\n' "$DURATION"
} >"$RES/meta.tsv"

# --- seeding -------------------------------------------------------------------
log "== seeding $ACCOUNTS accounts through the API (server unpinned)"
start_server seed unpinned "$SEED_CONF"
txt_flag=-txt=true
[[ $SEED_TXT == 1 ]] || txt_flag=-txt=false
"$ATTACK" seed -api "$API" -n "$ACCOUNTS" -workers 8 -spread 25 "$txt_flag" -duration 300s \
	-creds "$WORK/creds.jsonl" -queries "$WORK/registered.txt" -scenario seed -out "$OUT" 2>>"$LOGS/attack.log" |
	sed 's/^/  /' >&2
if ((NEED_BURST)); then
	log "== creating the burst's $BURST accounts through the admin API"
	"$ATTACK" burst-accounts -admin "http://127.0.0.1:$ADMIN_PORT" -token-file "$WORK/admin.token" -n "$BURST" -cost 10 \
		-zone "$ZONE" -creds "$WORK/burst-creds.jsonl" -duration 300s -scenario seed -out "$OUT" \
		>"$LOGS/burst-accounts.json" 2>>"$LOGS/attack.log" || die "could not create the burst's accounts (see $LOGS/attack.log)"
	sed 's/^/  /' "$LOGS/burst-accounts.json" >&2
fi
scrape seed
stop_server
cp "$WORK/creds.jsonl" "$RES/creds.jsonl"
LEGIT_NAME=$(head -1 "$WORK/registered.txt" | cut -d' ' -f1)

# --- scenarios 1-3 and 6-8 --------------------------------------------------------
fixed_rate() { # scenario [flood-role [workers [burst]]]
	local sc=$1 role=${2:-} workers=${3:-$WORKERS} burst=${4:-} fp= bp=
	log "== $sc"
	wait_quiet
	start_server "$sc" pinned
	warm
	mon_start "$sc" "$DURATION"
	if [[ -n $role ]]; then
		local fdur=$((DURATION + 2))
		[[ -n $burst ]] && fdur=$((DURATION + 120)) # a bound: stopped (SIGTERM) once the burst is answered
		"${client_pin[@]}" "$ATTACK" "$role" -api "$API" -creds "$WORK/creds.jsonl" -src "$ATTACK_SRC" -workers "$workers" \
			-duration "${fdur}s" -scenario "$sc" -out "$OUT" >"$LOGS/$role.json" 2>>"$LOGS/attack.log" &
		fp=$!
		PIDS+=("$fp")
		sleep 1 # let the flood build up before measuring
	fi
	if [[ -n $burst ]]; then # fired midway through the dnsperf run started below
		local at
		at=$(awk -v t="$(date +%s.%N)" -v d="$DURATION" 'BEGIN {printf "%.3f", t + d / 2}')
		"${client_pin[@]}" "$ATTACK" burst -api "$API" -creds "$WORK/burst-creds.jsonl" -src "$BURST_SRC" -n "$BURST" -at "$at" \
			-timeout 90s -duration "$((DURATION / 2 + 100))s" -metrics "http://127.0.0.1:$METRICS_PORT/metrics" \
			-scenario "$sc" -out "$OUT" >"$LOGS/burst-$sc.json" 2>>"$LOGS/attack.log" &
		bp=$!
		PIDS+=("$bp")
	fi
	"${client_pin[@]}" "$ATTACK" legit -api "$API" -creds "$WORK/creds.jsonl" -src "$LEGIT_SRC" -duration "${DURATION}s" \
		-scenario "$sc" -out "$OUT" >"$LOGS/legit-$sc.json" 2>>"$LOGS/attack.log" &
	local lp=$!
	PIDS+=("$lp")
	"${client_pin[@]}" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/registered.txt" -l "$DURATION" -Q "$QPS" -t 1 \
		-c 8 -T 1 -q "$OUTSTANDING" -v >"$WORK/dnsperf.out" 2>&1 || true
	bg_wait "$lp" 30
	if [[ -n $bp ]]; then
		bg_wait "$bp" 110
		[[ -z $fp ]] || kill -TERM "$fp" 2>/dev/null || true # the flood goes on until the burst is answered
	fi
	[[ -n $fp ]] && bg_wait "$fp" 30
	mon_end
	scrape "$sc"
	dnsperf_summary "$WORK/dnsperf.out" "$sc" registered
	stop_server
	log "  $(grep "\"scenario\":\"$sc\"" "$OUT" | grep -E '"role":"(dns|legit|flood-[a-z]+|conn-flood|burst)"' | cut -c1-400 | tr '\n' ' ')"
}

# --- scenario 4 ------------------------------------------------------------------
abandon() {
	local sc=abandon total=$((AB_SECONDS + AFTER_SECONDS))
	log "== $sc: $AB_RATE/s for $AB_SECONDS s, then $AFTER_SECONDS s of probing"
	wait_quiet
	start_server "$sc" pinned
	warm
	mon_start "$sc" "$total"
	local at
	at=$(awk -v t="$(date +%s.%N)" 'BEGIN {printf "%.3f", t + 1}')
	"${client_pin[@]}" "$ATTACK" probe -dns "127.0.0.1:$DNS_PORT" -name "$LEGIT_NAME" -every 10ms -timeout 1s \
		-duration "${total}s" -split "${AB_SECONDS}s" -at "$at" -timeline "$RES/abandon-timeline.tsv" \
		-scenario "$sc" -out "$OUT" >"$LOGS/probe.json" 2>>"$LOGS/attack.log" &
	local pp=$!
	PIDS+=("$pp")
	"${client_pin[@]}" "$ATTACK" legit -api "$API" -creds "$WORK/creds.jsonl" -src "$LEGIT_SRC" -duration "${total}s" -at "$at" \
		-scenario "$sc" -out "$OUT" >"$LOGS/legit-$sc.json" 2>>"$LOGS/attack.log" &
	local lp=$!
	PIDS+=("$lp")
	"${client_pin[@]}" "$ATTACK" abandon -api "$API" -creds "$WORK/creds.jsonl" -src "$ATTACK_SRC" -rate "$AB_RATE" \
		-duration "${AB_SECONDS}s" -at "$at" -scenario "$sc" -out "$OUT" >"$LOGS/abandon.json" 2>>"$LOGS/attack.log" || true
	bg_wait "$pp" $((total + 10))
	bg_wait "$lp" $((total + 20))
	mon_end
	scrape "$sc"
	stop_server
	log "  $(grep "\"scenario\":\"$sc\"" "$OUT" | cut -c1-300 | tr '\n' ' ')"
}

# --- scenario 5 ------------------------------------------------------------------
random_names() {
	local sc=random-names
	log "== $sc: registered names, then $RANDOM_NAMES random ones, at saturation"
	"$ATTACK" names -n "$RANDOM_NAMES" -zone "$ZONE" -out "$WORK/random.txt"
	wait_quiet
	start_server "$sc" pinned
	warm
	mon_start "$sc" $((2 * DURATION))
	"${client_pin[@]}" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/registered.txt" -l "$DURATION" -c 8 -T 1 -q 100 -t 1 -v \
		>"$WORK/dnsperf.out" 2>&1 || true
	dnsperf_summary "$WORK/dnsperf.out" "$sc" registered
	"${client_pin[@]}" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/random.txt" -n 1 -l "$DURATION" -c 8 -T 1 -q 100 -t 1 -v \
		>"$WORK/dnsperf.out" 2>&1 || true
	dnsperf_summary "$WORK/dnsperf.out" "$sc" random
	mon_end
	scrape "$sc"
	stop_server
	log "  $(grep "\"scenario\":\"$sc\"" "$OUT" | cut -c1-200 | tr '\n' ' ')"
}

for sc in $SCENARIOS; do
	case $sc in
	baseline) fixed_rate baseline ;;
	update-flood) fixed_rate update-flood flood-update ;;
	burst) fixed_rate burst "" "" burst ;;
	burst-flood) fixed_rate burst-flood flood-update "$WORKERS" burst ;;
	register-flood) fixed_rate register-flood flood-register ;;
	conn-flood) fixed_rate conn-flood conn-flood "$CONN_WORKERS" ;;
	abandon) abandon ;;
	random-names) random_names ;;
	esac
done

printf 'seconds\t%s\n' "$(($(date +%s) - T_START))" >>"$RES/meta.tsv"
echo
"$ATTACK" report -dir "$TOP" -md "$TOP/report.md" -only "$LABEL"
log "done in $(($(date +%s) - T_START)) s; raw results in ${RES#"$ROOT"/}, all runs' tables in ${TOP#"$ROOT"/}/report.md"
