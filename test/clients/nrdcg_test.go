package clients

import (
	"errors"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/nrdcg/goacmedns"
)

// testNrdcg drives github.com/nrdcg/goacmedns (lego >= 4.22, Traefik,
// cert-manager).
func testNrdcg(t *testing.T, srv *harness.CoreDNS) {
	// RegisterAccount(ctx, nil) sends the body "null\n" as JSON; the server
	// must take it as no allowfrom. Two updates leave two values live, a
	// third pushes the oldest out.
	t.Run("register null body and update twice", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		c, err := goacmedns.NewClient(rec.URL)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := c.RegisterAccount(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		x := rec.take(t, 1)[0]
		wantExchange(t, x, "/register", "application/json", "null\n", 201, "")
		if a := decodeAccount(t, x.Reply); a.AllowFrom == nil || len(a.AllowFrom) != 0 {
			t.Errorf("allowfrom %v in %q, want []", a.AllowFrom, x.Reply)
		}
		checkAccount(t, acct.Username, acct.Password, acct.SubDomain, acct.FullDomain)
		if acct.ServerURL != rec.URL {
			t.Errorf("ServerURL %q, want %q", acct.ServerURL, rec.URL)
		}

		v1, v2, v3 := token(t), token(t), token(t)
		for _, v := range []string{v1, v2} {
			if err := c.UpdateTXTRecord(t.Context(), acct, v); err != nil {
				t.Fatal(err)
			}
			x := rec.take(t, 1)[0]
			wantExchange(t, x, "/update", "application/json", `{"subdomain":"`+acct.SubDomain+`","txt":"`+v+`"}`+"\n", 200, `{"txt": "`+v+`"}`)
			if x.Header.Get("X-Api-User") != acct.Username || x.Header.Get("X-Api-Key") != acct.Password {
				t.Errorf("update headers %v lack the credentials", x.Header)
			}
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v2, v1)
		if err := c.UpdateTXTRecord(t.Context(), acct, v3); err != nil {
			t.Fatal(err)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v3, v2)
	})

	// RegisterAccount with allowfrom sends {"allowfrom":[...]}; the reply
	// echoes it and updates from inside it work.
	t.Run("register with allowfrom", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		c, err := goacmedns.NewClient(rec.URL)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := c.RegisterAccount(t.Context(), []string{"127.0.0.0/8", "192.0.2.0/24"})
		if err != nil {
			t.Fatal(err)
		}
		x := rec.take(t, 1)[0]
		wantExchange(t, x, "/register", "application/json", `{"allowfrom":["127.0.0.0/8","192.0.2.0/24"]}`+"\n", 201, "")
		if a := decodeAccount(t, x.Reply); len(a.AllowFrom) != 2 || a.AllowFrom[0] != "127.0.0.0/8" || a.AllowFrom[1] != "192.0.2.0/24" {
			t.Errorf("allowfrom echoed as %v", a.AllowFrom)
		}
		checkAccount(t, acct.Username, acct.Password, acct.SubDomain, acct.FullDomain)
		v := token(t)
		if err := c.UpdateTXTRecord(t.Context(), acct, v); err != nil {
			t.Fatal(err)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v)
	})

	// Bad credentials come back as a *ClientError with 401 and acme-dns's
	// body, and change nothing.
	t.Run("wrong credentials", func(t *testing.T) {
		c, err := goacmedns.NewClient(srv.APIURL)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := c.RegisterAccount(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		other, err := c.RegisterAccount(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		v := token(t)
		if err := c.UpdateTXTRecord(t.Context(), acct, v); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			edit func(*goacmedns.Account)
		}{
			{"wrong password", func(a *goacmedns.Account) { a.Password = wrongPassword(a.Password) }},
			{"another account's password", func(a *goacmedns.Account) { a.Password = other.Password }},
			{"another account's username", func(a *goacmedns.Account) { a.Username = other.Username }},
			{"another account's subdomain", func(a *goacmedns.Account) { a.SubDomain = other.SubDomain }},
		} {
			bad := acct
			tc.edit(&bad)
			err := c.UpdateTXTRecord(t.Context(), bad, token(t))
			var ce *goacmedns.ClientError
			if !errors.As(err, &ce) || ce.HTTPStatus != 401 || string(ce.Body) != `{"error": "forbidden"}` {
				t.Errorf("%s: error %v, want a *ClientError with 401 {\"error\": \"forbidden\"}", tc.name, err)
			}
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v)
		expectTXT(t, srv.DNSAddr, other.FullDomain)
	})
}
