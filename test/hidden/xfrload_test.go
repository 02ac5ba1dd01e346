package hidden

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

// TestTransferLoad measures what misbehaving transfer clients cost the
// primary, on Redis (its INFO commandstats counts the store's reads: one
// ZRANGE per page of a thousand registrations, one HMGET per registration),
// with the Corefile the transfer plugin allows, `transfer { to * }`, and
// acmedns's default transfer bounds. A DNS probe (a TXT query over UDP every
// 10 ms, 1 s timeout) runs through every scenario:
//
//	idle            nothing else: the probe's baseline
//	concurrent      50 AXFRs at once from 127.0.0.3, read in full, and one
//	                from 127.0.0.2 (the legitimate secondary) 200 ms later
//	hangup          100 AXFRs from 127.0.0.4, 20 ms apart, each closed as
//	                soon as it is sent
//	stalled-axfr    20 AXFRs from 127.0.0.5 never read (4 KiB receive
//	                buffer), held 15 s (ACMEDNS_XFR_HOLD); the legitimate
//	                AXFR in the middle
//	stalled-ixfr    40 IXFRs from 127.0.0.6, ACMEDNS_XFR_CHANGES changes
//	                behind, never read, held as long; the legitimate AXFR
//	after           5 s more, once the clients have gone
//
// It reports, per scenario, the probe's latency, the CPU time of CoreDNS and
// Redis, the store's reads, CoreDNS's resident memory, the kernel's TCP
// memory and the transfer connections the server still holds. The zone has
// ACMEDNS_XFR_ACCOUNTS registrations (seeded straight into Redis, two TXT
// values of 43 characters each) plus ACMEDNS_XFR_CHANGES created through the
// admin API (two values of 255 characters each, journaled). After each
// scenario it waits for the store's reads to stop. make bench runs it with
// 20,000 and 9,999; without ACMEDNS_XFR_ACCOUNTS it is skipped.
func TestTransferLoad(t *testing.T) {
	if os.Getenv("ACMEDNS_XFR_ACCOUNTS") == "" {
		t.Skip("set ACMEDNS_XFR_ACCOUNTS (make bench does)")
	}
	n := envInt("ACMEDNS_XFR_ACCOUNTS", 20000)
	k := envInt("ACMEDNS_XFR_CHANGES", 9999)
	hold := 15 * time.Second
	if d, err := time.ParseDuration(os.Getenv("ACMEDNS_XFR_HOLD")); err == nil && d > 0 {
		hold = d
	}

	seed := filepath.Join(t.TempDir(), "seed")
	if out, err := exec.Command("go", "build", "-o", seed, "../bench/seed").CombinedOutput(); err != nil {
		t.Fatalf("building the seed tool: %v\n%s", err, out)
	}
	redis := harness.StartRedis(t)
	host, port, _ := net.SplitHostPort(redis.Addr)
	cmd := exec.Command("sh", "-c", fmt.Sprintf("%s -mode redis -n %d | redis-cli -h %s -p %s --pipe", seed, n, host, port))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	adminPort := harness.FreePort(t)
	primary := harness.StartCoreDNSWithin(t, loadCorefile(redis.Addr, adminPort), nil, 5*time.Minute)
	admin := fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	waitZone(t, primary.DNSAddr, 2*n+4)
	from := soa(t, primary.DNSAddr)
	probeName := createJournaled(t, admin, k)
	full := 2*(n+k) + 4
	waitZone(t, primary.DNSAddr, full)
	l := &loadRun{t: t, primary: primary, redis: redis, full: full}

	l.scenario("idle", func() string { time.Sleep(3 * time.Second); return "" }, probeName)
	l.scenario("concurrent", func() string {
		var res xfrResults
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { res.add(fullTransfer(primary.DNSAddr, "127.0.0.3", 0)) })
		}
		time.Sleep(200 * time.Millisecond)
		legit := l.legit()
		wg.Wait()
		return res.String() + "; " + legit
	}, probeName)
	l.scenario("hangup", func() string {
		for range 100 {
			hangUp(t, primary.DNSAddr, "127.0.0.4")
			time.Sleep(20 * time.Millisecond)
		}
		return "100 hang-ups"
	}, probeName)
	l.scenario("stalled-axfr", func() string {
		return l.stalled("127.0.0.5", 20, 0, hold)
	}, probeName)
	l.scenario("stalled-ixfr", func() string {
		return l.stalled("127.0.0.6", 40, from, hold)
	}, probeName)
	l.scenario("after", func() string { time.Sleep(5 * time.Second); return "" }, probeName)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const loadAdminToken = "load-test-admin-token-0123456789"

func loadCorefile(redisAddr string, adminPort int) string {
	return fmt.Sprintf(`auth.example.test:{DNS} {
    bind 127.0.0.1
    transfer {
        to *
    }
    acmedns {
        api 127.0.0.1:{API}
        redis %s
        nameserver ns1.auth.example.test 127.0.0.1
        admin 127.0.0.1:%d {
            token %s
        }
        audit off
    }
}
`, redisAddr, adminPort, loadAdminToken)
}

// waitZone waits until an AXFR has want records.
func waitZone(t *testing.T, addr string, want int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		r := fullTransfer(addr, "127.0.0.1", 0)
		if r.records == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the zone has %d records (%v), want %d", r.records, r.err, want)
		}
		time.Sleep(time.Second)
	}
}

// longValue is the i-th TXT value of the largest size, 255 characters.
func longValue(i int) string { return fmt.Sprintf("%0255d", i) }

// createJournaled creates k accounts with two TXT values of 255 characters
// each through the admin API (each a journaled change) and returns one's
// subdomain.
func createJournaled(t *testing.T, admin string, k int) string {
	const hash = "$2a$10$qkZQiQt3nmdpRV78ubq4/.DKcpgyiZGmh/02X/wAeYtFIpioL0Odu"
	var next atomic.Int64
	var first atomic.Value
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(k); i = next.Add(1) - 1 {
				body, _ := json.Marshal(map[string]any{"password_hash": hash, "txt": []string{longValue(int(2 * i)), longValue(int(2*i + 1))}})
				req, _ := http.NewRequest("POST", admin+"/accounts", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+loadAdminToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 201 {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				var a struct{ Subdomain string }
				json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				first.CompareAndSwap(nil, a.Subdomain)
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 || first.Load() == nil {
		t.Fatalf("admin create: %d of %d failed", failed.Load(), k)
	}
	return first.Load().(string) + "." + zone
}

// loadRun measures scenarios against one primary.
type loadRun struct {
	t       *testing.T
	primary *harness.CoreDNS
	redis   *harness.Redis
	full    int // records of a whole AXFR
}

// scenario runs fn under the probe, then waits for the store's reads to
// stop (what a client that has gone still costs counts too), and logs what
// it cost.
func (l *loadRun) scenario(name string, fn func() string, probeName string) {
	t := l.t
	cpu0, rcpu0, stats0 := procCPU(l.primary.Pid()), procCPU(l.redis.Pid()), redisCalls(t, l.redis.Addr)
	mem0 := procMem(l.primary.Pid())
	p := startProbe(l.primary.DNSAddr, probeName)
	detail := fn()
	tail := l.quiet()
	lat := p.stop()
	mem1 := procMem(l.primary.Pid())
	cpu1, rcpu1, stats1 := procCPU(l.primary.Pid()), procCPU(l.redis.Pid()), redisCalls(t, l.redis.Addr)
	t.Logf("scenario %s: probe %s; CPU CoreDNS %.2f s, Redis %.2f s; store reads %d pages (zrange), %d records (hmget), "+
		"the last %s after the clients were done; CoreDNS RSS %d MiB before, %d MiB at the end (anon %d MiB), peak %d MiB; "+
		"at the end the server holds %s, kernel TCP memory %d MiB; %s",
		name, lat, cpu1-cpu0, rcpu1-rcpu0, stats1["zrange"]-stats0["zrange"], stats1["hmget"]-stats0["hmget"],
		tail.Round(100*time.Millisecond), mem0.rss>>20, mem1.rss>>20, mem1.anon>>20, mem1.peak>>20,
		serverConns(t, l.primary.DNSAddr), kernelTCPMem()>>20, detail)
}

// quiet waits until the store has read no page for 2 s (at most 3 min)
// and returns how long after its start the last read was.
func (l *loadRun) quiet() time.Duration {
	start := time.Now()
	last, lastAt := redisCalls(l.t, l.redis.Addr)["zrange"], start
	for time.Since(lastAt) < 2*time.Second && time.Since(start) < 3*time.Minute {
		time.Sleep(200 * time.Millisecond)
		if n := redisCalls(l.t, l.redis.Addr)["zrange"]; n != last {
			last, lastAt = n, time.Now()
		}
	}
	return lastAt.Sub(start)
}

// legit runs one AXFR from 127.0.0.2 and says how it went.
func (l *loadRun) legit() string {
	r := fullTransfer(l.primary.DNSAddr, "127.0.0.2", 0)
	if r.err != nil || r.records != l.full {
		return fmt.Sprintf("legitimate AXFR FAILED: %d of %d records, %v (rcode %s)", r.records, l.full, r.err, dns.RcodeToString[r.rcode])
	}
	return fmt.Sprintf("legitimate AXFR complete in %s", r.took.Round(time.Millisecond))
}

// stalled opens count transfers from src that are never read (an AXFR with
// serial 0, else an IXFR from serial), holds them, runs the legitimate
// AXFR in the middle, and reports what the server held at the end, before
// the clients go.
func (l *loadRun) stalled(src string, count int, serial uint32, hold time.Duration) string {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range count {
		c, err := stallTransfer(l.primary.DNSAddr, src, serial)
		if err != nil {
			l.t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(hold / 2)
	legit := l.legit()
	mid := procMem(l.primary.Pid())
	time.Sleep(hold - hold/2)
	end := procMem(l.primary.Pid())
	return fmt.Sprintf("%d unread from %s; after %s the server holds %s, kernel TCP memory %d MiB, CoreDNS RSS %d MiB (%d MiB in the middle); %s",
		count, src, hold, serverConns(l.t, l.primary.DNSAddr), kernelTCPMem()>>20, end.rss>>20, mid.rss>>20, legit)
}

// xfrResult is one transfer as a client saw it.
type xfrResult struct {
	records int
	rcode   int
	took    time.Duration
	err     error
	done    bool // the closing SOA arrived
}

// fullTransfer runs a transfer from src and reads it to the end.
func fullTransfer(addr, src string, serial uint32) xfrResult {
	start := time.Now()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return xfrResult{err: err}
	}
	defer c.Close()
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zone)
	} else {
		m.SetIxfr(zone, serial, "ns1."+zone, "hostmaster."+zone)
	}
	co := &dns.Conn{Conn: c}
	if err := co.WriteMsg(m); err != nil {
		return xfrResult{err: err}
	}
	var r xfrResult
	soas := 0
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		in, err := co.ReadMsg()
		if err != nil {
			r.err = err
			break
		}
		if in.Rcode != dns.RcodeSuccess {
			r.rcode = in.Rcode
			break
		}
		for _, rr := range in.Answer {
			r.records++
			if rr.Header().Rrtype == dns.TypeSOA {
				soas++
			}
		}
		if soas >= 2 || (serial != 0 && r.records == 1) {
			r.done = true
			break
		}
	}
	r.took = time.Since(start)
	return r
}

// xfrResults tallies transfers.
type xfrResults struct {
	mu                        sync.Mutex
	complete, refused, failed int
	slowest                   time.Duration
}

func (x *xfrResults) add(r xfrResult) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case r.done:
		x.complete++
		x.slowest = max(x.slowest, r.took)
	case r.rcode == dns.RcodeRefused:
		x.refused++
	default:
		x.failed++
	}
}

func (x *xfrResults) String() string {
	return fmt.Sprintf("%d complete (slowest %s), %d refused, %d failed", x.complete, x.slowest.Round(time.Millisecond), x.refused, x.failed)
}

// hangUp sends an AXFR from src and closes the connection at once.
func hangUp(t *testing.T, addr, src string) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetAxfr(zone)
	(&dns.Conn{Conn: c}).WriteMsg(m)
	c.Close()
}

// stallTransfer sends a transfer request from src on a connection with a
// 4 KiB receive buffer and returns it, never read.
func stallTransfer(addr, src string, serial uint32) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second,
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			if err != nil {
				return err
			}
			return serr
		}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zone)
	} else {
		m.SetIxfr(zone, serial, "ns1."+zone, "hostmaster."+zone)
	}
	if err := (&dns.Conn{Conn: c}).WriteMsg(m); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// probe asks a TXT query every 10 ms over UDP, one at a time, 1 s timeout.
type probe struct {
	stopc chan struct{}
	done  chan struct{}
	lat   []time.Duration
	lost  int
}

func startProbe(addr, name string) *probe {
	p := &probe{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		c := &dns.Client{Net: "udp", Timeout: time.Second}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-tick.C:
			}
			start := time.Now()
			if _, _, err := c.Exchange(m, addr); err != nil {
				p.lost++
				continue
			}
			p.lat = append(p.lat, time.Since(start))
		}
	}()
	return p
}

// stop ends the probe and summarises it.
func (p *probe) stop() string {
	close(p.stopc)
	<-p.done
	if len(p.lat) == 0 {
		return fmt.Sprintf("no answers, %d lost", p.lost)
	}
	sort.Slice(p.lat, func(i, j int) bool { return p.lat[i] < p.lat[j] })
	var sum time.Duration
	for _, d := range p.lat {
		sum += d
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
	return fmt.Sprintf("avg %s ms, p50 %s, p99 %s, max %s ms, %d lost of %d",
		ms(sum/time.Duration(len(p.lat))), ms(p.lat[len(p.lat)/2]), ms(p.lat[len(p.lat)*99/100]), ms(p.lat[len(p.lat)-1]), p.lost, p.lost+len(p.lat))
}

// procCPU is a process's CPU time so far, in seconds.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

type procMemory struct{ rss, anon, peak int64 }

func procMem(pid int) procMemory {
	var m procMemory
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "RssAnon:":
			m.anon = kb << 10
		case "VmHWM:":
			m.peak = kb << 10
		}
	}
	return m
}

// kernelTCPMem is the kernel's TCP buffer memory now (sockstat's mem, in
// pages), in bytes.
func kernelTCPMem() int64 {
	b, _ := os.ReadFile("/proc/net/sockstat")
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line)
		for i := 1; i+1 < len(f); i++ {
			if f[i] == "mem" {
				pages, _ := strconv.ParseInt(f[i+1], 10, 64)
				return pages * int64(os.Getpagesize())
			}
		}
	}
	return 0
}

// serverConns counts the server's TCP connections on addr's port to the
// transfer clients (127.0.0.2 to .6) by state: established, and closed by
// the server with data still queued (FIN_WAIT1).
func serverConns(t *testing.T, addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	local := fmt.Sprintf(":%04X", p)
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	est, finWait := 0, 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasSuffix(f[1], local) || strings.HasPrefix(f[2], "0100007F") {
			continue // not the server's side, or the probe's and setup's 127.0.0.1
		}
		switch f[3] {
		case "01":
			est++
		case "04":
			finWait++
		}
	}
	return fmt.Sprintf("%d established, %d closed with data queued", est, finWait)
}

// redisCalls reads Redis's calls per command from INFO commandstats.
func redisCalls(t *testing.T, addr string) map[string]int {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("redis-cli", "-h", host, "-p", port, "INFO", "commandstats").Output()
	if err != nil {
		t.Fatalf("redis-cli INFO: %v", err)
	}
	calls := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		calls[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return calls
}
