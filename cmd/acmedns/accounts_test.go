package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAccounts runs every accounts subcommand against a real CoreDNS; list
// pages through more accounts than one page holds.
func TestAccounts(t *testing.T) {
	s := startServer(t, serverOpts{})
	admin := []string{"--admin", s.Admin, "--token", adminToken}
	var subs []string
	first := registerPublic(t, s)
	subs = append(subs, first.SubDomain)
	for range 4 {
		subs = append(subs, registerPublic(t, s).SubDomain)
	}
	sub := first.SubDomain
	if code := publicUpdate(t, s, first.Username, first.Password, sub, txtValueOf("acct")); code != 200 {
		t.Fatalf("update: %d", code)
	}

	code, out, _ := cli(t, append([]string{"accounts", "list", "--json", "--limit", "2"}, admin...)...)
	var all []account
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil || len(all) != 5 {
		t.Fatalf("list --json --limit 2: exit %d, %d accounts\n%s", code, len(all), out)
	}
	code, out, _ = cli(t, append([]string{"accounts", "list", "--limit", "2"}, admin...)...)
	if code != 0 || !strings.HasPrefix(out, "SUBDOMAIN") || !strings.Contains(out, "5 accounts") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	for _, x := range subs {
		if !strings.Contains(out, x) {
			t.Errorf("list does not show %s", x)
		}
	}

	t.Setenv("ACMEDNS_ADMIN_TOKEN", adminToken) // the token from the environment
	env := []string{"--admin", s.Admin}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"show", sub}, 0, "fulldomain:  " + sub + ".auth.example.test"},
		{[]string{"show", sub}, 0, "txt:         " + txtValueOf("acct")},
		{[]string{"allow", sub, "192.0.2.0/24", "2001:db8::/32"}, 0, "allowfrom:   192.0.2.0/24,2001:db8::/32"},
		{[]string{"allow", sub}, 0, "allowfrom:   any"},
		{[]string{"allow", sub, "nonsense"}, exitUsage, ""},
		{[]string{"rotate", sub}, 0, "new password of " + sub},
		{[]string{"clear", sub}, 0, "cleared the TXT values of " + sub},
		{[]string{"show", sub}, 0, "txt:         (none)"},
		{[]string{"delete", sub}, 0, "deleted " + sub},
		{[]string{"show", sub}, exitFailed, ""},
		{[]string{"delete", sub}, exitFailed, ""},
		{[]string{"frobnicate", sub}, exitUsage, ""},
		{[]string{"show"}, exitUsage, ""},
	}
	for _, st := range steps {
		code, out, errOut := cli(t, append(append([]string{"accounts"}, st.args...), env...)...)
		if code != st.code || !strings.Contains(out, st.want) {
			t.Errorf("accounts %v: exit %d (want %d), output lacks %q:\n%s%s", st.args, code, st.code, st.want, out, errOut)
		}
	}
	code, _, _ = cli(t, "accounts", "list", "--admin", s.Admin, "--token", "wrong-token-0123456789")
	if code != exitRuntime {
		t.Errorf("a wrong token: exit %d, want %d", code, exitRuntime)
	}
}

// registerPublic registers through the public API.
func registerPublic(t *testing.T, s *server) credentials {
	t.Helper()
	c, err := register(s.API, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// publicUpdate sets a TXT value through the public /update and returns
// the status code.
func publicUpdate(t testing.TB, s *server, user, pass, sub, value string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"subdomain": sub, "txt": value})
	req, _ := http.NewRequest("POST", s.API+"/update", bytes.NewReader(body))
	req.Header.Set("X-Api-User", user)
	req.Header.Set("X-Api-Key", pass)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
