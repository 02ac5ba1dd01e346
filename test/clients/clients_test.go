package clients

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	cmacmedns "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/acmedns"
	cpuacmedns "github.com/cpu/goacmedns"
	libdnsacmedns "github.com/libdns/acmedns"
	"github.com/libdns/libdns"
	"github.com/nrdcg/goacmedns"
)

// TestClients runs every client against one acmedns. The clients' subtests
// run in parallel, each with accounts of its own.
func TestClients(t *testing.T) {
	srv := harness.StartCoreDNS(t, corefile, nil)
	for _, c := range []struct {
		name string
		test func(*testing.T, *harness.CoreDNS)
	}{
		{"nrdcg-goacmedns", testNrdcg},
		{"cpu-goacmedns", testCPU},
		{"libdns-acmedns", testLibdns},
		{"cert-manager", testCertManager},
		{"acme.sh", testAcmeSh},
		{"certbot-requests", testCertbot},
		{"allowfrom", testAllowFromLibraries},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, srv)
		})
	}
}

// A driver registers an account limited to allow through a client library
// (or over plain HTTP for the libraries that never register) and returns its
// fulldomain and a function that sets a TXT value through the library.
type driver struct {
	name  string
	setup func(t *testing.T, apiURL string, allow []string) (fulldomain string, update func(context.Context, string) error)
}

var drivers = []driver{
	{"nrdcg-goacmedns", func(t *testing.T, apiURL string, allow []string) (string, func(context.Context, string) error) {
		c, err := goacmedns.NewClient(apiURL)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := c.RegisterAccount(t.Context(), allow)
		if err != nil {
			t.Fatal(err)
		}
		return acct.FullDomain, func(ctx context.Context, txt string) error { return c.UpdateTXTRecord(ctx, acct, txt) }
	}},
	{"cpu-goacmedns", func(t *testing.T, apiURL string, allow []string) (string, func(context.Context, string) error) {
		c := cpuacmedns.NewClient(apiURL)
		acct, err := c.RegisterAccount(allow)
		if err != nil {
			t.Fatal(err)
		}
		return acct.FullDomain, func(_ context.Context, txt string) error { return c.UpdateTXTRecord(acct, txt) }
	}},
	{"libdns-acmedns", func(t *testing.T, apiURL string, allow []string) (string, func(context.Context, string) error) {
		a := registerAllow(t, apiURL, allow)
		p := &libdnsacmedns.Provider{Configs: map[string]libdnsacmedns.DomainConfig{"example.com": {
			Username: a.Username, Password: a.Password, Subdomain: a.Subdomain, FullDomain: a.Fulldomain, ServerURL: apiURL,
		}}}
		return a.Fulldomain, func(ctx context.Context, txt string) error {
			_, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: txt}})
			return err
		}
	}},
	{"cert-manager", func(t *testing.T, apiURL string, allow []string) (string, func(context.Context, string) error) {
		a := registerAllow(t, apiURL, allow)
		p, err := cmacmedns.NewDNSProviderHostBytes(apiURL, secretJSON(t, map[string]harness.Account{"example.com": a}), nil)
		if err != nil {
			t.Fatal(err)
		}
		return a.Fulldomain, func(ctx context.Context, txt string) error {
			return p.Present(ctx, "example.com", "_acme-challenge.example.com.", txt)
		}
	}},
}

// testAllowFromLibraries: an account limited to 127.0.0.1/32 updates through
// each library from 127.0.0.1; one limited to 192.0.2.0/24 is refused with
// 401, which each library reports as an error, and DNS stays empty.
func testAllowFromLibraries(t *testing.T, srv *harness.CoreDNS) {
	for _, d := range drivers {
		for _, c := range []struct {
			name    string
			allow   string
			allowed bool
		}{
			{"allowed", "127.0.0.1/32", true},
			{"refused", "192.0.2.0/24", false},
		} {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				fulldomain, update := d.setup(t, srv.APIURL, []string{c.allow})
				txt := token(t)
				err := update(t.Context(), txt)
				if c.allowed {
					if err != nil {
						t.Fatalf("update from 127.0.0.1 with allowfrom %s: %v", c.allow, err)
					}
					expectTXT(t, srv.DNSAddr, fulldomain, txt)
					return
				}
				if err == nil || !strings.Contains(err.Error(), "401") {
					t.Fatalf("update from 127.0.0.1 with allowfrom %s: error %v, want the library's error for a 401", c.allow, err)
				}
				expectTXT(t, srv.DNSAddr, fulldomain)
			})
		}
	}
}

// secretJSON is the account JSON as cert-manager's Secret holds it: domain to
// {username, password, fulldomain, subdomain}.
func secretJSON(t testing.TB, accounts map[string]harness.Account) []byte {
	t.Helper()
	m := map[string]map[string]string{}
	for domain, a := range accounts {
		m[domain] = map[string]string{
			"username": a.Username, "password": a.Password, "fulldomain": a.Fulldomain, "subdomain": a.Subdomain,
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
