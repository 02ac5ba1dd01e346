// Package e2e issues real certificates from a real ACME CA (Pebble) through
// acmedns, with lego as the ACME client, all on loopback.
package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/providers/dns/acmedns"
	"github.com/go-acme/lego/v5/registration"
	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

// corefile serves the customer zone with the file plugin and the delegated
// zone with acmedns, in ONE CoreDNS on one port. The file plugin resolves the
// out-of-zone CNAME target through the same server, so a query for
// _acme-challenge.example.test gets the CNAME and the TXT records together,
// as Pebble (which does not chase CNAMEs) needs.
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

// zoneFile is example.test with the given challenge CNAMEs (owner → target).
func zoneFile(serial int, cnames map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN example.test.\n@ 60 IN SOA ns1.example.test. hostmaster.example.test. %d 3600 600 604800 60\n", serial)
	b.WriteString("@ 60 IN NS ns1.example.test.\nns1 60 IN A 127.0.0.1\n")
	for owner, target := range cnames {
		fmt.Fprintf(&b, "%s 60 IN CNAME %s\n", dns.Fqdn(owner), dns.Fqdn(target))
	}
	return b.String()
}

// world is one CoreDNS, one Pebble, and the zone's CNAMEs.
type world struct {
	t      *testing.T
	dns    *harness.CoreDNS
	pebble *harness.Pebble
	mu     sync.Mutex
	serial int
	cnames map[string]string
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, serial: 1, cnames: map[string]string{}}
	w.dns = harness.StartCoreDNS(t, corefile, map[string]string{"db.example.test": zoneFile(1, nil)})
	w.pebble = harness.StartPebble(t, w.dns.DNSAddr)
	// lego's own DNS checks (CNAME following, propagation) ask our server.
	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{w.dns.DNSAddr}, Timeout: 5 * time.Second}))
	return w
}

// addCNAME publishes owner CNAME target and waits until the file plugin has
// reloaded the zone.
func (w *world) addCNAME(owner, target string) {
	w.t.Helper()
	w.mu.Lock()
	w.serial++
	w.cnames[owner] = target
	w.dns.WriteFile(w.t, "db.example.test", zoneFile(w.serial, w.cnames))
	w.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(owner), dns.TypeTXT)
		resp, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, w.dns.DNSAddr)
		if err == nil && len(resp.Answer) > 0 {
			if c, ok := resp.Answer[0].(*dns.CNAME); ok && c.Target == dns.Fqdn(target) {
				return
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the file plugin did not pick up %s CNAME %s", owner, target)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// user is an ACME account.
type user struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return "" }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

// newLego returns a lego client with a new ACME account and the acme-dns
// provider keeping its acme-dns accounts in storage (a JSON file, as the
// lego CLI and Traefik do). With firstRun, a failed propagation check ends
// the run at once: on a domain's first run the provider registers and asks
// for the CNAME, and lego would otherwise wait out its 60 s propagation
// timeout for the other names of the order before giving up.
func (w *world) newLego(storage string, firstRun bool) *lego.Client {
	w.t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	u := &user{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = w.pebble.DirURL
	cfg.HTTPClient = w.pebble.HTTPClient()
	client, err := lego.NewClient(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	if u.reg, err = client.Registration.Register(context.Background(), registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		w.t.Fatal(err)
	}
	provider, err := acmedns.NewDNSProviderConfig(&acmedns.Config{APIBase: w.dns.APIURL, StoragePath: storage})
	if err != nil {
		w.t.Fatal(err)
	}
	// The CA asks our server directly; lego's check of the authoritative
	// servers would go to port 53.
	opts := []dns01.ChallengeOption{dns01.DisableAuthoritativeNssPropagationRequirement()}
	if firstRun {
		opts = append(opts, dns01.WrapPreCheck(func(ctx context.Context, domain, fqdn, value string, check dns01.PreCheckFunc) (bool, error) {
			ok, err := check(ctx, fqdn, value)
			return ok || err != nil, err
		}))
	}
	if err := client.Challenge.SetDNS01Provider(provider, opts...); err != nil {
		w.t.Fatal(err)
	}
	return client
}

// obtain asks for one certificate naming domains.
func obtain(client *lego.Client, domains ...string) (*certificate.Resource, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: domains, Bundle: true, KeyType: certcrypto.EC256})
}

// cnameRequired runs the first issuance of a domain: the provider registers
// an acme-dns account and stops, asking for the CNAME. It returns the target.
func cnameRequired(t *testing.T, client *lego.Client, domains ...string) string {
	t.Helper()
	_, err := obtain(client, domains...)
	var need acmedns.ErrCNAMERequired
	if err == nil {
		t.Fatalf("first issuance for %v succeeded without a CNAME", domains)
	}
	if !asCNAMERequired(err, &need) {
		t.Fatalf("first issuance for %v: %v; want the provider's CNAME request", domains, err)
	}
	return need.Target
}

// asCNAMERequired finds the provider's error inside lego's per-domain error.
func asCNAMERequired(err error, need *acmedns.ErrCNAMERequired) bool {
	type unwrapper interface{ Unwrap() []error }
	if e, ok := err.(acmedns.ErrCNAMERequired); ok {
		*need = e
		return true
	}
	if u, ok := err.(unwrapper); ok {
		for _, e := range u.Unwrap() {
			if asCNAMERequired(e, need) {
				return true
			}
		}
	}
	if u, ok := err.(interface{ Unwrap() error }); ok && u.Unwrap() != nil {
		return asCNAMERequired(u.Unwrap(), need)
	}
	return false
}

// checkCert verifies the SANs and the chain against Pebble's current root.
func (w *world) checkCert(res *certificate.Resource, names ...string) *x509.Certificate {
	w.t.Helper()
	var certs []*x509.Certificate
	rest := res.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			w.t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) < 2 {
		w.t.Fatalf("bundle has %d certificates, want leaf and issuer", len(certs))
	}
	leaf := certs[0]
	got := slices.Sorted(slices.Values(leaf.DNSNames))
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		w.t.Errorf("SANs %v, want %v", got, want)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: w.pebble.Roots(w.t), Intermediates: inter, DNSName: names[0]}); err != nil {
		w.t.Errorf("chain does not verify against Pebble's root: %v", err)
	}
	return leaf
}

// TestLegoWildcardAndRenewal is the flow a user lives: the first run
// registers and asks for the CNAME; once it exists, one certificate for the
// domain and its wildcard (two TXT values on one subdomain at once); then a
// renewal on the same accounts.
func TestLegoWildcardAndRenewal(t *testing.T) {
	w := newWorld(t)
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	target := cnameRequired(t, w.newLego(storage, true), "example.test", "*.example.test")
	if !strings.HasSuffix(target, ".auth.example.test") {
		t.Fatalf("CNAME target %q is not in the acmedns zone", target)
	}
	w.addCNAME("_acme-challenge.example.test", target)

	client := w.newLego(storage, false)
	res, err := obtain(client, "example.test", "*.example.test")
	if err != nil {
		t.Fatalf("issuance after the CNAME: %v", err)
	}
	first := w.checkCert(res, "example.test", "*.example.test")

	renewed, err := obtain(client, "example.test", "*.example.test")
	if err != nil {
		t.Fatalf("renewal: %v", err)
	}
	second := w.checkCert(renewed, "example.test", "*.example.test")
	if first.SerialNumber.Cmp(second.SerialNumber) == 0 {
		t.Error("renewal returned the same certificate")
	}
}

// TestLegoParallelAccounts: two ACME accounts with their own acme-dns
// accounts issue at the same time for different domains.
func TestLegoParallelAccounts(t *testing.T) {
	w := newWorld(t)
	domains := []string{"one.example.test", "two.example.test"}
	clients := make([]*lego.Client, len(domains))
	for i, d := range domains {
		storage := filepath.Join(t.TempDir(), "acmedns.json")
		w.addCNAME("_acme-challenge."+d, cnameRequired(t, w.newLego(storage, true), d, "*."+d))
		clients[i] = w.newLego(storage, false)
	}
	var wg sync.WaitGroup
	results := make([]*certificate.Resource, len(domains))
	errs := make([]error, len(domains))
	for i, d := range domains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = obtain(clients[i], d, "*."+d)
		}()
	}
	wg.Wait()
	for i, d := range domains {
		if errs[i] != nil {
			t.Errorf("%s: %v", d, errs[i])
			continue
		}
		w.checkCert(results[i], d, "*."+d)
	}
}
