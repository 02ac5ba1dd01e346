package e2e

import (
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
	"github.com/nrdcg/goacmedns"
)

// autoTLS is Pebble validating against one DNS port, and the Corefile
// settings of the servers that take their API certificate from it.
type autoTLS struct {
	pebble  *harness.Pebble
	dnsPort int
}

func newAutoTLS(t *testing.T, o harness.PebbleOptions) *autoTLS {
	a := &autoTLS{dnsPort: harness.FreePort(t)}
	a.pebble = harness.StartPebbleWith(t, fmt.Sprintf("127.0.0.1:%d", a.dnsPort), o)
	return a
}

// server starts a CoreDNS on the DNS port Pebble asks, on store.
func (a *autoTLS) server(t *testing.T, dir, store string) *harness.ACMEServer {
	return harness.StartACMEServer(t, harness.ACMEServerConfig{
		Dir: dir, DNSPort: a.dnsPort, Store: store, CA: a.pebble.DirURL, CAFile: a.pebble.CAFile,
	})
}

// useAPI registers and updates over HTTPS with goacmedns, trusting roots
// alone, and checks the value in DNS.
func useAPI(t *testing.T, s *harness.ACMEServer, roots *x509.CertPool) {
	t.Helper()
	c, err := goacmedns.NewClient(s.APIURL, goacmedns.WithHTTPClient(s.HTTPClient(roots)))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.RegisterAccount(t.Context(), nil)
	if err != nil {
		t.Fatalf("register over HTTPS: %v", err)
	}
	value := strings.Repeat("v", 43)
	if err := c.UpdateTXTRecord(t.Context(), acct, value); err != nil {
		t.Fatalf("update over HTTPS: %v", err)
	}
	if got := txt(t, s.DNSAddr, acct.FullDomain); len(got) != 1 || got[0] != value {
		t.Fatalf("TXT %s = %q, want %q", acct.FullDomain, got, value)
	}
}

// txt asks addr for the TXT values of name.
func txt(t *testing.T, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out
}

// TestAutoTLS: acmedns obtains its API's certificate from Pebble, which
// asks acmedns's own DNS; until then DNS answers and the server is not
// ready; goacmedns registers and updates over HTTPS trusting only
// Pebble's root; a restart serves the stored certificate without a new
// order. With the embedded store and with Redis.
func TestAutoTLS(t *testing.T) {
	for _, tc := range []struct{ name, store string }{{"embedded", ""}, {"redis", "redis"}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAutoTLS(t, harness.PebbleOptions{})
			store := ""
			if tc.store == "redis" {
				store = "redis " + harness.StartRedis(t).Addr
			}
			s := a.server(t, "", store)
			s.WaitReady(t, 60*time.Second)
			roots := a.pebble.Roots(t)
			first := harness.CheckChain(t, s.ServedChain(t, roots), roots, harness.ACMEName)
			useAPI(t, s, roots)
			if n := a.pebble.Issued(t); n != 1 {
				t.Fatalf("Pebble issued %d certificates, want 1", n)
			}

			s.Stop()
			s = a.server(t, s.Dir, store)
			s.WaitReady(t, 20*time.Second)
			if again := s.ServedChain(t, roots)[0]; again.SerialNumber.Cmp(first.SerialNumber) != 0 {
				t.Fatalf("after a restart the API serves serial %x, want the stored %x", again.SerialNumber, first.SerialNumber)
			}
			useAPI(t, s, roots)
			if n := a.pebble.Issued(t); n != 1 {
				t.Fatalf("after a restart Pebble issued %d certificates, want still 1", n)
			}
		})
	}
}

// TestAutoTLSReplicas: two replicas on one Redis start together; Pebble
// asks only the first's DNS, whichever orders; one order serves both (same
// serial), and restarting both orders nothing.
func TestAutoTLSReplicas(t *testing.T) {
	a := newAutoTLS(t, harness.PebbleOptions{})
	store := "redis " + harness.StartRedis(t).Addr
	cfg := func(dir string, dnsPort int) harness.ACMEServerConfig {
		return harness.ACMEServerConfig{Dir: dir, DNSPort: dnsPort, Store: store, CA: a.pebble.DirURL, CAFile: a.pebble.CAFile}
	}
	other := harness.FreePort(t)
	s1, s2 := harness.StartACMEServer(t, cfg("", a.dnsPort)), harness.StartACMEServer(t, cfg("", other))
	for _, s := range []*harness.ACMEServer{s1, s2} {
		s.WaitReady(t, 60*time.Second)
	}
	roots := a.pebble.Roots(t)
	c1 := harness.CheckChain(t, s1.ServedChain(t, roots), roots, harness.ACMEName)
	c2 := harness.CheckChain(t, s2.ServedChain(t, roots), roots, harness.ACMEName)
	if c1.SerialNumber.Cmp(c2.SerialNumber) != 0 {
		t.Fatalf("the replicas serve serials %x and %x, want one certificate", c1.SerialNumber, c2.SerialNumber)
	}
	if n := a.pebble.Issued(t); n != 1 {
		t.Fatalf("Pebble issued %d certificates for two replicas, want 1", n)
	}
	useAPI(t, s2, roots)

	s1.Stop()
	s2.Stop()
	s1, s2 = harness.StartACMEServer(t, cfg(s1.Dir, a.dnsPort)), harness.StartACMEServer(t, cfg(s2.Dir, other))
	for _, s := range []*harness.ACMEServer{s1, s2} {
		s.WaitReady(t, 20*time.Second)
		if c := s.ServedChain(t, roots)[0]; c.SerialNumber.Cmp(c1.SerialNumber) != 0 {
			t.Fatalf("after restarting both, serial %x, want %x", c.SerialNumber, c1.SerialNumber)
		}
	}
	if n := a.pebble.Issued(t); n != 1 {
		t.Fatalf("after restarting both, Pebble issued %d certificates, want still 1", n)
	}
}
