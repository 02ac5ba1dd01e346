package clients

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/providers/dns/acmedns"
	"github.com/nrdcg/goacmedns"
)

// regToken is the secret path prefix of the tokened server.
const regToken = "e2e-registration-token-0123456789"

// TestRegistrationToken: with "registration token", lego's acme-dns
// provider and nrdcg/goacmedns, given the tokened base URL, register and
// update unchanged; plain /register is 404.
func TestRegistrationToken(t *testing.T) {
	cf := strings.Replace(corefile, "api 127.0.0.1:{API}", "api 127.0.0.1:{API}\n        registration token "+regToken, 1)
	srv := harness.StartCoreDNS(t, cf, nil)
	base := srv.APIURL + "/" + regToken

	resp, err := http.Post(srv.APIURL+"/register", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("plain /register: %d, want 404", resp.StatusCode)
	}

	t.Run("lego", func(t *testing.T) {
		provider, err := acmedns.NewDNSProviderConfig(&acmedns.Config{APIBase: base, StoragePath: filepath.Join(t.TempDir(), "acmedns.json")})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		keyAuth := token(t) + "." + token(t)
		var need acmedns.ErrCNAMERequired
		if err := provider.Present(ctx, "tokened.example.test", "", keyAuth); !errors.As(err, &need) {
			t.Fatalf("first Present: %v, want the provider's CNAME request", err)
		}
		if err := provider.Present(ctx, "tokened.example.test", "", keyAuth); err != nil {
			t.Fatalf("second Present: %v", err)
		}
		expectTXT(t, srv.DNSAddr, need.Target, dns01.GetChallengeInfo(ctx, "tokened.example.test", keyAuth).Value)
	})

	t.Run("nrdcg-goacmedns", func(t *testing.T) {
		c, err := goacmedns.NewClient(base)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := c.RegisterAccount(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		v := token(t)
		if err := c.UpdateTXTRecord(t.Context(), acct, v); err != nil {
			t.Fatal(err)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v)
		// Plain /update keeps working for the same account.
		plain, _ := goacmedns.NewClient(srv.APIURL)
		w := token(t)
		if err := plain.UpdateTXTRecord(t.Context(), acct, w); err != nil {
			t.Fatal(err)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, w, v)
	})
}
