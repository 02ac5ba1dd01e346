package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"golang.org/x/crypto/acme"
)

// TestDNSAccount01 issues a certificate from Pebble with the dns-account-01
// challenge: the ACME account is created first, `acmedns register
// --account-uri` registers the acme-dns account and prints the account's
// own challenge name, the customer publishes exactly that CNAME, and the TXT
// value goes through acmedns's /update with the saved credentials.
func TestDNSAccount01(t *testing.T) {
	cli := filepath.Join(harness.RepoRoot(t), "acmedns")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("%s not found: `make build` builds it", cli)
	}
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	client := &acme.Client{Key: key, DirectoryURL: w.pebble.DirURL, HTTPClient: w.pebble.HTTPClient()}
	acct, err := client.Register(ctx, &acme.Account{}, acme.AcceptTOS)
	if err != nil {
		t.Fatalf("ACME account: %v", err)
	}

	const domain = "acct.example.test"
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	out, err := exec.Command(cli, "register", "--api", w.dns.APIURL, "--domain", domain,
		"--storage", storage, "--account-uri", acct.URI).CombinedOutput()
	if err != nil {
		t.Fatalf("acmedns register: %v\n%s", err, out)
	}
	line := regexp.MustCompile(`(?m)^(_[a-z2-7]{16}\._acme-challenge\.` + regexp.QuoteMeta(domain) + `)\.?\s+(?:\d+\s+)?(?:IN\s+)?CNAME\s+(\S+?)\.?$`)
	m := line.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("acmedns register printed no dns-account-01 CNAME:\n%s", out)
	}
	w.dns.AddCNAME(t, m[1], m[2])

	creds := savedAccount(t, storage, domain)
	if creds.FullDomain != m[2] {
		t.Fatalf("the printed CNAME target %q is not the saved fulldomain %q", m[2], creds.FullDomain)
	}
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs(domain))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range order.AuthzURLs {
		authz, err := client.GetAuthorization(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var chal *acme.Challenge
		for _, c := range authz.Challenges {
			if c.Type == "dns-account-01" {
				chal = c
			}
		}
		if chal == nil {
			t.Fatalf("Pebble offered no dns-account-01 challenge: %+v", authz.Challenges)
		}
		value, err := client.DNS01ChallengeRecord(chal.Token)
		if err != nil {
			t.Fatal(err)
		}
		update(t, w.dns.APIURL, creds, value)
		if _, err := client.Accept(ctx, chal); err != nil {
			t.Fatal(err)
		}
		if _, err := client.WaitAuthorization(ctx, authz.URI); err != nil {
			t.Fatalf("dns-account-01 validation: %v", err)
		}
	}
	ready, err := client.WaitOrder(ctx, order.URI)
	if err != nil {
		t.Fatal(err)
	}
	certKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{domain}}, certKey)
	der, _, err := client.CreateCertFromOrder(ctx, ready, csr, true)
	if err != nil {
		t.Fatalf("finalize: %v", err)
	}
	var chain []*x509.Certificate
	for _, b := range der {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	harness.CheckChain(t, chain, w.pebble.Roots(t), domain)
}

// storedAccount is one domain's entry of the credentials file that lego and
// goacmedns read.
type storedAccount struct {
	FullDomain string `json:"fulldomain"`
	SubDomain  string `json:"subdomain"`
	Username   string `json:"username"`
	Password   string `json:"password"`
}

func savedAccount(t *testing.T, path, domain string) storedAccount {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]storedAccount
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("credentials file: %v\n%s", err, b)
	}
	a, ok := all[domain]
	if !ok || a.Username == "" || a.Password == "" || a.SubDomain == "" {
		t.Fatalf("no account for %s in %s", domain, b)
	}
	return a
}

// update sets value through acmedns's public API, as any acme-dns client does.
func update(t *testing.T, apiURL string, a storedAccount, value string) {
	t.Helper()
	body := `{"subdomain":"` + a.SubDomain + `","txt":"` + value + `"}`
	req, _ := http.NewRequest("POST", apiURL+"/update", strings.NewReader(body))
	req.Header.Set("X-Api-User", a.Username)
	req.Header.Set("X-Api-Key", a.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("update: %s", resp.Status)
	}
}
