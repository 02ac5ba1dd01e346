package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// entry is an account ready to import: what POST /accounts takes.
type entry struct {
	Subdomain    string   `json:"subdomain"`
	Username     string   `json:"username"`
	PasswordHash string   `json:"password_hash"`
	AllowFrom    []string `json:"allowfrom"`
	TXT          []string `json:"txt"`
}

// Skip reasons: rows acme-dns itself could never use, or that acmedns
// cannot hold apart. A hash of too high a cost is skipped with
// skipHashCost, which names the cost.
const (
	skipAllowNull   = "allowfrom is NULL"
	skipAllowJSON   = "allowfrom is not a JSON array of strings"
	skipAllowCIDR   = "allowfrom entry is not a CIDR"
	skipAllowLong   = "allowfrom has more than 64 networks"
	skipUsername    = "username is not a UUID"
	skipSubdomain   = "subdomain is not a DNS label"
	skipPassword    = "password is not a bcrypt hash"
	skipTXTValue    = "a TXT value is not printable ASCII of 1 to 255 characters"
	skipDuplicateSD = "subdomain appears twice"
	skipCaseTwin    = "subdomain is another account's too, in another case"
	skipUserTwin    = "username is another account's too, in another case or form"
)

// Bounds of acmedns, checked here as its admin API checks them.
const (
	maxAllowFrom = 64 // allowfrom networks, once duplicates are dropped
	maxValues    = 10 // TXT values a subdomain can keep (txt_limit at most)
	maxHashCost  = 12 // bcrypt cost of a password hash (acme-dns's is 10, a fork's 12)
)

// skipHashCost is the skip reason of a well-formed hash whose cost is above
// maxHashCost, which the admin API refuses (password_hash_cost).
func skipHashCost(cost int) string {
	return fmt.Sprintf("bcrypt cost %d is above %d, the most acmedns accepts", cost, maxHashCost)
}

// validate turns a row into an entry, or names why it is skipped: the
// checks of acmedns's admin API, so that a dry run predicts the run.
func validate(r row) (entry, string) {
	e := entry{Subdomain: strings.ToLower(r.Subdomain)}
	if !validLabel(e.Subdomain) {
		return e, skipSubdomain
	}
	user, ok := normalUUID(r.Username)
	if !ok {
		return e, skipUsername
	}
	e.Username = user
	if !validHash(string(r.Password)) {
		return e, skipPassword
	}
	if cost := hashCost(string(r.Password)); cost > maxHashCost {
		return e, skipHashCost(cost)
	}
	e.PasswordHash = string(r.Password)
	var reason string
	if e.AllowFrom, reason = allowFrom(r.AllowFrom); reason != "" {
		return e, reason
	}
	if e.TXT, ok = values(r.TXT); !ok {
		return e, skipTXTValue
	}
	return e, ""
}

// allowFrom reads acme-dns's AllowFrom column as acmedns keeps it:
// canonical prefixes without duplicates, at most maxAllowFrom.
func allowFrom(col sql.NullString) ([]string, string) {
	if !col.Valid {
		return nil, skipAllowNull
	}
	var list []string
	if err := json.Unmarshal([]byte(col.String), &list); err != nil {
		return nil, skipAllowJSON
	}
	out := []string{}
	for _, c := range list {
		p, ok := parseCIDR(c)
		if !ok {
			return nil, skipAllowCIDR
		}
		if !slices.Contains(out, p.String()) {
			out = append(out, p.String())
		}
	}
	if len(out) > maxAllowFrom {
		return nil, skipAllowLong
	}
	return out, ""
}

// values checks TXT values, newest first, and returns those to import: a
// value repeated (acme-dns keeps two equal rows after a retried update) is
// one value, at the place of its newest copy; at most maxValues are kept.
func values(texts []string) ([]string, bool) {
	out := []string{}
	for _, v := range texts {
		if !validValue(v) {
			return nil, false
		}
		if !slices.Contains(out, v) && len(out) < maxValues {
			out = append(out, v)
		}
	}
	return out, true
}

// parseCIDR parses an allowfrom entry as acme-dns accepts it (IPv6 may be
// bracketed) and acmedns stores it (an IPv4-mapped prefix unmapped).
func parseCIDR(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.NewReplacer("[", "", "]", "").Replace(strings.TrimSpace(s)))
	if err != nil {
		return p, false
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, true
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
