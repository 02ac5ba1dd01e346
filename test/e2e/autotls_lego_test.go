package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/providers/dns/acmedns"

	"github.com/acmedns/acmedns/test/harness"
)

// legoChildEnv marks the test binary run by TestAutoTLSLego as its lego.
const legoChildEnv = "ACMEDNS_E2E_LEGO_CHILD"

// The domain and key authorization the lego child presents.
const (
	legoDomain  = "app.example.test"
	legoKeyAuth = "token.thumbprint"
)

// TestAutoTLSLego: lego's acme-dns provider, which builds its own HTTP
// client, registers and updates over the API's HTTPS with nothing but its
// environment, as the lego CLI is configured: ACME_DNS_API_BASE names the
// API by the certificate's name, SSL_CERT_FILE trusts Pebble's root alone,
// and HTTPS_PROXY stands in for the name's address (a CONNECT proxy that
// reaches the API for that name only). It runs in a process of its own,
// the test binary again, since Go reads those variables once a process.
func TestAutoTLSLego(t *testing.T) {
	a := newAutoTLS(t, harness.PebbleOptions{})
	s := a.server(t, "", "")
	s.WaitReady(t, 60*time.Second)

	dir := t.TempDir()
	roots := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(roots, a.pebble.RootsPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	api, err := url.Parse(s.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, tunnels := connectProxy(t, api.Host, s.APIAddr)
	storage := filepath.Join(dir, "acmedns.json")

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAutoTLSLegoChild$", "-test.v", "-test.count=1")
	cmd.Env = append(withoutEnv(os.Environ(), "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"),
		legoChildEnv+"=1",
		acmedns.EnvAPIBase+"="+s.APIURL,
		acmedns.EnvStoragePath+"="+storage,
		"HTTPS_PROXY="+proxy,
		"SSL_CERT_FILE="+roots,
		"SSL_CERT_DIR="+certDir,
		"LEGO_DISABLE_CNAME_SUPPORT=true",
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestAutoTLSLegoChild") {
		t.Fatalf("lego: %v\n%s", err, out)
	}
	if tunnels.Load() == 0 {
		t.Fatal("lego did not go through the proxy to the API's name")
	}

	acct := savedAccount(t, storage, legoDomain)
	sum := sha256.Sum256([]byte(legoKeyAuth))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if got := txt(t, s.DNSAddr, acct.FullDomain); len(got) != 1 || got[0] != want {
		t.Fatalf("TXT %s = %q, want lego's %q", acct.FullDomain, got, want)
	}
}

// TestAutoTLSLegoChild is TestAutoTLSLego's lego: the acme-dns provider
// from the environment, presenting one challenge twice. The first
// registers an account over HTTPS and asks for the CNAME; the second
// updates the TXT over HTTPS. It does nothing unless that test runs it.
func TestAutoTLSLegoChild(t *testing.T) {
	if os.Getenv(legoChildEnv) == "" {
		t.Skip("run by TestAutoTLSLego")
	}
	p, err := acmedns.NewDNSProvider()
	if err != nil {
		t.Fatal(err)
	}
	var need acmedns.ErrCNAMERequired
	if err := p.Present(t.Context(), legoDomain, "token", legoKeyAuth); !errors.As(err, &need) {
		t.Fatalf("first Present: %v, want the CNAME request after registering", err)
	}
	if err := p.Present(t.Context(), legoDomain, "token", legoKeyAuth); err != nil {
		t.Fatalf("second Present: %v", err)
	}
}

// connectProxy is an HTTP proxy that tunnels CONNECT requests for host
// (host:port) to addr and refuses any other. It returns its URL and the
// count of tunnels it opened.
func connectProxy(t *testing.T, host, addr string) (string, *atomic.Int32) {
	t.Helper()
	var tunnels atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Host != host {
			http.Error(w, "no route to "+r.Host, http.StatusBadGateway)
			return
		}
		up, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		tunnels.Add(1)
		go tunnel(conn, buf.Reader, up)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &tunnels
}

// tunnel answers a hijacked CONNECT and copies both ways until either end
// closes.
func tunnel(conn net.Conn, buffered *bufio.Reader, up net.Conn) {
	defer conn.Close()
	defer up.Close()
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, buffered); done <- struct{}{} }()
	go func() { io.Copy(conn, up); done <- struct{}{} }()
	<-done
}

// withoutEnv returns env without the variables named, in either case.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || strings.EqualFold(name, n)
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
