// Command report turns the raw results of test/bench/run.sh into
// docs/benchmarks.md: medians of the runs, ratios against the file plugin,
// the targets met or missed, the API and storage figures, the CPU profiles,
// the machine and the exact commands. It also writes the per-configuration
// medians that the chart program draws.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/acmedns/acmedns/test/bench/internal/format"
)

// configs in display order, with what each one is.
var configs = []struct{ name, what string }{
	{"file", "ceiling: CoreDNS *file* plugin, the 1,000 queried names in a zone file"},
	{"file-all", "the *file* plugin holding every account's records in its zone file"},
	{"mapdns", "limit: miekg/dns responder answering from a Go map"},
	{"acmedns-bolt", "acmedns, embedded bbolt store"},
	{"acmedns-redis-cache", "acmedns, Redis, in-process cache (10,000 entries, warmed)"},
	{"acmedns-redis-nocache", "acmedns, Redis, `cache 0`"},
}

type run struct {
	n, config, mode, status, run             string
	qps, avg, sdv, p50, p99, resp, cpu, rcpu float64
	hasP, hasR                               bool
	sent, completed, lost                    int
	load1                                    float64
}

type group struct {
	runs []run
}

// ok returns the runs that lost nothing, or every run if none did.
func (g group) ok() ([]run, bool) {
	var out []run
	for _, r := range g.runs {
		if r.status == "ok" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return g.runs, false
	}
	return out, true
}

func median(rs []run, f func(run) float64) float64 {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		if x := f(r); !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

type stats struct {
	qps, qpsMin, qpsMax, avg, sdv, p50, p99, resp, cpu, rcpu float64
	ok, total                                                int
	lost                                                     bool
}

func summarize(g group) stats {
	rs, clean := g.ok()
	s := stats{total: len(g.runs), ok: 0, lost: !clean}
	for _, r := range g.runs {
		if r.status == "ok" {
			s.ok++
		}
	}
	s.qps = median(rs, func(r run) float64 { return r.qps })
	s.qpsMin, s.qpsMax = math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		s.qpsMin, s.qpsMax = math.Min(s.qpsMin, r.qps), math.Max(s.qpsMax, r.qps)
	}
	s.avg = median(rs, func(r run) float64 { return r.avg })
	s.sdv = median(rs, func(r run) float64 { return r.sdv })
	s.p50 = median(rs, func(r run) float64 { return pick(r.hasP, r.p50) })
	s.p99 = median(rs, func(r run) float64 { return pick(r.hasP, r.p99) })
	s.resp = median(rs, func(r run) float64 { return r.resp })
	s.cpu = median(rs, func(r run) float64 { return r.cpu })
	s.rcpu = median(rs, func(r run) float64 { return pick(r.hasR, r.rcpu) })
	return s
}

func pick(ok bool, v float64) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

func readTSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var head []string
	var out []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = fields
			continue
		}
		m := map[string]string{}
		for i, h := range head {
			if i < len(fields) {
				m[h] = fields[i]
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func num(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func f(s string) float64 { v, _ := num(s); return v }

func main() {
	dir := flag.String("results", "test/bench/results", "results directory")
	mdPath := flag.String("md", "docs/benchmarks.md", "report to write")
	summaryPath := flag.String("summary", "", "per-configuration medians to write (TSV, for the chart)")
	notesPath := flag.String("notes", "", "optional hand-written analysis to include (default: notes.md beside run.sh if present)")
	flag.Parse()

	rows, err := readTSV(filepath.Join(*dir, "runs.tsv"))
	if err != nil {
		log.Fatal(err)
	}
	groups := map[[3]string]*group{}
	var ns []string
	for _, m := range rows {
		r := run{n: m["n"], config: m["config"], mode: m["mode"], status: m["status"], run: m["run"],
			qps: f(m["qps"]), avg: f(m["avg_ms"]), sdv: f(m["stddev_ms"]), resp: f(m["resp_bytes"]), cpu: f(m["server_us_per_q"]),
			sent: int(f(m["sent"])), completed: int(f(m["completed"])), lost: int(f(m["lost"])), load1: f(m["load1"])}
		r.p50, r.hasP = num(m["p50_ms"])
		r.p99, _ = num(m["p99_ms"])
		r.rcpu, r.hasR = num(m["redis_us_per_q"])
		k := [3]string{r.n, r.config, r.mode}
		if groups[k] == nil {
			groups[k] = &group{}
		}
		groups[k].runs = append(groups[k].runs, r)
		if !slices.Contains(ns, r.n) {
			ns = append(ns, r.n)
		}
	}
	slices.SortFunc(ns, func(a, b string) int { return int(f(a) - f(b)) })
	perRun := func(n, cfg, mode string, field func(run) float64, format string) string {
		g := groups[[3]string{n, cfg, mode}]
		if g == nil {
			return ""
		}
		var parts []string
		for _, r := range g.runs {
			parts = append(parts, fmt.Sprintf(format, field(r)))
		}
		return strings.Join(parts, ", ")
	}
	// paired is the median over rounds of a/b, each ratio taken within one
	// round (runs made minutes apart, not tens of minutes).
	paired := func(na, ca, nb, cb, mode string, field func(run) float64) float64 {
		ga, gb := groups[[3]string{na, ca, mode}], groups[[3]string{nb, cb, mode}]
		if ga == nil || gb == nil {
			return math.NaN()
		}
		var ratios []run
		for _, a := range ga.runs {
			for _, b := range gb.runs {
				if a.run == b.run && a.status == "ok" && b.status == "ok" && field(b) > 0 {
					ratios = append(ratios, run{qps: field(a) / field(b)})
				}
			}
		}
		return median(ratios, func(r run) float64 { return r.qps })
	}
	qpsOf := func(r run) float64 { return r.qps }
	p99Of := func(r run) float64 { return r.p99 }
	get := func(n, cfg, mode string) (stats, bool) {
		g := groups[[3]string{n, cfg, mode}]
		if g == nil || len(g.runs) == 0 {
			return stats{}, false
		}
		return summarize(*g), true
	}
	meta := map[string]string{}
	if mrows, err := os.ReadFile(filepath.Join(*dir, "meta.tsv")); err == nil {
		for _, l := range strings.Split(string(mrows), "\n") {
			if k, v, ok := strings.Cut(l, "\t"); ok {
				meta[k] = v
			}
		}
	}

	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	w("# acmedns benchmarks\n\n")
	w("Generated by `make bench` (`test/bench/run.sh`) on %s; the whole run took %s. Do not edit by hand: rerun `make bench`.\n\n",
		meta["date"], dur(meta["seconds"]))
	w("How fast CoreDNS with *acmedns* answers the TXT queries an ACME CA sends, against two references: the **ceiling**, "+
		"CoreDNS's own *file* plugin serving the same TXT records from a zone file, and the **limit**, a bare miekg/dns responder "+
		"answering from a Go map (`test/bench/mapdns`). Every configuration is measured with %s and with %s registered accounts; "+
		"the queries are always the same %s names (accounts seeded directly into the store, each with two TXT values of 43 characters), "+
		"so the working set is the same and only the store's size changes.\n\n", format.Commas(first(ns)), format.Commas(last(ns)), format.Commas(meta["q"]))
	w("![queries per second by configuration](benchmarks.svg)\n\n")

	// --- targets
	w("## Targets\n\n")
	w("| Target | Result | Met |\n|---|---|---|\n")
	for _, n := range ns {
		fs, ok1 := get(n, "file", "pinned")
		rs, ok2 := get(n, "acmedns-redis-cache", "pinned")
		if ok1 && ok2 {
			ratio := rs.qps / fs.qps
			pr := paired(n, "acmedns-redis-cache", n, "file", "pinned", qpsOf)
			w("| acmedns on Redis with the cache ≥ 1.25× the file plugin's qps (aim 1.4×), %s accounts | medians %.0f vs %.0f qps: **%.2f×**; same-round ratios, median: **%.2f×** (runs: %s vs %s) | %s |\n",
				format.Commas(n), rs.qps, fs.qps, ratio, pr, perRun(n, "acmedns-redis-cache", "pinned", qpsOf, "%.0f"), perRun(n, "file", "pinned", qpsOf, "%.0f"),
				verdict(ratio, pr, 1.25, 1.4))
		}
	}
	for _, n := range ns {
		fs, ok1 := get(n, "file", "fixed")
		rs, ok2 := get(n, "acmedns-redis-cache", "fixed")
		if ok1 && ok2 {
			pr := paired(n, "file", n, "acmedns-redis-cache", "fixed", p99Of)
			w("| p99 latency at %s qps no worse than the file plugin's, %s accounts | medians %s ms vs %s ms; same-round, file p99 ÷ acmedns p99, median: %.2f (runs: %s vs %s) | %s |\n",
				format.Commas(meta["fixed_qps"]), format.Commas(n), ms(rs.p99), ms(fs.p99), pr, perRun(n, "acmedns-redis-cache", "fixed", p99Of, "%.3f"), perRun(n, "file", "fixed", p99Of, "%.3f"),
				verdict(fs.p99/rs.p99, pr, 1, math.Inf(1)))
		}
	}
	if len(ns) >= 2 {
		lo, hi := first(ns), last(ns)
		for _, cfg := range []string{"acmedns-redis-cache", "acmedns-redis-nocache", "acmedns-bolt"} {
			a, ok1 := get(lo, cfg, "pinned")
			z, ok2 := get(hi, cfg, "pinned")
			if ok1 && ok2 {
				r := z.qps / a.qps
				pr := paired(hi, cfg, lo, cfg, "pinned", qpsOf)
				w("| %s: %s accounts no more than 10%% slower than %s accounts | medians %.0f vs %.0f qps (%+.1f%%); same-round ratios, median: %+.1f%% (runs: %s vs %s) | %s |\n",
					cfg, format.Commas(hi), format.Commas(lo), z.qps, a.qps, (r-1)*100, (pr-1)*100, perRun(hi, cfg, "pinned", qpsOf, "%.0f"), perRun(lo, cfg, "pinned", qpsOf, "%.0f"),
					verdict(r, pr, 0.9, math.Inf(1)))
			}
		}
	}
	w("\nThe runs are listed in round order. A run that lost any query is repeated (at most 3 times); medians are over the runs that lost nothing. " +
		"The machine is shared with other work and its speed drifts by tens of percent from minute to minute, so the suite never measures one configuration in a block: " +
		"every store of every size is seeded first (one Redis per size), and each round runs every configuration at every size once, in a rotating order. " +
		"Compare runs of the same round when the spread is wide.\n\n")

	// --- main table
	w("## Throughput, server pinned to one core\n\n")
	w("Server processes (CoreDNS or mapdns, and redis-server) on CPU %s, dnsperf on CPU %s (`taskset`). "+
		"dnsperf keeps %s queries outstanding over %s sockets for %s s per run; median of %s runs. "+
		"Latencies are as dnsperf sees them at saturation, so they mostly measure the queue; p50 and p99 are computed from dnsperf's `-v` per-query output "+
		"(this dnsperf, %s, has no latency histogram option). CPU µs/query: the process's utime+stime from /proc/PID/stat over the run, "+
		"divided by the answered queries.\n\n",
		meta["server_cpu"], meta["client_cpu"], meta["outstanding"], meta["clients"], meta["duration"], meta["runs"], meta["dnsperf"])
	tableHead(w, true)
	for _, n := range ns {
		for _, c := range configs {
			s, ok := get(n, c.name, "pinned")
			if !ok {
				continue
			}
			fs, _ := get(n, "file", "pinned")
			tableRow(w, n, c.name, s, fs, true)
		}
	}
	w("\n")

	w("## Throughput, unpinned\n\n")
	w("The same, one run per configuration, with every process free to use both cores (dnsperf included, so the client competes with the server).\n\n")
	tableHead(w, false)
	for _, n := range ns {
		for _, c := range configs {
			s, ok := get(n, c.name, "unpinned")
			if !ok {
				continue
			}
			fs, _ := get(n, "file", "unpinned")
			tableRow(w, n, c.name, s, fs, false)
		}
	}
	w("\n")

	// --- fixed rate
	w("## Latency at a fixed %s qps\n\n", format.Commas(meta["fixed_qps"]))
	w("dnsperf `-Q %s`, pinned as above, median of %s runs. At this rate neither server is saturated, so the latency is the service time, not a queue.\n\n",
		meta["fixed_qps"], meta["runs"])
	w("| Accounts | Config | qps | avg ms | p50 ms | p99 ms | CoreDNS µs/query | Redis µs/query | runs ok |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range ns {
		for _, c := range []string{"file", "acmedns-redis-cache"} {
			s, ok := get(n, c, "fixed")
			if !ok {
				continue
			}
			w("| %s | %s | %.0f | %s | %s | %s | %s | %s | %d/%d |\n", format.Commas(n), c, s.qps, ms(s.avg), ms(s.p50), ms(s.p99), us(s.cpu), us(s.rcpu), s.ok, s.total)
		}
	}
	w("\n")

	// --- scaling and cache
	if len(ns) >= 2 {
		lo, hi := first(ns), last(ns)
		w("## Scaling and the cache\n\n")
		w("| Config | qps, %s accounts | qps, %s accounts | change | µs/query, %s | µs/query, %s |\n|---|---:|---:|---:|---:|---:|\n", format.Commas(lo), format.Commas(hi), format.Commas(lo), format.Commas(hi))
		for _, c := range configs {
			a, ok1 := get(lo, c.name, "pinned")
			z, ok2 := get(hi, c.name, "pinned")
			if ok1 && ok2 {
				w("| %s | %.0f | %.0f | %+.1f%% | %s | %s |\n", c.name, a.qps, z.qps, (z.qps/a.qps-1)*100, us(a.cpu+nz(a.rcpu)), us(z.cpu+nz(z.rcpu)))
			}
		}
		w("\nµs/query here is CoreDNS's plus Redis's.\n\n")
		for _, n := range ns {
			c, ok1 := get(n, "acmedns-redis-cache", "pinned")
			u, ok2 := get(n, "acmedns-redis-nocache", "pinned")
			if ok1 && ok2 {
				w("- Cache speed-up, %s accounts: **%.2f×** the qps of `cache 0` (%.0f vs %.0f); server-side CPU per query %s µs vs %s µs (CoreDNS %s + Redis %s).\n",
					format.Commas(n), c.qps/u.qps, c.qps, u.qps, us(c.cpu+nz(c.rcpu)), us(u.cpu+nz(u.rcpu)), us(u.cpu), us(u.rcpu))
			}
		}
		w("\n")
	}

	// --- API
	if api, err := readTSV(filepath.Join(*dir, "api.tsv")); err == nil && len(api) > 0 {
		w("## HTTP API\n\n")
		w("`test/bench/apiload`: %s workers for %s s each, CoreDNS (and Redis) pinned to CPU %s, the load on CPU %s. `/register` first (its credentials are kept), "+
			"then `/update` with random accounts among those just registered. Both are bound by bcrypt (cost 10): `/register` hashes a new password, "+
			"`/update` compares one. The embedded store also fsyncs every write; Redis runs without persistence here.\n\n",
			meta["api_workers"], meta["api_seconds"], meta["server_cpu"], meta["client_cpu"])
		w("| Store | Accounts | Call | req/s | avg ms | p50 ms | p99 ms | max ms | errors |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n")
		for _, m := range api {
			w("| %s | %s | /%s | %.1f | %s | %s | %s | %s | %s |\n", m["store"], format.Commas(m["n"]), m["mode"], f(m["rps"]), m["avg_ms"], m["p50_ms"], m["p99_ms"], m["max_ms"], m["errors"])
		}
		w("\n")
	}

	// --- storage
	if st, err := readTSV(filepath.Join(*dir, "storage.tsv")); err == nil && len(st) > 0 {
		w("## Storage per account\n\n")
		w("| Store | Accounts | Measure | bytes per account |\n|---|---:|---|---:|\n")
		for _, m := range st {
			what := "Redis INFO `used_memory` after seeding minus before, / accounts"
			store := "Redis"
			if m["what"] == "bolt_file_size" {
				what = "bbolt file size / accounts"
				store = "embedded (bbolt)"
			}
			w("| %s | %s | %s | %.0f |\n", store, format.Commas(m["n"]), what, f(m["bytes_per_account"]))
		}
		w("\nEach account: a 36-character subdomain, a UUID username, a 60-byte bcrypt hash, an empty allowfrom and two 43-character TXT values. " +
			"The bbolt file is seeded in random key order, 1,000 accounts per transaction, which leaves its pages about as full as registering them one at a time " +
			"through the API would (measured while writing this suite: 503 bytes per account at 200,000 accounts one per transaction; at 1,000,000, 487 with 100 per transaction " +
			"and 494 with 1,000; seeding in key order in big transactions leaves pages half full, about 700). " +
			"Small counts are dominated by fixed overhead (bbolt grows its file in steps, Redis has its own baseline).\n\n")
		if sd, err := readTSV(filepath.Join(*dir, "seed.tsv")); err == nil {
			var parts []string
			for _, m := range sd {
				parts = append(parts, fmt.Sprintf("%s %s accounts in %s s", m["what"], format.Commas(m["n"]), m["seconds"]))
			}
			w("Seeding took: %s.\n\n", strings.Join(parts, ", "))
		}
	}

	// --- profiles
	profiles, _ := filepath.Glob(filepath.Join(*dir, "profile-*.txt"))
	var flat []string
	for _, p := range profiles {
		if !strings.HasSuffix(p, "-cum.txt") {
			flat = append(flat, p)
		}
	}
	if len(flat) > 0 {
		w("## CPU profiles\n\n")
		w("Taken with CoreDNS's *pprof* plugin (`pprof 127.0.0.1:PORT` added to the Corefile), `/debug/pprof/profile?seconds=5` during a saturating dnsperf run, " +
			"pinned as above; `go tool pprof -top`. The top functions by flat CPU time, then by cumulative time:\n\n")
		partsTable(w, flat)
		for _, p := range flat {
			name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "profile-"), ".txt")
			title := name
			if i := strings.LastIndex(name, "-"); i > 0 {
				title = fmt.Sprintf("%s, %s accounts", name[:i], format.Commas(name[i+1:]))
			}
			w("### %s\n\n", title)
			if q := profileQPS(strings.TrimSuffix(p, ".txt") + ".dnsperf"); q > 0 {
				w("dnsperf got %.0f qps during this profile.\n\n", q)
			}
			w("~~~ txt\n%s~~~\n\n", topLines(p, 18))
			if cum := strings.TrimSuffix(p, ".txt") + "-cum.txt"; fileExists(cum) {
				w("<details><summary>cumulative</summary>\n\n~~~ txt\n%s~~~\n\n</details>\n\n", topLines(cum, 30))
			}
		}
	}

	// --- notes
	np := *notesPath
	if np == "" {
		np = filepath.Join(filepath.Dir(*dir), "notes.md")
	}
	if notes, err := os.ReadFile(np); err == nil {
		w("## Analysis\n\n%s\n", strings.TrimSpace(string(notes)))
		w("\n")
	}

	// --- machine and commands
	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	for _, k := range []string{"cpu_model", "nproc", "memory", "kernel", "go", "coredns", "dnsperf", "redis", "acmedns"} {
		w("| %s | %s |\n", k, meta[k])
	}
	w("\nThe machine is shared: other jobs (builds, tests) may have run during the benchmark; the `load1` column of `results/runs.tsv` records the load average at the start of each run.\n\n")
	w("## Commands\n\n~~~ sh\n")
	w("make bench    # = make build && bash test/bench/run.sh\n")
	for _, k := range []string{"cmd_redis", "cmd_server", "cmd_dnsperf", "cmd_dnsperf_fixed", "cmd_apiload"} {
		w("%s\n", meta[k])
	}
	w("~~~\n\n")
	w("Unpinned runs drop the `taskset`. Every run starts its server afresh; before it is measured it gets three passes over the query names (`dnsperf -n 3`), which also fills the acmedns cache. "+
		"Seeding: `seed -mode redis -n N | redis-cli --pipe` (pipelined HSETs, one precomputed bcrypt hash), `seed -mode bolt -n N -db FILE`, "+
		"`seed -mode files -n %[1]s -q %[1]s` (dnsperf query file, zone file and mapdns records for the query names; `-zone-all -n N` for file-all). Knobs: `BENCH_DURATION`, `BENCH_RUNS`, `BENCH_NS`, `BENCH_Q`, "+
		"`BENCH_CLIENTS`, `BENCH_OUTSTANDING`, `BENCH_FIXED_QPS`, `BENCH_API_SECONDS`, `BENCH_API_WORKERS` (see the top of `test/bench/run.sh`).\n\n", meta["q"])
	corefiles, _ := filepath.Glob(filepath.Join(*dir, "Corefile.*"))
	if len(corefiles) > 0 {
		w("The Corefiles (ports vary from run to run):\n\n")
		for _, c := range corefiles {
			data, _ := os.ReadFile(c)
			w("~~~ corefile\n# %s\n%s~~~\n\n", strings.TrimPrefix(filepath.Base(c), "Corefile."), data)
		}
	}

	if err := os.MkdirAll(filepath.Dir(*mdPath), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*mdPath, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}

	if *summaryPath != "" {
		var s strings.Builder
		s.WriteString("n\tconfig\tmode\tqps\tqps_min\tqps_max\n")
		for _, n := range ns {
			for _, c := range configs {
				for _, mode := range []string{"pinned", "unpinned"} {
					if st, ok := get(n, c.name, mode); ok {
						fmt.Fprintf(&s, "%s\t%s\t%s\t%.0f\t%.0f\t%.0f\n", n, c.name, mode, st.qps, st.qpsMin, st.qpsMax)
					}
				}
			}
		}
		if err := os.WriteFile(*summaryPath, []byte(s.String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func tableHead(w func(string, ...any), pinned bool) {
	if pinned {
		w("| Accounts | Config | qps (median) | qps range | vs file | avg ms | stddev ms | p50 ms | p99 ms | CoreDNS µs/query | Redis µs/query | response bytes | runs ok |\n")
		w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		return
	}
	w("| Accounts | Config | qps | vs file | avg ms | p99 ms | CoreDNS µs/query | Redis µs/query | lost |\n")
	w("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
}

func tableRow(w func(string, ...any), n, cfg string, s, fs stats, pinned bool) {
	ratio := "-"
	if fs.qps > 0 {
		ratio = fmt.Sprintf("%.2f×", s.qps/fs.qps)
	}
	mark := ""
	if s.lost {
		mark = " (lost queries)"
	}
	if pinned {
		w("| %s | %s%s | %.0f | %.0f–%.0f | %s | %s | %s | %s | %s | %s | %s | %.0f | %d/%d |\n",
			format.Commas(n), cfg, mark, s.qps, s.qpsMin, s.qpsMax, ratio, ms(s.avg), ms(s.sdv), ms(s.p50), ms(s.p99), us(s.cpu), us(s.rcpu), s.resp, s.ok, s.total)
		return
	}
	lost := "0"
	if s.lost {
		lost = "yes"
	}
	w("| %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n", format.Commas(n), cfg, s.qps, ratio, ms(s.avg), ms(s.p99), us(s.cpu), us(s.rcpu), lost)
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", v)
}

func us(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func nz(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// verdict judges a target on two estimates of one ratio: met when both
// reach it, missed when neither does, borderline otherwise.
func verdict(a, b, target, aim float64) string {
	if math.IsNaN(b) {
		b = a
	}
	switch {
	case a >= aim && b >= aim:
		return "**met** (aim reached)"
	case a >= target && b >= target:
		return "**met**"
	case a >= target || b >= target:
		return "**borderline** (the two estimates disagree)"
	}
	return "**missed**"
}

func dur(s string) string {
	v, err := strconv.Atoi(s)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%d min %02d s", v/60, v%60)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// parts are the pieces of a query's CPU time read off the cumulative
// profiles; the first function of each list that is present counts.
var parts = []struct {
	name  string
	funcs []string
}{
	{"read the query (recvmsg, unpack)", []string{"github.com/miekg/dns.(*Server).readUDP"}},
	{"plugin's ServeDNS, all of it", []string{"github.com/acmedns/acmedns.(*ACMEDNS).ServeDNS", "github.com/coredns/coredns/plugin/file.File.ServeDNS"}},
	{"… the lookup (store or zone tree)", []string{"github.com/acmedns/acmedns.(*ACMEDNS).lookup", "github.com/acmedns/acmedns/store.(*Redis).TXT", "github.com/acmedns/acmedns/store.(*Bolt).TXT", "github.com/coredns/coredns/plugin/file.(*Zone).Lookup"}},
	{"… pack and send the answer (sendmsg)", []string{"github.com/coredns/coredns/request.(*ScrubWriter).WriteMsg"}},
	{"garbage collector (background marking)", []string{"runtime.gcBgMarkWorker"}},
}

// partsTable turns the cumulative profiles into CPU microseconds per query
// for each part, using the qps dnsperf measured during the profile.
func partsTable(w func(string, ...any), flat []string) {
	type col struct {
		title string
		total float64
		cum   map[string]float64
	}
	var cols []col
	for _, p := range flat {
		base := strings.TrimSuffix(p, ".txt")
		qps := profileQPS(base + ".dnsperf")
		data, err := os.ReadFile(base + "-cum.txt")
		if err != nil || qps == 0 {
			continue
		}
		c := col{cum: map[string]float64{}}
		name := strings.TrimPrefix(filepath.Base(base), "profile-")
		c.title = name
		if i := strings.LastIndex(name, "-"); i > 0 {
			c.title = fmt.Sprintf("%s, %s", name[:i], shortN(name[i+1:]))
		}
		var dur, samples float64
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "Duration:") {
				// Duration: 5s, Total samples = 4.94s (98.78%)
				fmt.Sscanf(strings.TrimPrefix(l, "Duration: "), "%fs, Total samples = %fs", &dur, &samples)
				continue
			}
			fields := strings.Fields(l)
			if len(fields) == 6 {
				if v, ok := seconds(fields[3]); ok {
					c.cum[fields[5]] = v
				}
			}
		}
		if dur == 0 {
			continue
		}
		per := func(sec float64) float64 { return sec / dur / qps * 1e6 }
		c.total = per(samples)
		for k, v := range c.cum {
			c.cum[k] = per(v)
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return
	}
	w("CPU time per query by part, in µs: each profile's samples divided by the queries dnsperf answered meanwhile " +
		"(the parts overlap: the lookup and the answer are inside ServeDNS).\n\n| Part |")
	for _, c := range cols {
		w(" %s |", c.title)
	}
	w("\n|---|%s\n| whole process |", strings.Repeat("---:|", len(cols)))
	for _, c := range cols {
		w(" %.1f |", c.total)
	}
	w("\n")
	for _, part := range parts {
		w("| %s |", part.name)
		for _, c := range cols {
			v, found := 0.0, false
			for _, f := range part.funcs {
				if x, ok := c.cum[f]; ok {
					v, found = x, true
					break
				}
			}
			if found {
				w(" %.1f |", v)
			} else {
				w(" - |")
			}
		}
		w("\n")
	}
	w("\n")
}

// seconds parses pprof's "1.23s" or "450ms".
func seconds(s string) (float64, bool) {
	switch {
	case strings.HasSuffix(s, "ms"):
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "ms"), 64)
		return v / 1000, err == nil
	case strings.HasSuffix(s, "s"):
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
		return v, err == nil
	}
	return 0, false
}

func shortN(s string) string {
	switch s {
	case "1000":
		return "1k"
	case "1000000":
		return "1M"
	}
	return format.Commas(s)
}

// profileQPS reads the qps of the dnsperf run made during a profile.
func profileQPS(path string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "Queries per second:"); ok {
			return f(strings.TrimSpace(rest))
		}
	}
	return 0
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// topLines returns pprof -top's header and the first n rows.
func topLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var out []string
	rows := 0
	inRows := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		if strings.Contains(l, "flat%") {
			inRows = true
			out = append(out, l)
			continue
		}
		if inRows {
			if rows >= n || strings.TrimSpace(l) == "" {
				break
			}
			rows++
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}
