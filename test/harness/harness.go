// Package harness starts the real processes the end-to-end tests need, on
// loopback ports: CoreDNS built from cmd/coredns, and the Pebble ACME CA.
// Missing binaries fail the test: `make e2e` builds and installs them.
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// PebbleVersion is the Pebble release the tests run.
const PebbleVersion = "v2.10.1"

// RepoRoot is the plugin's checkout, the parent of the test module.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "coredns")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("cannot find the repository root (a directory with cmd/coredns)")
		}
		dir = parent
	}
}

// binary returns $env, or path under the repository root; it must exist.
func binary(t testing.TB, env, rel, hint string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(RepoRoot(t), rel)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found (%v): %s", p, err, hint)
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a child process whose output goes to a log file that is
// printed when the test fails.
type Process struct {
	cmd     *exec.Cmd
	LogPath string
	once    sync.Once
}

func start(t testing.TB, dir, name string, env []string, bin string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &Process{cmd: cmd, LogPath: logPath}
	t.Cleanup(func() {
		p.Stop()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", name, b)
		}
	})
	return p
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stop kills the process and waits for it.
func (p *Process) Stop() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

// waitFor polls ok until it is true or limit passes.
func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CoreDNS is a CoreDNS process built from cmd/coredns.
type CoreDNS struct {
	*Process
	Dir     string // its working directory, holding the Corefile
	DNSAddr string // 127.0.0.1:PORT, UDP and TCP
	APIURL  string // http://127.0.0.1:PORT
}

// StartCoreDNS writes corefile into a new directory and starts CoreDNS on
// it. In corefile, {DNS} and {API} are replaced by free loopback ports, and
// files names extra files to write beside it (zone files). It returns once
// the DNS port accepts connections and /health answers 200.
func StartCoreDNS(t testing.TB, corefile string, files map[string]string) *CoreDNS {
	t.Helper()
	return StartCoreDNSWithin(t, corefile, files, 20*time.Second)
}

// StartCoreDNSWithin is StartCoreDNS waiting up to limit for the server
// (a store of a million accounts takes longer to open).
func StartCoreDNSWithin(t testing.TB, corefile string, files map[string]string, limit time.Duration) *CoreDNS {
	t.Helper()
	bin := binary(t, "ACMEDNS_COREDNS", "coredns", "run `make build` (make e2e does)")
	dnsPort, apiPort := strconv.Itoa(FreePort(t)), strconv.Itoa(FreePort(t))
	corefile = strings.NewReplacer("{DNS}", dnsPort, "{API}", apiPort).Replace(corefile)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Corefile"), []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &CoreDNS{Dir: dir, DNSAddr: "127.0.0.1:" + dnsPort, APIURL: "http://127.0.0.1:" + apiPort}
	c.Process = start(t, dir, "coredns", nil, bin, "-conf", "Corefile")
	waitFor(t, limit, "CoreDNS", func() bool {
		conn, err := net.DialTimeout("tcp", c.DNSAddr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		conn.Close()
		resp, err := http.Get(c.APIURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return c
}

// WriteFile replaces a file in CoreDNS's directory (a zone file the file
// plugin reloads).
func (c *CoreDNS) WriteFile(t testing.TB, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.Dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Pebble is a running Pebble ACME CA.
type Pebble struct {
	*Process
	DirURL  string         // the ACME directory
	MgmtURL string         // the management API
	CAFile  string         // the CA of Pebble's own HTTPS certificate
	Pool    *x509.CertPool // trusts CAFile

	dir, cfgPath, dns string
	starts            int
	logs              []string
}

// PebbleSource is Pebble's module directory in the module cache, where its
// test certificates are.
func PebbleSource(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "letsencrypt", "pebble", "v2@"+PebbleVersion)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Pebble's module is not in the module cache (%v): run `make e2e`", err)
	}
	return dir
}

// StartPebble starts Pebble validating DNS-01 against dnsServer (host:port).
// Validation is real: no PEBBLE_VA_ALWAYS_VALID.
func StartPebble(t testing.TB, dnsServer string) *Pebble {
	t.Helper()
	return StartPebbleWith(t, dnsServer, PebbleOptions{})
}

// PebbleOptions changes what StartPebbleWith starts.
type PebbleOptions struct {
	// ValidityPeriod is the lifetime of the certificates, in seconds; 0
	// means 90 days.
	ValidityPeriod int
	// Port is the ACME listener's loopback port; 0 picks a free one.
	Port int
	// Stopped leaves Pebble down, as a CA that is unreachable when its
	// clients start: Start starts it, on the ports and URLs given.
	Stopped bool
}

// StartPebbleWith starts Pebble as StartPebble does, with o.
func StartPebbleWith(t testing.TB, dnsServer string, o PebbleOptions) *Pebble {
	t.Helper()
	src := PebbleSource(t)
	dir := t.TempDir()
	acme, mgmt := o.Port, FreePort(t)
	if acme == 0 {
		acme = FreePort(t)
	}
	validity := o.ValidityPeriod
	if validity == 0 {
		validity = 7776000
	}
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  fmt.Sprintf("127.0.0.1:%d", acme),
		"managementListenAddress":        fmt.Sprintf("127.0.0.1:%d", mgmt),
		"certificate":                    filepath.Join(src, "test/certs/localhost/cert.pem"),
		"privateKey":                     filepath.Join(src, "test/certs/localhost/key.pem"),
		"httpPort":                       FreePort(t),
		"tlsPort":                        FreePort(t),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles":                       map[string]any{"default": map[string]any{"description": "default", "validityPeriod": validity}},
	}}
	b, _ := json.Marshal(cfg)
	p := &Pebble{
		DirURL:  fmt.Sprintf("https://127.0.0.1:%d/dir", acme),
		MgmtURL: fmt.Sprintf("https://127.0.0.1:%d", mgmt),
		CAFile:  filepath.Join(src, "test/certs/pebble.minica.pem"),
		Pool:    x509.NewCertPool(),
		dir:     dir,
		cfgPath: filepath.Join(dir, "pebble.json"),
		dns:     dnsServer,
	}
	if err := os.WriteFile(p.cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(p.CAFile)
	if err != nil || !p.Pool.AppendCertsFromPEM(ca) {
		t.Fatalf("reading Pebble's CA %s: %v", p.CAFile, err)
	}
	if !o.Stopped {
		p.Start(t)
	}
	return p
}

// Start starts Pebble: again after Stop, or for the first time with
// Stopped. It keeps the ports, takes a log of its own (and new roots), and
// waits until its directory answers.
func (p *Pebble) Start(t testing.TB) {
	t.Helper()
	bin := binary(t, "ACMEDNS_PEBBLE", "test/bin/pebble", "run `make e2e`, which installs Pebble "+PebbleVersion)
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"}
	p.starts++
	name := "pebble"
	if p.starts > 1 {
		name = fmt.Sprintf("pebble-%d", p.starts)
	}
	p.Process = start(t, p.dir, name, env, bin, "-config", p.cfgPath, "-dnsserver", p.dns)
	p.logs = append(p.logs, p.Process.LogPath)
	client := p.HTTPClient()
	waitFor(t, 20*time.Second, "Pebble", func() bool {
		resp, err := client.Get(p.DirURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// Issued counts the certificates Pebble issued, over all its starts.
func (p *Pebble) Issued(t testing.TB) int {
	t.Helper()
	n := 0
	for _, path := range p.logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), "Issued certificate serial")
	}
	return n
}

// HTTPClient trusts Pebble's HTTPS certificate.
func (p *Pebble) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Pool}}}
}

// Roots returns the pool of Pebble's current issuing roots, from its
// management API (they change at every start).
func (p *Pebble) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	pem := p.RootsPEM(t)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no root in %q", pem)
	}
	return pool
}

// RootsPEM returns Pebble's current issuing roots in PEM, as a file of
// trusted roots holds them.
func (p *Pebble) RootsPEM(t testing.TB) []byte {
	t.Helper()
	resp, err := p.HTTPClient().Get(p.MgmtURL + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Pebble's roots: %s, %v", resp.Status, err)
	}
	return pem
}

// Account is what /register answers.
type Account struct {
	Username   string   `json:"username"`
	Password   string   `json:"password"`
	Fulldomain string   `json:"fulldomain"`
	Subdomain  string   `json:"subdomain"`
	AllowFrom  []string `json:"allowfrom"`
}

// Register registers an account over plain HTTP.
func Register(t testing.TB, apiURL string) Account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", apiURL+"/register", bytes.NewReader(nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a Account
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&a) != nil {
		t.Fatalf("register: %s", resp.Status)
	}
	return a
}
