package main

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// checkCNAME checks _acme-challenge.DOMAIN CNAME FULLDOMAIN; whose says
// whose name FULLDOMAIN is ("the account's").
func checkCNAME(res *resolver, domain, fulldomain, whose string) checkResult {
	return checkCNAMEAt(res, challengeName(domain), domain, fulldomain, whose)
}

// checkCNAMEAt checks NAME CNAME FULLDOMAIN, NAME being a validation name
// of domain (_acme-challenge, _validation-persist).
func checkCNAMEAt(res *resolver, name, domain, fulldomain, whose string) checkResult {
	want := dns.Fqdn(strings.ToLower(fulldomain))
	r := checkResult{Check: "CNAME"}
	record := fmt.Sprintf("%s CNAME %s", name, want)
	resp, err := res.query(name, dns.TypeCNAME)
	if err != nil {
		r.Detail = fmt.Sprintf("no answer from the resolver %s for %s: %v", res.addr, name, err)
		r.Runtime = true
		r.Fix = "check --resolver, then create: " + record
		return r
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		r.Detail = fmt.Sprintf("the resolver answered %s for %s CNAME", dns.RcodeToString[resp.Rcode], name)
		r.Fix = "make the nameservers of " + baseDomain(domain) + " answer, then create: " + record
		return r
	}
	for _, rr := range resp.Answer {
		cn, ok := rr.(*dns.CNAME)
		if !ok || !strings.EqualFold(cn.Hdr.Name, name) {
			continue
		}
		if strings.EqualFold(cn.Target, want) {
			r.OK, r.Detail = true, record
			return r
		}
		r.Detail = fmt.Sprintf("%s is a CNAME to %s, not to %s %s", name, cn.Target, whose, want)
		r.Fix = "replace that record with: " + record
		return r
	}
	what := "no CNAME (NODATA)"
	if resp.Rcode == dns.RcodeNameError {
		what = "no record at all (NXDOMAIN)"
	}
	r.Detail = fmt.Sprintf("%s has %s", name, what)
	r.Fix = "create in the zone of " + baseDomain(domain) + ": " + record
	if resp.Rcode == dns.RcodeSuccess {
		r.Fix += " (and remove any other record at " + name + ": a CNAME stands alone)"
	}
	return r
}

// checkTLSCNAME checks the CNAME that lets acmedns answer the DNS-01
// challenge of its own certificate (tls acme) for name, outside zone:
// _acme-challenge.NAME CNAME _acme-challenge.NAME.ZONE ("*." left out).
// Inside zone, acmedns answers _acme-challenge.NAME itself.
func checkTLSCNAME(res *resolver, name, zone string) checkResult {
	zone = dns.Fqdn(strings.ToLower(strings.TrimSpace(zone)))
	owner := challengeName(name)
	if dns.IsSubDomain(zone, owner) {
		return checkResult{Check: "CNAME", OK: true, Detail: fmt.Sprintf("%s is inside %s: acmedns answers it, no CNAME needed", owner, zone)}
	}
	return checkCNAME(res, name, owner+zone, "acmedns's challenge name")
}

// checkTXT checks that acmedns answers for the fulldomain: NOERROR (with
// or without values), not NXDOMAIN, SERVFAIL or REFUSED.
func checkTXT(res *resolver, fulldomain string) checkResult {
	name := dns.Fqdn(strings.ToLower(fulldomain))
	r := checkResult{Check: "TXT"}
	zone := name
	if i := strings.Index(name, "."); i >= 0 {
		zone = name[i+1:]
	}
	resp, err := res.query(name, dns.TypeTXT)
	if err != nil {
		r.Detail = fmt.Sprintf("no answer from the resolver %s for %s TXT: %v", res.addr, name, err)
		r.Runtime = true
		r.Fix = "check --resolver and that the acmedns DNS server is up"
		return r
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
		n := 0
		for _, rr := range resp.Answer {
			if _, ok := rr.(*dns.TXT); ok {
				n++
			}
		}
		r.OK, r.Detail = true, fmt.Sprintf("%s TXT answered NOERROR (%d values): the account is registered", name, n)
	case dns.RcodeNameError:
		r.Detail = fmt.Sprintf("%s is NXDOMAIN: acmedns does not know this account (deleted, or saved from another server)", name)
		r.Fix = "register again (acmedns register --api URL --domain DOMAIN) and point the CNAME at the new fulldomain"
	default:
		r.Detail = fmt.Sprintf("%s TXT answered %s: the resolver cannot reach the acmedns zone %s", name, dns.RcodeToString[resp.Rcode], zone)
		r.Fix = fmt.Sprintf("delegate %s to the acmedns server in its parent zone (%s NS <acmedns host>.) and check that acmedns is running", zone, zone)
	}
	return r
}
