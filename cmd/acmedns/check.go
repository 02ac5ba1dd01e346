package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

const checkSynopsis = `acmedns check --domain DOMAIN [--storage FILE] [--resolver HOST:PORT] [--ca NAME] [--json]
acmedns check --domain NAME --tls-zone ZONE [--resolver HOST:PORT] [--ca NAME] [--json]
acmedns check --persist --domain DOMAIN [--issuer CA] [--account-uri URI] [--storage FILE] [--resolver HOST:PORT] [--json]

Checks, through the resolver (default: the first nameserver of
/etc/resolv.conf), that _acme-challenge.DOMAIN is a CNAME to the account's
fulldomain saved by register, that acmedns answers for the fulldomain, and
that CAA (RFC 8659) lets the CA issue for DOMAIN ("*.DOMAIN": issuewild).
With --tls-zone, DOMAIN is a NAME of "tls acme" in the acmedns block of ZONE
(its API's own certificate): outside ZONE, _acme-challenge.NAME must be a
CNAME to _acme-challenge.NAME.ZONE; no credentials file is read.
With --persist, the dns-persist-01 record: _validation-persist.DOMAIN
(CNAMEs followed) must hold a TXT record for the CA (--issuer, default
--ca) naming the ACME account (--account-uri, when given), with
policy=wildcard for "*.DOMAIN" and a persistUntil not past; when FILE holds
an account for DOMAIN, _validation-persist.DOMAIN must be a CNAME to its
fulldomain; and CAA must let the CA issue.
Prints each check, what is wrong and the record that fixes it; exit 1 on any
failure.`

// checkResult is one check.
type checkResult struct {
	Check   string `json:"check"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
	Runtime bool   `json:"-"` // the resolver did not answer
}

// checkFlags are the flags of check.
type checkFlags struct {
	domain, storage, resolver, ca, tlsZone string
	issuer, accountURI                     string
	json, persist                          bool
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	var f checkFlags
	fs := newFlags("check", checkSynopsis, stdout)
	fs.StringVar(&f.domain, "domain", "", "the domain, e.g. example.org or *.example.org (required)")
	fs.StringVar(&f.storage, "storage", defaultStorage, "the credentials file register wrote")
	fs.StringVar(&f.resolver, "resolver", "", "the DNS server to ask, HOST:PORT (default: /etc/resolv.conf)")
	fs.StringVar(&f.ca, "ca", "letsencrypt.org", "the CA's CAA issuer domain name")
	fs.StringVar(&f.tlsZone, "tls-zone", "", "the acmedns zone whose API certificate (tls acme) names DOMAIN")
	fs.BoolVar(&f.persist, "persist", false, "check the dns-persist-01 record of DOMAIN instead")
	fs.StringVar(&f.issuer, "issuer", "", "with --persist: the CA's issuer domain name the record must name (default: --ca)")
	fs.StringVar(&f.accountURI, "account-uri", "", "with --persist: the ACME account URI the record must name")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return usageCode(err)
	}
	switch {
	case len(pos) > 0:
		return usageError(stderr, "check", "unexpected argument %q", pos[0])
	case f.domain == "":
		return usageError(stderr, "check", "--domain is required")
	case f.persist && f.tlsZone != "":
		return usageError(stderr, "check", "--persist and --tls-zone are different checks")
	case !f.persist && (f.issuer != "" || f.accountURI != ""):
		return usageError(stderr, "check", "--issuer and --account-uri go with --persist")
	}
	res, err := newResolver(f.resolver)
	if err != nil {
		fmt.Fprintf(stderr, "acmedns check: %v\n", err)
		return exitRuntime
	}
	results, err := runChecks(res, f)
	if err != nil {
		fmt.Fprintf(stderr, "acmedns check: %v\n", err)
		return exitRuntime
	}
	printChecks(stdout, f.json, results)
	code := exitOK
	for _, r := range results {
		switch {
		case r.Runtime:
			return exitRuntime
		case !r.OK:
			code = exitFailed
		}
	}
	return code
}

// runChecks makes the checks the flags ask for.
func runChecks(res *resolver, f checkFlags) ([]checkResult, error) {
	switch {
	case f.tlsZone != "":
		return []checkResult{checkTLSCNAME(res, f.domain, f.tlsZone), checkCAA(res, f.domain, f.ca)}, nil
	case f.persist:
		return persistChecks(res, f, time.Now())
	}
	cred, err := lookupStorage(f.storage, baseDomain(f.domain))
	if err != nil {
		return nil, err
	}
	return []checkResult{
		checkCNAME(res, f.domain, cred.FullDomain, "the account's"),
		checkTXT(res, cred.FullDomain),
		checkCAA(res, f.domain, f.ca),
	}, nil
}

// printChecks writes the results as JSON or for people.
func printChecks(w io.Writer, asJSON bool, results []checkResult) {
	if asJSON {
		b, _ := json.MarshalIndent(results, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	for _, r := range results {
		status := "ok  "
		if !r.OK {
			status = "FAIL"
		}
		fmt.Fprintf(w, "%s %-5s %s\n", status, r.Check, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "     fix:  %s\n", strings.ReplaceAll(r.Fix, "\n", "\n           "))
		}
	}
}
