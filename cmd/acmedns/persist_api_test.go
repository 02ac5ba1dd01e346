package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestPersistFakeServer: persist set, list and remove against the fake of
// the server's dns-persist-01 API: the requests (headers, JSON bodies,
// paths), the output, and the exit codes of the server's errors.
func TestPersistFakeServer(t *testing.T) {
	f, storage := newFakePersist(t, "example.org")
	t.Setenv("ACMEDNS_ADMIN_TOKEN", f.token)
	user := []string{"--domain", "example.org", "--storage", storage}
	admin := []string{"--domain", "example.org", "--storage", storage, "--admin", f.admin}
	rec := func(ca string) string { return ca + "; accounturi=" + testAccountURI }
	set := func(ca string) []string { return []string{"set", "--issuer", ca, "--account-uri", testAccountURI} }
	cname := "_validation-persist.example.org. CNAME " + f.full + ".\n"
	steps := []struct {
		name string
		args []string
		code int
		want string // in stdout and stderr
		req  *fakeRequest
	}{
		{"set", join(set("LetsEncrypt.org"), user), 0, rec("letsencrypt.org") + "\nCreate this record in the zone of example.org:\n" + cname,
			&fakeRequest{Method: "POST", Path: "/persist", Body: map[string]string{"subdomain": f.sub, "record": rec("letsencrypt.org")}}},
		{"set wildcard", join([]string{"set", "--record", rec("pki.goog") + "; policy=wildcard"}, []string{"--domain", "*.example.org", "--storage", storage}), 0, cname,
			&fakeRequest{Method: "POST", Path: "/persist", Body: map[string]string{"subdomain": f.sub, "record": rec("pki.goog") + "; policy=wildcard"}}},
		{"set by admin", join(set("ca3.example"), admin), 0, "through the admin API",
			&fakeRequest{Method: "PUT", Path: "/accounts/" + f.sub + "/persist", Body: map[string]string{"record": rec("ca3.example")}}},
		{"fourth", join(set("ca4.example"), user), 0, cname, nil},
		{"fifth", join(set("ca5.example"), user), 1, "too_many_records", nil},
		{"list over DNS", join([]string{"list", "--resolver", f.dns}, user), 0, "from DNS (the TXT RRset of " + f.full + ". through " + f.dns, nil},
		{"list by admin", join([]string{"list"}, admin), 0, "from the admin API:\n", &fakeRequest{Method: "GET", Path: "/accounts/" + f.sub}},
		{"remove", join([]string{"remove", "--issuer", "CA4.example."}, user), 0, "removed",
			&fakeRequest{Method: "POST", Path: "/unpersist", Body: map[string]string{"subdomain": f.sub, "issuer": "ca4.example"}}},
		{"remove by admin", join([]string{"remove", "--issuer", "ca3.example"}, admin), 0, "removed",
			&fakeRequest{Method: "DELETE", Path: "/accounts/" + f.sub + "/persist/ca3.example"}},
		{"invalid, not sent", join([]string{"set", "--record", "letsencrypt.org; accounturi=http://x"}, user), 2, "neither an https URL", nil},
		{"wildcard domain, record without policy", join([]string{"set", "--record", rec("pki.goog")}, []string{"--domain", "*.example.org", "--storage", storage}), 2, "needs policy=wildcard", nil},
		{"unknown account", join([]string{"list", "--subdomain", "nope"}, admin), 1, "the account nope does not exist", nil},
		{"wrong token", join([]string{"list", "--token", "wrong-token-0123456789"}, admin), 3, "refused the admin token", nil},
		{"no /persist", join(set("ca5.example"), join(user, []string{"--api", f.api + "/old"})), 3, "does not serve this call", nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.requests = nil
			code, out, errOut := cli(t, append([]string{"persist"}, st.args...)...)
			if code != st.code || !strings.Contains(out+errOut, st.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, st.code, st.want, out, errOut)
			}
			if st.req != nil {
				checkRequest(t, f, *st.req)
			}
			if st.code == exitUsage && len(f.requests) > 0 {
				t.Errorf("a usage error sent %v", f.requests)
			}
		})
	}
	code, out, _ := cli(t, join([]string{"persist", "list", "--resolver", f.dns, "--json"}, user)...)
	var got struct {
		Source  string         `json:"source"`
		Records []listedRecord `json:"records"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.Source != "dns" || len(got.Records) != 2 {
		t.Errorf("list --json over DNS after the removals: exit %d, %+v (want letsencrypt.org and pki.goog, not the dns-01 value)\n%s", code, got, out)
	}
}

// checkRequest compares the last request with want and checks its
// authentication and content type.
func checkRequest(t *testing.T, f *fakePersist, want fakeRequest) {
	t.Helper()
	if len(f.requests) == 0 {
		t.Fatal("no request")
	}
	got := f.requests[len(f.requests)-1]
	if got.Method != want.Method || got.Path != want.Path || fmt.Sprint(got.Body) != fmt.Sprint(want.Body) {
		t.Errorf("request %s %s %v, want %s %s %v", got.Method, got.Path, got.Body, want.Method, want.Path, want.Body)
	}
	if want.Body != nil && got.ContentType != "application/json" {
		t.Errorf("Content-Type %q", got.ContentType)
	}
	if strings.HasPrefix(got.Path, "/accounts/") {
		if got.Header.Get("Authorization") != "Bearer "+f.token || got.Header.Get("X-Api-Key") != "" {
			t.Errorf("admin request headers %v", got.Header)
		}
	} else if got.Header.Get("X-Api-User") != f.user || got.Header.Get("X-Api-Key") != f.key || got.Header.Get("Authorization") != "" {
		t.Errorf("public request headers %v", got.Header)
	}
}

// TestPersistErrorMapping: what persist says, and its exit code, for each
// error answer of the server.
func TestPersistErrorMapping(t *testing.T) {
	f, storage := newFakePersist(t, "example.org")
	cases := []struct {
		refuse string
		code   int
		want   string
	}{
		{"bad_record", 1, "refused the record as invalid (bad_record)"},
		{"too_many_records", 1, "remove one (acmedns persist remove --issuer CA) first"},
		{"bad_subdomain", 1, "refused the request: HTTP 400 bad_subdomain"},
		{"\x1b[2J", 1, `HTTP 400 "\x1b[2J"`},
	}
	for _, c := range cases {
		f.refuse = c.refuse
		code, out, errOut := cli(t, "persist", "set", "--domain", "example.org", "--storage", storage, "--issuer", "letsencrypt.org", "--account-uri", testAccountURI)
		if code != c.code || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%q: exit %d (want %d), stderr lacks %q:\n%s%s", c.refuse, code, c.code, c.want, out, errOut)
		}
	}
	f.refuse = ""
	f.key = "rotated"
	code, _, errOut := cli(t, "persist", "remove", "--domain", "example.org", "--storage", storage, "--issuer", "letsencrypt.org")
	if code != 3 || !strings.Contains(errOut, "HTTP 401 forbidden: the server refused the account's credentials") {
		t.Errorf("a rotated password: exit %d\n%s", code, errOut)
	}
}

// join concatenates argument lists.
func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
