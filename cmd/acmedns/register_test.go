package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const registrationToken = "regtoken-0123456789abcdef"

// TestRegisterAndCheck registers through a token-gated API, saves the
// credentials beside another domain's, and checks the domain's DNS as the
// customer changes its zone.
func TestRegisterAndCheck(t *testing.T) {
	s := startServer(t, serverOpts{zone: `@ 60 IN CAA 0 issue "letsencrypt.org"`, extra: "registration token " + registrationToken})
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	other := `{"other.example":{"fulldomain":"x.auth.example.test","subdomain":"x","username":"u","password":"p","server_url":"https://old"}}`
	if err := os.WriteFile(storage, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := cli(t, "register", "--api", s.API, "--domain", "example.test", "--storage", storage); code != exitRuntime {
		t.Fatalf("register without the token: exit %d, want %d (plain /register is closed)", code, exitRuntime)
	}
	uri := "https://127.0.0.1:14000/my-account/1"
	code, out, errOut := cli(t, "register", "--api", s.API+"/"+registrationToken+"/", "--domain", "Example.Test.",
		"--storage", storage, "--allow", "127.0.0.1/32", "--account-uri", uri)
	if code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	cred := readStorage(t, storage)
	full := cred.FullDomain + "."
	cname := "_acme-challenge.example.test. CNAME " + full
	for _, want := range []string{cname, "_iov3pdu2eqwqloyr._acme-challenge.example.test. CNAME " + full} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("register does not print %q:\n%s", want, out)
		}
	}
	if code := publicUpdate(t, s, cred.Username, cred.Password, cred.SubDomain, txtValueOf("reg")); code != 200 {
		t.Errorf("update with the saved credentials: %d", code)
	}

	if err := saveStorage(storage, "www.example.test", cred); err != nil { // the same account for a name below
		t.Fatal(err)
	}
	steps := checkSteps(cname, full)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			s.setZone(t, st.zone)
			args := []string{"check", "--domain", st.domain, "--storage", storage, "--resolver", s.DNS}
			if st.ca != "" {
				args = append(args, "--ca", st.ca)
			}
			code, out, errOut := cli(t, args...)
			if code != st.code {
				t.Errorf("exit %d, want %d\n%s%s", code, st.code, out, errOut)
			}
			for _, w := range st.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	s.deleteAccount(t, cred.SubDomain)
	code, out, _ = cli(t, "check", "--domain", "example.test", "--storage", storage, "--resolver", s.DNS, "--json")
	var results []checkResult
	if code != 1 || json.Unmarshal([]byte(out), &results) != nil || len(results) != 3 || results[1].OK || !strings.Contains(results[1].Detail, "NXDOMAIN") {
		t.Errorf("a deleted account: exit %d\n%s", code, out)
	}
}

// checkStep is a customer zone and what check says about it.
type checkStep struct {
	name, zone, domain, ca string
	code                   int
	want                   []string
}

// checkSteps are the zones TestRegisterAndCheck walks through.
func checkSteps(cname, full string) []checkStep {
	caaOK := `@ 60 IN CAA 0 issue "letsencrypt.org"` + "\n"
	withCNAME := "_acme-challenge 60 IN CNAME " + full + "\n"
	return []checkStep{
		{"no CNAME", caaOK, "example.test", "", 1, []string{"FAIL CNAME _acme-challenge.example.test. has no record at all (NXDOMAIN)", "fix:  create in the zone of example.test: " + cname}},
		{"wrong CNAME", caaOK + "_acme-challenge 60 IN CNAME elsewhere.example.net.\n", "example.test", "", 1, []string{"is a CNAME to elsewhere.example.net., not to the account's " + full, "replace that record with: " + cname}},
		{"good", caaOK + withCNAME, "example.test", "", 0, []string{"ok   CNAME " + cname, "ok   TXT", "ok   CAA"}},
		{"CAA forbids", `@ 60 IN CAA 0 issue "pki.goog"` + "\n" + withCNAME, "example.test", "", 1, []string{"FAIL CAA", "allows only pki.goog", `add: example.test. CAA 0 issue "letsencrypt.org"`}},
		{"CAA forbids all", `@ 60 IN CAA 0 issue ";"` + "\n" + withCNAME, "example.test", "", 1, []string{"FAIL CAA"}},
		{"other CA allowed", `@ 60 IN CAA 0 issue "pki.goog; cansignhttpexchanges=yes"` + "\n" + withCNAME, "example.test", "pki.goog", 0, []string{"ok   CAA"}},
		{"issuewild forbids", caaOK + `@ 60 IN CAA 0 issuewild ";"` + "\n" + withCNAME, "*.example.test", "", 1, []string{"FAIL CAA", `add: example.test. CAA 0 issuewild "letsencrypt.org"`}},
		{"issuewild only for wildcards", caaOK + `@ 60 IN CAA 0 issuewild ";"` + "\n" + withCNAME, "example.test", "", 0, []string{"ok   CAA"}},
		{"unknown critical", `@ 60 IN CAA 128 tbs "x"` + "\n" + withCNAME, "example.test", "", 1, []string{"critical property"}},
		{"no CAA", withCNAME, "example.test", "", 0, []string{"no CAA records"}},
		{"CAA of the parent", `@ 60 IN CAA 0 issue "pki.goog"` + "\n_acme-challenge.www 60 IN CNAME " + full + "\n", "www.example.test", "", 1, []string{"FAIL CAA   the CAA set at example.test. allows only pki.goog", "ok   CNAME _acme-challenge.www.example.test."}},
		{"CAA of the name itself", `@ 60 IN CAA 0 issue "pki.goog"` + "\n" + `www 60 IN CAA 0 issue "letsencrypt.org"` + "\n_acme-challenge.www 60 IN CNAME " + full + "\n", "www.example.test", "", 0, []string{"ok   CAA   the CAA set at www.example.test."}},
	}
}

// readStorage checks the credentials file: mode 0600, the other domain
// kept, and the goacmedns field names; it returns example.test's account.
func readStorage(t *testing.T, path string) credentials {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v, want 0600", path, err, st.Mode())
	}
	b, _ := os.ReadFile(path)
	var all map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	if all["other.example"]["server_url"] != "https://old" {
		t.Errorf("the other domain's account was not kept: %s", b)
	}
	acct := all["example.test"]
	for _, k := range []string{"fulldomain", "subdomain", "username", "password", "server_url"} {
		if acct[k] == "" {
			t.Errorf("example.test's account lacks %q: %s", k, b)
		}
	}
	if !strings.HasSuffix(acct["fulldomain"], ".auth.example.test") || !strings.HasSuffix(acct["server_url"], registrationToken) {
		t.Errorf("example.test's account: %v", acct)
	}
	return credentials{FullDomain: acct["fulldomain"], SubDomain: acct["subdomain"], Username: acct["username"], Password: acct["password"]}
}

// TestAccountLabel checks the dns-account-01 label against vectors
// computed by hand from the draft (base32 of the first 10 bytes of the
// SHA-256 of the account URI, lower case), which is what Pebble v2.10.1's
// validateDNSAccount01 does (not importable: it is inline in a method).
func TestAccountLabel(t *testing.T) {
	cases := []struct{ uri, label string }{
		{"https://acme-v02.api.letsencrypt.org/acme/acct/123456789", "s7uxt2h3c45tu6gt"},
		{"https://127.0.0.1:14000/my-account/1", "iov3pdu2eqwqloyr"},
	}
	for _, c := range cases {
		if got := accountLabel(c.uri); got != c.label {
			t.Errorf("accountLabel(%q) = %q, want %q", c.uri, got, c.label)
		}
		if got, want := accountChallengeName("*.Example.org", c.uri), "_"+c.label+"._acme-challenge.example.org."; got != want {
			t.Errorf("accountChallengeName = %q, want %q", got, want)
		}
	}
}
