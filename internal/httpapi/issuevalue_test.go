package httpapi

import (
	"strings"
	"testing"

	"github.com/acmedns/acmedns/store"
)

// hashedURI is an accounturi in the hashed form of the -02 draft.
const hashedURI = "acct:sha-256/" + "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"

func TestParseIssueValue(t *testing.T) {
	const acct = "https://acme-v02.api.letsencrypt.org/acme/acct/12345"
	tests := []struct {
		name, in, want string // want "" for bad_record
	}{
		{"draft -01", "letsencrypt.org; accounturi=" + acct, "letsencrypt.org; accounturi=" + acct},
		{"wildcard and until", "letsencrypt.org;accounturi=" + acct + ";policy=wildcard;persistUntil=1767225600",
			"letsencrypt.org; accounturi=" + acct + "; policy=wildcard; persistUntil=1767225600"},
		{"issuer lower-cased, spaces and tabs", "  Pebble.LetsEncrypt.ORG \t;\taccountURI = " + acct + " ;  Policy=WILDCARD ",
			"pebble.letsencrypt.org; accountURI=" + acct + "; Policy=WILDCARD"},
		{"hashed accounturi", "ca.example; accounturi=" + hashedURI, "ca.example; accounturi=" + hashedURI},
		{"hashed, no prefix", "ca.example; accounturi=sha-256/" + hashedURI[13:], "ca.example; accounturi=sha-256/" + hashedURI[13:]},
		{"unknown parameter kept", "ca.example; accounturi=" + acct + "; x-extra=a:b/c", "ca.example; accounturi=" + acct + "; x-extra=a:b/c"},
		{"empty", "", ""},
		{"issuer alone", "ca.example", ""},
		{"issuer and ;", "ca.example;", ""},
		{"no accounturi", "ca.example; policy=wildcard", ""},
		{"no issuer", "; accounturi=" + acct, ""},
		{"bad issuer", "ca_example.org; accounturi=" + acct, ""},
		{"issuer with trailing hyphen", "ca-.org; accounturi=" + acct, ""},
		{"http accounturi", "ca.example; accounturi=http://ca.example/acct/1", ""},
		{"relative accounturi", "ca.example; accounturi=/acct/1", ""},
		{"userinfo in accounturi", "ca.example; accounturi=https://u@ca.example/acct/1", ""},
		{"hash too short", "ca.example; accounturi=acct:sha-256/abc", ""},
		{"hash not base64url", "ca.example; accounturi=acct:sha-256/" + strings.Repeat("+", 43), ""},
		{"duplicate tag", "ca.example; accounturi=" + acct + "; AccountUri=" + acct, ""},
		{"other policy", "ca.example; accounturi=" + acct + "; policy=all", ""},
		{"persistUntil not decimal", "ca.example; accounturi=" + acct + "; persistUntil=2026-01-01", ""},
		{"negative persistUntil", "ca.example; accounturi=" + acct + "; persistUntil=-1", ""},
		{"space in a value", "ca.example; accounturi=" + acct + " x", ""},
		{"trailing ;", "ca.example; accounturi=" + acct + ";", ""},
		{"no =", "ca.example; accounturi", ""},
		{"bad tag", "ca.example; accounturi=" + acct + "; _x=1", ""},
		{"non-ASCII", "ca.example; accounturi=" + acct + "; x=é", ""},
		{"control character", "ca.example; accounturi=" + acct + "; x=\x01", ""},
		{"too long", "ca.example; accounturi=https://ca.example/" + strings.Repeat("x", store.MaxPersistLen), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIssueValue(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("parseIssueValue(%q) = %q; want bad_record", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseIssueValue(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseIssueValue: what the parser accepts, the store keeps, and its
// form as stored is read back unchanged.
func FuzzParseIssueValue(f *testing.F) {
	for _, s := range []string{
		"letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1; policy=wildcard",
		"ca.example;accounturi=" + hashedURI + ";persistUntil=1",
		"ca.example; accounturi=https://x; accounturi=https://y", "", ";", "a;b=c;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseIssueValue(s)
		if err != nil {
			return
		}
		if !store.ValidPersist(got) {
			t.Fatalf("accepted %q as %q, which the store refuses", s, got)
		}
		if again, err := parseIssueValue(got); err != nil || again != got {
			t.Fatalf("%q stored as %q reads back as %q, %v", s, got, again, err)
		}
		if store.PersistIssuer(got) != got[:strings.Index(got, ";")] {
			t.Fatalf("%q: the store's issuer %q is not the record's", got, store.PersistIssuer(got))
		}
	})
}
