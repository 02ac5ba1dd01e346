package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestPersistServer: persist set, list and remove against ./coredns, with
// the credentials register saved under a token-gated server_url
// (".../<TOKEN>", so every call is /<TOKEN>/persist or /<TOKEN>/unpersist)
// and through the admin API: the records as the server stores them
// (issuer lower-cased, "; " between parameters) in what set prints and what
// list shows, and the exit codes of the server's refusals.
//
// bad_record has no case here: the local check refuses every record this
// server refuses (TestPersistParseRecord), and --record is checked too, so
// no record reaches the server for it to refuse; TestPersistServerFaults
// covers that answer.
func TestPersistServer(t *testing.T) {
	s := startServer(t, serverOpts{extra: "registration token " + registrationToken})
	t.Setenv("ACMEDNS_ADMIN_TOKEN", adminToken)
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	if code, out, errOut := cli(t, "register", "--api", s.API+"/"+registrationToken, "--domain", "example.test", "--storage", storage); code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	cred, err := lookupStorage(storage, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cred.ServerURL, "/"+registrationToken) {
		t.Fatalf("server_url %q lacks the registration token", cred.ServerURL)
	}
	full := strings.ToLower(cred.FullDomain)
	user := []string{"--domain", "example.test", "--storage", storage}
	wild := []string{"--domain", "*.example.test", "--storage", storage}
	admin := join(user, []string{"--admin", s.Admin})
	rec := func(ca string) string { return ca + "; accounturi=" + testAccountURI }
	set := func(ca string) []string { return []string{"set", "--issuer", ca, "--account-uri", testAccountURI} }
	cname := "_validation-persist.example.test. CNAME " + full + ".\n"
	steps := []struct {
		name string
		args []string
		code int
		want string // in stdout and stderr
	}{
		{"set", join(set("LetsEncrypt.org"), user), 0, "\n  " + rec("letsencrypt.org") + "\nCreate this record in the zone of example.test:\n" + cname},
		{"set, shown as stored", join([]string{"set", "--record", "PKI.Goog ;accounturi=" + testAccountURI + " ;policy=wildcard"}, wild), 0, "\n  " + rec("pki.goog") + "; policy=wildcard\n"},
		{"set by admin, shown as stored", join([]string{"set", "--record", "CA3.Example;accounturi=" + testAccountURI}, admin), 0, "through the admin API:\n  " + rec("ca3.example") + "\n"},
		{"fourth", join(set("ca4.example"), user), 0, cname},
		{"fifth", join(set("ca5.example"), user), 1, "POST /persist: the account already has as many records as the server allows (too_many_records)"},
		{"fifth by admin", join(set("ca5.example"), admin), 1, "/persist: the account already has as many records as the server allows (too_many_records)"},
		{"replace, not a fifth", join(set("letsencrypt.org"), []string{"--wildcard"}, user), 0, rec("letsencrypt.org") + "; policy=wildcard\n"},
		{"list over DNS", join([]string{"list", "--resolver", s.DNS}, user), 0, "from DNS (the TXT RRset of " + full + ". through " + s.DNS},
		{"list by admin", join([]string{"list"}, admin), 0, "from the admin API:\n"},
		{"remove", join([]string{"remove", "--issuer", "CA4.example."}, user), 0, "removed the dns-persist-01 record of ca4.example"},
		{"remove by admin", join([]string{"remove", "--issuer", "ca3.example"}, admin), 0, "removed the dns-persist-01 record of ca3.example"},
		{"remove again", join([]string{"remove", "--issuer", "ca3.example"}, user), 0, "if there was one"},
		{"invalid, not sent", join([]string{"set", "--record", "ca5.example; accounturi=https://user@ca5.example/acct/1"}, user), 2, "neither an https URL"},
		{"wildcard domain, record without policy", join([]string{"set", "--record", rec("ca5.example")}, wild), 2, "needs policy=wildcard"},
		{"unknown account", join([]string{"list", "--subdomain", uuid.NewString()}, admin), 1, "does not exist (HTTP 404 not_found)"},
		{"unknown account, set", join(set("ca5.example"), []string{"--subdomain", uuid.NewString()}, admin), 1, "does not exist (HTTP 404 not_found)"},
		{"wrong token", join([]string{"list", "--token", "wrong-token-0123456789"}, admin), 3, "HTTP 401 unauthorized: the server refused the admin token"},
		{"no /persist", join(set("ca5.example"), user, []string{"--api", s.API + "/old"}), 3, "POST /persist: HTTP 404 not_found: the server does not serve this call"},
		{"remove through the base URL without the token", join([]string{"remove", "--issuer", "pki.goog"}, user, []string{"--api", s.API}), 0, "removed"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, out, errOut := cli(t, append([]string{"persist"}, st.args...)...)
			if code != st.code || !strings.Contains(out+errOut, st.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, st.code, st.want, out, errOut)
			}
		})
	}
	want := []string{rec("letsencrypt.org") + "; policy=wildcard"}
	wantTXT(t, s, full, want...)
	for _, args := range [][]string{join([]string{"list", "--resolver", s.DNS}, user), join([]string{"list"}, admin)} {
		code, out, errOut := cli(t, append(append([]string{"persist"}, args...), "--json")...)
		var got struct {
			Records []listedRecord `json:"records"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Records) != len(want) || got.Records[0].Record != want[0] || !got.Records[0].Wildcard {
			t.Errorf("persist %v --json: exit %d, want %q\n%s%s", args, code, want, out, errOut)
		}
	}
}

// TestPersistErrorMapping: what persist says, and its exit code, when
// ./coredns refuses the account's credentials (a rotated password) or
// cannot be reached; the records stay as they were.
func TestPersistErrorMapping(t *testing.T) {
	s := startServer(t, serverOpts{})
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	if code, out, errOut := cli(t, "register", "--api", s.API, "--domain", "example.test", "--storage", storage); code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	user := []string{"--domain", "example.test", "--storage", storage}
	rec := "letsencrypt.org; accounturi=" + testAccountURI
	if code, out, errOut := cli(t, join([]string{"persist", "set", "--record", rec}, user)...); code != 0 {
		t.Fatalf("set: exit %d\n%s%s", code, out, errOut)
	}
	cred, err := lookupStorage(storage, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	wrong := cred
	wrong.Password = strings.Repeat("x", 40)
	wrongStorage := filepath.Join(t.TempDir(), "acmedns.json")
	b, _ := json.Marshal(map[string]credentials{"example.test": wrong})
	if err := os.WriteFile(wrongStorage, b, 0o600); err != nil {
		t.Fatal(err)
	}
	wrongUser := []string{"--domain", "example.test", "--storage", wrongStorage}
	down := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"set, wrong key", join([]string{"set", "--record", "pki.goog; accounturi=" + testAccountURI}, wrongUser), 3, "POST /persist: HTTP 401 forbidden: the server refused the account's credentials or this client's address (allowfrom)"},
		{"remove, wrong key", join([]string{"remove", "--issuer", "letsencrypt.org"}, wrongUser), 3, "POST /unpersist: HTTP 401 forbidden: the server refused the account's credentials"},
		{"server down", join([]string{"set", "--record", "pki.goog; accounturi=" + testAccountURI}, user, []string{"--api", down}), 3, "POST /persist: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, append([]string{"persist"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) || out != "" {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s%s", code, c.code, c.want, out, errOut)
			}
		})
	}
	wantTXT(t, s, strings.ToLower(cred.FullDomain), rec)
}

// join concatenates argument lists.
func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
