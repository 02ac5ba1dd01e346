package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/miekg/dns"
)

// listedRecord is one record persist list shows.
type listedRecord struct {
	Record       string `json:"record"`
	Issuer       string `json:"issuer,omitempty"`
	AccountURI   string `json:"accounturi,omitempty"`
	Wildcard     bool   `json:"wildcard"`
	PersistUntil string `json:"persist_until,omitempty"`
	Expired      bool   `json:"expired"`
	Invalid      string `json:"invalid,omitempty"` // why a stored record does not parse
}

// persistList prints the account's records: from the admin API, or else
// read over DNS from the fulldomain's TXT RRset, where only the values
// that parse as records are shown (the others are dns-01 tokens).
func persistList(ctx context.Context, f persistFlags, b *persistBackend, stdout, stderr io.Writer) int {
	values, source := b.records, "the admin API"
	if !b.admin {
		res, err := newResolver(f.resolver)
		if err != nil {
			fmt.Fprintf(stderr, "acmedns persist list: %v\n", err)
			return exitRuntime
		}
		l, err := lookupTXT(res, b.fulldomain)
		if err != nil {
			fmt.Fprintf(stderr, "acmedns persist list: %v\n", err)
			return exitRuntime
		}
		if l.Rcode != dns.RcodeSuccess {
			fmt.Fprintf(stderr, "acmedns persist list: %s TXT answered %s through %s\n", dns.Fqdn(b.fulldomain), dns.RcodeToString[l.Rcode], res.addr)
			return exitRuntime
		}
		values, source = l.Values, fmt.Sprintf("DNS (the TXT RRset of %s through %s; the public API has no call to read them)", dns.Fqdn(b.fulldomain), res.addr)
	}
	list := listRecords(values, !b.admin, time.Now())
	domain := baseDomain(f.domain)
	if f.json {
		printJSON(stdout, map[string]any{"domain": domain, "subdomain": b.sub, "fulldomain": b.fulldomain, "source": listSourceKind(b), "records": list})
		return exitOK
	}
	fmt.Fprintf(stdout, "dns-persist-01 records of %s (account %s, %s), from %s:\n", domain, inert(b.sub), inert(b.fulldomain), source)
	for _, r := range list {
		fmt.Fprintf(stdout, "  %s%s\n", inert(r.Record), recordNote(r))
	}
	if len(list) == 1 {
		fmt.Fprintln(stdout, "1 record")
	} else {
		fmt.Fprintf(stdout, "%d records\n", len(list))
	}
	return exitOK
}

// listRecords parses values; with onlyValid, those that do not parse are
// left out.
func listRecords(values []string, onlyValid bool, now time.Time) []listedRecord {
	list := []listedRecord{}
	for _, s := range values {
		v, err := parseIssueValue(s)
		if err != nil {
			if !onlyValid {
				list = append(list, listedRecord{Record: s, Invalid: err.Error()})
			}
			continue
		}
		r := listedRecord{Record: s, Issuer: v.Issuer, AccountURI: v.AccountURI, Wildcard: v.Wildcard, Expired: v.expired(now)}
		if v.HasUntil {
			r.PersistUntil = untilText(v.PersistUntil)
		}
		list = append(list, r)
	}
	return list
}

// recordNote is what a record's line adds: invalid, expired or until when.
func recordNote(r listedRecord) string {
	switch {
	case r.Invalid != "":
		return "   (invalid: " + inert(r.Invalid) + ")"
	case r.Expired:
		return "   (expired " + r.PersistUntil + ")"
	case r.PersistUntil != "":
		return "   (until " + r.PersistUntil + ")"
	}
	return ""
}

// listSourceKind names where list read the records, in JSON.
func listSourceKind(b *persistBackend) string {
	if b.admin {
		return "admin"
	}
	return "dns"
}
