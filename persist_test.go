package acmedns

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// recordsOf returns, for each TXT record in rrs owned by name, its
// character-strings as they went on the wire.
func recordsOf(t *testing.T, rrs []dns.RR, name string) [][]string {
	t.Helper()
	var out [][]string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeTXT && dns.CanonicalName(rr.Header().Name) == name {
			out = append(out, txtWire(t, rr))
		}
	}
	return out
}

// TestPersistServed: a persistent record of 300 octets is served beside the
// dns-01 value as one TXT record of two character-strings, over UDP and
// TCP, in an AXFR, and in the IXFRs that add and remove it; each change
// moves the serial.
func TestPersistServed(t *testing.T) {
	sink := startNotifySink(t)
	p := newPorts(t)
	adminAddr := "127.0.0.1:" + freePort(t)
	opts := "db " + t.TempDir() + "/acmedns.db\nadmin " + adminAddr + " {\ntoken " + adminToken + "\n}"
	startCoreDNS(t, p.transferCorefile(sink.addr, opts))
	const token = "dns01-token-value"
	body, _ := json.Marshal(map[string]any{"subdomain": "persisted", "txt": []string{token}})
	if r := adminCall(t, "POST", "http://"+adminAddr+"/accounts", string(body)); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	record := "ca.example; accounturi=https://ca.example/acct/" + strings.Repeat("7", 300-46) + "; policy=wildcard"
	record = record[:300-len("; policy=wildcard")] + "; policy=wildcard"
	name := "persisted." + zoneName
	before := soaSerial(t, p.dnsAddr())
	body, _ = json.Marshal(map[string]string{"record": record})
	if r := adminCall(t, "PUT", "http://"+adminAddr+"/accounts/persisted/persist", string(body)); r.status != 200 {
		t.Fatalf("persist: %d %s", r.status, r.body)
	}
	added := soaSerial(t, p.dnsAddr())
	if added != before+1 {
		t.Fatalf("serial %d -> %d; want one change", before, added)
	}
	want := [][]string{{token}, {record[:255], record[255:]}}
	for _, proto := range []string{"udp", "tcp"} {
		resp := exchange(t, proto, p.dnsAddr(), name, dns.TypeTXT)
		if got := recordsOf(t, resp.Answer, name); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: %q on the wire, want %q", proto, got, want)
		}
	}
	if got := recordsOf(t, xfr(t, p.dnsAddr(), 0), name); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("AXFR: %q, want %q", got, want)
	}
	if got := recordsOf(t, xfr(t, p.dnsAddr(), before), name); !slices.EqualFunc(got, want[1:], slices.Equal) {
		t.Errorf("IXFR adding it: %q, want %q", got, want[1:])
	}
	del := "http://" + adminAddr + "/accounts/persisted/persist/" + url.PathEscape("CA.example")
	if r := adminCall(t, "DELETE", del, ""); r.status != 204 {
		t.Fatalf("unpersist: %d %s", r.status, r.body)
	}
	if got := recordsOf(t, xfr(t, p.dnsAddr(), added), name); !slices.EqualFunc(got, want[1:], slices.Equal) {
		t.Errorf("IXFR removing it: %q, want %q", got, want[1:])
	}
	resp := exchange(t, "udp", p.dnsAddr(), name, dns.TypeTXT)
	if got := recordsOf(t, resp.Answer, name); !slices.EqualFunc(got, want[:1], slices.Equal) {
		t.Errorf("after removal: %q, want %q", got, want[:1])
	}
}
