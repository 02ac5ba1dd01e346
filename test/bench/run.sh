#!/usr/bin/env bash
# The acmedns benchmark suite (make bench). It measures, with dnsperf over UDP
# on loopback, how fast CoreDNS answers the TXT queries of an acme-dns zone:
#
#   file                   the ceiling: CoreDNS's file plugin, the same records in a zone file
#   mapdns                 the limit: a miekg/dns responder answering from a Go map
#   acmedns-bolt           acmedns on its embedded bbolt store
#   acmedns-redis-cache    acmedns on Redis with its in-process TXT cache (warmed first)
#   acmedns-redis-nocache  acmedns on Redis with "cache 0"
#
# each with 1,000 and with 1,000,000 registered accounts, querying the same
# 1,000 names. The shared machine's speed drifts by tens of percent from one
# minute to the next, so nothing is measured in a block: both stores of every
# size are seeded first (one Redis per size), then each round runs every
# configuration at every size once, in a rotating order, and the medians are
# over the rounds. Then p99 latency at a fixed 10k qps, the HTTP API's /register
# and /update rates, Redis memory and bbolt file size per account, and CPU
# profiles of the hot path. Raw results go to test/bench/results/, the report
# to docs/benchmarks.md and docs/benchmarks.svg.
#
# CPU split on this 2-core machine: every server process (CoreDNS or mapdns,
# and redis-server) is pinned to CPU 0 with taskset, the load generator
# (dnsperf, apiload) to CPU 1, so the server side gets exactly one core and
# the client never steals from it. Each configuration also gets one unpinned
# run, where every process floats over both cores.
#
# Knobs (environment): BENCH_DURATION (s per run, 10), BENCH_RUNS (3),
# BENCH_NS ("1000 1000000"), BENCH_Q (1000), BENCH_CLIENTS (8),
# BENCH_OUTSTANDING (100), BENCH_FIXED_QPS (10000), BENCH_API_SECONDS (10),
# BENCH_API_WORKERS (4), BENCH_FILE_ALL (1: also the file plugin holding all
# N records, at the largest N), BENCH_REPORT (1: write docs/).
# Only 127.0.0.1 is loaded; every loop is bounded; everything started here is
# stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH=$ROOT/test/bench
RES=$BENCH/results
WORK=$RES/work
BIN=$RES/bin
LOGS=$RES/logs

DURATION=${BENCH_DURATION:-10}
RUNS=${BENCH_RUNS:-3}
NS=${BENCH_NS:-"1000 1000000"}
Q=${BENCH_Q:-1000}
CLIENTS=${BENCH_CLIENTS:-8}
OUTSTANDING=${BENCH_OUTSTANDING:-100}
FIXED_QPS=${BENCH_FIXED_QPS:-10000}
API_SECONDS=${BENCH_API_SECONDS:-10}
API_WORKERS=${BENCH_API_WORKERS:-4}
FILE_ALL=${BENCH_FILE_ALL:-1}
REPORT=${BENCH_REPORT:-1}
SERVER_CPU=0
CLIENT_CPU=1
ZONE=auth.example.test
MAX_ATTEMPTS=3 # per run: a run that lost a query is repeated, at most this often
CLK_TCK=$(getconf CLK_TCK)
T_START=$(date +%s)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# --- tools -------------------------------------------------------------------
need_apt=()
command -v dnsperf >/dev/null 2>&1 || need_apt+=(dnsperf)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v dig >/dev/null 2>&1 || need_apt+=(dnsutils)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if ((${#need_apt[@]})); then
	log "installing ${need_apt[*]} with apt-get"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[[ -x $ROOT/coredns ]] || { echo "run.sh: $ROOT/coredns is missing: make build first" >&2; exit 1; }
[[ $(nproc) -ge 2 ]] || { echo "run.sh: needs at least 2 CPUs for the pinned split" >&2; exit 1; }

rm -rf "$WORK" "$LOGS"
mkdir -p "$RES" "$WORK" "$BIN" "$LOGS"
rm -f "$RES"/*.tsv "$RES"/profile-* "$RES"/Corefile.*
log "building the bench tools"
(cd "$ROOT/test" && for t in seed mapdns apiload report chart; do go build -o "$BIN/$t" "./bench/$t"; done)

# --- processes ----------------------------------------------------------------
PIDS=()
cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	local keep=()
	for q in "${PIDS[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
	PIDS=("${keep[@]}")
}

# free_port: a loopback port nothing listens on (TCP or UDP), never 6379.
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
	echo "run.sh: no free port" >&2
	return 1
}
DNS_PORT=$(free_port)
API_PORT=$(free_port)
PPROF_PORT=$(free_port)
declare -A RPORT RPID
for n in $NS; do
	((n >= Q)) || { echo "run.sh: every N must be at least Q ($Q)" >&2; exit 1; }
	RPORT[$n]=$(free_port)
done
log "ports (127.0.0.1): dns $DNS_PORT, api $API_PORT, pprof $PPROF_PORT, redis $(for n in $NS; do printf '%s (N=%s) ' "${RPORT[$n]}" "$n"; done)"

rcli() { local n=$1; shift; redis-cli -h 127.0.0.1 -p "${RPORT[$n]}" "$@"; }

# Our own Redis servers, one per account count, in memory only, pinned with
# the servers.
for n in $NS; do
	taskset -c "$SERVER_CPU" redis-server --bind 127.0.0.1 --port "${RPORT[$n]}" --save "" --appendonly no \
		--dir "$WORK" --protected-mode yes >"$LOGS/redis-$n.log" 2>&1 &
	RPID[$n]=$!
	PIDS+=("${RPID[$n]}")
done
for n in $NS; do
	for _ in $(seq 1 100); do rcli "$n" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	rcli "$n" ping | grep -q PONG
done

pin_redis() { # n pinned|unpinned
	local cpus=$SERVER_CPU
	[[ $2 == pinned ]] || cpus=0-$(($(nproc) - 1))
	taskset -a -p -c "$cpus" "${RPID[$1]}" >/dev/null
}

corefile() { # config n [pprof]
	local cfg=$1 n=$2 pprof=${3:-}
	echo "$ZONE:$DNS_PORT {"
	echo "    bind 127.0.0.1"
	case $cfg in
	file) echo "    file $WORK/files/zone.db" ;;
	file-all) echo "    file $WORK/files-all/zone.db" ;;
	acmedns-*)
		echo "    acmedns {"
		echo "        api 127.0.0.1:$API_PORT"
		case $cfg in
		acmedns-bolt) echo "        db $WORK/acmedns-$n.db" ;;
		acmedns-redis-cache) printf '        redis 127.0.0.1:%s {\n            cache 10000\n        }\n' "${RPORT[$n]}" ;;
		acmedns-redis-nocache) printf '        redis 127.0.0.1:%s {\n            cache 0\n        }\n' "${RPORT[$n]}" ;;
		esac
		echo "    }"
		;;
	esac
	[[ -n $pprof ]] && echo "    pprof 127.0.0.1:$PPROF_PORT"
	echo "}"
}

SERVER_PID=
start_server() { # config n pinned|unpinned [pprof]
	local cfg=$1 n=$2 pin=$3 pprof=${4:-}
	local cmd=()
	[[ $pin == unpinned ]] || cmd=(taskset -c "$SERVER_CPU")
	if [[ $cfg == mapdns ]]; then
		cmd+=("$BIN/mapdns" -addr "127.0.0.1:$DNS_PORT" -records "$WORK/files/records.tsv")
	else
		corefile "$cfg" "$n" "$pprof" >"$WORK/Corefile"
		[[ -n $pprof ]] || cp "$WORK/Corefile" "$LOGS/Corefile.$cfg"
		cmd+=("$ROOT/coredns" -conf "$WORK/Corefile" -quiet)
	fi
	# CoreDNS binds with SO_REUSEPORT: a leftover server on the port would
	# silently take half the queries. Make sure there is none.
	for _ in $(seq 1 50); do
		[[ -z $(ss -Hlnu "( sport = :$DNS_PORT )" 2>/dev/null) ]] && break
		sleep 0.1
	done
	if [[ -n $(ss -Hlnu "( sport = :$DNS_PORT )" 2>/dev/null) ]]; then
		echo "run.sh: something still listens on 127.0.0.1:$DNS_PORT" >&2
		return 1
	fi
	[[ $cfg == acmedns-redis-* ]] && pin_redis "$n" "$pin"
	"${cmd[@]}" >"$LOGS/$cfg-$n-$pin.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local limit=300 # tenths of a second; the file plugin parses 1M records in ~40 s
	[[ $cfg == file-all ]] && limit=1800
	for _ in $(seq 1 "$limit"); do
		if dig +time=1 +tries=1 @127.0.0.1 -p "$DNS_PORT" "$FIRST_NAME" TXT 2>/dev/null | grep -q 'status: NOERROR'; then
			# warm-up: three passes over the query names (fills the acmedns cache)
			taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/files/queries.txt" -n 3 -l 5 -c "$CLIENTS" -T 1 -q "$OUTSTANDING" >/dev/null 2>&1 || true
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "run.sh: $cfg did not answer; its log:" >&2
	cat "$LOGS/$cfg-$n-$pin.log" >&2
	return 1
}

stop_server() {
	stop_pid "$SERVER_PID"
	local m
	for m in $NS; do pin_redis "$m" pinned; done
	SERVER_PID=
}

ticks() { [[ -n ${1:-} ]] && awk '{print $14 + $15}' "/proc/$1/stat" || echo 0; }


# one_run config n mode attempt: runs dnsperf once, prints one TSV row.
one_run() {
	local cfg=$1 n=$2 mode=$3 run=$4
	local out="$WORK/dnsperf.out"
	local args=(-s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/files/queries.txt" -l "$DURATION" -c "$CLIENTS" -T 1 -q "$OUTSTANDING" -v)
	[[ $mode == fixed ]] && args+=(-Q "$FIXED_QPS")
	local pre=()
	[[ $mode == unpinned ]] || pre=(taskset -c "$CLIENT_CPU")
	local redis_pid=
	[[ $cfg == acmedns-redis-* ]] && redis_pid=${RPID[$n]}
	local load1
	load1=$(cut -d' ' -f1 /proc/loadavg)
	local s0 r0 s1 r1
	s0=$(ticks "$SERVER_PID")
	r0=$(ticks "$redis_pid")
	"${pre[@]}" dnsperf "${args[@]}" >"$out" 2>&1 || true
	s1=$(ticks "$SERVER_PID")
	r1=$(ticks "$redis_pid")
	awk '$1 == ">" && $NF ~ /^[0-9.]+$/ {print $NF}' "$out" | sort -g >"$WORK/lat"
	local pct
	pct=$(awk '{v[NR] = $1} END {
		if (NR == 0) { print "-\t-"; exit }
		i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		printf "%.3f\t%.3f\n", v[i50] * 1000, v[i99] * 1000 }' "$WORK/lat")
	awk -v cfg="$cfg" -v n="$n" -v mode="$mode" -v run="$run" -v pct="$pct" -v load1="$load1" \
		-v sd="$((s1 - s0))" -v rd="$((r1 - r0))" -v tck="$CLK_TCK" -v isredis="${redis_pid:+1}" '
		/Queries sent:/ {sent = $3}
		/Queries completed:/ {done = $3}
		/Queries lost:/ {lost = $3}
		/Response codes:/ {for (i = 3; i <= NF; i += 2) if ($i == "NOERROR") noerr = $(i + 1)}
		/Average packet size:/ {resp = $NF}
		/Queries per second:/ {qps = $4}
		/Average Latency/ {avg = $4}
		/Latency StdDev/ {sdv = $4}
		END {
			status = "ok"
			if (done == 0) status = "failed"
			else if (lost > 0) status = "lost"
			else if (noerr != done) status = "rcode"
			cpu = done > 0 ? sd * 1e6 / tck / done : 0
			rcpu = (isredis && done > 0) ? sprintf("%.2f", rd * 1e6 / tck / done) : "-"
			printf "%s\t%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%d\t%.3f\t%.3f\t%s\t%s\t%.2f\t%s\t%s\n",
				n, cfg, mode, run, status, qps, sent, done, lost, avg * 1000, sdv * 1000, pct, resp, cpu, rcpu, load1
		}' "$out"
	rm -f "$out" "$WORK/lat"
}

# measure config n mode run: one measured run, repeated (at most
# MAX_ATTEMPTS times) until it loses no query; a run that never manages is
# kept, marked.
measure() {
	local cfg=$1 n=$2 mode=$3 r=$4 row status
	for a in $(seq 1 "$MAX_ATTEMPTS"); do
		row=$(one_run "$cfg" "$n" "$mode" "$r")
		status=$(cut -f5 <<<"$row")
		[[ $status == ok ]] && break
		log "  $cfg n=$n $mode run $r attempt $a: $status, retrying"
	done
	printf '%s\n' "$row" >>"$RES/runs.tsv"
	log "  $(cut -f2-10,12-17 <<<"$row" | tr '\t' ' ')"
}

printf 'n\tconfig\tmode\trun\tstatus\tqps\tsent\tcompleted\tlost\tavg_ms\tstddev_ms\tp50_ms\tp99_ms\tresp_bytes\tserver_us_per_q\tredis_us_per_q\tload1\n' >"$RES/runs.tsv"
printf 'store\tn\tmode\tworkers\tseconds\trequests\tok\terrors\trps\tavg_ms\tp50_ms\tp99_ms\tmax_ms\n' >"$RES/api.tsv"
printf 'what\tn\tbefore\tafter\tbytes_per_account\n' >"$RES/storage.tsv"
printf 'what\tn\tseconds\n' >"$RES/seed.tsv"

api_load() { # store n
	local st=$1 n=$2 cfg=acmedns-$1
	[[ $st == redis ]] && cfg=acmedns-redis-cache
	start_server "$cfg" "$n" pinned
	local creds="$WORK/creds-$st-$n.jsonl"
	rm -f "$creds"
	for m in register update; do
		local json
		json=$(taskset -c "$CLIENT_CPU" "$BIN/apiload" -url "http://127.0.0.1:$API_PORT" -mode "$m" \
			-workers "$API_WORKERS" -duration "${API_SECONDS}s" -max 100000 -creds "$creds")
		log "  api $st n=$n: $json"
		printf '%s\t%s\t%s\n' "$st" "$n" "$json" | awk -F'\t' '{
			j = $3; gsub(/[{}"]/, "", j); split(j, kv, ",")
			for (i in kv) { split(kv[i], p, ":"); v[p[1]] = p[2] }
			printf "%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", $1, $2, v["mode"], v["workers"], v["seconds"],
				v["requests"], v["ok"], v["errors"], v["rps"], v["avg_ms"], v["p50_ms"], v["p99_ms"], v["max_ms"] }' >>"$RES/api.tsv"
	done
	stop_server
}

profile() { # config n
	local cfg=$1 n=$2
	local base="$RES/profile-$cfg-$n"
	start_server "$cfg" "$n" pinned pprof
	taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$WORK/files/queries.txt" -l 7 -c "$CLIENTS" -T 1 -q "$OUTSTANDING" >"$base.dnsperf" 2>&1 &
	local dp=$!
	PIDS+=("$dp")
	sleep 1
	curl -sf -o "$base.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=5" || log "profile of $cfg failed"
	for _ in $(seq 1 100); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
	stop_pid "$dp"
	stop_server
	if [[ -s $base.pb.gz ]]; then
		go tool pprof -top -nodecount=25 "$base.pb.gz" >"$base.txt" 2>/dev/null || true
		go tool pprof -top -cum -nodecount=400 "$base.pb.gz" >"$base-cum.txt" 2>/dev/null || true
	fi
}

CONFIGS=(file mapdns acmedns-bolt acmedns-redis-cache acmedns-redis-nocache)
NLIST=($NS)
LARGEST_N=0
for n in $NS; do ((n > LARGEST_N)) && LARGEST_N=$n; done

# --- seeding: the query names (accounts 0..Q-1, the same for every N), then
# every store of every size.
"$BIN/seed" -mode files -n "$Q" -q "$Q" -dir "$WORK/files" 2>>"$LOGS/seed.log"
FIRST_NAME=$(head -1 "$WORK/files/queries.txt" | cut -d' ' -f1)
for n in $NS; do
	log "== seeding $n accounts"
	before=$(rcli "$n" info memory | awk -F: '/^used_memory:/ {print $2+0}')
	t0=$(date +%s.%N)
	"$BIN/seed" -mode redis -n "$n" 2>>"$LOGS/seed.log" | rcli "$n" --pipe >"$LOGS/redis-pipe-$n.log"
	t1=$(date +%s.%N)
	after=$(rcli "$n" info memory | awk -F: '/^used_memory:/ {print $2+0}')
	keys=$(rcli "$n" dbsize)
	[[ $keys == "$n" ]] || { echo "run.sh: Redis has $keys keys, want $n" >&2; exit 1; }
	printf 'redis_used_memory\t%s\t%s\t%s\t%s\n' "$n" "$before" "$after" "$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN {print (a - b) / n}')" >>"$RES/storage.tsv"
	printf 'redis\t%s\t%s\n' "$n" "$(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')" >>"$RES/seed.tsv"

	t0=$(date +%s.%N)
	"$BIN/seed" -mode bolt -n "$n" -db "$WORK/acmedns-$n.db" 2>>"$LOGS/seed.log"
	t1=$(date +%s.%N)
	size=$(stat -c %s "$WORK/acmedns-$n.db")
	printf 'bolt_file_size\t%s\t0\t%s\t%s\n' "$n" "$size" "$(awk -v s="$size" -v n="$n" 'BEGIN {print s / n}')" >>"$RES/storage.tsv"
	printf 'bolt\t%s\t%s\n' "$n" "$(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')" >>"$RES/seed.tsv"
	log "   redis $(((after - before) / n)) B/account, bolt $((size / n)) B/account"
done
sync
sleep 2 # let the seeding's writeback settle before measuring

# --- rounds: every configuration at every size once per round. The order
# rotates from round to round, so that no configuration always runs first
# or right after the same neighbour.
for r in $(seq 1 "$RUNS"); do
	order=()
	k=$(((r - 1) % ${#CONFIGS[@]}))
	for i in "${!CONFIGS[@]}"; do order+=("${CONFIGS[$(((i + k) % ${#CONFIGS[@]}))]}"); done
	ns=("${NLIST[@]}")
	((r % 2 == 0)) && ns=($(printf '%s\n' "${NLIST[@]}" | sort -rn))
	for cfg in "${order[@]}"; do
		for n in "${ns[@]}"; do
			log "== round $r: $cfg, $n accounts"
			start_server "$cfg" "$n" pinned
			measure "$cfg" "$n" pinned "$r"
			if [[ $cfg == file || $cfg == acmedns-redis-cache ]]; then
				measure "$cfg" "$n" fixed "$r"
			fi
			stop_server
		done
	done
done
for cfg in "${CONFIGS[@]}"; do
	for n in $NS; do
		log "== unpinned: $cfg, $n accounts"
		start_server "$cfg" "$n" unpinned
		measure "$cfg" "$n" unpinned 1
		stop_server
	done
done

if [[ $FILE_ALL == 1 && $LARGEST_N != "$Q" ]]; then
	n=$LARGEST_N
	log "== file-all: the file plugin holding all $n records"
	"$BIN/seed" -mode files -n "$n" -q "$Q" -zone-all -dir "$WORK/files-all" 2>>"$LOGS/seed.log"
	start_server file-all "$n" pinned
	for r in $(seq 1 "$RUNS"); do measure file-all "$n" pinned "$r"; done
	stop_server
	rm -rf "$WORK/files-all"
fi

for n in $NS; do
	log "== HTTP API, $n accounts"
	api_load bolt "$n"
	api_load redis "$n"
done

log "== CPU profiles"
profile file "$LARGEST_N"
profile acmedns-redis-cache "$LARGEST_N"
for n in $NS; do profile acmedns-bolt "$n"; done # the one store whose lookups grow with N

T_END=$(date +%s)
{
	printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'seconds\t%s\n' "$((T_END - T_START))"
	printf 'cpu_model\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
	printf 'nproc\t%s\n' "$(nproc)"
	printf 'memory\t%s\n' "$(free -m | awk '/^Mem:/ {printf "%d MiB total, %d MiB available", $2, $7}')"
	printf 'kernel\t%s\n' "$(uname -sr)"
	printf 'go\t%s\n' "$(go version | cut -d' ' -f3-)"
	printf 'coredns\t%s\n' "$("$ROOT/coredns" -version 2>/dev/null | head -1)"
	printf 'dnsperf\t%s\n' "$(dnsperf -h 2>&1 | awk '/^Version/ {print $2}')"
	printf 'acmedns\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" --no-optional-locks diff-index --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
	printf 'redis\t%s\n' "$(redis-server --version | awk '{print $3}' | sed 's/v=//')"
	printf 'duration\t%s\n' "$DURATION"
	printf 'runs\t%s\n' "$RUNS"
	printf 'clients\t%s\n' "$CLIENTS"
	printf 'outstanding\t%s\n' "$OUTSTANDING"
	printf 'fixed_qps\t%s\n' "$FIXED_QPS"
	printf 'q\t%s\n' "$Q"
	printf 'api_seconds\t%s\n' "$API_SECONDS"
	printf 'api_workers\t%s\n' "$API_WORKERS"
	printf 'server_cpu\t%s\n' "$SERVER_CPU"
	printf 'client_cpu\t%s\n' "$CLIENT_CPU"
	printf 'cmd_dnsperf\ttaskset -c %s dnsperf -s 127.0.0.1 -p PORT -d queries.txt -l %s -c %s -T 1 -q %s -v\n' "$CLIENT_CPU" "$DURATION" "$CLIENTS" "$OUTSTANDING"
	printf 'cmd_dnsperf_fixed\ttaskset -c %s dnsperf -s 127.0.0.1 -p PORT -d queries.txt -l %s -c %s -T 1 -q %s -v -Q %s\n' "$CLIENT_CPU" "$DURATION" "$CLIENTS" "$OUTSTANDING" "$FIXED_QPS"
	printf 'cmd_server\ttaskset -c %s ./coredns -conf Corefile -quiet\n' "$SERVER_CPU"
	printf 'cmd_redis\ttaskset -c %s redis-server --bind 127.0.0.1 --port PORT --save "" --appendonly no\n' "$SERVER_CPU"
	printf 'cmd_apiload\ttaskset -c %s apiload -url http://127.0.0.1:PORT -mode register|update -workers %s -duration %ss\n' "$CLIENT_CPU" "$API_WORKERS" "$API_SECONDS"
} >"$RES/meta.tsv"
cp "$LOGS"/Corefile.* "$RES/" 2>/dev/null || true

if [[ $REPORT == 1 ]]; then
	"$BIN/report" -results "$RES" -md "$ROOT/docs/benchmarks.md" -summary "$RES/summary.tsv"
	"$BIN/chart" -summary "$RES/summary.tsv" -out "$ROOT/docs/benchmarks.svg"
	log "wrote docs/benchmarks.md and docs/benchmarks.svg"
fi
log "done in $((T_END - T_START)) s; raw results in test/bench/results/"
