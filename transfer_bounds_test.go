package acmedns

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin/transfer"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
	"github.com/redis/go-redis/v9"
)

// boundAccounts is how many registrations the transfer-bound tests serve:
// three values of 64 characters each, about 6.4 MB of AXFR, twice what the
// kernel's buffers took here for a client that does not read.
const boundAccounts = 20000

// seedRedis creates n registrations with three TXT values each in the Redis
// at addr, through the store (so each is a journaled change), 32 at a time.
func seedRedis(t *testing.T, addr string, n int) {
	t.Helper()
	s := store.NewRedis(redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}}), store.RedisOptions{Prefix: DefaultRedisPrefix})
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	pad := strings.Repeat("v", 50) // values of 64 characters
	var wg sync.WaitGroup
	const workers = 32
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				sub := fmt.Sprintf("seed-%06d", i)
				rec := store.Record{
					Account: store.Account{Username: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), PasswordHash: []byte("x"), Subdomain: sub},
					TXT:     []store.Value{{Text: sub + "-c-" + pad, Set: now}, {Text: sub + "-b-" + pad, Set: now}, {Text: sub + "-a-" + pad, Set: now}},
				}
				if err := s.Create(ctx, rec); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("seeding: %v", err)
	}
}

// redisCalls returns how many times Redis has run cmd (INFO commandstats):
// a transfer reads a page of the zone with one ZRANGE.
func redisCalls(t *testing.T, addr, cmd string) int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
			return n
		}
	}
	return 0
}

// settledCalls waits until Redis has run no cmd for half a second (at most
// 30 s) and returns the count.
func settledCalls(t *testing.T, addr, cmd string) int {
	t.Helper()
	n, deadline := redisCalls(t, addr, cmd), time.Now().Add(30*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		m := redisCalls(t, addr, cmd)
		if m == n {
			return n
		}
		n = m
	}
	t.Fatalf("Redis still runs %s after 30 s", cmd)
	return 0
}

// xfrFrom sends a transfer request (an AXFR with serial 0, else an IXFR
// from serial) to addr from the loopback address src and returns the
// connection. rcvbuf, when above 0, shrinks the client's receive buffer,
// so that the server's writes block soon once it stops reading.
func xfrFrom(t *testing.T, addr, src string, serial uint32, rcvbuf int) *dns.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) }); err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zoneName)
	} else {
		m.SetIxfr(zoneName, serial, "ns1."+zoneName, "hostmaster."+zoneName)
	}
	co := &dns.Conn{Conn: c}
	if err := co.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return co
}

// firstReply reads the first message of a transfer's answer.
func firstReply(t *testing.T, co *dns.Conn) *dns.Msg {
	t.Helper()
	co.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := co.ReadMsg()
	if err != nil {
		t.Fatalf("reading the first message: %v", err)
	}
	return m
}

// xfrAllFrom runs a whole transfer (an AXFR with serial 0, else an IXFR
// from serial) from the loopback address src and returns its records.
func xfrAllFrom(t *testing.T, addr, src string, serial uint32) []dns.RR {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zoneName)
	} else {
		m.SetIxfr(zoneName, serial, "ns1."+zoneName, "hostmaster."+zoneName)
	}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: c}, ReadTimeout: 30 * time.Second}
	envs, err := tr.In(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for e := range envs {
		if e.Error != nil {
			t.Fatalf("transfer from %s: %v", src, e.Error)
		}
		rrs = append(rrs, e.RR...)
	}
	return rrs
}

// metric returns the value of the metrics line that starts with name, 0
// when there is none.
func metric(t *testing.T, metricsAddr, name string) float64 {
	t.Helper()
	_, body := get(t, "http://"+metricsAddr+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// slotsInUse is the gauge of transfer slots taken, process-wide.
const slotsInUse = "coredns_acmedns_transfer_slots_in_use"

// xfrMetric is a transfer metric's name with its reason and the test zone.
func xfrMetric(name, reason string) string {
	return "coredns_acmedns_" + name + `{reason="` + reason + `",zone="` + zoneName + `"}`
}

// TestTransferBounds attacks the transfer bounds on a zone of 20,000
// registrations on Redis (seeded once), with `transfer { to * }`, the
// Corefile the transfer plugin allows, and beside each attack a secondary
// at another loopback address still gets its transfer.
func TestTransferBounds(t *testing.T) {
	srv := redistest.Start(t)
	seedRedis(t, srv.Addr, boundAccounts)
	t.Run("per client", func(t *testing.T) { testTransferPerClient(t, srv.Addr) })
	t.Run("process-wide", func(t *testing.T) { testTransferProcessWide(t, srv.Addr) })
	t.Run("hang-up", func(t *testing.T) { testTransferHangUp(t, srv.Addr) })
	t.Run("IXFR far behind", func(t *testing.T) { testTransferIXFRFarBehind(t, srv.Addr) })
	t.Run("stalled", func(t *testing.T) { testTransferStalled(t, srv.Addr) })
}

// zoneRecords is the number of records of the seeded zone's AXFR: the SOA,
// NS and A, the TXT values, the SOA.
const zoneRecords = 3*boundAccounts + 4

// testTransferPerClient: ten AXFRs at once from one address, none read, get
// four transfers and six REFUSED, while a secondary at another address gets
// the whole zone. The attackers hang up themselves, well within the idle
// bound.
func testTransferPerClient(t *testing.T, redisAddr string) {
	p := newPorts(t)
	core := startCoreDNS(t, p.transferCorefile("*", "redis "+redisAddr+"\n\t\ttransfer_limits 16 4 1h"))
	defer core.stop()
	refusals := xfrMetric("transfer_refusals_total", refusedClientLimit)
	before := metric(t, "127.0.0.1:"+p.metrics, refusals)
	admitted, refused := 0, 0
	var attack []*dns.Conn
	for range 10 {
		attack = append(attack, xfrFrom(t, p.dnsAddr(), "127.0.0.1", 0, 4096))
	}
	for _, co := range attack {
		switch m := firstReply(t, co); m.Rcode {
		case dns.RcodeRefused:
			refused++
		case dns.RcodeSuccess:
			admitted++
		default:
			t.Errorf("attacker got %s", dns.RcodeToString[m.Rcode])
		}
	}
	if admitted != 4 || refused != 6 {
		t.Errorf("ten AXFRs at once from one address: %d transfers, %d refused; want 4 and 6", admitted, refused)
	}
	if got := len(xfrAllFrom(t, p.dnsAddr(), "127.0.0.2", 0)); got != zoneRecords {
		t.Errorf("the secondary's AXFR during the attack: %d records, want %d", got, zoneRecords)
	}
	if got := metric(t, "127.0.0.1:"+p.metrics, refusals) - before; got != 6 {
		t.Errorf("%s went up by %v, want 6", refusals, got)
	}
	for _, co := range attack {
		co.Close()
	}
}

// testTransferProcessWide: with a process-wide bound of three, two
// addresses holding three transfers leave a third address (and a fourth
// transfer of theirs) REFUSED until they go.
func testTransferProcessWide(t *testing.T, redisAddr string) {
	p := newPorts(t)
	core := startCoreDNS(t, p.transferCorefile("*", "redis "+redisAddr+"\n\t\ttransfer_limits 3 2 1h"))
	defer core.stop()
	refusals := xfrMetric("transfer_refusals_total", refusedLimit)
	before := metric(t, "127.0.0.1:"+p.metrics, refusals)
	slots := metric(t, "127.0.0.1:"+p.metrics, slotsInUse)
	var held []*dns.Conn
	for _, src := range []string{"127.0.0.1", "127.0.0.1", "127.0.0.3"} {
		co := xfrFrom(t, p.dnsAddr(), src, 0, 4096)
		if m := firstReply(t, co); m.Rcode != dns.RcodeSuccess {
			t.Fatalf("transfer from %s within the bounds: %s", src, dns.RcodeToString[m.Rcode])
		}
		held = append(held, co)
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		if m := firstReply(t, xfrFrom(t, p.dnsAddr(), src, 0, 0)); m.Rcode != dns.RcodeRefused {
			t.Errorf("a fourth transfer, from %s: %s, want REFUSED", src, dns.RcodeToString[m.Rcode])
		}
	}
	if got := metric(t, "127.0.0.1:"+p.metrics, refusals) - before; got != 2 {
		t.Errorf("%s went up by %v, want 2", refusals, got)
	}
	for _, co := range held {
		co.Close()
	}
	eventually(t, 10*time.Second, "the slots given back", func() bool {
		return metric(t, "127.0.0.1:"+p.metrics, slotsInUse) == slots
	})
	if got := len(xfrAllFrom(t, p.dnsAddr(), "127.0.0.2", 0)); got != zoneRecords {
		t.Errorf("the secondary's AXFR once the others went: %d records, want %d", got, zoneRecords)
	}
}

// testTransferHangUp: a client that sends an AXFR and hangs up at once
// costs a page of the store or so, not the whole zone (20 pages here),
// counted by Redis itself; a secondary's AXFR still reads every page.
func testTransferHangUp(t *testing.T, redisAddr string) {
	p := newPorts(t)
	core := startCoreDNS(t, p.transferCorefile("*", "redis "+redisAddr))
	defer core.stop()
	pages := boundAccounts / transferPage

	before := settledCalls(t, redisAddr, "zrange")
	if got := len(xfrAllFrom(t, p.dnsAddr(), "127.0.0.2", 0)); got != zoneRecords {
		t.Fatalf("AXFR: %d records", got)
	}
	if read := settledCalls(t, redisAddr, "zrange") - before; read < pages {
		t.Fatalf("a whole AXFR read %d pages, want at least %d: the count is not the store's reads", read, pages)
	}

	const hangups = 10
	aborts := xfrMetric("transfer_aborts_total", "closed")
	abortsBefore := metric(t, "127.0.0.1:"+p.metrics, aborts)
	before = settledCalls(t, redisAddr, "zrange")
	for range hangups {
		xfrFrom(t, p.dnsAddr(), "127.0.0.1", 0, 0).Close()
		time.Sleep(100 * time.Millisecond)
	}
	read := settledCalls(t, redisAddr, "zrange") - before
	t.Logf("%d AXFRs hung up at once read %d pages of the store (a whole zone is %d)", hangups, read, pages)
	if read > 2*hangups {
		t.Errorf("%d AXFRs hung up at once read %d pages of the store (a whole zone is %d), want at most 2 each", hangups, read, pages)
	}
	if got := metric(t, "127.0.0.1:"+p.metrics, aborts) - abortsBefore; got != hangups {
		t.Errorf("%s went up by %v, want %d", aborts, got, hangups)
	}
}

// testTransferIXFRFarBehind: an IXFR more than ixfrMaxChanges changes
// behind is answered with the whole zone, streamed (RFC 1995 allows an AXFR
// in answer to an IXFR), not built as one incremental answer in memory; one
// a few changes behind is still incremental.
func testTransferIXFRFarBehind(t *testing.T, redisAddr string) {
	p := newPorts(t)
	core := startCoreDNS(t, p.transferCorefile("*", "redis "+redisAddr))
	defer core.stop()
	current := soaSerial(t, p.dnsAddr())

	far := xfrAllFrom(t, p.dnsAddr(), "127.0.0.1", current-5000)
	if len(far) != zoneRecords || far[1].Header().Rrtype != dns.TypeNS {
		t.Errorf("IXFR 5,000 changes behind: %d records, the second %s; want the whole zone (%d records, the NS second)",
			len(far), dns.TypeToString[far[1].Header().Rrtype], zoneRecords)
	}
	near := summary(xfrAllFrom(t, p.dnsAddr(), "127.0.0.1", current-2))
	if len(near) != 10 || near[1] != fmt.Sprintf("SOA %d", current-2) {
		t.Errorf("IXFR 2 changes behind: %q, want the incremental form (two creations of three values)", near)
	}
}

// TestTransferACLRead: the front reads the transfer plugin's blocks as the
// plugin configured them, and decides as it does: the longest zone, then
// the address of a to entry, whatever the port, or *.
func TestTransferACLRead(t *testing.T) {
	setup, err := caddy.DirectiveAction("dns", "transfer")
	if err != nil {
		t.Fatal(err)
	}
	c := caddy.NewTestController("dns", `transfer example.test {
		to 192.0.2.1 [2001:db8::1]:5300
	}
	transfer auth.example.test {
		to 192.0.2.2:53
	}
	transfer open.example.test {
		to *
	}`)
	c.ServerBlockKeys = []string{"example.test."}
	if err := setup(c); err != nil {
		t.Fatal(err)
	}
	plugins := dnsserver.GetConfig(c).Plugin
	tr, ok := plugins[len(plugins)-1](nil).(*transfer.Transfer)
	if !ok {
		t.Fatal("no transfer plugin")
	}
	acl, err := readTransferACL(tr)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		qname, ip string
		covered   bool
		allowed   bool
	}{
		{"example.test.", "192.0.2.1", true, true},
		{"example.test.", "2001:db8::1", true, true},
		{"example.test.", "192.0.2.2", true, false},
		{"auth.example.test.", "192.0.2.2", true, true},
		{"auth.example.test.", "192.0.2.1", true, false},
		{"x.auth.example.test.", "192.0.2.2", true, true},
		{"open.example.test.", "198.51.100.7", true, true},
		{"other.test.", "192.0.2.1", false, false},
	} {
		x := acl.block(tc.qname)
		if (x != nil) != tc.covered || x != nil && x.allows(tc.ip) != tc.allowed {
			t.Errorf("%s from %s: covered %v, allowed %v; want %v, %v", tc.qname, tc.ip, x != nil, x != nil && x.allows(tc.ip), tc.covered, tc.allowed)
		}
	}
}
