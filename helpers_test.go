package acmedns

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// testPlugin parses an acmedns block (zone auth.example.org. unless the
// block names others) and opens its embedded store in a temporary directory,
// without binding the API listener.
func testPlugin(t testing.TB, block string) *ACMEDNS {
	t.Helper()
	c := caddy.NewTestController("dns", block)
	c.ServerBlockKeys = []string{"auth.example.org."}
	cfg, err := parse(c)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if cfg.Redis == nil {
		cfg.DB = filepath.Join(t.TempDir(), "acmedns.db")
		s, err := store.OpenBolt(cfg.DB, store.BoltOptions{CacheSize: DefaultCacheSize})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		a := New(cfg)
		a.store = s
		return a
	}
	a := New(cfg)
	s, release, err := acquireStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	a.store = s
	return a
}

// seed registers subdomain with the given TXT values, oldest first.
func seed(t *testing.T, a *ACMEDNS, subdomain string, values ...string) {
	t.Helper()
	if err := seedStore(a, subdomain, values...); err != nil {
		t.Fatal(err)
	}
}

func seedStore(a *ACMEDNS, subdomain string, values ...string) error {
	ctx := context.Background()
	err := a.store.Register(ctx, store.Account{Username: "user-" + subdomain, PasswordHash: []byte("x"), Subdomain: subdomain})
	for _, v := range values {
		if err == nil {
			err = a.store.AddTXT(ctx, subdomain, v, a.cfg.TXTLimit, a.cfg.TXTExpire)
		}
	}
	return err
}

// askTXT asks a's handler for sub's TXT record and returns the rcode and
// the number of answers.
func askTXT(t *testing.T, a *ACMEDNS, sub string) (int, int) {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	a.ServeDNS(context.Background(), rec, (&test.Case{Qname: sub + ".auth.example.org.", Qtype: dns.TypeTXT}).Msg())
	if rec.Msg == nil {
		t.Fatalf("%s: no reply written", sub)
	}
	return rec.Msg.Rcode, len(rec.Msg.Answer)
}

// texts returns the text of each value.
func texts(values []store.Value) []string {
	out := []string{}
	for _, v := range values {
		out = append(out, v.Text)
	}
	return out
}
