package main

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// accountLabel is the dns-account-01 label of an ACME account URI
// (draft-ietf-acme-dns-account-label): the first 10 bytes of the SHA-256
// of the URI, base32 (RFC 4648, 16 characters, no padding needed),
// lower-cased. Pebble v2.10.1 computes it the same way.
func accountLabel(accountURI string) string {
	sum := sha256.Sum256([]byte(accountURI))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:10]))
}

// challengeName is the dns-01 validation name of domain (a wildcard's
// "*." dropped), fully qualified.
func challengeName(domain string) string {
	return "_acme-challenge." + baseDomain(domain) + "."
}

// accountChallengeName is the dns-account-01 validation name.
func accountChallengeName(domain, accountURI string) string {
	return "_" + accountLabel(accountURI) + "." + challengeName(domain)
}

// baseDomain is domain lower-cased without a wildcard label or final dot.
func baseDomain(domain string) string {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	return strings.TrimPrefix(d, "*.")
}
