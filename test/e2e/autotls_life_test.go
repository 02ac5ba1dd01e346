package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
	"github.com/nrdcg/goacmedns"
)

// Series of the server's certificate orders.
const (
	obtainFailed = `coredns_acmedns_certificate_orders_total{result="failed",type="obtain"}`
	renewOK      = `coredns_acmedns_certificate_orders_total{result="ok",type="renew"}`
	renewFailed  = `coredns_acmedns_certificate_orders_total{result="failed",type="renew"}`
)

// shortLived is the lifetime, in seconds, of Pebble's certificates in the
// renewal tests: certmagic renews a third of it before the end, or sooner
// when Pebble's renewal window (ACME Renewal Information) says so.
const shortLived = 60

// eventually polls ok every 100 ms until it is true, failing the test
// after limit.
func eventually(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// soa asks addr for the SOA of the ACME server's zone and fails unless it
// answers one.
func soa(t *testing.T, addr string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(harness.ACMEName), dns.TypeSOA)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatalf("SOA query: %v", err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("SOA query: %s with %d answers, want one SOA", dns.RcodeToString[r.Rcode], len(r.Answer))
	}
}

// servedSerial is the serial of the certificate the API serves now.
func servedSerial(t *testing.T, s *harness.ACMEServer, roots *x509.CertPool) *big.Int {
	t.Helper()
	return s.ServedChain(t, roots)[0].SerialNumber
}

// TestAutoTLSCADownAtStart: CoreDNS starts while its CA is unreachable.
// DNS answers, the server is not ready, the API serves no TLS, and the
// cause is logged and counted; once the CA is up, the retry (30 s after
// the failure) obtains the certificate and the server turns ready.
func TestAutoTLSCADownAtStart(t *testing.T) {
	a := newAutoTLS(t, harness.PebbleOptions{Stopped: true})
	s := a.server(t, "", "")

	eventually(t, 20*time.Second, "the failed first order in CoreDNS's log", func() bool {
		return strings.Contains(s.Log(), "no certificate for the API yet")
	})
	log := s.Log()
	if !strings.Contains(log, "connection refused") || !strings.Contains(log, "trying again in 30s") {
		t.Fatalf("the log does not give the cause and the retry:\n%s", log)
	}
	soa(t, s.DNSAddr)
	if s.Ready() {
		t.Fatal("ready without a certificate")
	}
	if n := s.Metric(t, obtainFailed); n < 1 {
		t.Fatalf("%s = %v, want at least 1", obtainFailed, n)
	}
	if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.APIAddr, &tls.Config{ServerName: harness.ACMEName, InsecureSkipVerify: true}); err == nil {
		conn.Close()
		t.Fatal("the API completed a TLS handshake without a certificate")
	}

	a.pebble.Start(t)
	s.WaitReady(t, 60*time.Second)
	roots := a.pebble.Roots(t)
	harness.CheckChain(t, s.ServedChain(t, roots), roots, harness.ACMEName)
	useAPI(t, s, roots)
}

// TestAutoTLSCADownAtRenewal: with a short-lived certificate in service,
// the CA goes down; the renewal that follows fails, is logged and counted,
// and the certificate in service stays, the server ready.
func TestAutoTLSCADownAtRenewal(t *testing.T) {
	a := newAutoTLS(t, harness.PebbleOptions{ValidityPeriod: shortLived})
	s := a.server(t, "", "")
	s.WaitReady(t, 60*time.Second)
	roots := a.pebble.Roots(t)

	a.pebble.Stop()
	logged := len(s.Log())
	serial := servedSerial(t, s, roots)
	eventually(t, shortLived*time.Second, "a failed renewal", func() bool { return s.Metric(t, renewFailed) >= 1 })

	if got := servedSerial(t, s, roots); got.Cmp(serial) != 0 {
		t.Fatalf("after a failed renewal the API serves serial %x, want %x still", got, serial)
	}
	if !s.Ready() {
		t.Fatal("not ready after a failed renewal, with a valid certificate in service")
	}
	if since := s.Log()[logged:]; !strings.Contains(since, "connection refused") {
		t.Fatalf("the failed renewal's cause is not in the log:\n%s", since)
	}
	useAPI(t, s, roots)
}

// TestAutoTLSRenewal: a short-lived certificate is renewed without a
// restart while a client keeps updating over HTTPS, a new connection (and
// handshake) for each update: no update fails, and the client sees the
// serial change.
func TestAutoTLSRenewal(t *testing.T) {
	a := newAutoTLS(t, harness.PebbleOptions{ValidityPeriod: shortLived})
	s := a.server(t, "", "")
	s.WaitReady(t, 60*time.Second)
	roots := a.pebble.Roots(t)

	c, err := goacmedns.NewClient(s.APIURL, goacmedns.WithHTTPClient(s.HTTPClient(roots)))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.RegisterAccount(t.Context(), nil)
	if err != nil {
		t.Fatalf("register over HTTPS: %v", err)
	}
	client := s.HTTPClient(roots)
	client.Transport.(*http.Transport).DisableKeepAlives = true

	serials := map[string]bool{}
	value := ""
	deadline := time.Now().Add((shortLived + 30) * time.Second)
	for i := 0; len(serials) < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %d updates the API still serves one certificate", i)
		}
		value = fmt.Sprintf("%043d", i)
		serial, err := postTXT(client, s.APIURL, acct, value)
		if err != nil {
			t.Fatalf("update %d over HTTPS: %v", i, err)
		}
		serials[serial] = true
		time.Sleep(100 * time.Millisecond)
	}
	if got := txt(t, s.DNSAddr, acct.FullDomain); !strings.Contains(strings.Join(got, " "), value) {
		t.Fatalf("TXT %s = %q, want the last update %q in it", acct.FullDomain, got, value)
	}
	if n := s.Metric(t, renewOK); n < 1 {
		t.Fatalf("%s = %v, want at least 1", renewOK, n)
	}
}

// postTXT updates acct's TXT to value and returns the serial of the
// certificate the connection was served.
func postTXT(c *http.Client, api string, acct goacmedns.Account, value string) (string, error) {
	body := `{"subdomain":"` + acct.SubDomain + `","txt":"` + value + `"}`
	req, _ := http.NewRequest("POST", api+"/update", strings.NewReader(body))
	req.Header.Set("X-Api-User", acct.Username)
	req.Header.Set("X-Api-Key", acct.Password)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Text(16), nil
}
