package hidden

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

// TestSecondaryPropagation measures, for NSD and Knot, the time from an
// update's 200 to the secondary answering the new value: NOTIFY, the
// secondary's SOA check and IXFR, and its reload. ACMEDNS_SECONDARY_UPDATES
// sets the number of updates (20 by default; make bench runs 1,000), and
// ACMEDNS_SECONDARY_GAP a pause between one update being seen and the next
// (0 by default: back to back).
func TestSecondaryPropagation(t *testing.T) {
	n := 20
	if s := os.Getenv("ACMEDNS_SECONDARY_UPDATES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	gap, _ := time.ParseDuration(os.Getenv("ACMEDNS_SECONDARY_GAP"))
	primary, secondaries := startSecondaries(t, "db acmedns.db")
	acc := harness.Register(t, primary.APIURL)
	fqdn := acc.Subdomain + "." + zone
	delays := map[string][]time.Duration{}
	for i := range n {
		time.Sleep(gap)
		update(t, primary.APIURL, acc, value(i))
		acked := time.Now()
		type seen struct {
			kind string
			took time.Duration
		}
		results := make(chan seen, len(secondaries))
		want := []string{value(i)}
		if i > 0 {
			want = append(want, value(i-1))
		}
		for _, s := range secondaries {
			go func() {
				if waitTXTQuiet(s.DNSAddr, fqdn, want) {
					results <- seen{s.Kind, time.Since(acked)}
				} else {
					results <- seen{s.Kind, -1}
				}
			}()
		}
		for range secondaries {
			r := <-results
			if r.took < 0 {
				t.Fatalf("update %d not on %s within 5 s", i, r.kind)
			}
			delays[r.kind] = append(delays[r.kind], r.took)
		}
	}
	for _, s := range secondaries {
		d := delays[s.Kind]
		if len(d) != n {
			t.Fatalf("%s: %d of %d updates seen", s.Kind, len(d), n)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		pct := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))] }
		t.Logf("update to %s over %d updates %s apart: p50 %s, p99 %s, max %s; transfers %+v",
			s.Kind, n, gap, pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond), s.Transfers(t))
	}
}

// waitTXTQuiet polls addr every millisecond for up to 5 s until name has
// the values want; false if it never does. A query unanswered within 20 ms
// is asked again (a secondary may drop one while it switches zones).
func waitTXTQuiet(addr, name string, want []string) bool {
	c := &dns.Client{Net: "udp", Timeout: 20 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r, _, err := c.Exchange(m, addr); err == nil && len(r.Answer) == len(want) && has(r, want) {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func has(m *dns.Msg, want []string) bool {
	for _, w := range want {
		if !hasTXT(m, w) {
			return false
		}
	}
	return true
}

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// transferStats runs one AXFR (serial 0) or IXFR and returns its records,
// its bytes on the wire and its duration.
func transferStats(t *testing.T, addr string, serial uint32) (records int, bytes int64, took time.Duration) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zone)
	} else {
		m.SetIxfr(zone, serial, "ns1."+zone, "hostmaster."+zone)
	}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: countingConn{conn, &n}}, ReadTimeout: time.Minute}
	start := time.Now()
	envs, err := tr.In(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	for e := range envs {
		if e.Error != nil {
			t.Fatalf("transfer: %v", e.Error)
		}
		records += len(e.RR)
	}
	return records, n.Load(), time.Since(start)
}

// TestTransferSize measures AXFR time and size, the primary's peak memory,
// and the size of the IXFR of one update, on both stores, for each number
// of accounts in ACMEDNS_TRANSFER_ACCOUNTS (default "1000"; make bench
// runs "1000 1000000"). The accounts are seeded straight into the store
// (test/bench/seed), two TXT values each.
func TestTransferSize(t *testing.T) {
	sizes := "1000"
	if s := os.Getenv("ACMEDNS_TRANSFER_ACCOUNTS"); s != "" {
		sizes = s
	}
	seed := filepath.Join(t.TempDir(), "seed")
	if out, err := exec.Command("go", "build", "-o", seed, "../bench/seed").CombinedOutput(); err != nil {
		t.Fatalf("building the seed tool: %v\n%s", err, out)
	}
	for _, f := range strings.Fields(sizes) {
		n, _ := strconv.Atoi(f)
		for _, kind := range []string{"bolt", "redis"} {
			t.Run(fmt.Sprintf("%s-%d", kind, n), func(t *testing.T) {
				primary := startSeeded(t, seed, kind, n)
				wantRecords := 2*n + 4 // SOA, NS, A, the TXT values, SOA
				_, anonBefore := memory(t, primary.Pid())
				records, bytes, took := transferStats(t, primary.DNSAddr, 0)
				if records != wantRecords {
					t.Fatalf("AXFR of %d accounts: %d records, want %d", n, records, wantRecords)
				}
				peak, anonAfter := memory(t, primary.Pid())
				acc := harness.Register(t, primary.APIURL)
				serial := soa(t, primary.DNSAddr)
				update(t, primary.APIURL, acc, value(1))
				ixfrRecords, ixfrBytes, _ := transferStats(t, primary.DNSAddr, serial)
				t.Logf("%s, %d accounts: AXFR %d records, %.1f MB in %s (%.0f records/s); primary anonymous memory %d MiB before the AXFR, %d MiB after, peak RSS %d MiB; IXFR of one update: %d records, %d bytes",
					kind, n, records, float64(bytes)/1e6, took.Round(time.Millisecond), float64(records)/took.Seconds(), anonBefore>>20, anonAfter>>20, peak>>20, ixfrRecords, ixfrBytes)
			})
		}
	}
}

// memory reads a process's peak resident set (VmHWM: with bbolt it counts
// the database file's pages that the process has mapped and read) and its
// anonymous resident memory now (RssAnon: the heap and stacks), in bytes.
func memory(t *testing.T, pid int) (peak, anon int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			peak = kb << 10
		case "RssAnon:":
			anon = kb << 10
		}
	}
	return peak, anon
}

// startSeeded seeds n accounts into a new store of kind and starts the
// primary on it, once its index (and so, on Redis, the listing) is loaded.
func startSeeded(t *testing.T, seed, kind string, n int) *harness.CoreDNS {
	dir := t.TempDir()
	store := ""
	switch kind {
	case "bolt":
		db := filepath.Join(dir, "seeded.db")
		if out, err := exec.Command(seed, "-mode", "bolt", "-n", strconv.Itoa(n), "-db", db).CombinedOutput(); err != nil {
			t.Fatalf("seed: %v\n%s", err, out)
		}
		store = "db " + db
	case "redis":
		redis := harness.StartRedis(t)
		host, port, _ := net.SplitHostPort(redis.Addr)
		cmd := exec.Command("sh", "-c", fmt.Sprintf("%s -mode redis -n %d | redis-cli -h %s -p %s --pipe", seed, n, host, port))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("seed: %v\n%s", err, out)
		}
		store = "redis " + redis.Addr
	}
	primary := harness.StartCoreDNSWithin(t, primaryCorefile(store), nil, 5*time.Minute)
	// Redis lists accounts seeded behind its back once the index load has
	// added them to the listing: wait for a full AXFR.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		records, _, _ := transferStats(t, primary.DNSAddr, 0)
		if records == 2*n+4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	return primary
}
