package acmedns

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

const handlerBlock = `acmedns auth.example.org {
	api 127.0.0.1:0
	nameserver ns1.auth.example.org 192.0.2.1 2001:db8::1
	nameserver ns2.other.example.
	hostmaster dns.admin@example.org
	ttl 5
	negative_ttl 30
}`

const soa = "auth.example.org. 30 IN SOA ns1.auth.example.org. dns\\.admin.example.org. 1 3600 600 604800 30"

func TestServeDNS(t *testing.T) {
	a := testPlugin(t, handlerBlock)
	a.Next = test.NextHandler(dns.RcodeRefused, nil)
	seed(t, a, "full", "first-value", "second-value")
	seed(t, a, "empty")

	cases := []test.Case{
		{Qname: "full.auth.example.org.", Qtype: dns.TypeTXT, Answer: []dns.RR{
			test.TXT(`full.auth.example.org. 5 IN TXT "second-value"`),
			test.TXT(`full.auth.example.org. 5 IN TXT "first-value"`),
		}},
		{Qname: "empty.auth.example.org.", Qtype: dns.TypeTXT, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "full.auth.example.org.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "nobody.auth.example.org.", Qtype: dns.TypeTXT, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "x.full.auth.example.org.", Qtype: dns.TypeTXT, Rcode: dns.RcodeNameError, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "auth.example.org.", Qtype: dns.TypeSOA, Answer: []dns.RR{test.SOA(soa)}},
		{Qname: "auth.example.org.", Qtype: dns.TypeNS, Answer: []dns.RR{
			test.NS("auth.example.org. 3600 IN NS ns1.auth.example.org."),
			test.NS("auth.example.org. 3600 IN NS ns2.other.example."),
		}, Extra: []dns.RR{
			test.A("ns1.auth.example.org. 3600 IN A 192.0.2.1"),
			test.AAAA("ns1.auth.example.org. 3600 IN AAAA 2001:db8::1"),
		}},
		{Qname: "auth.example.org.", Qtype: dns.TypeA, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "auth.example.org.", Qtype: dns.TypeTXT, Ns: []dns.RR{test.SOA(soa)}},
		{Qname: "ns1.auth.example.org.", Qtype: dns.TypeA, Answer: []dns.RR{test.A("ns1.auth.example.org. 3600 IN A 192.0.2.1")}},
		{Qname: "ns1.auth.example.org.", Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("ns1.auth.example.org. 3600 IN AAAA 2001:db8::1")}},
		{Qname: "ns1.auth.example.org.", Qtype: dns.TypeTXT, Ns: []dns.RR{test.SOA(soa)}},
		// Outside the zone: handed to the next plugin, which refuses.
		{Qname: "example.org.", Qtype: dns.TypeA, Rcode: dns.RcodeRefused},
	}
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.Qtype]+" "+tc.Qname, func(t *testing.T) {
			for _, tcp := range []bool{false, true} {
				rec := dnstest.NewRecorder(&test.ResponseWriter{TCP: tcp})
				code, err := a.ServeDNS(context.Background(), rec, tc.Msg())
				if err != nil {
					t.Fatal(err)
				}
				if tc.Rcode == dns.RcodeRefused {
					if code != dns.RcodeRefused || rec.Msg != nil {
						t.Fatalf("rcode %d, written %v; want the next plugin's REFUSED", code, rec.Msg)
					}
					continue
				}
				if code != tc.Rcode {
					t.Fatalf("returned rcode %d, want %d", code, tc.Rcode)
				}
				resp := rec.Msg
				if !resp.Authoritative {
					t.Error("AA not set")
				}
				// The serial is the load time: compare everything else.
				for _, rr := range append(resp.Answer, resp.Ns...) {
					if s, ok := rr.(*dns.SOA); ok {
						s.Serial = 1
					}
				}
				// Not SortAndCheck: the order of TXT values (newest first) matters.
				if err := test.Header(tc, resp); err != nil {
					t.Error(err)
				}
				if err := test.Section(tc, test.Answer, resp.Answer); err != nil {
					t.Error(err)
				}
				if err := test.Section(tc, test.Ns, resp.Ns); err != nil {
					t.Error(err)
				}
				if err := test.Section(tc, test.Extra, resp.Extra); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestServeDNSCase checks that 0x20-randomised names come back as asked.
func TestServeDNSCase(t *testing.T) {
	a := testPlugin(t, handlerBlock)
	seed(t, a, "full", "v")
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"FuLl.AuTh.ExAmPlE.oRg.", dns.TypeTXT},
		{"NoBoDy.aUtH.example.ORG.", dns.TypeTXT},
		{"AUTH.EXAMPLE.ORG.", dns.TypeNS},
		{"Ns1.Auth.Example.Org.", dns.TypeA},
	} {
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if _, err := a.ServeDNS(context.Background(), rec, m); err != nil {
			t.Fatal(err)
		}
		resp := rec.Msg
		if resp.Question[0].Name != q.name {
			t.Errorf("%s: question echoed as %s", q.name, resp.Question[0].Name)
		}
		for _, rr := range append(resp.Answer, resp.Ns...) {
			if want := q.name[len(q.name)-len(rr.Header().Name):]; rr.Header().Name != want && rr.Header().Rrtype != dns.TypeNS {
				t.Errorf("%s: owner %s, want the query's spelling %s", q.name, rr.Header().Name, want)
			}
		}
		if len(resp.Answer)+len(resp.Ns) == 0 {
			t.Errorf("%s: empty reply", q.name)
		}
	}
}

func TestServeDNSFallthrough(t *testing.T) {
	a := testPlugin(t, `acmedns auth.example.org {
		api 127.0.0.1:0
		fallthrough
	}`)
	a.Next = test.NextHandler(dns.RcodeRefused, nil)
	seed(t, a, "known", "v")

	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	code, _ := a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "unknown.auth.example.org.", Qtype: dns.TypeTXT}).Msg())
	if code != dns.RcodeRefused || rec.Msg != nil {
		t.Fatalf("unknown name: rcode %d; want it handed to the next plugin", code)
	}
	rec = dnstest.NewRecorder(&test.ResponseWriter{})
	code, _ = a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "known.auth.example.org.", Qtype: dns.TypeTXT}).Msg())
	if code != dns.RcodeSuccess || rec.Msg == nil || len(rec.Msg.Answer) != 1 {
		t.Fatalf("known name: rcode %d, reply %v", code, rec.Msg)
	}
}

// TestServeDNSStoreFailure: a registered name whose values the store cannot
// read is SERVFAIL, returned without writing (the server writes it), never
// NXDOMAIN. A name the embedded store's index knows is not registered is
// still NXDOMAIN: that index is exact, this process being the only writer.
func TestServeDNSStoreFailure(t *testing.T) {
	a := testPlugin(t, handlerBlock)
	seed(t, a, "full", "v")
	a.store.Close() // a real fault: the database is closed under the handler
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	code, err := a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "full.auth.example.org.", Qtype: dns.TypeTXT}).Msg())
	if code != dns.RcodeServerFailure || err == nil || rec.Msg != nil {
		t.Fatalf("registered name: rcode %d, err %v, written %v; want SERVFAIL unwritten", code, err, rec.Msg)
	}
	rec = dnstest.NewRecorder(&test.ResponseWriter{})
	code, err = a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "nobody.auth.example.org.", Qtype: dns.TypeTXT}).Msg())
	if code != dns.RcodeNameError || err != nil || rec.Msg == nil || rec.Msg.Rcode != dns.RcodeNameError {
		t.Fatalf("unregistered name: rcode %d, err %v, written %v; want NXDOMAIN from the index", code, err, rec.Msg)
	}
	// The NS set needs no store; the SOA's serial lives in it.
	rec = dnstest.NewRecorder(&test.ResponseWriter{})
	if code, _ := a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "auth.example.org.", Qtype: dns.TypeNS}).Msg()); code != dns.RcodeSuccess {
		t.Fatalf("NS with a failed store: rcode %d", code)
	}
	rec = dnstest.NewRecorder(&test.ResponseWriter{})
	if code, err := a.ServeDNS(context.Background(), rec, (&test.Case{Qname: "auth.example.org.", Qtype: dns.TypeSOA}).Msg()); code != dns.RcodeServerFailure || err == nil || rec.Msg != nil {
		t.Fatalf("SOA with a failed store: rcode %d, err %v; want SERVFAIL unwritten (the serial is in the store)", code, err)
	}
}

// TestServeDNSEmptyNonTerminal: a name between the apex and a nameserver
// exists without records: NODATA, not NXDOMAIN.
func TestServeDNSEmptyNonTerminal(t *testing.T) {
	a := testPlugin(t, `acmedns auth.example.org {
		api 127.0.0.1:0
		nameserver ns1.dc1.sites.auth.example.org 192.0.2.1
	}`)
	for _, tc := range []struct {
		name  string
		rcode int
		n     int
	}{
		{"sites.auth.example.org.", dns.RcodeSuccess, 0},
		{"dc1.sites.auth.example.org.", dns.RcodeSuccess, 0},
		{"ns1.dc1.sites.auth.example.org.", dns.RcodeSuccess, 1},
		{"x.dc1.sites.auth.example.org.", dns.RcodeNameError, 0},
	} {
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		code, err := a.ServeDNS(context.Background(), rec, (&test.Case{Qname: tc.name, Qtype: dns.TypeA}).Msg())
		if err != nil || code != tc.rcode || len(rec.Msg.Answer) != tc.n || len(rec.Msg.Ns) != 1-tc.n {
			t.Errorf("%s: rcode %d, %v", tc.name, code, rec.Msg)
		}
	}
}

// TestServeDNSOtherOpcodes: a NOTIFY or an UPDATE for the zone is not a
// query: NOTIMP, returned for the server to write, whatever the name asks.
func TestServeDNSOtherOpcodes(t *testing.T) {
	a := testPlugin(t, handlerBlock)
	seed(t, a, "full", "v")
	for _, tc := range []struct {
		name   string
		opcode int
		qname  string
		qtype  uint16
	}{
		{"notify for the apex", dns.OpcodeNotify, "auth.example.org.", dns.TypeSOA},
		{"notify for a subdomain", dns.OpcodeNotify, "full.auth.example.org.", dns.TypeTXT},
		{"update", dns.OpcodeUpdate, "auth.example.org.", dns.TypeSOA},
		{"status", dns.OpcodeStatus, "full.auth.example.org.", dns.TypeTXT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := (&test.Case{Qname: tc.qname, Qtype: tc.qtype}).Msg()
			m.Opcode = tc.opcode
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			code, err := a.ServeDNS(context.Background(), rec, m)
			if code != dns.RcodeNotImplemented || err != nil || rec.Msg != nil {
				t.Fatalf("rcode %s, err %v, written %v; want NOTIMP unwritten", dns.RcodeToString[code], err, rec.Msg)
			}
		})
	}
}
