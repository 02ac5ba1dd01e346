package main

import (
	"errors"
	"fmt"
	"strings"
)

// checkAnswer refuses credentials from /register that a client could not
// use, or that would print as something else: the username must be a
// UUID, the subdomain a DNS label, the fulldomain that label under a
// domain name, and the password printable ASCII without spaces (it goes
// in an HTTP header).
func checkAnswer(c credentials) error {
	if u, ok := normalUUID(c.Username); !ok || u != strings.ToLower(c.Username) {
		return fmt.Errorf("the username %s is not a UUID", inert(c.Username))
	}
	if !validLabel(strings.ToLower(c.SubDomain)) {
		return fmt.Errorf("the subdomain %s is not a DNS label", inert(c.SubDomain))
	}
	full := strings.ToLower(strings.TrimSuffix(c.FullDomain, "."))
	zone, ok := strings.CutPrefix(full, strings.ToLower(c.SubDomain)+".")
	if !ok || len(full) > 253 || !validDomain(zone) {
		return fmt.Errorf("the fulldomain %s is not the subdomain %s under a domain name", inert(c.FullDomain), inert(c.SubDomain))
	}
	if !validKey(c.Password) {
		return errors.New("the password is not 1 to 256 printable ASCII characters without spaces")
	}
	return nil
}

// validDomain reports whether s (lower case, no final dot) is a domain
// name of DNS labels.
func validDomain(s string) bool {
	if s == "" {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !validLabel(label) {
			return false
		}
	}
	return true
}

// validKey reports whether s can be an API key: 1 to 256 printable ASCII
// characters other than space.
func validKey(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
