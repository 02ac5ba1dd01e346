package harness

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ACMEName is the zone of an ACMEServer and the name on its API's
// certificate.
const ACMEName = "auth.example.test"

// ACMEServer is a CoreDNS serving ACMEName whose API takes its certificate
// from an ACME CA (tls acme), validated against its own DNS.
type ACMEServer struct {
	*Process
	Dir      string // its working directory: the Corefile, the embedded store
	DNSAddr  string // 127.0.0.1:PORT
	APIAddr  string // 127.0.0.1:PORT, HTTPS
	APIURL   string // https://ACMEName:PORT (HTTPClient dials APIAddr)
	ReadyURL string // the ready plugin's /ready
	Metrics  string // the prometheus plugin's /metrics
}

// ACMEServerConfig is what StartACMEServer serves.
type ACMEServerConfig struct {
	Dir     string // "" for a new directory; the same one to restart
	DNSPort int    // 0 picks a free port
	APIPort int    // 0 picks a free port
	Store   string // the store's line: "" for the embedded store, or "redis HOST:PORT"
	CA      string // the ACME directory URL
	CAFile  string // the CA's own HTTPS root (ca_root)
}

// StartACMEServer writes the Corefile of c and starts CoreDNS on it. It
// returns once DNS answers: the API serves once its certificate arrives.
func StartACMEServer(t testing.TB, c ACMEServerConfig) *ACMEServer {
	t.Helper()
	bin := binary(t, "ACMEDNS_COREDNS", "coredns", "run `make build` (make e2e does)")
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	if c.DNSPort == 0 {
		c.DNSPort = FreePort(t)
	}
	if c.APIPort == 0 {
		c.APIPort = FreePort(t)
	}
	ready, metrics := FreePort(t), FreePort(t)
	corefile := fmt.Sprintf(`%s:%d {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:%d
        %s
        tls acme {
            ca %s
            ca_root %s
            email ops@example.test
        }
    }
    ready 127.0.0.1:%d
    prometheus 127.0.0.1:%d
}
`, ACMEName, c.DNSPort, c.APIPort, c.Store, c.CA, c.CAFile, ready, metrics)
	if err := os.WriteFile(filepath.Join(c.Dir, "Corefile"), []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &ACMEServer{
		Dir:      c.Dir,
		DNSAddr:  "127.0.0.1:" + strconv.Itoa(c.DNSPort),
		APIAddr:  "127.0.0.1:" + strconv.Itoa(c.APIPort),
		APIURL:   "https://" + ACMEName + ":" + strconv.Itoa(c.APIPort),
		ReadyURL: "http://127.0.0.1:" + strconv.Itoa(ready) + "/ready",
		Metrics:  "http://127.0.0.1:" + strconv.Itoa(metrics) + "/metrics",
	}
	s.Process = start(t, c.Dir, fmt.Sprintf("coredns-%d", time.Now().UnixNano()), nil, bin, "-conf", "Corefile")
	waitFor(t, 20*time.Second, "CoreDNS", func() bool {
		conn, err := net.DialTimeout("tcp", s.DNSAddr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return s
}

// Ready reports whether the ready plugin says ready.
func (s *ACMEServer) Ready() bool {
	resp, err := http.Get(s.ReadyURL)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// WaitReady waits up to limit for the ready plugin to say ready.
func (s *ACMEServer) WaitReady(t testing.TB, limit time.Duration) {
	t.Helper()
	waitFor(t, limit, "the API's certificate", s.Ready)
}

// HTTPClient is a client of the API that trusts roots and reaches
// ACMEName at APIAddr.
func (s *ACMEServer) HTTPClient(roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.APIAddr)
		},
	}}
}

// ServedChain connects to the API as ACMEName, verifying its chain against
// roots, and returns the chain it serves, leaf first.
func (s *ACMEServer) ServedChain(t testing.TB, roots *x509.CertPool) []*x509.Certificate {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.APIAddr, &tls.Config{ServerName: ACMEName, RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS to the API: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates
}

// Log returns CoreDNS's output so far.
func (s *ACMEServer) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// Metric returns the value of one series of /metrics, written as
// Prometheus does (name{label="value",...}); 0 when it is absent.
func (s *ACMEServer) Metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}
