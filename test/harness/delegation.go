package harness

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// delegationCorefile serves the customer zone example.test with the file
// plugin and the delegated zone auth.example.test with acmedns, in ONE
// CoreDNS on one port. The file plugin resolves an out-of-zone CNAME target
// through the same server, so a query for _acme-challenge.example.test gets
// the CNAME and the target's TXT records together, as a recursive resolver
// would give them; Pebble, which does not chase CNAMEs, needs exactly that.
const delegationCorefile = `example.test:{DNS} {
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

// Delegation is a CoreDNS serving a customer zone and the acmedns zone.
type Delegation struct {
	*CoreDNS
	mu     sync.Mutex
	serial int
	cnames map[string]string // owner → target
}

// StartDelegation starts CoreDNS with example.test (no challenge CNAMEs yet)
// and auth.example.test.
func StartDelegation(t testing.TB) *Delegation {
	t.Helper()
	return StartDelegationWith(t, "")
}

// StartDelegationWith is StartDelegation with more lines in the acmedns
// block (an admin listener, say).
func StartDelegationWith(t testing.TB, acmednsLines string) *Delegation {
	t.Helper()
	d := &Delegation{serial: 1, cnames: map[string]string{}}
	corefile := strings.Replace(delegationCorefile, "        nameserver ns1.auth.example.test 127.0.0.1\n",
		"        nameserver ns1.auth.example.test 127.0.0.1\n"+acmednsLines, 1)
	d.CoreDNS = StartCoreDNS(t, corefile, map[string]string{"db.example.test": d.zone()})
	return d
}

func (d *Delegation) zone() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN example.test.\n@ 60 IN SOA ns1.example.test. hostmaster.example.test. %d 3600 600 604800 60\n", d.serial)
	b.WriteString("@ 60 IN NS ns1.example.test.\nns1 60 IN A 127.0.0.1\n")
	for _, owner := range slices.Sorted(maps.Keys(d.cnames)) {
		fmt.Fprintf(&b, "%s 60 IN CNAME %s\n", dns.Fqdn(owner), dns.Fqdn(d.cnames[owner]))
	}
	return b.String()
}

// AddCNAME publishes owner CNAME target, as a customer does once, and waits
// until the file plugin has reloaded the zone (it does on a higher serial).
func (d *Delegation) AddCNAME(t testing.TB, owner, target string) {
	t.Helper()
	d.mu.Lock()
	d.serial++
	d.cnames[owner] = target
	d.WriteFile(t, "db.example.test", d.zone())
	d.mu.Unlock()
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(owner), dns.TypeTXT)
	waitFor(t, 15*time.Second, "the file plugin serving "+owner+" CNAME "+target, func() bool {
		r, _, err := c.Exchange(m, d.DNSAddr)
		if err != nil {
			return false
		}
		for _, rr := range r.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Target, dns.Fqdn(target)) {
				return true
			}
		}
		return false
	})
}

// ParseCerts decodes the certificates of a PEM bundle, leaf first.
func ParseCerts(t testing.TB, bundle []byte) []*x509.Certificate {
	t.Helper()
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		t.Fatal("no certificate in the bundle")
	}
	return certs
}

// CheckChain verifies that the leaf of chain names exactly names and chains
// to roots through the rest of chain. It returns the leaf.
func CheckChain(t testing.TB, chain []*x509.Certificate, roots *x509.CertPool, names ...string) *x509.Certificate {
	t.Helper()
	leaf := chain[0]
	if got, want := slices.Sorted(slices.Values(leaf.DNSNames)), slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("certificate SANs %v, want %v", got, want)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, name := range names {
		name = strings.Replace(name, "*", "www", 1)
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter}); err != nil {
			t.Errorf("the chain does not verify for %s against Pebble's roots: %v", name, err)
		}
	}
	return leaf
}
