package harness

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const authZone = "auth.example.test."

// authZoneText is auth.example.test at serial with x TXT value.
func authZoneText(serial uint32, value string) string {
	return fmt.Sprintf(`$ORIGIN auth.example.test.
@ 60 IN SOA ns1.auth.example.test. hostmaster.auth.example.test. %d 3600 600 604800 60
@ 60 IN NS ns1.auth.example.test.
ns1 60 IN A 127.0.0.1
x 60 IN TXT %q
`, serial, value)
}

// customerZone is the customer's zone, with the challenge name CNAMEd into
// auth.example.test (no delegation of auth.example.test in it).
const customerZone = `@ 60 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 604800 60
@ 60 IN NS ns1.example.test.
ns1 60 IN A 127.0.0.1
_acme-challenge 60 IN CNAME x.auth.example.test.
`

// filePrimary starts CoreDNS serving auth.example.test from db.auth with
// the file plugin (reloaded every second) and transfer to anyone,
// notifying notify (host:port). plugins go before file in the server
// block (dnssec, say). An acmedns block for another zone gives
// StartCoreDNS the /health it waits for.
func filePrimary(t *testing.T, zone, plugins string, notify ...string) *CoreDNS {
	t.Helper()
	corefile := fmt.Sprintf(`auth.example.test:{DNS} {
    bind 127.0.0.1
%s    file db.auth {
        reload 1s
    }
    transfer {
        to * %s
    }
    errors
}
acme.other.test:{DNS} {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:{API}
        db acmedns.db
        nameserver ns1.acme.other.test 127.0.0.1
    }
    errors
}
`, plugins, strings.Join(notify, " "))
	return StartCoreDNS(t, corefile, map[string]string{"db.auth": zone})
}

func startSecondary(t *testing.T, kind string, cfg SecondaryConfig) *Secondary {
	t.Helper()
	var s *Secondary
	if kind == "nsd" {
		s = StartNSD(t, cfg)
	} else {
		s = StartKnot(t, cfg)
	}
	showLog(t, s.Kind, s.Log)
	return s
}

// showLog logs a daemon's log at the end of the test when HARNESS_LOGS is
// set (they are logged anyway when the test fails).
func showLog(t *testing.T, name string, log func() string) {
	if os.Getenv("HARNESS_LOGS") == "" {
		return
	}
	t.Cleanup(func() {
		if !t.Failed() {
			t.Logf("--- %s log ---\n%s", name, log())
		}
	})
}

// query asks addr over UDP (TCP when truncated), DO set if do.
func query(t *testing.T, addr, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	if do {
		m.SetEdns0(4096, true)
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, addr)
	}
	if err != nil {
		t.Fatalf("%s %s at %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}

func txtValues(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

func hasType(rrs []dns.RR, t uint16) bool {
	return slices.ContainsFunc(rrs, func(rr dns.RR) bool { return rr.Header().Rrtype == t })
}

// TestSecondaryFromFilePlugin: NSD and Knot load auth.example.test from
// CoreDNS's file plugin by AXFR, then follow a serial bump by NOTIFY alone
// (refresh an hour away). It also records how each answers the customer's
// CNAME into the secondary zone when both are served locally.
func TestSecondaryFromFilePlugin(t *testing.T) {
	for _, kind := range []string{"nsd", "knot"} {
		t.Run(kind, func(t *testing.T) {
			port := FreePort(t)
			primary := filePrimary(t, authZoneText(1, "v1"), "", fmt.Sprintf("127.0.0.1:%d", port))
			s := startSecondary(t, kind, SecondaryConfig{
				Zone: authZone, Primary: primary.DNSAddr, Port: port, Refresh: time.Hour,
				ExtraZones: map[string]string{"example.test.": customerZone},
			})
			s.WaitSerial(t, 1, 10*time.Second)
			if got := txtValues(query(t, s.DNSAddr, "x."+authZone, dns.TypeTXT, false)); !slices.Equal(got, []string{"v1"}) {
				t.Errorf("x TXT %q, want [v1]", got)
			}

			primary.WriteFile(t, "db.auth", authZoneText(2, "v2"))
			s.WaitSerial(t, 2, 10*time.Second)
			if got := txtValues(query(t, s.DNSAddr, "x."+authZone, dns.TypeTXT, false)); !slices.Equal(got, []string{"v2"}) {
				t.Errorf("x TXT %q after the bump, want [v2]", got)
			}
			notified := map[string]string{
				"nsd":  "info: notify for auth.example.test. from 127.0.0.1",
				"knot": "[auth.example.test.] notify, incoming, remote 127.0.0.1@",
			}[kind]
			if !strings.Contains(s.Log(), notified) {
				t.Errorf("no %q in the log", notified)
			}
			// CoreDNS answers IXFR with the whole zone: two AXFRs.
			if got, want := s.Transfers(t), (Transfers{AXFR: 2}); got != want {
				t.Errorf("transfers %+v, want %+v", got, want)
			}
			if got := s.Updates(t); got != 2 {
				t.Errorf("%d updates logged, want 2", got)
			}

			r := query(t, s.DNSAddr, "_acme-challenge.example.test.", dns.TypeTXT, false)
			t.Logf("%s: _acme-challenge.example.test TXT: %s, answer %v", kind, dns.RcodeToString[r.Rcode], r.Answer)
			chased := hasType(r.Answer, dns.TypeCNAME) && slices.Equal(txtValues(r), []string{"v2"})
			// NSD follows the CNAME into the other zone it serves; Knot
			// stays in example.test, where x.auth.example.test does not
			// exist (NXDOMAIN with the CNAME).
			if want := kind == "nsd"; chased != want {
				t.Errorf("CNAME and target TXT in one answer: %v, want %v", chased, want)
			}
		})
	}
}

// TestSecondaryKnotSigned: Knot signs the transferred zone, serves RRSIGs,
// and Unbound with its KSK's DS as trust anchor validates a TXT answer,
// NODATA and NXDOMAIN (AD set), before and after an update.
func TestSecondaryKnotSigned(t *testing.T) {
	port := FreePort(t)
	primary := filePrimary(t, authZoneText(1, "v1"), "", fmt.Sprintf("127.0.0.1:%d", port))
	k := StartKnot(t, SecondaryConfig{Zone: authZone, Primary: primary.DNSAddr, Port: port, Sign: true,
		ExtraZones: map[string]string{"example.test.": customerZone}})
	k.WaitSerial(t, 1, 10*time.Second)
	r := query(t, k.DNSAddr, "x."+authZone, dns.TypeTXT, true)
	if !hasType(r.Answer, dns.TypeRRSIG) || !hasType(r.Answer, dns.TypeTXT) {
		t.Fatalf("no TXT and RRSIG from Knot: %v", r.Answer)
	}
	ds := k.DS(t)
	t.Logf("trust anchor: %s", ds)
	out, err := exec.Command("keymgr", "-c", filepath.Join(k.Dir, "knot.conf"), authZone, "ds").CombinedOutput()
	if digest := strings.Fields(ds)[7]; err != nil || !strings.Contains(strings.ToUpper(string(out)), digest) {
		t.Errorf("keymgr ds: %v\n%s\nwant digest %s", err, out, digest)
	}
	began := time.Now()
	u := StartUnbound(t, UnboundConfig{
		Stubs:        map[string]string{authZone: k.DNSAddr, "example.test.": k.DNSAddr},
		TrustAnchors: []string{ds},
	})
	t.Logf("Unbound answering %s after start", time.Since(began).Round(time.Millisecond))
	showLog(t, "unbound", u.Log)
	showLog(t, "knot", k.Log)
	checkValidated(t, u, "v1", dns.RcodeNameError)

	primary.WriteFile(t, "db.auth", authZoneText(2, "v2"))
	k.WaitSerial(t, 2, 10*time.Second)
	checkValidated(t, u, "v2", dns.RcodeNameError)
	if n := k.Transfers(t); n.AXFR != 2 {
		t.Errorf("transfers %+v, want 2 AXFR", n)
	}

	// Through Unbound, which chases CNAMEs, the customer's challenge name
	// resolves to the TXT; not AD, as example.test is unsigned.
	r = u.Query(t, "_acme-challenge.example.test.", dns.TypeTXT)
	if !hasType(r.Answer, dns.TypeCNAME) || !slices.Equal(txtValues(r), []string{"v2"}) || r.AuthenticatedData {
		t.Errorf("_acme-challenge.example.test via Unbound: %s AD=%v %v", dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer)
	}
}

// checkValidated asks u for x TXT (want value), x AAAA (NODATA) and a
// name that does not exist, all of which must come back with AD.
// nxRcode is the rcode expected for the name that does not exist: Knot
// says NXDOMAIN, CoreDNS's dnssec plugin NOERROR (NSEC "black lies").
func checkValidated(t *testing.T, u *Unbound, value string, nxRcode int) {
	t.Helper()
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
		txt   []string
	}{
		{"x." + authZone, dns.TypeTXT, dns.RcodeSuccess, []string{value}},
		{"x." + authZone, dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"nope." + authZone, dns.TypeTXT, nxRcode, nil},
	} {
		r := u.Query(t, c.name, c.qtype)
		t.Logf("Unbound %s %s: %s AD=%v answer=%d", c.name, dns.TypeToString[c.qtype], dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer))
		if !r.AuthenticatedData || r.Rcode != c.rcode || !slices.Equal(txtValues(r), c.txt) {
			t.Errorf("%s %s: %s AD=%v TXT %q, want AD, %s, TXT %q\n%s", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[r.Rcode], r.AuthenticatedData, txtValues(r), dns.RcodeToString[c.rcode], c.txt, r)
		}
	}
}

// TestUnboundCoreDNSDNSSEC: CoreDNS's dnssec plugin signs the file zone on
// the fly with a NewDNSSECKey key, and Unbound with its DS validates.
func TestUnboundCoreDNSDNSSEC(t *testing.T) {
	key := NewDNSSECKey(t, t.TempDir(), authZone)
	if !strings.HasPrefix(key.Base, "Kauth.example.test.+013+") {
		t.Errorf("key base %q", key.Base)
	}
	primary := filePrimary(t, authZoneText(1, "v1"), fmt.Sprintf("    dnssec {\n        key file %s\n    }\n", key.Path))
	r := query(t, primary.DNSAddr, authZone, dns.TypeDNSKEY, true)
	if len(r.Answer) == 0 || !strings.Contains(r.Answer[0].String(), key.Key.PublicKey) {
		t.Fatalf("CoreDNS does not serve the key: %v", r.Answer)
	}
	for _, ta := range []string{key.DS, key.DNSKEY} {
		u := StartUnbound(t, UnboundConfig{Stubs: map[string]string{authZone: primary.DNSAddr}, TrustAnchors: []string{ta}})
		checkValidated(t, u, "v1", dns.RcodeSuccess)
	}
	// A wrong anchor makes the answers bogus: SERVFAIL.
	other := NewDNSSECKey(t, t.TempDir(), authZone)
	u := StartUnbound(t, UnboundConfig{Stubs: map[string]string{authZone: primary.DNSAddr}, TrustAnchors: []string{other.DS}})
	if r := u.Query(t, "x."+authZone, dns.TypeTXT); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("with another key as anchor: %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	if !strings.Contains(u.Log(), "validation failure") {
		t.Errorf("no validation failure in Unbound's log")
	}
}

// craftedPrimary is a primary whose IXFR answers the test writes: for a
// client at serial `from`, SOA(cur) SOA(from) del... SOA(cur) add...
// SOA(cur), whatever the client really holds. Other serials get the
// whole zone (AXFR-style), as does AXFR.
type craftedPrimary struct {
	addr    string
	zone    string
	mu      sync.Mutex
	serial  uint32
	content []dns.RR
	diffs   map[uint32][2][]dns.RR // from serial → deleted, added
	queries []string
}

func startCraftedPrimary(t *testing.T, zone string) *craftedPrimary {
	t.Helper()
	p := &craftedPrimary{zone: dns.Fqdn(zone), diffs: map[uint32][2][]dns.RR{}}
	var l net.Listener
	var pc net.PacketConn
	for {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if pc, err = net.ListenPacket("udp", l.Addr().String()); err == nil {
			break
		}
		l.Close()
	}
	p.addr = l.Addr().String()
	for _, srv := range []*dns.Server{{Listener: l, Handler: p}, {PacketConn: pc, Handler: p}} {
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
	}
	return p
}

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + authZone + "\n" + l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func (p *craftedPrimary) soa(serial uint32) dns.RR {
	return &dns.SOA{Hdr: dns.RR_Header{Name: p.zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns1." + p.zone, Mbox: "hostmaster." + p.zone, Serial: serial, Refresh: 3600, Retry: 600, Expire: 604800, Minttl: 60}
}

// set publishes serial with content; diff, if given, is the IXFR answer
// for clients at from (deleted, added).
func (p *craftedPrimary) set(serial uint32, content []dns.RR, from uint32, del, add []dns.RR) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial, p.content = serial, content
	if del != nil || add != nil {
		p.diffs[from] = [2][]dns.RR{del, add}
	}
}

func (p *craftedPrimary) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, p.zone) {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	cur := p.soa(p.serial)
	q := dns.TypeToString[r.Question[0].Qtype]
	switch r.Question[0].Qtype {
	case dns.TypeSOA:
		m.Answer = []dns.RR{cur}
	case dns.TypeAXFR:
		m.Answer = append(append([]dns.RR{cur}, p.content...), cur)
	case dns.TypeIXFR:
		var from uint32
		if len(r.Ns) == 1 {
			if soa, ok := r.Ns[0].(*dns.SOA); ok {
				from = soa.Serial
			}
		}
		q = fmt.Sprintf("IXFR %d", from)
		d, crafted := p.diffs[from]
		switch {
		case from == p.serial:
			m.Answer = []dns.RR{cur}
		case crafted:
			m.Answer = append(append(append(append([]dns.RR{cur, p.soa(from)}, d[0]...), cur), d[1]...), cur)
		default:
			m.Answer = append(append([]dns.RR{cur}, p.content...), cur)
		}
	default:
		m.Rcode = dns.RcodeNotImplemented
	}
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		q += "/tcp"
	}
	p.queries = append(p.queries, q)
	w.WriteMsg(m)
}

func (p *craftedPrimary) notify(t *testing.T, to string) {
	t.Helper()
	p.mu.Lock()
	m := new(dns.Msg)
	m.SetNotify(p.zone)
	m.Answer = []dns.RR{p.soa(p.serial)}
	p.mu.Unlock()
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, to); err != nil {
		t.Fatalf("NOTIFY to %s: %v", to, err)
	}
}

func (p *craftedPrimary) log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.queries)
}

// TestSecondaryCraftedIXFR: a true IXFR applies as one. An IXFR that
// deletes an RR the secondary does not have, or adds one it already has,
// is refused by both NSD and Knot, which then ask for an AXFR and end up
// with the primary's zone.
func TestSecondaryCraftedIXFR(t *testing.T) {
	base := []string{"@ 60 IN NS ns1", "ns1 60 IN A 127.0.0.1"}
	for _, kind := range []string{"nsd", "knot"} {
		t.Run(kind, func(t *testing.T) {
			p := startCraftedPrimary(t, authZone)
			p.set(1, rrs(t, append(base, `a 60 IN TXT "one"`, `b 60 IN TXT "two"`)...), 0, nil, nil)
			s := startSecondary(t, kind, SecondaryConfig{Zone: authZone, Primary: p.addr, Refresh: time.Hour})
			s.WaitSerial(t, 1, 10*time.Second)
			txt := func(name string) []string {
				return txtValues(query(t, s.DNSAddr, name+"."+authZone, dns.TypeTXT, false))
			}

			// 1 → 2, a clean IXFR: a "one" becomes "uno".
			p.set(2, rrs(t, append(base, `a 60 IN TXT "uno"`, `b 60 IN TXT "two"`)...), 1,
				rrs(t, `a 60 IN TXT "one"`), rrs(t, `a 60 IN TXT "uno"`))
			p.notify(t, s.DNSAddr)
			s.WaitSerial(t, 2, 10*time.Second)
			if got := txt("a"); !slices.Equal(got, []string{"uno"}) {
				t.Errorf("a TXT %q, want [uno]", got)
			}
			if got, want := s.Transfers(t), (Transfers{AXFR: 1, IXFR: 1}); got != want {
				t.Errorf("after a clean IXFR: %+v, want %+v", got, want)
			}

			// 2 → 3: the IXFR deletes c TXT "ghost" (never there) and
			// adds d TXT "new". The zone at 3 (AXFR) has d but no c.
			p.set(3, rrs(t, append(base, `a 60 IN TXT "uno"`, `b 60 IN TXT "two"`, `d 60 IN TXT "new"`)...), 2,
				rrs(t, `c 60 IN TXT "ghost"`), rrs(t, `d 60 IN TXT "new"`))
			p.notify(t, s.DNSAddr)
			s.WaitSerial(t, 3, 10*time.Second)
			t.Logf("%s after an IXFR deleting an absent RR: %+v, primary saw %v", kind, s.Transfers(t), p.log())
			// Both refuse that IXFR and fall back to AXFR at once.
			if got, want := s.Transfers(t), (Transfers{AXFR: 2, IXFR: 1, IXFRFailed: 1}); got != want {
				t.Errorf("after an IXFR deleting an absent RR: %+v, want %+v", got, want)
			}
			if got := p.log(); !slices.Equal(got[len(got)-2:], []string{"IXFR 2/tcp", "AXFR/tcp"}) {
				t.Errorf("primary saw %v, want IXFR from 2 then AXFR last", got)
			}
			if got := txt("d"); !slices.Equal(got, []string{"new"}) {
				t.Errorf("d TXT %q, want [new]", got)
			}

			// 3 → 4: the IXFR adds b TXT "two" (already there) and
			// e TXT "five".
			p.set(4, rrs(t, append(base, `a 60 IN TXT "uno"`, `b 60 IN TXT "two"`, `d 60 IN TXT "new"`, `e 60 IN TXT "five"`)...), 3,
				nil, rrs(t, `b 60 IN TXT "two"`, `e 60 IN TXT "five"`))
			p.notify(t, s.DNSAddr)
			s.WaitSerial(t, 4, 10*time.Second)
			t.Logf("%s after an IXFR adding a present RR: %+v, primary saw %v", kind, s.Transfers(t), p.log())
			if got, want := s.Transfers(t), (Transfers{AXFR: 3, IXFR: 1, IXFRFailed: 2}); got != want {
				t.Errorf("after an IXFR adding a present RR: %+v, want %+v", got, want)
			}
			if got := p.log(); !slices.Equal(got[len(got)-2:], []string{"IXFR 3/tcp", "AXFR/tcp"}) {
				t.Errorf("primary saw %v, want IXFR from 3 then AXFR last", got)
			}
			if got := txt("b"); !slices.Equal(got, []string{"two"}) {
				t.Errorf("b TXT %q, want [two]", got)
			}
			if got := txt("e"); !slices.Equal(got, []string{"five"}) {
				t.Errorf("e TXT %q, want [five]", got)
			}
		})
	}
}

// TestSecondaryRefresh: without NOTIFY, both secondaries find a new serial
// within SecondaryConfig.Refresh (default 2s) although the SOA says an
// hour, and take it by IXFR.
func TestSecondaryRefresh(t *testing.T) {
	base := []string{"@ 60 IN NS ns1", "ns1 60 IN A 127.0.0.1"}
	for _, kind := range []string{"nsd", "knot"} {
		t.Run(kind, func(t *testing.T) {
			p := startCraftedPrimary(t, authZone)
			p.set(1, rrs(t, append(base, `a 60 IN TXT "one"`)...), 0, nil, nil)
			s := startSecondary(t, kind, SecondaryConfig{Zone: authZone, Primary: p.addr})
			s.WaitSerial(t, 1, 10*time.Second)
			p.set(2, rrs(t, append(base, `a 60 IN TXT "uno"`)...), 1, rrs(t, `a 60 IN TXT "one"`), rrs(t, `a 60 IN TXT "uno"`))
			began := time.Now()
			s.WaitSerial(t, 2, 6*time.Second)
			t.Logf("%s refreshed after %s", kind, time.Since(began).Round(100*time.Millisecond))
			if got, want := s.Transfers(t), (Transfers{AXFR: 1, IXFR: 1}); got != want {
				t.Errorf("transfers %+v, want %+v", got, want)
			}
		})
	}
}
