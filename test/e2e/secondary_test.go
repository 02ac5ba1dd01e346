package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/challenge/dns01"

	"github.com/acmedns/acmedns/test/harness"
)

// TestLegoThroughSecondary is the hidden-primary deployment: acmedns
// answers only its secondary, NSD, which serves the customer zone too;
// Pebble (and lego's own checks) ask NSD alone. lego updates acmedns's API;
// the value reaches NSD by NOTIFY and IXFR, and Pebble issues a wildcard
// certificate from what NSD serves.
func TestLegoThroughSecondary(t *testing.T) {
	nsdPort := harness.FreePort(t)
	primary := harness.StartCoreDNS(t, fmt.Sprintf(`auth.example.test:{DNS} {
    bind 127.0.0.1
    transfer {
        to 127.0.0.1:%d
    }
    acmedns {
        api 127.0.0.1:{API}
        db acmedns.db
        nameserver ns1.auth.example.test 127.0.0.1
    }
}
`, nsdPort), nil)
	acc := harness.Register(t, primary.APIURL)
	const domain = "example.test"
	customer := "@ 60 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 604800 60\n" +
		"@ 60 IN NS ns1.example.test.\nns1 60 IN A 127.0.0.1\n" +
		"_acme-challenge 60 IN CNAME " + acc.Fulldomain + ".\n"
	nsd := harness.StartNSD(t, harness.SecondaryConfig{
		Zone: "auth.example.test.", Primary: primary.DNSAddr, Port: nsdPort, Refresh: time.Hour,
		ExtraZones: map[string]string{"example.test.": customer},
	})

	w := &world{t: t, dns: &harness.Delegation{CoreDNS: &harness.CoreDNS{DNSAddr: nsd.DNSAddr, APIURL: primary.APIURL}}}
	w.pebble = harness.StartPebble(t, nsd.DNSAddr)
	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{nsd.DNSAddr}, Timeout: 5 * time.Second}))

	storage := filepath.Join(t.TempDir(), "acmedns.json")
	b, _ := json.Marshal(map[string]any{domain: map[string]any{
		"fulldomain": acc.Fulldomain, "subdomain": acc.Subdomain, "username": acc.Username, "password": acc.Password, "server_url": primary.APIURL,
	}})
	if err := os.WriteFile(storage, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := obtain(w.newLego(storage, false), domain, "*."+domain)
	if err != nil {
		t.Fatalf("issuance through the secondary: %v", err)
	}
	w.checkCert(res, domain, "*."+domain)
	if tr := nsd.Transfers(t); tr.IXFR < 1 || tr.IXFRFailed != 0 {
		t.Errorf("NSD's transfers %+v: the challenge values should arrive by IXFR", tr)
	}
}
