package clients

import (
	"errors"
	"testing"

	"github.com/acmedns/acmedns/test/harness"

	cpuacmedns "github.com/cpu/goacmedns"
)

// testCPU drives github.com/cpu/goacmedns (older lego and cert-manager,
// acme-dns-client): capitalised JSON keys, and exactly 201 / 200 or an error.
func testCPU(t *testing.T, srv *harness.CoreDNS) {
	// RegisterAccount(nil) sends an empty body labelled application/json;
	// updates send {"SubDomain":...,"Txt":...}.
	t.Run("register empty body and update with capitalised keys", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		c := cpuacmedns.NewClient(rec.URL)
		acct, err := c.RegisterAccount(nil)
		if err != nil {
			t.Fatal(err)
		}
		wantExchange(t, rec.take(t, 1)[0], "/register", "application/json", "", 201, "")
		checkAccount(t, acct.Username, acct.Password, acct.SubDomain, acct.FullDomain)
		v1, v2 := token(t), token(t)
		for _, v := range []string{v1, v2} {
			if err := c.UpdateTXTRecord(acct, v); err != nil {
				t.Fatal(err)
			}
			wantExchange(t, rec.take(t, 1)[0], "/update", "application/json",
				`{"SubDomain":"`+acct.SubDomain+`","Txt":"`+v+`"}`, 200, `{"txt": "`+v+`"}`)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v2, v1)
	})

	// {"AllowFrom":[...]} must be read as allowfrom: the account is limited
	// to it (an update from outside it is refused).
	t.Run("register with capitalised AllowFrom", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		c := cpuacmedns.NewClient(rec.URL)
		for _, tc := range []struct {
			allow  string
			status int
		}{
			{"127.0.0.1/32", 200},
			{"192.0.2.0/24", 401},
		} {
			acct, err := c.RegisterAccount([]string{tc.allow})
			if err != nil {
				t.Fatal(err)
			}
			x := rec.take(t, 1)[0]
			wantExchange(t, x, "/register", "application/json", `{"AllowFrom":["`+tc.allow+`"]}`, 201, "")
			if a := decodeAccount(t, x.Reply); len(a.AllowFrom) != 1 || a.AllowFrom[0] != tc.allow {
				t.Errorf("allowfrom echoed as %v, want [%s]", a.AllowFrom, tc.allow)
			}
			v := token(t)
			err = c.UpdateTXTRecord(acct, v)
			rec.take(t, 1)
			if tc.status == 200 {
				if err != nil {
					t.Fatalf("allowfrom %s: %v", tc.allow, err)
				}
				expectTXT(t, srv.DNSAddr, acct.FullDomain, v)
				continue
			}
			var ce cpuacmedns.ClientError
			if !errors.As(err, &ce) || ce.HTTPStatus != tc.status || string(ce.Body) != `{"error": "forbidden"}` {
				t.Errorf("allowfrom %s: error %v, want a ClientError with %d", tc.allow, err, tc.status)
			}
			expectTXT(t, srv.DNSAddr, acct.FullDomain)
		}
	})

	// The client joins strings: a base URL ending in "/" gives "//register"
	// and "//update".
	t.Run("base URL ending in slash", func(t *testing.T) {
		rec := newRecorder(t, srv.APIURL)
		c := cpuacmedns.NewClient(rec.URL + "/")
		acct, err := c.RegisterAccount(nil)
		if err != nil {
			t.Fatal(err)
		}
		wantExchange(t, rec.take(t, 1)[0], "//register", "application/json", "", 201, "")
		v := token(t)
		if err := c.UpdateTXTRecord(acct, v); err != nil {
			t.Fatal(err)
		}
		wantExchange(t, rec.take(t, 1)[0], "//update", "application/json",
			`{"SubDomain":"`+acct.SubDomain+`","Txt":"`+v+`"}`, 200, "")
		expectTXT(t, srv.DNSAddr, acct.FullDomain, v)
	})

	t.Run("wrong password", func(t *testing.T) {
		c := cpuacmedns.NewClient(srv.APIURL)
		acct, err := c.RegisterAccount(nil)
		if err != nil {
			t.Fatal(err)
		}
		acct.Password = wrongPassword(acct.Password)
		err = c.UpdateTXTRecord(acct, token(t))
		var ce cpuacmedns.ClientError
		if !errors.As(err, &ce) || ce.HTTPStatus != 401 || string(ce.Body) != `{"error": "forbidden"}` {
			t.Errorf("error %v, want a ClientError with 401 {\"error\": \"forbidden\"}", err)
		}
		expectTXT(t, srv.DNSAddr, acct.FullDomain)
	})
}
