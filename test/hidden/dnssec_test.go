package hidden

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

// checkValidated asks the validator for a registered name's TXT (an
// answer), its AAAA (NODATA) and a name that does not exist, and wants
// each authenticated (AD) with the rcode given for the last.
func checkValidated(t *testing.T, u *harness.Unbound, fqdn, want string, nxRcode int) {
	t.Helper()
	r := u.Query(t, fqdn, dns.TypeTXT)
	if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || !hasTXT(r, want) {
		t.Errorf("TXT %s: %s AD=%v %v, want NOERROR, AD and %q", fqdn, dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer, want)
	}
	r = u.Query(t, fqdn, dns.TypeAAAA)
	if r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData || len(r.Answer) != 0 {
		t.Errorf("AAAA %s (NODATA): %s AD=%v %v", fqdn, dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer)
	}
	r = u.Query(t, "no-such-name."+zone, dns.TypeTXT)
	if r.Rcode != nxRcode || !r.AuthenticatedData || len(r.Answer) != 0 {
		t.Errorf("a name that does not exist: %s AD=%v %v, want %s and AD", dns.RcodeToString[r.Rcode], r.AuthenticatedData, r.Answer, dns.RcodeToString[nxRcode])
	}
}

func hasTXT(m *dns.Msg, want string) bool {
	for _, rr := range m.Answer {
		if v, ok := rr.(*dns.TXT); ok && len(v.Txt) == 1 && v.Txt[0] == want {
			return true
		}
	}
	return false
}

// TestDNSSECPlugin: the dnssec plugin in front of acmedns signs its
// answers on the fly; a validator holding the zone's DS as its trust
// anchor authenticates a TXT answer, NODATA and a name that does not exist
// (which the plugin's NSEC "black lies" answer NOERROR with no records).
func TestDNSSECPlugin(t *testing.T) {
	keyDir := t.TempDir()
	key := harness.NewDNSSECKey(t, keyDir, zone)
	corefile := `auth.example.test:{DNS} {
    bind 127.0.0.1
    dnssec {
        key file ` + key.Path + `
    }
    acmedns {
        api 127.0.0.1:{API}
        db acmedns.db
        nameserver ns1.auth.example.test 127.0.0.1
    }
}
`
	primary := harness.StartCoreDNS(t, corefile, nil)
	acc := harness.Register(t, primary.APIURL)
	update(t, primary.APIURL, acc, value(1))
	u := harness.StartUnbound(t, harness.UnboundConfig{Stubs: map[string]string{zone: primary.DNSAddr}, TrustAnchors: []string{key.DS}})
	checkValidated(t, u, acc.Subdomain+"."+zone, value(1), dns.RcodeSuccess)
	update(t, primary.APIURL, acc, value(2))
	checkValidated(t, u, acc.Subdomain+"."+zone, value(2), dns.RcodeSuccess)
}

// TestDNSSECSigningSecondary: in the hidden-primary topology the
// secondary signs. Knot signs the zone it transfers from acmedns (keys of
// its own, NSEC); a validator asking Knot, with Knot's KSK as its trust
// anchor, authenticates a TXT answer, NODATA and NXDOMAIN, before and after
// an update that reaches Knot by IXFR.
func TestDNSSECSigningSecondary(t *testing.T) {
	knotPort := harness.FreePort(t)
	primary := harness.StartCoreDNS(t, primaryCorefile("db acmedns.db", knotPort), nil)
	acc := harness.Register(t, primary.APIURL)
	update(t, primary.APIURL, acc, value(1))
	knot := harness.StartKnot(t, harness.SecondaryConfig{Zone: zone, Primary: primary.DNSAddr, Port: knotPort, Sign: true, Refresh: time.Hour})
	fqdn := acc.Subdomain + "." + zone
	waitTXT(t, knot.DNSAddr, fqdn, 10*time.Second, dns.RcodeSuccess, value(1))
	u := harness.StartUnbound(t, harness.UnboundConfig{Stubs: map[string]string{zone: knot.DNSAddr}, TrustAnchors: []string{knot.DS(t)}})
	checkValidated(t, u, fqdn, value(1), dns.RcodeNameError)

	update(t, primary.APIURL, acc, value(2))
	waitTXT(t, knot.DNSAddr, fqdn, 5*time.Second, dns.RcodeSuccess, value(2), value(1))
	checkValidated(t, u, fqdn, value(2), dns.RcodeNameError)
	if tr := knot.Transfers(t); tr.IXFR < 1 || tr.IXFRFailed != 0 {
		t.Errorf("Knot's transfers %+v: the update should arrive by IXFR", tr)
	}
}
