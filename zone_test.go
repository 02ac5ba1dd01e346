package acmedns

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// txtWire returns the character-strings of a TXT record as they go on the
// wire, byte for byte.
func txtWire(t *testing.T, rr dns.RR) []string {
	t.Helper()
	buf := make([]byte, 4096)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	rdata := buf[end-int(rr.Header().Rdlength) : end]
	var out []string
	for len(rdata) > 0 {
		n := int(rdata[0])
		out = append(out, string(rdata[1:1+n]))
		rdata = rdata[1+n:]
	}
	return out
}

// wireTXT returns the values of every TXT record in rrs owned by name
// (compared case-insensitively), as they went on the wire.
func wireTXT(t *testing.T, rrs []dns.RR, name string) []string {
	t.Helper()
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeTXT && dns.CanonicalName(rr.Header().Name) == name {
			out = append(out, txtWire(t, rr)...)
		}
	}
	return out
}

// TestTXTByteExact: values an administrator or an import stored (any
// printable ASCII, backslashes and quotes included) are served byte for
// byte over UDP, TCP, AXFR and IXFR, as the admin API shows them.
func TestTXTByteExact(t *testing.T) {
	sink := startNotifySink(t)
	p := newPorts(t)
	adminAddr := "127.0.0.1:" + freePort(t)
	opts := "db " + t.TempDir() + "/acmedns.db\ntxt_limit 5\nadmin " + adminAddr + " {\ntoken " + adminToken + "\n}"
	startCoreDNS(t, p.transferCorefile(sink.addr, opts))
	values := []string{`a\065b`, `x\999y`, `trail\`, `q"uote"`, `\\`}
	body, _ := json.Marshal(map[string]any{"subdomain": "escapes", "txt": values})
	if r := adminCall(t, "POST", "http://"+adminAddr+"/accounts", string(body)); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	name := "escapes." + zoneName
	shown := adminCall(t, "GET", "http://"+adminAddr+"/accounts/escapes", "")
	var acct struct{ TXT []struct{ Value string } }
	json.Unmarshal([]byte(shown.body), &acct)
	var admin []string
	for _, v := range acct.TXT {
		admin = append(admin, v.Value)
	}
	want := values // newest first, as given
	if !slices.Equal(admin, want) {
		t.Fatalf("admin API shows %q, want %q", admin, want)
	}
	for _, proto := range []string{"udp", "tcp"} {
		resp := exchange(t, proto, p.dnsAddr(), name, dns.TypeTXT)
		if got := wireTXT(t, resp.Answer, name); !slices.Equal(got, want) {
			t.Errorf("%s: %q on the wire, want %q", proto, got, want)
		}
	}
	before := soaSerial(t, p.dnsAddr())
	if got := wireTXT(t, xfr(t, p.dnsAddr(), 0), name); !slices.Equal(got, want) {
		t.Errorf("AXFR: %q on the wire, want %q", got, want)
	}
	// An IXFR carries a changed value as it is too.
	r := adminCall(t, "DELETE", "http://"+adminAddr+"/accounts/escapes/txt", "")
	if r.status != 204 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	if got := wireTXT(t, xfr(t, p.dnsAddr(), before), name); !slices.Equal(got, want) {
		t.Errorf("IXFR removing them: %q on the wire, want %q", got, want)
	}
}

// TestNameserverNames: a subdomain the zone serves itself (an in-zone
// nameserver, or a name on the way to one) cannot be taken by an account,
// and a record that holds one anyway (written before this check) is not
// transferred: secondaries get what the primary answers.
func TestNameserverNames(t *testing.T) {
	sink := startNotifySink(t)
	p := newPorts(t)
	adminAddr := "127.0.0.1:" + freePort(t)
	db := t.TempDir() + "/acmedns.db"
	opts := "db " + db + "\nnameserver ns2.sites.auth.example.test 127.0.0.2\nadmin " + adminAddr + " {\ntoken " + adminToken + "\n}"
	srv := startCoreDNS(t, p.transferCorefile(sink.addr, opts))
	for _, sub := range []string{"ns1", "NS1", "sites"} {
		r := adminCall(t, "POST", "http://"+adminAddr+"/accounts", `{"subdomain": "`+sub+`", "txt": ["v"]}`)
		if r.status != 409 || r.body != `{"error": "exists"}` {
			t.Errorf("create %s: %d %s, want 409 exists", sub, r.status, r.body)
		}
	}
	if r := adminCall(t, "GET", "http://"+adminAddr+"/accounts/ns1", ""); r.status != 404 {
		t.Errorf("ns1 after the refused create: %d %s", r.status, r.body)
	}
	if r := adminCall(t, "POST", "http://"+adminAddr+"/accounts", `{"subdomain": "ns3", "txt": ["v"]}`); r.status != 201 {
		t.Errorf("create ns3 (no such nameserver): %d %s", r.status, r.body)
	}

	// A record at ns1 written straight into the store, as an earlier
	// release could have: the primary answers the nameserver's NODATA for
	// TXT, and transfers leave it out.
	srv.stop()
	s, err := store.OpenBolt(db, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.Record{Account: store.Account{Subdomain: "ns1", Username: "0c3e7d0e-2a6f-4a55-9a59-5e5b0e0f2c11", PasswordHash: []byte("x")}, TXT: []store.Value{{Text: "old"}}}
	if err := s.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	s.Close()
	startCoreDNS(t, p.transferCorefile(sink.addr, opts))
	checkTXT(t, p.dnsAddr(), "ns1."+zoneName, dns.RcodeSuccess)
	axfr := xfr(t, p.dnsAddr(), 0)
	if got := wireTXT(t, axfr, "ns1."+zoneName); len(got) != 0 {
		t.Errorf("AXFR has TXT %q at the nameserver's name", got)
	}
	if got := wireTXT(t, axfr, "ns3."+zoneName); !slices.Equal(got, []string{"v"}) {
		t.Errorf("AXFR has %q at ns3, want [v]", got)
	}
}
