package acmedns

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"github.com/miekg/dns"
)

func FuzzDecodeRegister(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"allowfrom":["192.0.2.0/24","[::1]/128"]}`, `{"AllowFrom":["x"]}`, `{"allowfrom":`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		allow, code := decodeRegister(body)
		if code != "" {
			if allow != nil {
				t.Fatalf("error %s with allowfrom %v", code, allow)
			}
			return
		}
		if allow == nil {
			t.Fatal("nil allowfrom on success: the reply must carry an array")
		}
		for _, s := range allow {
			if _, err := netip.ParsePrefix(s); err != nil || strings.ContainsAny(s, "[]") {
				t.Fatalf("accepted allowfrom entry %q", s)
			}
		}
	})
}

func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{`{"subdomain":"abc","txt":"x"}`, `{"SubDomain":"ABC","Txt":"x"} trailing`, `{`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := decodeUpdate(body)
		if !ok {
			if req != (updateRequest{}) {
				t.Fatalf("failed decode returned %+v", req)
			}
			return
		}
		if req.Subdomain != strings.ToLower(req.Subdomain) {
			t.Fatalf("subdomain %q not lower-cased", req.Subdomain)
		}
	})
}

// FuzzServeDNS feeds wire-format queries to the handler: it must never
// panic, and it either writes a reply whose rcode it returns or returns an
// error rcode without writing.
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
		case dns.RcodeServerFailure, dns.RcodeRefused:
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

// FuzzAdminCreate: whatever POST /accounts is sent, an accepted record is
// one the stores and the public API can use.
func FuzzAdminCreate(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"subdomain":"Customer-42","username":"F2DA224C-ECE6-4628-928E-578497D95A1D","allowfrom":["[::1]/128","::1/128"]}`,
		`{"password_hash":"$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"}`, `{"txt":["a","b","c"]}`, `{"subdomain":"-"}`,
	} {
		f.Add([]byte(s))
	}
	h := &adminAPI{a: &ACMEDNS{cfg: &Config{TXTLimit: 2}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		rec, password, code := h.newRecord(req)
		if code != "" {
			return
		}
		if !store.ValidSubdomain(rec.Subdomain) || len(rec.AllowFrom) > MaxAllowFrom || len(rec.TXT) > 2 {
			t.Fatalf("accepted %+v", rec)
		}
		if u, err := uuid.Parse(rec.Username); err != nil || u.String() != rec.Username {
			t.Fatalf("accepted username %q", rec.Username)
		}
		if (len(rec.PasswordHash) == 0) == (password == "") {
			t.Fatalf("want exactly one of a hash and a password to hash: %q %q", rec.PasswordHash, password)
		}
		if password != "" && !validToken(password, 40) {
			t.Fatalf("password %q cannot authenticate", password)
		}
		for _, v := range rec.TXT {
			if !store.ValidValue(v.Text) {
				t.Fatalf("accepted value %q", v.Text)
			}
		}
	})
}
