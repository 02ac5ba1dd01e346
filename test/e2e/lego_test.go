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
	"path/filepath"
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

	"github.com/acmedns/acmedns/test/harness"
)

// world is one CoreDNS serving example.test and auth.example.test, and one
// Pebble validating against it.
type world struct {
	t      *testing.T
	dns    *harness.Delegation
	pebble *harness.Pebble
}

func newWorld(t *testing.T) *world {
	w := &world{t: t}
	w.dns = harness.StartDelegation(t)
	w.pebble = harness.StartPebble(t, w.dns.DNSAddr)
	setDNSClient(w)
	return w
}

// setDNSClient makes lego's own DNS checks (CNAME following, propagation)
// ask our server.
func setDNSClient(w *world) {
	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{w.dns.DNSAddr}, Timeout: 5 * time.Second}))
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
	return harness.CheckChain(w.t, harness.ParseCerts(w.t, res.Certificate), w.pebble.Roots(w.t), names...)
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
	w.dns.AddCNAME(t, "_acme-challenge.example.test", target)

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
		w.dns.AddCNAME(t, "_acme-challenge."+d, cnameRequired(t, w.newLego(storage, true), d, "*."+d))
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
