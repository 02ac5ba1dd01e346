package acmedns

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"

	"github.com/acmedns/acmedns/internal/redistest"

	"github.com/miekg/dns"
)

// redisTLSBlock is a redis block for addr with the given inner lines.
func redisTLSBlock(addr string, lines ...string) string {
	return "redis " + addr + " {\n\t\t\tpassword tls-test-s3cret\n\t\t\t" + strings.Join(lines, "\n\t\t\t") + "\n\t\t}"
}

// TestCoreDNSRedisTLS runs a real CoreDNS against a TLS-only redis-server:
// with the right CA (and, where the server requires one, the client
// certificate) it serves; otherwise it fails closed, with the reason in the
// log, and never falls back to plain text.
func TestCoreDNSRedisTLS(t *testing.T) {
	pki := redistest.NewTLS(t)
	mtls := redistest.NewTLS(t)
	mtls.AuthClients = true
	other := redistest.NewTLS(t)
	srv := redistest.StartTLS(t, pki, "--requirepass", "tls-test-s3cret")
	mtlsSrv := redistest.StartTLS(t, mtls, "--requirepass", "tls-test-s3cret")
	otherPass := redistest.StartTLS(t, pki, "--requirepass", "other-tls-s3cret")

	tests := []struct {
		name    string
		addr    string
		lines   []string
		wantErr string // "": serves
	}{
		{"ca file", srv.Addr, []string{"tls " + pki.CAFile}, ""},
		{"ca file and server name", srv.Addr, []string{"tls " + pki.CAFile, "tls_server_name localhost"}, ""},
		{"mutual tls", mtlsSrv.Addr, []string{"tls " + mtls.CAFile + " " + mtls.ClientCertFile + " " + mtls.ClientKeyFile}, ""},
		{"wrong ca", srv.Addr, []string{"tls " + other.CAFile}, "certificate signed by unknown authority"},
		{"system roots", srv.Addr, []string{"tls"}, "certificate signed by unknown authority"},
		{"wrong server name", srv.Addr, []string{"tls " + pki.CAFile, "tls_server_name redis.example.org"}, "not redis.example.org"},
		{"client certificate of another ca", mtlsSrv.Addr, []string{"tls " + mtls.CAFile + " " + other.ClientCertFile + " " + other.ClientKeyFile}, "tls: unknown certificate authority"},
		{"mutual tls without certificate", mtlsSrv.Addr, []string{"tls " + mtls.CAFile}, "tls: certificate required"},
		{"plain text to a tls server", srv.Addr, nil, "store does not answer"},
		{"wrong password", otherPass.Addr, []string{"tls " + pki.CAFile}, "WRONGPASS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := captureLog(t)
			p := newPorts(t)
			startCoreDNS(t, p.corefile(redisTLSBlock(tc.addr, tc.lines...)))
			if tc.wantErr == "" {
				checkRedisServes(t, p)
			} else {
				checkFailsClosed(t, p)
			}
			log := logs()
			if tc.wantErr != "" && !strings.Contains(log, tc.wantErr) {
				t.Errorf("log lacks %q:\n%s", tc.wantErr, log)
			}
			// The failed registration logged its cause.
			if tc.wantErr != "" && !strings.Contains(log, "storage_unavailable op=register suppressed=0 cause=") {
				t.Errorf("log lacks the cause of the failed registration:\n%s", log)
			}
			if strings.Contains(log, "tls-test-s3cret") || strings.Contains(log, "other-tls-s3cret") {
				t.Errorf("a password is in the log:\n%s", log)
			}
		})
	}
}

// checkRedisServes registers, updates and reads back over DNS.
func checkRedisServes(t *testing.T, p ports) {
	t.Helper()
	acc := register(t, p.apiURL(), "")
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	checkTXT(t, p.dnsAddr(), acc.Subdomain+".auth.example.test.", dns.RcodeSuccess, txtA)
	if code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready"); code != 200 {
		t.Errorf("ready: %d", code)
	}
}

// checkFailsClosed asserts SERVFAIL, 503 storage_unavailable, not ready,
// and a counted store error.
func checkFailsClosed(t *testing.T, p ports) {
	t.Helper()
	checkTXT(t, p.dnsAddr(), "nobody.auth.example.test.", dns.RcodeServerFailure)
	unavailable := `{"error": "storage_unavailable"}`
	if r := call(t, "POST", p.apiURL()+"/register", ""); r.status != 503 || r.body != unavailable {
		t.Errorf("register: %d %s", r.status, r.body)
	}
	if code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready"); code == 200 {
		t.Error("ready without a verified Redis")
	}
	_, metrics := get(t, "http://127.0.0.1:"+p.metrics+"/metrics")
	if v, _ := scrapedValue(metrics, `coredns_acmedns_store_errors_total{op="txt"}`); v == 0 {
		t.Error("no store error counted for the failed lookup")
	}
}

// TestRedisTLSPingError: the verification error is what the store returns.
func TestRedisTLSPingError(t *testing.T) {
	pki, other := redistest.NewTLS(t), redistest.NewTLS(t)
	srv := redistest.StartTLS(t, pki)
	tests := []struct {
		name    string
		lines   []string
		wantErr string // "": no error
	}{
		{"verified", []string{"tls " + pki.CAFile}, ""},
		{"wrong ca", []string{"tls " + other.CAFile}, "x509: certificate signed by unknown authority"},
		{"wrong server name", []string{"tls " + pki.CAFile, "tls_server_name redis.example.org"}, "x509: certificate is valid for localhost, not redis.example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := testPlugin(t, "acmedns {\n\tapi :8053\n\t"+redisTLSBlock(srv.Addr, tc.lines...)+"\n}")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err := a.store.Ping(ctx)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Ping = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestRedisTLSOptions: the go-redis TLS configuration of each form of tls.
func TestRedisTLSOptions(t *testing.T) {
	pki := redistest.NewTLS(t)
	tests := []struct {
		name        string
		tls         *RedisTLS
		addrs       []string
		wantName    string
		wantRoots   bool
		wantCerts   int
		wantDialErr string
	}{
		{"plain", nil, []string{"r:6379"}, "", false, 0, ""},
		{"system roots", &RedisTLS{}, []string{"redis.example.org:6380", "b:6380"}, "redis.example.org", false, 0, ""},
		{"ca", &RedisTLS{CA: pki.CAFile}, []string{"[2001:db8::1]:6380"}, "2001:db8::1", true, 0, ""},
		{"server name", &RedisTLS{CA: pki.CAFile, ServerName: "cache.example.org"}, []string{"10.0.0.1:6380"}, "cache.example.org", true, 0, ""},
		{"mutual", &RedisTLS{CA: pki.CAFile, Cert: pki.ClientCertFile, Key: pki.ClientKeyFile}, []string{"r:6380"}, "r", true, 1, ""},
		{"ca not pem", &RedisTLS{CA: pki.ClientKeyFile}, []string{"r:6380"}, "", false, 0, "CA file " + pki.ClientKeyFile + ": no PEM certificate"},
		{"key mismatch", &RedisTLS{Cert: pki.ClientCertFile, Key: pki.KeyFile}, []string{"r:6380"}, "", false, 0, "certificate " + pki.ClientCertFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := defaultRedisConfig(tc.addrs)
			r.TLS = tc.tls
			o := r.options()
			if tc.wantDialErr != "" {
				if o.Dialer == nil || o.TLSConfig != nil {
					t.Fatalf("unreadable files: Dialer %v, TLSConfig %v", o.Dialer != nil, o.TLSConfig)
				}
				if _, err := o.Dialer(context.Background(), "tcp", "r:6380"); err == nil || !strings.Contains(err.Error(), tc.wantDialErr) {
					t.Fatalf("dial = %v, want %q", err, tc.wantDialErr)
				}
				return
			}
			c := o.TLSConfig
			if tc.tls == nil {
				if c != nil || o.Dialer != nil {
					t.Fatalf("plain text has TLS %v", c)
				}
				return
			}
			if c == nil || c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify || c.ServerName != tc.wantName ||
				(c.RootCAs != nil) != tc.wantRoots || len(c.Certificates) != tc.wantCerts {
				t.Fatalf("TLSConfig = %+v", c)
			}
		})
	}
}

// TestRedisTLSKey: stores are shared only between identical TLS settings.
func TestRedisTLSKey(t *testing.T) {
	base := func(tls *RedisTLS) string {
		r := defaultRedisConfig([]string{"r:6380"})
		r.TLS = tls
		return r.key()
	}
	keys := map[string]string{
		"plain":       base(nil),
		"system":      base(&RedisTLS{}),
		"ca":          base(&RedisTLS{CA: "/ca.pem"}),
		"other ca":    base(&RedisTLS{CA: "/other.pem"}),
		"mutual":      base(&RedisTLS{CA: "/ca.pem", Cert: "/c.pem", Key: "/k.pem"}),
		"other key":   base(&RedisTLS{CA: "/ca.pem", Cert: "/c.pem", Key: "/k2.pem"}),
		"server name": base(&RedisTLS{CA: "/ca.pem", ServerName: "n"}),
	}
	seen := map[string]string{}
	for name, k := range keys {
		if prev, ok := seen[k]; ok {
			t.Errorf("%s and %s share a store key", name, prev)
		}
		seen[k] = name
	}
	if base(&RedisTLS{CA: "/ca.pem"}) != keys["ca"] {
		t.Error("equal settings give different keys")
	}
}

// TestRedisTLSUnreadableFiles: a TLS file that cannot be read is a
// configuration error: CoreDNS does not start, and the error names the file.
func TestRedisTLSUnreadableFiles(t *testing.T) {
	pki := redistest.NewTLS(t)
	missing := t.TempDir()
	for name, line := range map[string]string{
		"missing ca file":    "tls " + missing + "/nope.pem",
		"missing client key": "tls " + pki.CAFile + " " + pki.ClientCertFile + " " + missing + "/key.pem",
		"ca not pem":         "tls " + pki.ClientKeyFile,
	} {
		t.Run(name, func(t *testing.T) {
			p := newPorts(t)
			corefile := p.corefile(redisTLSBlock("127.0.0.1:"+freePort(t), line))
			inst, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
			if err == nil {
				inst.Stop()
				inst.ShutdownCallbacks()
				t.Fatal("CoreDNS started with an unreadable TLS file")
			}
			file := strings.Fields(line)[len(strings.Fields(line))-1]
			if !strings.Contains(err.Error(), file) || strings.Contains(err.Error(), "tls-test-s3cret") {
				t.Errorf("error %q does not name %s (or shows the password)", err, file)
			}
		})
	}
}

// TestCoreDNSRedisTLSSentinel: behind a TLS-only Sentinel and a TLS-only
// master, one tls line (the same CA for both) serves; a wrong CA fails
// closed.
func TestCoreDNSRedisTLSSentinel(t *testing.T) {
	pki, other := redistest.NewTLS(t), redistest.NewTLS(t)
	master := redistest.StartTLS(t, pki)
	sentinel := redistest.StartTLSSentinel(t, pki, "acmedns", master)
	block := func(ca string) string {
		return "redis " + sentinel.Addr + " {\n\t\t\tmaster acmedns\n\t\t\ttls " + ca + "\n\t\t}"
	}
	p := newPorts(t)
	startCoreDNS(t, p.corefile(block(pki.CAFile)))
	acc := register(t, p.apiURL(), "")
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update through the TLS Sentinel: %d %s", r.status, r.body)
	}
	checkTXT(t, p.dnsAddr(), acc.Subdomain+".auth.example.test.", dns.RcodeSuccess, txtA)

	q := newPorts(t)
	startCoreDNS(t, q.corefile(block(other.CAFile)))
	if r := call(t, "POST", q.apiURL()+"/register", ""); r.status != 503 {
		t.Errorf("register with the wrong CA: %d %s", r.status, r.body)
	}
	checkTXT(t, q.dnsAddr(), acc.Subdomain+".auth.example.test.", dns.RcodeServerFailure)
}
