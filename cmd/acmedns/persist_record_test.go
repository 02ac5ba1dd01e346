package main

import (
	"strings"
	"testing"
	"time"
)

const (
	testAccountURI = "https://acme-staging-v02.api.letsencrypt.org/acme/acct/123456789"
	testDigest     = "Q99Rn7LpobMn8g0ImKRe-0FLkkAvAEQbOvAB7XTsZTo" // the SHA-256 of testAccountURI, base64url
)

// TestPersistParseRecord: the record validator accepts the issue-values the
// server accepts and refuses the others with a reason.
func TestPersistParseRecord(t *testing.T) {
	cases := []struct {
		name, record string
		want         issueValue // checked when err is ""
		err          string
	}{
		{"plain URL", "letsencrypt.org; accounturi=" + testAccountURI, issueValue{Issuer: "letsencrypt.org", AccountURI: testAccountURI}, ""},
		{"hashed", "letsencrypt.org; accounturi=urn:acme:sha-256/" + testDigest, issueValue{Issuer: "letsencrypt.org", AccountURI: "urn:acme:sha-256/" + testDigest}, ""},
		{"hashed, no prefix", "ca.example; accounturi=sha-256/" + testDigest, issueValue{Issuer: "ca.example", AccountURI: "sha-256/" + testDigest}, ""},
		{"all parameters", "Pebble.LetsEncrypt.org;accounturi=https://127.0.0.1:14000/my-account/1;Policy=WILDCARD; persistUntil=1893456000", issueValue{Issuer: "pebble.letsencrypt.org", AccountURI: "https://127.0.0.1:14000/my-account/1", Wildcard: true, PersistUntil: 1893456000, HasUntil: true}, ""},
		{"spaces and tabs", " \tletsencrypt.org \t;\t accounturi = " + testAccountURI + " ", issueValue{Issuer: "letsencrypt.org", AccountURI: testAccountURI}, ""},
		{"unknown tag kept out", "letsencrypt.org; accounturi=" + testAccountURI + "; x-future=1", issueValue{Issuer: "letsencrypt.org", AccountURI: testAccountURI}, ""},
		{"empty", "", issueValue{}, "not an issuer domain name"},
		{"no issuer", "; accounturi=" + testAccountURI, issueValue{}, "not an issuer domain name"},
		{"issuer with dot", "letsencrypt.org.; accounturi=" + testAccountURI, issueValue{}, "not an issuer domain name"},
		{"issuer underscore", "lets_encrypt.org; accounturi=" + testAccountURI, issueValue{}, "not an issuer domain name"},
		{"dns-01 token", "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", issueValue{}, "accounturi is missing"},
		{"no accounturi", "letsencrypt.org; policy=wildcard", issueValue{}, "accounturi is missing"},
		{"trailing semicolon", "letsencrypt.org; accounturi=" + testAccountURI + ";", issueValue{}, "empty parameter"},
		{"no equals", "letsencrypt.org; accounturi", issueValue{}, "not tag=value"},
		{"bad tag", "letsencrypt.org; account_uri=x; accounturi=" + testAccountURI, issueValue{}, "not a parameter tag"},
		{"space in value", "letsencrypt.org; accounturi=https://a.example/x y", issueValue{}, "holds a space"},
		{"non-ASCII value", "letsencrypt.org; accounturi=https://a.example/é", issueValue{}, "outside printable ASCII"},
		{"repeated tag", "letsencrypt.org; accounturi=" + testAccountURI + "; AccountURI=" + testAccountURI, issueValue{}, "repeated"},
		{"http URL", "letsencrypt.org; accounturi=http://a.example/acct/1", issueValue{}, "neither an https URL"},
		{"no host", "letsencrypt.org; accounturi=https:///acct/1", issueValue{}, "neither an https URL"},
		{"empty accounturi", "letsencrypt.org; accounturi=", issueValue{}, "neither an https URL"},
		{"short digest", "letsencrypt.org; accounturi=urn:acme:sha-256/" + testDigest[:42], issueValue{}, "neither an https URL"},
		{"padded digest", "letsencrypt.org; accounturi=urn:acme:sha-256/" + testDigest + "=", issueValue{}, "neither an https URL"},
		{"std base64 digest", "letsencrypt.org; accounturi=urn:acme:sha-256/+" + testDigest[1:], issueValue{}, "neither an https URL"},
		{"other policy", "letsencrypt.org; accounturi=" + testAccountURI + "; policy=strict", issueValue{}, "the only policy is wildcard"},
		{"negative until", "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=-1", issueValue{}, "not decimal"},
		{"signed until", "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=+1", issueValue{}, "not decimal"},
		{"date until", "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=2030-01-01", issueValue{}, "not decimal"},
		{"userinfo in accounturi", "letsencrypt.org; accounturi=https://user@a.example/acct/1", issueValue{}, "neither an https URL"},
		{"digest after a second sha-256/", "letsencrypt.org; accounturi=urn:sha-256/sha-256/" + testDigest, issueValue{}, "neither an https URL"},
		{"too long as stored", "a.example;accounturi=https://a.example/" + strings.Repeat("x", 981) + ";b=1", issueValue{}, "1026 octets as stored"},
		{"too long", "letsencrypt.org; accounturi=https://a.example/" + strings.Repeat("x", 1000), issueValue{}, "more than 1024"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseIssueValue(c.record)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one with %q", err, c.err)
			case c.err == "" && got != c.want:
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestPersistBuildRecord: the record persist set builds from its flags.
func TestPersistBuildRecord(t *testing.T) {
	now := time.Unix(1800000000, 0)
	cases := []struct {
		name string
		spec recordSpec
		want string // "" when refused with err
		err  string
	}{
		{"minimal", recordSpec{issuer: "LetsEncrypt.org.", accountURI: testAccountURI}, "letsencrypt.org; accounturi=" + testAccountURI, ""},
		{"hashed", recordSpec{issuer: "letsencrypt.org", accountURI: "urn:acme:sha-256/" + testDigest}, "letsencrypt.org; accounturi=urn:acme:sha-256/" + testDigest, ""},
		{"wildcard, unix until", recordSpec{issuer: "letsencrypt.org", accountURI: testAccountURI, wildcard: true, until: "1900000000"}, "letsencrypt.org; accounturi=" + testAccountURI + "; policy=wildcard; persistUntil=1900000000", ""},
		{"RFC 3339 until", recordSpec{issuer: "letsencrypt.org", accountURI: testAccountURI, until: "2030-01-01T00:00:00+01:00"}, "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=1893452400", ""},
		{"date until", recordSpec{issuer: "letsencrypt.org", accountURI: testAccountURI, until: "2030-01-01"}, "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=1893456000", ""},
		{"raw", recordSpec{raw: "letsencrypt.org;accounturi=" + testAccountURI}, "letsencrypt.org; accounturi=" + testAccountURI, ""},
		{"no issuer", recordSpec{accountURI: testAccountURI}, "", "--issuer and --account-uri are required"},
		{"no account", recordSpec{issuer: "letsencrypt.org"}, "", "--issuer and --account-uri are required"},
		{"bad issuer", recordSpec{issuer: "lets encrypt", accountURI: testAccountURI}, "", "not an issuer domain name"},
		{"bad account", recordSpec{issuer: "letsencrypt.org", accountURI: "mailto:a@b.example"}, "", "neither an https URL"},
		{"account with ;", recordSpec{issuer: "letsencrypt.org", accountURI: "https://a.example/1;policy=x"}, "", "the only policy"},
		{"bad until", recordSpec{issuer: "letsencrypt.org", accountURI: testAccountURI, until: "next week"}, "", "--persist-until"},
		{"past until", recordSpec{issuer: "letsencrypt.org", accountURI: testAccountURI, until: "2020-01-01"}, "", "in the past"},
		{"raw past until", recordSpec{raw: "letsencrypt.org; accounturi=" + testAccountURI + "; persistUntil=1"}, "", "in the past"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := buildRecord(c.spec, now)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one with %q", err, c.err)
			case c.err == "" && v.String() != c.want:
				t.Fatalf("built %q, want %q", v.String(), c.want)
			}
		})
	}
}

// FuzzPersistParseRecord: the parser never panics, accepts nothing the rules
// refuse (length, bytes, accounturi), and what it accepts rebuilds into a
// record it accepts again, equal.
func FuzzPersistParseRecord(f *testing.F) {
	for _, s := range []string{
		"letsencrypt.org; accounturi=" + testAccountURI,
		"ca.example; accounturi=urn:acme:sha-256/" + testDigest + "; policy=wildcard; persistUntil=1893456000",
		"a;accounturi=https://h;x=;y=1", "", ";", "a; =b", "a;;", "a; accounturi=https://h; accounturi=https://h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseIssueValue(s)
		if err != nil {
			return
		}
		if len(s) > maxRecord || v.AccountURI == "" || !validIssuer(v.Issuer) || v.Issuer != strings.ToLower(v.Issuer) {
			t.Fatalf("accepted %q as %+v", s, v)
		}
		if strings.ContainsAny(v.AccountURI, "; \t") {
			t.Fatalf("accounturi %q of %q holds a separator", v.AccountURI, s)
		}
		if len(v.String()) <= maxRecord {
			again, err := parseIssueValue(v.String())
			if err != nil || again != v {
				t.Fatalf("%q rebuilt as %q: %+v, %v (was %+v)", s, v.String(), again, err, v)
			}
		}
	})
}
