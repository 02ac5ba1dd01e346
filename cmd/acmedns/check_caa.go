package main

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// knownCAATags are the CAA properties a CA understands; an unknown one
// flagged critical forbids issuance (RFC 8659 section 4.1).
var knownCAATags = map[string]bool{"issue": true, "issuewild": true, "iodef": true, "issuemail": true, "issuevmc": true, "contactemail": true, "contactphone": true}

// checkCAA finds the relevant CAA set (RFC 8659: the first non-empty set
// walking up from the domain) and checks that it lets ca issue.
func checkCAA(res *resolver, domain, ca string) checkResult {
	r := checkResult{Check: "CAA"}
	wildcard := strings.HasPrefix(strings.TrimSpace(domain), "*.")
	for name := dns.Fqdn(baseDomain(domain)); name != "."; name = parentName(name) {
		resp, err := res.query(name, dns.TypeCAA)
		if err != nil {
			r.Detail = fmt.Sprintf("no answer from the resolver %s for %s CAA: %v", res.addr, name, err)
			r.Runtime = true
			r.Fix = "check --resolver"
			return r
		}
		if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
			r.Detail = fmt.Sprintf("%s CAA answered %s: a CA does not issue when the CAA lookup fails", name, dns.RcodeToString[resp.Rcode])
			r.Fix = fmt.Sprintf("make the nameservers of %s answer CAA queries (NOERROR, empty when there is no CAA record)", name)
			return r
		}
		var set []*dns.CAA
		for _, rr := range resp.Answer {
			if c, ok := rr.(*dns.CAA); ok {
				set = append(set, c)
			}
		}
		if len(set) > 0 {
			return judgeCAA(name, set, wildcard, ca)
		}
	}
	r.OK, r.Detail = true, fmt.Sprintf("no CAA records at %s or above: any CA may issue", baseDomain(domain))
	return r
}

// judgeCAA checks the relevant set found at name.
func judgeCAA(name string, set []*dns.CAA, wildcard bool, ca string) checkResult {
	r := checkResult{Check: "CAA"}
	tag := "issue"
	if wildcard {
		for _, c := range set {
			if strings.EqualFold(c.Tag, "issuewild") {
				tag = "issuewild"
			}
		}
	}
	fix := fmt.Sprintf("%s CAA 0 %s %q", name, tag, ca)
	var issuers []string
	for _, c := range set {
		t := strings.ToLower(c.Tag)
		if c.Flag&128 != 0 && !knownCAATags[t] {
			r.Detail = fmt.Sprintf("the CAA set at %s has the critical property %q, which CAs do not know: no CA may issue", name, c.Tag)
			r.Fix = "remove that record, or clear its critical flag (128)"
			return r
		}
		if t != tag {
			continue
		}
		issuer := strings.TrimSpace(strings.SplitN(c.Value, ";", 2)[0])
		if strings.EqualFold(issuer, ca) {
			r.OK, r.Detail = true, fmt.Sprintf("the CAA set at %s lets %s issue (%s %q)", name, ca, c.Tag, c.Value)
			return r
		}
		if issuer == "" {
			issuer = `"" (no CA)`
		}
		issuers = append(issuers, issuer)
	}
	if len(issuers) == 0 {
		r.OK, r.Detail = true, fmt.Sprintf("the CAA set at %s has no %s property: any CA may issue", name, tag)
		return r
	}
	r.Detail = fmt.Sprintf("the CAA set at %s allows only %s to issue (%s), not %s", name, strings.Join(issuers, ", "), tag, ca)
	r.Fix = "add: " + fix
	return r
}

// parentName drops the first label of a fully qualified name.
func parentName(name string) string {
	if i := strings.Index(name, "."); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return "."
}
