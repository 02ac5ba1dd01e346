package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
	"golang.org/x/crypto/acme"
)

// pebbleIssuer is Pebble's default issuer-domain-name.
const pebbleIssuer = "pebble.letsencrypt.org"

// TestPersist01 issues certificates from Pebble with dns-persist-01: the
// customer CNAMEs _validation-persist.example.test once to the account's
// fulldomain and publishes one record through /persist, and every later
// order of that ACME account, the wildcard included, is validated with no
// write to acmedns. A dns-01 value set beside it does not disturb it;
// another ACME account, a wildcard without policy=wildcard and, after
// /unpersist, any order are refused.
func TestPersist01(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := newACMEClient(t, w)
	acct, err := client.Register(ctx, &acme.Account{}, acme.AcceptTOS)
	if err != nil {
		t.Fatalf("ACME account: %v", err)
	}
	a := harness.Register(t, w.dns.APIURL)
	w.dns.AddCNAME(t, "_validation-persist.example.test", a.Fulldomain)
	record := pebbleIssuer + "; accounturi=" + acct.URI + "; policy=wildcard"
	if got := persistCall(t, w.dns.APIURL, a, "/persist", `"record":"`+record+`"`); got != `{"record":"`+record+`"}` {
		t.Fatalf("/persist answered %s", got)
	}
	names := []string{"example.test", "*.example.test"}

	// Two orders, as an issuance and its renewal, with nothing written
	// between them: the zone does not change.
	if err := orderPersist(ctx, t, w, client, names...); err != nil {
		t.Fatalf("first order: %v", err)
	}
	serial := authSerial(t, w)
	if err := orderPersist(ctx, t, w, client, names...); err != nil {
		t.Fatalf("renewal: %v", err)
	}
	if got := authSerial(t, w); got != serial {
		t.Fatalf("the renewal changed the zone: serial %d -> %d", serial, got)
	}

	// A dns-01 value for the same subdomain: one change of the zone, its
	// own, and the record still validates beside it.
	update(t, w.dns.APIURL, storedAccount{SubDomain: a.Subdomain, Username: a.Username, Password: a.Password},
		strings.Repeat("t", 43))
	if got := authSerial(t, w); got != serial+1 {
		t.Fatalf("the dns-01 update moved the serial %d -> %d; want one change", serial, got)
	}
	if err := orderPersist(ctx, t, w, client, names...); err != nil {
		t.Fatalf("order beside a dns-01 value: %v", err)
	}
	if got := authSerial(t, w); got != serial+1 {
		t.Fatalf("the order changed the zone: serial %d -> %d", serial+1, got)
	}
	persistRefusals(ctx, t, w, client, a, record)
}

// persistRefusals: another ACME account is refused, then a wildcard once
// the record lacks policy=wildcard, then everything once it is removed.
func persistRefusals(ctx context.Context, t *testing.T, w *world, client *acme.Client, a harness.Account, record string) {
	other := newACMEClient(t, w)
	if _, err := other.Register(ctx, &acme.Account{}, acme.AcceptTOS); err != nil {
		t.Fatal(err)
	}
	if err := orderPersist(ctx, t, w, other, "example.test"); err == nil || !strings.Contains(err.Error(), "accounturi mismatch") {
		t.Fatalf("another ACME account: %v; want accounturi mismatch", err)
	}
	narrow := strings.TrimSuffix(record, "; policy=wildcard")
	persistCall(t, w.dns.APIURL, a, "/persist", `"record":"`+narrow+`"`)
	if err := orderPersist(ctx, t, w, client, "*.example.test"); err == nil || !strings.Contains(err.Error(), "policy mismatch") {
		t.Fatalf("a wildcard without policy=wildcard: %v; want policy mismatch", err)
	}
	if err := orderPersist(ctx, t, w, client, "example.test"); err != nil {
		t.Fatalf("the base name without policy=wildcard: %v", err)
	}
	if got := persistCall(t, w.dns.APIURL, a, "/unpersist", `"issuer":"`+pebbleIssuer+`"`); got != `{"unpersisted": "`+pebbleIssuer+`"}` {
		t.Fatalf("/unpersist answered %s", got)
	}
	if err := orderPersist(ctx, t, w, client, "example.test"); err == nil {
		t.Fatal("an order after /unpersist was validated")
	}
}

// newACMEClient is an ACME client of Pebble with a new key.
func newACMEClient(t *testing.T, w *world) *acme.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &acme.Client{Key: key, DirectoryURL: w.pebble.DirURL, HTTPClient: w.pebble.HTTPClient()}
}

// orderPersist orders a certificate for names, validating each of them by
// dns-persist-01, and checks the chain it gets. It returns the first
// validation's failure.
func orderPersist(ctx context.Context, t *testing.T, w *world, client *acme.Client, names ...string) error {
	t.Helper()
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs(names...))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range order.AuthzURLs {
		if err := acceptPersist(ctx, t, client, u); err != nil {
			return err
		}
	}
	ready, err := client.WaitOrder(ctx, order.URI)
	if err != nil {
		t.Fatal(err)
	}
	certKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: names}, certKey)
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
	harness.CheckChain(t, chain, w.pebble.Roots(t), names...)
	return nil
}

// acceptPersist answers the dns-persist-01 challenge of the authorization
// at u, which x/crypto/acme accepts as any other, and waits for the result.
func acceptPersist(ctx context.Context, t *testing.T, client *acme.Client, u string) error {
	t.Helper()
	authz, err := client.GetAuthorization(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var chal *acme.Challenge
	for _, c := range authz.Challenges {
		if c.Type == "dns-persist-01" {
			chal = c
		}
	}
	if chal == nil {
		t.Fatalf("Pebble offered no dns-persist-01 challenge: %+v", authz.Challenges)
	}
	if _, err := client.Accept(ctx, chal); err != nil {
		t.Fatal(err)
	}
	_, err = client.WaitAuthorization(ctx, authz.URI)
	return err
}

// persistCall posts {"subdomain": ..., field} to path with a's
// credentials, and returns the answer, which must be 200.
func persistCall(t *testing.T, apiURL string, a harness.Account, path, field string) string {
	t.Helper()
	body := `{"subdomain":"` + a.Subdomain + `",` + field + `}`
	req, _ := http.NewRequest("POST", apiURL+path, strings.NewReader(body))
	req.Header.Set("X-Api-User", a.Username)
	req.Header.Set("X-Api-Key", a.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !json.Valid(out.Bytes()) {
		t.Fatalf("%s: %s %s", path, resp.Status, out.String())
	}
	return out.String()
}

// authSerial is the serial of the acmedns zone, auth.example.test.
func authSerial(t *testing.T, w *world) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("auth.example.test.", dns.TypeSOA)
	r, err := dns.Exchange(m, w.dns.DNSAddr)
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("SOA of auth.example.test: %v %v", r, err)
	}
	return r.Answer[0].(*dns.SOA).Serial
}
