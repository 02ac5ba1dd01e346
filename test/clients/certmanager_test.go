package clients

import (
	"errors"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	cmacmedns "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/acmedns"
	"github.com/nrdcg/goacmedns"
)

// testCertManager drives cert-manager's acmeDNS solver
// (pkg/issuer/acme/dns/acmedns), which takes the accounts as its Secret holds
// them and updates through nrdcg/goacmedns. It never registers.
func testCertManager(t *testing.T, srv *harness.CoreDNS) {
	t.Run("present from secret json", func(t *testing.T) {
		org, www := harness.Register(t, srv.APIURL), harness.Register(t, srv.APIURL)
		p, err := cmacmedns.NewDNSProviderHostBytes(srv.APIURL,
			secretJSON(t, map[string]harness.Account{"example.org": org, "www.example.org": www}), nil)
		if err != nil {
			t.Fatal(err)
		}
		v1, v2, v3 := token(t), token(t), token(t)
		// example.org and *.example.org both present under "example.org".
		for _, c := range []struct{ domain, fqdn, value string }{
			{"example.org", "_acme-challenge.example.org.", v1},
			{"example.org", "_acme-challenge.example.org.", v2},
			{"www.example.org", "_acme-challenge.www.example.org.", v3},
		} {
			if err := p.Present(t.Context(), c.domain, c.fqdn, c.value); err != nil {
				t.Fatalf("Present(%s): %v", c.domain, err)
			}
		}
		expectTXT(t, srv.DNSAddr, org.Fulldomain, v2, v1)
		expectTXT(t, srv.DNSAddr, www.Fulldomain, v3)
	})

	t.Run("wrong password", func(t *testing.T) {
		a := harness.Register(t, srv.APIURL)
		a.Password = wrongPassword(a.Password)
		p, err := cmacmedns.NewDNSProviderHostBytes(srv.APIURL, secretJSON(t, map[string]harness.Account{"example.org": a}), nil)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Present(t.Context(), "example.org", "_acme-challenge.example.org.", token(t))
		var ce *goacmedns.ClientError
		if !errors.As(err, &ce) || ce.HTTPStatus != 401 {
			t.Fatalf("error %v, want a *goacmedns.ClientError with 401", err)
		}
		expectTXT(t, srv.DNSAddr, a.Fulldomain)
	})
}
