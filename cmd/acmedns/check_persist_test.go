package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckPersist: check --persist against the records a real CoreDNS
// serves from the customer zone (file plugin), directly, through a CNAME
// in the zone and through a CNAME to an acmedns account's fulldomain.
func TestCheckPersist(t *testing.T) {
	s := startServer(t, serverOpts{})
	const uri = "https://127.0.0.1:14000/my-account/1"
	rec := func(params string) string { return `"letsencrypt.org; accounturi=` + uri + params + `"` }
	at := "_validation-persist 60 IN TXT "
	long := "https://ca.example/acct/" + strings.Repeat("7", 300)
	cases := []struct {
		name, zone, domain string
		extra              []string
		code               int
		want               []string
	}{
		{"nothing", "", "example.test", nil, 1, []string{"FAIL PERSIST _validation-persist.example.test. has no record at all (NXDOMAIN)", "fix:  acmedns persist set --domain example.test --issuer letsencrypt.org --account-uri " + uri}},
		{"direct", at + rec(""), "example.test", nil, 0, []string{"ok   PERSIST _validation-persist.example.test. TXT", "authorizes letsencrypt.org for the account " + uri + ", not wildcards", "ok   CAA"}},
		{"through a CNAME", "_validation-persist 60 IN CNAME t.example.test.\nt 60 IN TXT " + rec("; persistUntil=4102444800"), "example.test", nil, 0, []string{"_validation-persist.example.test. (CNAME t.example.test.) TXT", "until 2100-01-01T00:00:00Z"}},
		{"other account", at + `"letsencrypt.org; accounturi=https://127.0.0.1:14000/my-account/2"`, "example.test", nil, 1, []string{"names the account https://127.0.0.1:14000/my-account/2, not " + uri}},
		{"wildcard without policy", at + rec(""), "*.example.test", nil, 1, []string{"has no policy=wildcard, which *.example.test needs", "--wildcard"}},
		{"wildcard", at + rec("; policy=wildcard"), "*.example.test", nil, 0, []string{"wildcards too (policy=wildcard)"}},
		{"expired", at + rec("; persistUntil=1000000000"), "example.test", nil, 1, []string{"expired: persistUntil 2001-09-09T01:46:40Z is past"}},
		{"another CA", at + `"pki.goog; accounturi=` + uri + `"` + "\n" + at + `"dns01-token-value"`, "example.test", nil, 1, []string{"has records for pki.goog, none for letsencrypt.org"}},
		{"another CA asked for", at + `"pki.goog; accounturi=` + uri + `"`, "example.test", []string{"--issuer", "pki.goog"}, 0, []string{"authorizes pki.goog"}},
		{"malformed", at + `"letsencrypt.org; accounturi=` + uri + `; policy=all"`, "example.test", nil, 1, []string{"is malformed: policy=\"all\""}},
		{"one good of two", at + `"letsencrypt.org; accounturi=https://other.example/1"` + "\n" + at + rec(""), "example.test", nil, 0, []string{"ok   PERSIST"}},
		{"split strings", at + `"letsencrypt.org; accounturi=` + long[:200] + `" "` + long[200:] + `"`, "example.test", []string{"--account-uri", long}, 0, []string{"ok   PERSIST"}},
		{"every problem", at + rec("; persistUntil=1000000000"), "*.example.test", []string{"--account-uri", "https://127.0.0.1:14000/my-account/2"}, 1, []string{"names the account " + uri + ", not https://127.0.0.1:14000/my-account/2, has no policy=wildcard, which *.example.test needs, expired: persistUntil 2001-09-09T01:46:40Z is past"}},
		{"hashed", at + `"letsencrypt.org; accounturi=urn:acme:sha-256/` + testDigest + `"`, "example.test", []string{"--account-uri", "urn:acme:sha-256/" + testDigest}, 0, []string{"ok   PERSIST"}},
		{"CAA forbids", `@ 60 IN CAA 0 issue "pki.goog"` + "\n" + at + rec(""), "example.test", nil, 1, []string{"ok   PERSIST", "FAIL CAA"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.setZone(t, c.zone)
			args := append([]string{"check", "--persist", "--domain", c.domain, "--account-uri", uri, "--storage", "/nonexistent/acmedns.json", "--resolver", s.DNS}, c.extra...)
			code, out, errOut := cli(t, args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	checkPersistAccount(t, s, uri)
}

// checkPersistAccount: with an account saved for the domain, the CNAME to
// its fulldomain is checked too, and the record is looked up at the
// fulldomain, in the acmedns zone (a second query: the customer zone's
// server answers only the CNAME).
func checkPersistAccount(t *testing.T, s *server, uri string) {
	cred := registerPublic(t, s)
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	if err := saveStorage(storage, "example.test", cred); err != nil {
		t.Fatal(err)
	}
	if code := publicUpdate(t, s, cred.Username, cred.Password, cred.SubDomain, txtValueOf("persist")); code != 200 {
		t.Fatalf("update: %d", code)
	}
	full := strings.ToLower(cred.FullDomain) + "."
	args := []string{"check", "--persist", "--domain", "example.test", "--account-uri", uri, "--storage", storage, "--resolver", s.DNS, "--json"}
	s.setZone(t, "")
	code, out, _ := cli(t, args...)
	var res []checkResult
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 3 || res[0].OK || !strings.Contains(res[0].Fix, "_validation-persist.example.test. CNAME "+full) ||
		!strings.Contains(res[1].Fix, "create in the zone of example.test: _validation-persist.example.test. CNAME "+full) {
		t.Errorf("no CNAME, an account saved: exit %d\n%s", code, out)
	}
	s.setZone(t, "_validation-persist 60 IN CNAME "+full)
	code, out, _ = cli(t, args...)
	res = nil
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 3 || !res[0].OK || res[1].OK ||
		!strings.Contains(res[1].Detail, "(CNAME "+full+") has 1 TXT values, none a record for letsencrypt.org") {
		t.Errorf("the CNAME to the account, only a dns-01 value there: exit %d\n%s", code, out)
	}
}

// TestCheckPersistUsage: the flags of check --persist that do not go
// together.
func TestCheckPersistUsage(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	if err := os.WriteFile(storage, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "--domain", "example.org", "--issuer", "letsencrypt.org"}, exitUsage, "go with --persist"},
		{[]string{"check", "--persist", "--domain", "example.org", "--tls-zone", "auth.example.org"}, exitUsage, "different checks"},
		{[]string{"check", "--persist", "--domain", "example.org", "--issuer", "not a name", "--resolver", "127.0.0.1:1"}, exitRuntime, "not an issuer domain name"},
		{[]string{"check", "--persist", "--domain", "example.org", "--storage", storage, "--resolver", "127.0.0.1:1"}, exitRuntime, "not a JSON object"},
	}
	for _, c := range cases {
		code, out, errOut := cli(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want %d), stderr lacks %q:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}
