package acmedns

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

// FuzzServeDNS feeds wire-format messages to the handler: it must never
// panic, and it either writes a reply whose rcode it returns or returns an
// error rcode (SERVFAIL, REFUSED, NOTIMP for another opcode) without writing.
func FuzzServeDNS(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"full.auth.example.org.", dns.TypeTXT},
		{"AUTH.example.org.", dns.TypeNS},
		{"x.y.auth.example.org.", dns.TypeA},
		{"example.com.", dns.TypeA},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		b, _ := m.Pack()
		f.Add(b)
	}
	a := testPlugin(f, handlerBlock)
	a.Next = test.NextHandler(dns.RcodeRefused, nil)
	seedStore(a, "full", "v1", "v2")
	f.Fuzz(func(t *testing.T, wire []byte) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil || len(m.Question) != 1 {
			return
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		code, _ := a.ServeDNS(context.Background(), rec, m)
		switch code {
		case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeNotImplemented:
			if rec.Msg != nil {
				t.Fatalf("rcode %d returned after writing a reply", code)
			}
		default:
			if rec.Msg == nil || rec.Msg.Rcode != code {
				t.Fatalf("rcode %d returned, reply %v", code, rec.Msg)
			}
		}
	})
}
