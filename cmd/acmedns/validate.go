package main

import (
	"encoding/json"
	"net/netip"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// entry is an account ready to import: what POST /accounts takes.
type entry struct {
	Subdomain    string   `json:"subdomain"`
	Username     string   `json:"username"`
	PasswordHash string   `json:"password_hash"`
	AllowFrom    []string `json:"allowfrom"`
	TXT          []string `json:"txt"`
}

// Skip reasons: rows acme-dns itself could never use.
const (
	skipAllowNull   = "allowfrom is NULL"
	skipAllowJSON   = "allowfrom is not a JSON array of strings"
	skipAllowCIDR   = "allowfrom entry is not a CIDR"
	skipUsername    = "username is not a UUID"
	skipSubdomain   = "subdomain is not a DNS label"
	skipPassword    = "password is not a bcrypt hash"
	skipTXTValue    = "a TXT value is not printable ASCII of 1 to 255 characters"
	skipDuplicateSD = "subdomain appears twice"
)

// validate turns a row into an entry, or names why it is skipped.
func validate(r row) (entry, string) {
	e := entry{Subdomain: strings.ToLower(r.Subdomain), TXT: r.TXT}
	if !validLabel(e.Subdomain) {
		return e, skipSubdomain
	}
	user, ok := normalUUID(r.Username)
	if !ok {
		return e, skipUsername
	}
	e.Username = user
	if _, err := bcrypt.Cost(r.Password); err != nil {
		return e, skipPassword
	}
	e.PasswordHash = string(r.Password)
	if !r.AllowFrom.Valid {
		return e, skipAllowNull
	}
	var list []string
	if err := json.Unmarshal([]byte(r.AllowFrom.String), &list); err != nil {
		return e, skipAllowJSON
	}
	e.AllowFrom = []string{}
	for _, c := range list {
		p, ok := parseCIDR(c)
		if !ok {
			return e, skipAllowCIDR
		}
		e.AllowFrom = append(e.AllowFrom, p.String())
	}
	for _, v := range e.TXT {
		if !validValue(v) {
			return e, skipTXTValue
		}
	}
	if e.TXT == nil {
		e.TXT = []string{}
	}
	return e, ""
}

// parseCIDR parses an allowfrom entry as acme-dns accepts it (IPv6 may be
// bracketed).
func parseCIDR(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.NewReplacer("[", "", "]", "").Replace(strings.TrimSpace(s)))
	return p, err == nil
}

// validLabel reports whether s is a lower-case DNS label.
func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validValue reports whether v can be a TXT value of acmedns.
func validValue(v string) bool {
	if len(v) == 0 || len(v) > 255 {
		return false
	}
	for _, c := range []byte(v) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// normalUUID returns s as a lower-case canonical UUID (braces, "urn:uuid:"
// and upper case accepted).
func normalUUID(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "urn:uuid:")
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return "", false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", false
			}
		}
	}
	return s, true
}
