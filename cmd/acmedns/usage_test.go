package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsage: --help of the tool and of each command, exit codes of usage
// errors.
func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, ""},
		{[]string{"--help"}, exitOK, "3  runtime error"},
		{[]string{"nope"}, exitUsage, ""},
		{[]string{"import", "--help"}, exitOK, "--dry-run"},
		{[]string{"accounts", "--help"}, exitOK, "rotate SUB"},
		{[]string{"register", "--help"}, exitOK, "--account-uri"},
		{[]string{"check", "--help"}, exitOK, "--resolver"},
		{[]string{"check", "--help"}, exitOK, "--tls-zone"},
		{[]string{"check", "--help"}, exitOK, "--persist"},
		{[]string{"--help"}, exitOK, "acmedns persist  set|list|remove"},
		{[]string{"persist", "--help"}, exitOK, "_validation-persist.DOMAIN. CNAME <fulldomain>."},
		{[]string{"persist", "--help"}, exitOK, "--persist-until"},
		{[]string{"persist"}, exitUsage, ""},
		{[]string{"persist", "show", "--domain", "example.org"}, exitUsage, ""},
		{[]string{"persist", "set", "list", "--domain", "example.org"}, exitUsage, ""},
		{[]string{"persist", "list"}, exitUsage, ""},
		{[]string{"persist", "set", "--domain", "example.org", "--issuer", "letsencrypt.org"}, exitUsage, ""},
		{[]string{"persist", "set", "--domain", "example.org", "--record", "x", "--issuer", "letsencrypt.org"}, exitUsage, ""},
		{[]string{"persist", "remove", "--domain", "example.org"}, exitUsage, ""},
		{[]string{"persist", "list", "--domain", "example.org", "--admin", "http://127.0.0.1:1"}, exitUsage, ""},
		{[]string{"persist", "list", "--domain", "example.org", "--subdomain", "x"}, exitUsage, ""},
		{[]string{"register", "--domain", "example.org"}, exitUsage, ""},
		{[]string{"register", "--api", "http://127.0.0.1:1", "--domain", "example.org", "--allow", "bad"}, exitUsage, ""},
		{[]string{"check"}, exitUsage, ""},
		{[]string{"accounts", "list"}, exitUsage, ""},
	}
	t.Setenv("ACMEDNS_ADMIN_TOKEN", "")
	for _, c := range cases {
		code, out, errOut := cli(t, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d (want %d), stdout lacks %q:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}

// TestCheckErrors: a domain without saved credentials, or a resolver that
// does not answer, is a runtime error (exit 3).
func TestCheckErrors(t *testing.T) {
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	acct := `{"example.org":{"fulldomain":"x.auth.example.org","subdomain":"x","username":"u","password":"p","server_url":""}}`
	if err := os.WriteFile(storage, []byte(acct), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cases := []struct {
		name   string
		domain string
		want   string
	}{
		{"not registered", "other.example", "run acmedns register --domain other.example first"},
		{"resolver down", "example.org", "no answer from the resolver"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, "check", "--domain", c.domain, "--storage", storage, "--resolver", dead)
			if code != exitRuntime || !strings.Contains(out+errOut, c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, exitRuntime, c.want, out, errOut)
			}
		})
	}
}
