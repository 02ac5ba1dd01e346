package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// persistChecks are the checks of check --persist: the CNAME to the saved
// account (when FILE holds one for DOMAIN), the record, and CAA for the
// record's CA.
func persistChecks(res *resolver, f checkFlags, now time.Time) ([]checkResult, error) {
	issuer := normalIssuer(f.issuer)
	if issuer == "" {
		issuer = normalIssuer(f.ca)
	}
	if !validIssuer(issuer) {
		return nil, fmt.Errorf("%s is not an issuer domain name", quoteField(issuer))
	}
	full, err := savedFulldomain(f.storage, baseDomain(f.domain))
	if err != nil {
		return nil, err
	}
	var results []checkResult
	if full != "" {
		results = append(results, checkCNAMEAt(res, persistName(f.domain), f.domain, full, "the account's"))
	}
	want := persistWant{domain: f.domain, issuer: issuer, accountURI: f.accountURI, fulldomain: full}
	return append(results, checkPersist(res, want, now), checkCAA(res, f.domain, issuer)), nil
}

// savedFulldomain is the fulldomain saved under domain in the credentials
// file, or "" when the file or the account is missing.
func savedFulldomain(path, domain string) (string, error) {
	all, err := loadStorage(path)
	if err != nil {
		return "", err
	}
	raw, ok := all[domain]
	if !ok {
		return "", nil
	}
	var c credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("the account of %s in %s: %v", domain, path, err)
	}
	return c.FullDomain, nil
}

// persistWant is what the record must authorize.
type persistWant struct {
	domain, issuer, accountURI, fulldomain string
}

// wildcard reports whether the domain checked is "*.DOMAIN".
func (w persistWant) wildcard() bool {
	return strings.HasPrefix(strings.TrimSpace(w.domain), "*.")
}

// fix is the persist set command that publishes the wanted record.
func (w persistWant) fix() string {
	uri := w.accountURI
	if uri == "" {
		uri = "<the ACME account URL>"
	}
	cmd := fmt.Sprintf("acmedns persist set --domain %s --issuer %s --account-uri %s", baseDomain(w.domain), w.issuer, uri)
	if w.wildcard() {
		cmd += " --wildcard"
	}
	return cmd
}

// checkPersist looks up the TXT RRset of _validation-persist.DOMAIN,
// CNAMEs followed, and checks that a record there authorizes the CA for
// the account, as a CA would validate it.
func checkPersist(res *resolver, w persistWant, now time.Time) checkResult {
	name := persistName(w.domain)
	r := checkResult{Check: "PERSIST"}
	l, err := lookupTXT(res, name)
	if err != nil {
		r.Detail, r.Runtime, r.Fix = err.Error(), true, "check --resolver"
		return r
	}
	at := name
	if len(l.Chain) > 0 {
		at = name + " (CNAME " + strings.Join(l.Chain, " CNAME ") + ")"
	}
	if l.Rcode != dns.RcodeSuccess && l.Rcode != dns.RcodeNameError {
		r.Detail = fmt.Sprintf("%s TXT answered %s: a CA cannot validate", at, dns.RcodeToString[l.Rcode])
		r.Fix = "make the nameservers of " + l.final(name) + " answer"
		return r
	}
	mine, others := recordsFor(l.Values, w.issuer)
	if len(mine) == 0 {
		return noPersistRecord(r, w, at, l, others)
	}
	var problems []string
	for _, s := range mine {
		problem, ok := judgeRecord(s, w, now)
		if ok {
			r.OK, r.Detail = true, fmt.Sprintf("%s TXT %q: %s", at, s, problem)
			return r
		}
		problems = append(problems, fmt.Sprintf("%q %s", s, problem))
	}
	r.Detail = fmt.Sprintf("%s: no record authorizes %s: %s", at, w.issuer, strings.Join(problems, "; "))
	r.Fix = w.fix()
	return r
}

// recordsFor splits values into those whose issuer-domain-name is issuer
// (as a CA picks its records, before parsing them) and the issuers of the
// others that look like records.
func recordsFor(values []string, issuer string) (mine, others []string) {
	for _, s := range values {
		first, _, isRecord := strings.Cut(s, ";")
		switch {
		case normalIssuer(first) == issuer:
			mine = append(mine, s)
		case isRecord:
			others = append(others, inert(trimWSP(first)))
		}
	}
	return mine, others
}

// noPersistRecord fills r for a name without a record for the CA.
func noPersistRecord(r checkResult, w persistWant, at string, l txtLookup, others []string) checkResult {
	switch {
	case l.Rcode == dns.RcodeNameError:
		r.Detail = at + " has no record at all (NXDOMAIN)"
	case len(l.Values) == 0:
		r.Detail = at + " has no TXT record (NODATA)"
	case len(others) > 0:
		r.Detail = fmt.Sprintf("%s has records for %s, none for %s", at, strings.Join(others, ", "), w.issuer)
	default:
		r.Detail = fmt.Sprintf("%s has %d TXT values, none a record for %s", at, len(l.Values), w.issuer)
	}
	r.Fix = w.fix()
	if w.fulldomain != "" && len(l.Chain) == 0 {
		r.Fix = fmt.Sprintf("create in the zone of %s: %s CNAME %s\nand publish the record: %s", baseDomain(w.domain), persistName(w.domain), dns.Fqdn(strings.ToLower(w.fulldomain)), r.Fix)
	}
	return r
}

// judgeRecord validates one record of the CA against w as a CA would: on
// success it describes what the record authorizes, else what is wrong.
func judgeRecord(s string, w persistWant, now time.Time) (string, bool) {
	v, err := parseIssueValue(s)
	if err != nil {
		return "is malformed: " + err.Error(), false
	}
	var problems []string
	if w.accountURI != "" && v.AccountURI != w.accountURI {
		problems = append(problems, fmt.Sprintf("names the account %s, not %s", inert(v.AccountURI), w.accountURI))
	}
	if w.wildcard() && !v.Wildcard {
		problems = append(problems, "has no policy=wildcard, which "+strings.TrimSpace(w.domain)+" needs")
	}
	if v.expired(now) {
		problems = append(problems, "expired: persistUntil "+untilText(v.PersistUntil)+" is past")
	}
	if len(problems) > 0 {
		return strings.Join(problems, ", "), false
	}
	return describeRecord(v, w), true
}

// describeRecord says what a valid record authorizes.
func describeRecord(v issueValue, w persistWant) string {
	desc := "authorizes " + v.Issuer + " for the account " + inert(v.AccountURI)
	if w.accountURI == "" {
		desc += " (not compared: no --account-uri)"
	}
	if v.Wildcard {
		desc += ", wildcards too (policy=wildcard)"
	} else {
		desc += ", not wildcards (no policy=wildcard)"
	}
	if v.HasUntil {
		desc += ", until " + untilText(v.PersistUntil)
	}
	return desc
}
