package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// recordSpec is what persist set is told to publish: a raw record, or the
// parts to build one from.
type recordSpec struct {
	raw, issuer, accountURI, until string
	wildcard                       bool
}

// buildRecord builds the record from spec (or takes spec.raw) and
// validates it by the server's rules. A persistUntil in the past is
// refused: such a record authorizes nothing.
func buildRecord(spec recordSpec, now time.Time) (issueValue, error) {
	s := spec.raw
	if s == "" {
		if spec.issuer == "" || spec.accountURI == "" {
			return issueValue{}, errors.New("--issuer and --account-uri are required (or --record)")
		}
		v := issueValue{
			Issuer:     normalIssuer(spec.issuer),
			AccountURI: strings.TrimSpace(spec.accountURI),
			Wildcard:   spec.wildcard,
		}
		if spec.until != "" {
			t, err := parseUntil(spec.until)
			if err != nil {
				return issueValue{}, err
			}
			v.PersistUntil, v.HasUntil = t.Unix(), true
		}
		s = v.String()
	}
	v, err := parseIssueValue(s)
	if err != nil {
		return issueValue{}, fmt.Errorf("not a valid dns-persist-01 record: %v", err)
	}
	if v.expired(now) {
		return issueValue{}, fmt.Errorf("persistUntil %s is in the past: the record would authorize nothing", untilText(v.PersistUntil))
	}
	return v, nil
}

// parseUntil reads --persist-until: Unix seconds, an RFC 3339 time, or a
// date (YYYY-MM-DD, midnight UTC).
func parseUntil(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--persist-until %s is not Unix seconds, an RFC 3339 time or YYYY-MM-DD", quoteField(s))
}

// untilText shows Unix seconds as an RFC 3339 time.
func untilText(sec int64) string {
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}

// persistName is the dns-persist-01 validation name of domain (a
// wildcard's "*." dropped), fully qualified.
func persistName(domain string) string {
	return "_validation-persist." + baseDomain(domain) + "."
}

// normalIssuer is an issuer domain name as compared: lower case, without
// surrounding spaces or a final dot.
func normalIssuer(s string) string {
	return strings.TrimSuffix(strings.ToLower(trimWSP(s)), ".")
}
