package clients

import (
	"strings"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	libdnsacmedns "github.com/libdns/acmedns"
	"github.com/libdns/libdns"
)

// testLibdns drives github.com/libdns/acmedns (Caddy). It never registers;
// it posts {"subdomain":...,"txt":...} to ServerURL+"/update" and wants
// exactly 200.
func testLibdns(t *testing.T, srv *harness.CoreDNS) {
	challenge := func(txt string) libdns.Record { return libdns.TXT{Name: "_acme-challenge", Text: txt} }
	config := func(a harness.Account, serverURL string) libdnsacmedns.DomainConfig {
		return libdnsacmedns.DomainConfig{Username: a.Username, Password: a.Password, Subdomain: a.Subdomain,
			FullDomain: a.Fulldomain, ServerURL: serverURL}
	}

	// Caddy's form: one account per domain in Configs; the zone and the
	// record name select it.
	t.Run("configs per zone", func(t *testing.T) {
		com, nt := harness.Register(t, srv.APIURL), harness.Register(t, srv.APIURL)
		p := &libdnsacmedns.Provider{Configs: map[string]libdnsacmedns.DomainConfig{
			"example.com": config(com, srv.APIURL),
			"example.net": config(nt, srv.APIURL),
		}}
		v1, v2, v3 := token(t), token(t), token(t)
		if _, err := p.AppendRecords(t.Context(), "example.com.", []libdns.Record{challenge(v1)}); err != nil {
			t.Fatal(err)
		}
		// A domain and its wildcard: two values in one call, both live.
		if _, err := p.SetRecords(t.Context(), "example.net.", []libdns.Record{challenge(v2), challenge(v3)}); err != nil {
			t.Fatal(err)
		}
		expectTXT(t, srv.DNSAddr, com.Fulldomain, v1)
		expectTXT(t, srv.DNSAddr, nt.Fulldomain, v3, v2)
	})

	// One account for every zone, with a server URL ending in "/": the
	// library sends "//update".
	t.Run("single account and base URL ending in slash", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		a := harness.Register(t, srv.APIURL)
		p := &libdnsacmedns.Provider{Username: a.Username, Password: a.Password, Subdomain: a.Subdomain, ServerURL: rec.URL + "/"}
		v1, v2 := token(t), token(t)
		for _, v := range []string{v1, v2} {
			if _, err := p.AppendRecords(t.Context(), "anything.example.org.", []libdns.Record{challenge(v)}); err != nil {
				t.Fatal(err)
			}
			x := rec.take(t, 1)[0]
			wantExchange(t, x, "//update", "application/json", `{"subdomain":"`+a.Subdomain+`","txt":"`+v+`"}`, 200, `{"txt": "`+v+`"}`)
			if x.Header.Get("X-Api-User") != a.Username || x.Header.Get("X-Api-Key") != a.Password {
				t.Errorf("update headers %v lack the credentials", x.Header)
			}
		}
		expectTXT(t, srv.DNSAddr, a.Fulldomain, v2, v1)
	})

	t.Run("wrong password", func(t *testing.T) {
		a := harness.Register(t, srv.APIURL)
		a.Password = wrongPassword(a.Password)
		p := &libdnsacmedns.Provider{Configs: map[string]libdnsacmedns.DomainConfig{"example.com": config(a, srv.APIURL)}}
		_, err := p.AppendRecords(t.Context(), "example.com.", []libdns.Record{challenge(token(t))})
		if err == nil || !strings.Contains(err.Error(), "response code 401") {
			t.Fatalf("error %v, want one for response code 401", err)
		}
		expectTXT(t, srv.DNSAddr, a.Fulldomain)
	})
}
