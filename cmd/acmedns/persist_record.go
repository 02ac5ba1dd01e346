package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRecord is the longest dns-persist-01 record acmedns stores, in octets.
const maxRecord = 1024

// issueValue is a dns-persist-01 record: an RFC 8659 issue-value,
// "<issuer-domain-name>; accounturi=<URI>[; policy=wildcard][; persistUntil=<unix seconds>]".
type issueValue struct {
	Issuer       string // lower case, as compared
	AccountURI   string
	Wildcard     bool
	PersistUntil int64 // Unix seconds; meaningful when HasUntil
	HasUntil     bool
}

// String is the record as acmedns builds it: the issuer, then accounturi,
// policy and persistUntil, separated by "; ".
func (v issueValue) String() string {
	s := v.Issuer + "; accounturi=" + v.AccountURI
	if v.Wildcard {
		s += "; policy=wildcard"
	}
	if v.HasUntil {
		s += "; persistUntil=" + strconv.FormatInt(v.PersistUntil, 10)
	}
	return s
}

// expired reports whether persistUntil is before now.
func (v issueValue) expired(now time.Time) bool {
	return v.HasUntil && now.Unix() > v.PersistUntil
}

// parseIssueValue parses and validates a record by the rules the acmedns
// server applies: at most 1024 octets, as written and as the server stores
// it (spaces around ";" and "=" dropped, "; " between parameters); an
// issuer-domain-name; then
// "; tag=value" parameters (spaces and tabs allowed around ";" and "="),
// tags of letters, digits and inner hyphens, case-insensitive and not
// repeated, values of printable ASCII other than ";" and space; accounturi
// required (an https URL or a hashed "<prefix>sha-256/<43 base64url>"),
// policy only "wildcard", persistUntil decimal Unix seconds. Unknown tags
// are allowed (a CA ignores them).
func parseIssueValue(s string) (issueValue, error) {
	if len(s) > maxRecord {
		return issueValue{}, fmt.Errorf("the record has %d octets, more than %d", len(s), maxRecord)
	}
	parts := strings.Split(s, ";")
	issuer := trimWSP(parts[0])
	if !validIssuer(issuer) {
		return issueValue{}, fmt.Errorf("%s is not an issuer domain name", quoteField(issuer))
	}
	v := issueValue{Issuer: strings.ToLower(issuer)}
	seen := map[string]bool{}
	stored := len(issuer) // the length of the record as the server stores it
	for _, p := range parts[1:] {
		tag, value, err := splitParam(p)
		if err != nil {
			return issueValue{}, err
		}
		stored += len("; ") + len(tag) + len("=") + len(value)
		if seen[tag] {
			return issueValue{}, fmt.Errorf("the parameter %s is repeated", tag)
		}
		seen[tag] = true
		if err := v.setParam(tag, value); err != nil {
			return issueValue{}, err
		}
	}
	if !seen["accounturi"] {
		return issueValue{}, errors.New("accounturi is missing")
	}
	if stored > maxRecord {
		return issueValue{}, fmt.Errorf("the record has %d octets as stored (each parameter after \"; \"), more than %d", stored, maxRecord)
	}
	return v, nil
}

// splitParam splits one "tag=value" parameter and checks both; the tag is
// returned in lower case.
func splitParam(p string) (string, string, error) {
	p = trimWSP(p)
	if p == "" {
		return "", "", errors.New(`an empty parameter (a ";" too many)`)
	}
	tag, value, ok := strings.Cut(p, "=")
	if !ok {
		return "", "", fmt.Errorf("the parameter %s is not tag=value", quoteField(p))
	}
	tag, value = trimWSP(tag), trimWSP(value)
	if !validTag(tag) {
		return "", "", fmt.Errorf("%s is not a parameter tag (letters, digits, inner hyphens)", quoteField(tag))
	}
	for _, c := range []byte(value) {
		if c < 0x21 || c > 0x7e {
			return "", "", fmt.Errorf("the value of %s holds a space or a character outside printable ASCII", tag)
		}
	}
	return strings.ToLower(tag), value, nil
}

// setParam checks the value of a parameter acmedns knows and stores it.
func (v *issueValue) setParam(tag, value string) error {
	switch tag {
	case "accounturi":
		if err := checkAccountURI(value); err != nil {
			return err
		}
		v.AccountURI = value
	case "policy":
		if !strings.EqualFold(value, "wildcard") {
			return fmt.Errorf("policy=%s: the only policy is wildcard", quoteField(value))
		}
		v.Wildcard = true
	case "persistuntil":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || value[0] == '+' {
			return fmt.Errorf("persistUntil=%s is not decimal Unix seconds", quoteField(value))
		}
		v.PersistUntil, v.HasUntil = n, true
	}
	return nil
}

// checkAccountURI accepts the two shapes of accounturi: the ACME account
// URL (https, with a host, without userinfo) and the hashed
// "<prefix>sha-256/<43 base64url>" (the SHA-256 of the account URL,
// unpadded base64url).
func checkAccountURI(s string) error {
	// The digest follows the first "sha-256/", as the server reads it.
	if _, digest, ok := strings.Cut(s, "sha-256/"); ok {
		if b, err := base64.RawURLEncoding.Strict().DecodeString(digest); err == nil && len(b) == 32 {
			return nil
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil {
		return fmt.Errorf("accounturi=%s is neither an https URL nor <prefix>sha-256/<43 base64url characters>", quoteField(s))
	}
	return nil
}

// validIssuer reports whether s is an issuer-domain-name (RFC 8659): labels
// of letters, digits and inner hyphens, separated by dots, at most 253
// octets.
func validIssuer(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) > 63 || !validTag(label) {
			return false
		}
	}
	return true
}

// validTag reports whether s is letters and digits with hyphens inside
// (RFC 8659's label and tag).
func validTag(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// trimWSP trims spaces and tabs (RFC 8659's WSP).
func trimWSP(s string) string {
	return strings.Trim(s, " \t")
}

// quoteField is a piece of a record for an error message: quoted, with
// escapes, and cut at 80 bytes.
func quoteField(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}
