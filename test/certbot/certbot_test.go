// Package certbot issues a real certificate with the distribution's certbot
// against Pebble, through acmedns and the project's own certbot hook
// (contrib/certbot/acmedns-auth-hook).
package certbot

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

// One CoreDNS serves the customer's zone with the file plugin and the
// delegated acmedns zone on the same port, so that the file plugin resolves
// the out-of-zone CNAME target through the same server and answers
// _acme-challenge.example.test TXT with the CNAME and the target's TXT
// records, as Pebble (which does not chase CNAMEs) needs.
const corefile = `example.test:{DNS} {
    bind 127.0.0.1
    file db.example.test {
        reload 1s
    }
    errors
}
auth.example.test:{DNS} {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:{API}
        nameserver ns1.auth.example.test 127.0.0.1
    }
    errors
}
`

func zone(serial int, extra string) string {
	return fmt.Sprintf(`$ORIGIN example.test.
@	3600 IN SOA ns1.example.test. hostmaster.example.test. %d 7200 3600 1209600 60
@	3600 IN NS ns1.example.test.
ns1	3600 IN A 127.0.0.1
%s`, serial, extra)
}

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

	coredns := harness.StartCoreDNS(t, corefile, map[string]string{"db.example.test": zone(1, "")})
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
	coredns.WriteFile(t, "db.example.test", zone(2, "_acme-challenge 60 IN CNAME "+acct.Fulldomain+".\n"))
	waitForCNAME(t, coredns.DNSAddr, acct.Fulldomain)

	// Run 2: the hook sets both TXT values (base name and wildcard; the
	// subdomain keeps two) and the CA validates them through the CNAME.
	out, err = certbot(t, hook, base, pebble, coredns.APIURL)
	if err != nil {
		t.Fatalf("certbot run 2: %v\n%s", err, out)
	}

	live := filepath.Join(base, "config", "live", "example.test")
	leaf := readCerts(t, filepath.Join(live, "cert.pem"))[0]
	sans := slices.Clone(leaf.DNSNames)
	slices.Sort(sans)
	if want := []string{"*.example.test", "example.test"}; !slices.Equal(sans, want) {
		t.Errorf("certificate SANs %q, want %q", sans, want)
	}
	chain := readCerts(t, filepath.Join(live, "fullchain.pem"))
	if !chain[0].Equal(leaf) {
		t.Error("fullchain.pem does not start with cert.pem")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, name := range []string{"example.test", "www.example.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pebble.Roots(t), Intermediates: inter}); err != nil {
			t.Errorf("verifying the chain for %s against Pebble's roots: %v", name, err)
		}
	}
}

// waitForCNAME waits until _acme-challenge.example.test TXT over TCP
// answers the CNAME to target.
func waitForCNAME(t *testing.T, addr, target string) {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("_acme-challenge.example.test.", dns.TypeTXT)
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, _, err := c.Exchange(m, addr)
		if err == nil {
			for _, rr := range r.Answer {
				if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Target, dns.Fqdn(target)) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file plugin did not serve the CNAME within 15s: last answer %v, error %v", r, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		t.Fatalf("%s holds no certificate", path)
	}
	return certs
}
