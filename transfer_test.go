package acmedns

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// notifySink is a DNS server that counts the NOTIFY messages it is sent, as
// a secondary would receive them.
type notifySink struct {
	addr string
	mu   sync.Mutex
	got  []time.Time
}

func startNotifySink(t *testing.T) *notifySink {
	t.Helper()
	s := &notifySink{addr: "127.0.0.1:" + freePort(t)}
	srv := &dns.Server{Addr: s.addr, Net: "udp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode == dns.OpcodeNotify {
			s.mu.Lock()
			s.got = append(s.got, time.Now())
			s.mu.Unlock()
		}
		m := new(dns.Msg)
		m.SetReply(r)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ListenAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *notifySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// transferBackends are the stores the transfer tests run on.
func transferBackends(t *testing.T) map[string]string {
	srv := redistest.Start(t)
	nodes := redistest.StartCluster(t, 3)
	master := redistest.Start(t)
	redistest.StartReplica(t, master)
	sentinel := redistest.StartSentinel(t, "acmedns", master)
	return map[string]string{
		"bolt":     "db " + t.TempDir() + "/acmedns.db",
		"redis":    "redis " + srv.Addr,
		"sentinel": "redis " + sentinel.Addr + " {\n\t\t\tmaster acmedns\n\t\t}",
		"cluster":  "redis " + nodes[0].Addr + " " + nodes[1].Addr + " " + nodes[2].Addr,
	}
}

// transferCorefile is ports' server with a transfer block that allows
// 127.0.0.1 and notifies sink.
func (p ports) transferCorefile(sink, options string) string {
	c := p.corefile(options)
	return strings.Replace(c, "\tacmedns {", "\ttransfer {\n\t\tto "+sink+"\n\t}\n\tacmedns {", 1)
}

// xfr runs an AXFR (serial 0) or an IXFR from serial and returns every
// record received.
func xfr(t *testing.T, addr string, serial uint32) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	if serial == 0 {
		m.SetAxfr(zoneName)
	} else {
		m.SetIxfr(zoneName, serial, "ns1."+zoneName, "hostmaster."+zoneName)
	}
	tr := &dns.Transfer{DialTimeout: 3 * time.Second, ReadTimeout: 10 * time.Second}
	envs, err := tr.In(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for e := range envs {
		if e.Error != nil {
			t.Fatalf("transfer: %v", e.Error)
		}
		rrs = append(rrs, e.RR...)
	}
	return rrs
}

const zoneName = "auth.example.test."

// summary writes rrs one per line as "SOA serial", "TXT owner value", or
// the type and owner.
func summary(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.SOA:
			out = append(out, fmt.Sprintf("SOA %d", v.Serial))
		case *dns.TXT:
			out = append(out, "TXT "+strings.TrimSuffix(v.Hdr.Name, "."+zoneName)+" "+strings.Join(v.Txt, ""))
		default:
			out = append(out, dns.TypeToString[rr.Header().Rrtype]+" "+rr.Header().Name)
		}
	}
	return out
}

func soaSerial(t *testing.T, addr string) uint32 {
	t.Helper()
	resp := exchange(t, "udp", addr, zoneName, dns.TypeSOA)
	if len(resp.Answer) != 1 {
		t.Fatalf("SOA: %v", resp)
	}
	return resp.Answer[0].(*dns.SOA).Serial
}

// TestTransfer walks a zone through registrations, updates and a deletion
// on every store, and checks the serial, AXFR, IXFR and NOTIFY after each.
func TestTransfer(t *testing.T) {
	for name, backend := range transferBackends(t) {
		t.Run(name, func(t *testing.T) {
			sink := startNotifySink(t)
			p := newPorts(t)
			startCoreDNS(t, p.transferCorefile(sink.addr, backend))
			addr := p.dnsAddr()

			s0 := soaSerial(t, addr)
			if now := uint32(time.Now().Unix()); s0 < now-3600*24*365 {
				t.Errorf("a new store's serial %d is not near the time %d", s0, now)
			}
			want := []string{fmt.Sprintf("SOA %d", s0), "NS " + zoneName, "A ns1." + zoneName, fmt.Sprintf("SOA %d", s0)}
			if got := summary(xfr(t, addr, 0)); !slices.Equal(got, want) {
				t.Fatalf("AXFR of an empty zone:\n%q\nwant\n%q", got, want)
			}

			notified := sink.count()
			acc := register(t, p.apiURL(), "")
			if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
				t.Fatalf("update: %d %s", r.status, r.body)
			}
			if got := soaSerial(t, addr); got != s0+2 {
				t.Errorf("serial after a registration and an update: %d, want %d", got, s0+2)
			}
			eventually(t, 2*time.Second, "a NOTIFY after the changes", func() bool { return sink.count() > notified })

			sub := acc.Subdomain
			wantAXFR := []string{fmt.Sprintf("SOA %d", s0+2), "NS " + zoneName, "A ns1." + zoneName, "TXT " + sub + " " + txtA, fmt.Sprintf("SOA %d", s0+2)}
			if got := summary(xfr(t, addr, 0)); !slices.Equal(got, wantAXFR) {
				t.Errorf("AXFR:\n%q\nwant\n%q", got, wantAXFR)
			}
			checkIXFR(t, addr, s0, s0+2, nil, []string{sub + " " + txtA})

			acc.update(t, p.apiURL(), txtB) // keeps txtA: two values
			acc.update(t, p.apiURL(), txtC) // drops txtA
			checkIXFR(t, addr, s0+2, s0+4, []string{sub + " " + txtA}, []string{sub + " " + txtC, sub + " " + txtB})
			checkIXFR(t, addr, s0+3, s0+4, []string{sub + " " + txtA}, []string{sub + " " + txtC})
			if got := summary(xfr(t, addr, s0+4)); !slices.Equal(got, []string{fmt.Sprintf("SOA %d", s0+4)}) {
				t.Errorf("IXFR from the current serial: %q, want the SOA alone", got)
			}
			if got := summary(xfr(t, addr, s0-100)); len(got) != 6 || got[1] != "NS "+zoneName {
				t.Errorf("IXFR from before the journal: %q, want the whole zone", got)
			}

			if r := call(t, "POST", p.apiURL()+"/unregister", `{"subdomain":"`+sub+`"}`, "X-Api-User", acc.Username, "X-Api-Key", acc.Password); r.status != 200 {
				t.Fatalf("unregister: %d %s", r.status, r.body)
			}
			checkIXFR(t, addr, s0+4, s0+5, []string{sub + " " + txtC, sub + " " + txtB}, nil)
			checkTXT(t, addr, sub+"."+zoneName, dns.RcodeNameError)
			if resp := exchange(t, "udp", addr, sub+"."+zoneName, dns.TypeTXT); resp.Ns[0].(*dns.SOA).Serial != s0+5 {
				t.Errorf("the NXDOMAIN's SOA has serial %d, want %d", resp.Ns[0].(*dns.SOA).Serial, s0+5)
			}
		})
	}
}

// checkIXFR asks an IXFR from serial from and wants the one difference
// sequence to serial to that removes removed and adds added ("sub value").
func checkIXFR(t *testing.T, addr string, from, to uint32, removed, added []string) {
	t.Helper()
	soa := func(s uint32) string { return fmt.Sprintf("SOA %d", s) }
	want := []string{soa(to), soa(from)}
	for _, r := range removed {
		want = append(want, "TXT "+r)
	}
	want = append(want, soa(to))
	for _, a := range added {
		want = append(want, "TXT "+a)
	}
	want = append(want, soa(to))
	if got := summary(xfr(t, addr, from)); !slices.Equal(got, want) {
		t.Errorf("IXFR from %d:\n%q\nwant\n%q", from, got, want)
	}
}

// TestTransferRefused: a client the transfer block does not name gets
// REFUSED, and UDP transfers are refused too.
func TestTransferRefused(t *testing.T) {
	p := newPorts(t)
	startCoreDNS(t, p.transferCorefile("192.0.2.1:53", "db "+t.TempDir()+"/acmedns.db"))
	m := new(dns.Msg)
	m.SetAxfr(zoneName)
	tr := &dns.Transfer{DialTimeout: 3 * time.Second, ReadTimeout: 3 * time.Second}
	envs, err := tr.In(m, p.dnsAddr())
	if err != nil {
		t.Fatal(err)
	}
	for e := range envs {
		if e.Error == nil {
			t.Errorf("an AXFR from a client not allowed got %d records", len(e.RR))
		}
	}
	if resp := exchange(t, "udp", p.dnsAddr(), zoneName, dns.TypeAXFR); resp.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR over UDP: %s, want REFUSED", dns.RcodeToString[resp.Rcode])
	}
}

// TestNotifyCoalesced: a burst of updates is a few NOTIFY rounds, not one
// per update, and the last change is announced.
func TestNotifyCoalesced(t *testing.T) {
	sink := startNotifySink(t)
	p := newPorts(t)
	startCoreDNS(t, p.transferCorefile(sink.addr, "db "+t.TempDir()+"/acmedns.db"))
	acc := register(t, p.apiURL(), "")
	eventually(t, 2*time.Second, "the NOTIFY of the registration", func() bool { return sink.count() >= 1 })
	time.Sleep(2 * notifyInterval)
	before := sink.count()
	const burst = 40
	start := time.Now()
	for i := range burst {
		acc.update(t, p.apiURL(), fmt.Sprintf("%s%02d", txtA[:41], i))
	}
	elapsed := time.Since(start)
	time.Sleep(3 * notifyInterval)
	sent := sink.count() - before
	bound := int(elapsed/notifyInterval) + 2
	if sent < 1 || sent > bound {
		t.Errorf("%d updates in %s gave %d NOTIFY messages, want 1 to %d", burst, elapsed, sent, bound)
	}
	if sent >= burst {
		t.Errorf("not coalesced: %d NOTIFY for %d updates", sent, burst)
	}
}

// TestCondense: a run of changes folds into one delta per subdomain, and a
// broken chain (a missing change) asks for the whole zone.
func TestCondense(t *testing.T) {
	c := func(sub string, old, new []string) store.Change {
		return store.Change{Subdomain: sub, Kind: store.ChangeTXT, Old: old, New: new}
	}
	cases := []struct {
		name    string
		changes []store.Change
		want    []delta
		ok      bool
	}{
		{"none", nil, []delta{}, true},
		{"one", []store.Change{c("a", nil, []string{"x"})}, []delta{{"a", nil, []string{"x"}}}, true},
		{"folded", []store.Change{c("a", nil, []string{"x"}), c("a", []string{"x"}, []string{"y", "x"}), c("a", []string{"y", "x"}, []string{"z", "y"})},
			[]delta{{"a", nil, []string{"z", "y"}}}, true},
		{"back to where it was", []store.Change{c("a", []string{"x"}, []string{"y"}), c("a", []string{"y"}, []string{"x"})}, []delta{}, true},
		{"two names in order", []store.Change{c("b", nil, []string{"x"}), c("a", []string{"q"}, nil), c("b", []string{"x"}, []string{"y", "x"})},
			[]delta{{"b", nil, []string{"y", "x"}}, {"a", []string{"q"}, nil}}, true},
		{"gap", []store.Change{c("a", nil, []string{"x"}), c("a", []string{"w"}, []string{"y"})}, nil, false},
	}
	for _, tc := range cases {
		got, ok := condense(tc.changes, true)
		if ok != tc.ok || (ok && fmt.Sprint(got) != fmt.Sprint(tc.want)) {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := condense(nil, false); ok {
		t.Error("a journal that lacks changes must not condense")
	}
}

// TestTransferAcrossReload: after a reload the new instance serves the
// same serial, and its changes are journaled, transferred by IXFR and
// notified as before.
func TestTransferAcrossReload(t *testing.T) {
	sink := startNotifySink(t)
	p := newPorts(t)
	corefile := p.transferCorefile(sink.addr, "db "+t.TempDir()+"/acmedns.db")
	srv := startCoreDNS(t, corefile)
	addr := p.dnsAddr()
	acc := register(t, p.apiURL(), "")
	before := soaSerial(t, addr)
	if err := srv.reload(corefile); err != nil {
		t.Fatal(err)
	}
	if got := soaSerial(t, addr); got != before {
		t.Fatalf("after a reload the serial is %d, want %d", got, before)
	}
	notified := sink.count()
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update after the reload: %d %s", r.status, r.body)
	}
	checkIXFR(t, addr, before, before+1, nil, []string{acc.Subdomain + " " + txtA})
	eventually(t, 2*time.Second, "a NOTIFY from the new instance", func() bool { return sink.count() > notified })
}

// TestNotifyToPrimary: a NOTIFY sent to acmedns's zone (acmedns is a
// primary, its zone changes through the API alone) is answered NOTIMP over
// UDP and TCP, not as a query.
func TestNotifyToPrimary(t *testing.T) {
	p := newPorts(t)
	startCoreDNS(t, p.corefile("db "+t.TempDir()+"/acmedns.db"))
	acc := register(t, p.apiURL(), "")
	for _, proto := range []string{"udp", "tcp"} {
		for _, name := range []string{zoneName, acc.Subdomain + "." + zoneName} {
			m := new(dns.Msg)
			m.SetNotify(name)
			c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
			resp, _, err := c.Exchange(m, p.dnsAddr())
			if err != nil {
				t.Fatalf("%s NOTIFY %s: %v", proto, name, err)
			}
			if resp.Rcode != dns.RcodeNotImplemented || resp.Opcode != dns.OpcodeNotify || len(resp.Answer) != 0 {
				t.Errorf("%s NOTIFY %s: %s opcode %d, %d answers; want NOTIMP", proto, name, dns.RcodeToString[resp.Rcode], resp.Opcode, len(resp.Answer))
			}
		}
	}
}

// redisCommands is how many commands srv has processed.
func redisCommands(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no total_commands_processed in INFO stats")
	return 0
}

// TestSOAFromMemory: a flood of SOA queries costs Redis (next to) nothing:
// the serial comes from memory between changes, and after an update the
// SOA shows the new serial at once.
func TestSOAFromMemory(t *testing.T) {
	srv := redistest.Start(t)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+srv.Addr))
	acc := register(t, p.apiURL(), "")
	before := soaSerial(t, p.dnsAddr())
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatal(r)
	}
	after := soaSerial(t, p.dnsAddr())
	if after != before+1 {
		t.Fatalf("SOA right after an update: serial %d, want %d", after, before+1)
	}
	start := redisCommands(t, srv)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(zoneName, dns.TypeSOA)
	const queries = 3000
	for i := range queries {
		resp, _, err := c.Exchange(m, p.dnsAddr())
		if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.SOA).Serial != after {
			t.Fatalf("SOA %d: %v %v", i, resp, err)
		}
	}
	// The subscription's health pings may run meanwhile; a read per query
	// would be thousands.
	if n := redisCommands(t, srv) - start; n > 20 {
		t.Errorf("%d SOA queries made %d Redis commands", queries, n)
	}
}

// TestTransferTSIG: with the tsig plugin requiring TSIG for transfers, an
// unsigned AXFR is refused and a signed one is answered in messages that
// each verify (the first signed in full, the rest with the timers, RFC
// 8945), over a zone of several messages; so is an IXFR.
func TestTransferTSIG(t *testing.T) {
	const key, secret = "transfer.key.", "NoTCJU+DMqFWywaPyxSijrDEA/eC3nK0xi3AMEZuPVk="
	srv := redistest.Start(t)
	seedRedis(t, srv.Addr, 2000)
	p := newPorts(t)
	corefile := strings.Replace(p.transferCorefile("*", "redis "+srv.Addr), "\ttransfer {",
		"\ttsig {\n\t\tsecret "+key+" "+secret+"\n\t\trequire AXFR IXFR\n\t}\n\ttransfer {", 1)
	startCoreDNS(t, corefile)
	addr := p.dnsAddr()

	m := new(dns.Msg)
	m.SetAxfr(zoneName)
	tr := &dns.Transfer{DialTimeout: 3 * time.Second, ReadTimeout: 10 * time.Second}
	envs, err := tr.In(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	for e := range envs {
		if e.Error == nil {
			t.Errorf("an unsigned AXFR got %d records", len(e.RR))
		}
	}

	current := soaSerial(t, addr)
	for _, serial := range []uint32{0, current - 2} {
		m := new(dns.Msg)
		if serial == 0 {
			m.SetAxfr(zoneName)
		} else {
			m.SetIxfr(zoneName, serial, "ns1."+zoneName, "hostmaster."+zoneName)
		}
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		tr := &dns.Transfer{DialTimeout: 3 * time.Second, ReadTimeout: 10 * time.Second, TsigSecret: map[string]string{key: secret}}
		envs, err := tr.In(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		records, messages := 0, 0
		for e := range envs {
			if e.Error != nil {
				t.Fatalf("signed transfer from %d: message %d: %v", serial, messages, e.Error)
			}
			records += len(e.RR)
			messages++
		}
		if serial == 0 && (records != 3*2000+4 || messages < 2) {
			t.Errorf("signed AXFR: %d records in %d messages, want %d in several", records, messages, 3*2000+4)
		}
		if serial != 0 && records != 10 {
			t.Errorf("signed IXFR: %d records, want 10", records)
		}
	}
}

// TestTransferFirstInChain: with no plugin before the transfer plugin in the
// block's chain (bind adds none), acmedns still answers the transfers, its
// handler put first: an AXFR gets the zone, and IXFR too.
func TestTransferFirstInChain(t *testing.T) {
	p := newPorts(t)
	startCoreDNS(t, fmt.Sprintf(`auth.example.test:%s {
	bind 127.0.0.1
	transfer {
		to 127.0.0.1
	}
	acmedns {
		api 127.0.0.1:%s
		nameserver ns1.auth.example.test 127.0.0.1
		db %s/acmedns.db
	}
}
`, p.dns, p.api, t.TempDir()))
	acc := register(t, p.apiURL(), "")
	s0 := soaSerial(t, p.dnsAddr())
	acc.update(t, p.apiURL(), txtA)
	want := []string{fmt.Sprintf("SOA %d", s0+1), "NS " + zoneName, "A ns1." + zoneName, "TXT " + acc.Subdomain + " " + txtA, fmt.Sprintf("SOA %d", s0+1)}
	if got := summary(xfr(t, p.dnsAddr(), 0)); !slices.Equal(got, want) {
		t.Errorf("AXFR:\n%q\nwant\n%q", got, want)
	}
	checkIXFR(t, p.dnsAddr(), s0, s0+1, nil, []string{acc.Subdomain + " " + txtA})
}
