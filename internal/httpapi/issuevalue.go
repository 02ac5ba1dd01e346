package httpapi

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/acmedns/acmedns/store"
)

// errBadRecord is parseIssueValue's answer to anything that is not a
// dns-persist-01 record acmedns serves.
var errBadRecord = errors.New("not a dns-persist-01 issue-value")

// parseIssueValue checks that s is a dns-persist-01 record, an RFC 8659
// issue-value: an issuer-domain-name, then "; tag=value" parameters whose
// values are printable ASCII but ';' and space, tags unique regardless of
// case. accounturi is required: an https URL (draft -01), or the hashed
// form "<prefix>sha-256/<43 base64url characters>" of the -02 draft.
// policy, if present, is "wildcard" and persistUntil a decimal Unix time,
// both in any case; other parameters are kept. It returns the record as
// stored and served: the issuer lower-cased and each parameter after "; ",
// at most store.MaxPersistLen octets.
func parseIssueValue(s string) (string, error) {
	if len(s) > store.MaxPersistLen {
		return "", errBadRecord
	}
	issuer, rest, _ := strings.Cut(s, ";")
	issuer = strings.ToLower(strings.Trim(issuer, " \t"))
	if !validIssuer(issuer) {
		return "", errBadRecord
	}
	out := []string{issuer}
	seen := map[string]bool{}
	for _, p := range strings.Split(rest, ";") {
		tag, value, err := parseParameter(p)
		key := strings.ToLower(tag)
		if err != nil || seen[key] || !validParameter(key, value) {
			return "", errBadRecord
		}
		seen[key] = true
		out = append(out, tag+"="+value)
	}
	record := strings.Join(out, "; ")
	if !seen["accounturi"] || len(record) > store.MaxPersistLen {
		return "", errBadRecord
	}
	return record, nil
}

// parseParameter reads one "tag=value" parameter, spaces or tabs around
// either allowed.
func parseParameter(p string) (tag, value string, err error) {
	tag, value, ok := strings.Cut(p, "=")
	tag, value = strings.Trim(tag, " \t"), strings.Trim(value, " \t")
	if !ok || !validLabel(tag) {
		return "", "", errBadRecord
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x21 || c > 0x7e || c == ';' {
			return "", "", errBadRecord
		}
	}
	return tag, value, nil
}

// validParameter checks the value of the parameters dns-persist-01 defines;
// key is the parameter's tag, lower-cased.
func validParameter(key, value string) bool {
	switch key {
	case "accounturi":
		return validAccountURI(value)
	case "policy":
		return strings.EqualFold(value, "wildcard")
	case "persistuntil":
		_, err := strconv.ParseUint(value, 10, 63)
		return err == nil
	}
	return true
}

// validAccountURI accepts an https URL with a host, or the hashed form
// "<prefix>sha-256/<43 base64url characters>".
func validAccountURI(v string) bool {
	if _, hash, ok := strings.Cut(v, "sha-256/"); ok && len(hash) == 43 {
		return isBase64URL(hash)
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// isBase64URL reports whether s is unpadded base64url.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validIssuer checks an issuer-domain-name: dot-separated labels, at most
// 253 octets.
func validIssuer(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !validLabel(label) || len(label) > 63 {
			return false
		}
	}
	return true
}

// validLabel checks RFC 8659's label (and tag): letters and digits, with
// hyphens inside.
func validLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
