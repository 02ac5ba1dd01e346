// Package certbot issues a real certificate with the distribution's certbot
// against Pebble, through acmedns and the project's own certbot hook
// (contrib/certbot/acmedns-auth-hook).
package certbot

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"
)

// certbot runs certbot with the manual plugin and the acmedns hook; it
// returns the combined output and the error of the run.
func certbot(t *testing.T, hook, base string, pebble *harness.Pebble, apiURL string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "certbot", "certonly",
		"--non-interactive", "--agree-tos", "--register-unsafely-without-email",
		"--server", pebble.DirURL,
		"--manual", "--preferred-challenges", "dns",
		"--manual-auth-hook", hook,
		"-d", "example.test", "-d", "*.example.test",
		"--config-dir", filepath.Join(base, "config"),
		"--work-dir", filepath.Join(base, "work"),
		"--logs-dir", filepath.Join(base, "logs"),
	)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACMEDNS_") && !strings.HasPrefix(kv, "REQUESTS_CA_BUNDLE=") && !strings.HasPrefix(kv, "CURL_CA_BUNDLE=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"REQUESTS_CA_BUNDLE="+pebble.CAFile, // certbot trusts Pebble's HTTPS
		"ACMEDNS_API="+apiURL+"/",           // with a trailing slash, to check it is tolerated
		"ACMEDNS_CREDENTIALS="+filepath.Join(base, "acmedns.json"),
	)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("certbot did not finish within 60s:\n%s", out)
	}
	return string(out), err
}

func TestCertbotManualHook(t *testing.T) {
	if _, err := exec.LookPath("certbot"); err != nil {
		t.Fatalf("certbot is not installed (%v): apt-get install -y certbot python3-requests", err)
	}
	version, err := exec.Command("certbot", "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("certbot --version: %v\n%s", err, version)
	}
	t.Logf("%s", bytes.TrimSpace(version))
	hook := filepath.Join(harness.RepoRoot(t), "contrib", "certbot", "acmedns-auth-hook")
	if st, err := os.Stat(hook); err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("the hook %s must exist and be executable: %v", hook, err)
	}

	coredns := harness.StartDelegation(t)
	pebble := harness.StartPebble(t, coredns.DNSAddr)
	base := t.TempDir()
	creds := filepath.Join(base, "acmedns.json")

	// Run 1: the hook registers, stores the account and asks for the CNAME;
	// without it the CA cannot validate, so certbot fails.
	out, err := certbot(t, hook, base, pebble, coredns.APIURL)
	if err == nil {
		t.Fatalf("certbot run 1 succeeded before the CNAME exists:\n%s", out)
	}
	t.Logf("certbot run 1 failed as expected (%v):\n%s", err, out)
	st, err := os.Stat(creds)
	if err != nil {
		t.Fatalf("run 1 wrote no credentials file: %v\n%s", err, out)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file mode %04o, want 0600", mode)
	}
	b, err := os.ReadFile(creds)
	if err != nil {
		t.Fatal(err)
	}
	var accounts map[string]harness.Account
	if err := json.Unmarshal(b, &accounts); err != nil {
		t.Fatalf("credentials file: %v\n%s", err, b)
	}
	acct, ok := accounts["example.test"]
	if !ok || acct.Username == "" || len(acct.Password) != 40 || acct.Subdomain == "" ||
		acct.Fulldomain != acct.Subdomain+".auth.example.test" {
		t.Fatalf("credentials file has no usable account for example.test:\n%s", b)
	}
	if len(accounts) != 1 {
		t.Errorf("credentials file holds %d accounts, want 1 (the wildcard shares the base name's):\n%s", len(accounts), b)
	}
	cname := "_acme-challenge.example.test. CNAME " + acct.Fulldomain + "."
	logs, _ := os.ReadFile(filepath.Join(base, "logs", "letsencrypt.log"))
	if !strings.Contains(out, cname) && !strings.Contains(string(logs), cname) {
		t.Fatalf("the hook's CNAME line %q is neither in certbot's output nor in its log:\n%s", cname, out)
	}

	// The customer creates the CNAME; the file plugin reloads on the new
	// serial.
	coredns.AddCNAME(t, "_acme-challenge.example.test", acct.Fulldomain)

	// Run 2: the hook sets both TXT values (base name and wildcard; the
	// subdomain keeps two) and the CA validates them through the CNAME.
	out, err = certbot(t, hook, base, pebble, coredns.APIURL)
	if err != nil {
		t.Fatalf("certbot run 2: %v\n%s", err, out)
	}

	live := filepath.Join(base, "config", "live", "example.test")
	leaf := readCerts(t, filepath.Join(live, "cert.pem"))[0]
	chain := readCerts(t, filepath.Join(live, "fullchain.pem"))
	if !chain[0].Equal(leaf) {
		t.Error("fullchain.pem does not start with cert.pem")
	}
	harness.CheckChain(t, chain, pebble.Roots(t), "example.test", "*.example.test")
}

// waitForCNAME waits until _acme-challenge.example.test TXT over TCP
// answers the CNAME to target.
func readCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return harness.ParseCerts(t, b)
}
