package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPersistEndToEnd: persist set, list and remove against ./coredns,
// through the public API with the credentials register saved and through
// the admin API, the records served in the fulldomain's TXT RRset, and
// check --persist through the customer's CNAME.
func TestPersistEndToEnd(t *testing.T) {
	s := startServer(t, serverOpts{})
	t.Setenv("ACMEDNS_ADMIN_TOKEN", adminToken)
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	if code, out, errOut := cli(t, "register", "--api", s.API, "--domain", "example.test", "--storage", storage); code != 0 {
		t.Fatalf("register: exit %d\n%s%s", code, out, errOut)
	}
	cred, err := lookupStorage(storage, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	full := strings.ToLower(cred.FullDomain)
	user := []string{"--domain", "example.test", "--storage", storage}
	admin := append([]string{"--admin", s.Admin}, user...)
	rec := func(ca string) string { return ca + "; accounturi=" + testAccountURI }
	persist := func(code int, want string, args ...string) {
		t.Helper()
		got, out, errOut := cli(t, append([]string{"persist"}, args...)...)
		if got != code || !strings.Contains(out+errOut, want) {
			t.Fatalf("persist %v: exit %d (want %d), output lacks %q:\n%s%s", args, got, code, want, out, errOut)
		}
	}
	persist(0, "_validation-persist.example.test. CNAME "+full+".\n", join([]string{"set", "--issuer", "letsencrypt.org", "--account-uri", testAccountURI}, user)...)
	persist(0, "through the admin API", join([]string{"set", "--record", rec("pki.goog") + "; policy=wildcard"}, admin)...)
	wantTXT(t, s, full, rec("letsencrypt.org"), rec("pki.goog")+"; policy=wildcard")
	persist(0, "from DNS", join([]string{"list", "--resolver", s.DNS}, user)...)
	persist(0, "2 records", join([]string{"list"}, admin)...)
	persist(0, "2 records", join([]string{"list", "--resolver", s.DNS}, user)...)
	for _, ca := range []string{"ca3.example", "ca4.example"} {
		persist(0, "CNAME", join([]string{"set", "--record", rec(ca)}, user)...)
	}
	persist(1, "too_many_records", join([]string{"set", "--record", rec("ca5.example")}, user)...)

	s.setZone(t, "_validation-persist 60 IN CNAME "+full+".")
	code, out, errOut := cli(t, "check", "--persist", "--domain", "*.example.test", "--issuer", "pki.goog", "--account-uri", testAccountURI, "--storage", storage, "--resolver", s.DNS)
	if code != 0 || !strings.Contains(out, "ok   PERSIST") || !strings.Contains(out, "ok   CNAME") {
		t.Errorf("check --persist: exit %d\n%s%s", code, out, errOut)
	}
	persist(0, "removed", join([]string{"remove", "--issuer", "pki.goog"}, user)...)
	persist(0, "removed", join([]string{"remove", "--issuer", "ca3.example"}, admin)...)
	persist(0, "removed", join([]string{"remove", "--issuer", "ca3.example"}, user)...) // already gone
	wantTXT(t, s, full, rec("letsencrypt.org"), rec("ca4.example"))
}

// wantTXT waits until the fulldomain's TXT RRset holds exactly the
// records want (dns-01 values aside).
func wantTXT(t *testing.T, s *server, full string, want ...string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		got = got[:0]
		for _, v := range s.txt(t, "tcp", full) {
			if strings.Contains(v, ";") {
				got = append(got, v)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s TXT: records %q, want %q", full, got, want)
	}
}
