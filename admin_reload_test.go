package acmedns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestAdminListenerReload: a real CoreDNS with an admin listener (a token
// from the environment and one from a file). A reload keeps it bound,
// rereads the token file (rotation), and a failed reload keeps the old
// tokens. The tokens never reach the log.
func TestAdminListenerReload(t *testing.T) {
	logs := captureLog(t)
	p := newPorts(t)
	adminAddr := "127.0.0.1:" + freePort(t)
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	fileToken := "file-token-0123456789-first"
	os.WriteFile(tokenFile, []byte(fileToken+"\n"), 0o600)
	t.Setenv("ACMEDNS_TEST_ADMIN_TOKEN", adminToken)
	opts := "db " + t.TempDir() + "/acmedns.db\nadmin " + adminAddr + " {\ntoken {$ACMEDNS_TEST_ADMIN_TOKEN}\ntoken_file " + tokenFile + "\n}"
	srv := startCoreDNS(t, p.corefile(opts))

	adminURL := "http://" + adminAddr
	as := func(tok string) int {
		return call(t, "GET", adminURL+"/accounts", "", "Authorization", "Bearer "+tok).status
	}
	if as(adminToken) != 200 || as(fileToken) != 200 || as("not-a-token-0123456789") != 401 {
		t.Fatalf("tokens before reload: env %d file %d wrong %d", as(adminToken), as(fileToken), as("not-a-token-0123456789"))
	}
	r := call(t, "POST", adminURL+"/accounts", `{"subdomain": "via-admin"}`, "Authorization", "Bearer "+adminToken)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	checkTXT(t, p.dnsAddr(), "via-admin.auth.example.test.", dns.RcodeSuccess)

	// Rotate the file's token, then reload.
	rotated := "file-token-0123456789-second"
	os.WriteFile(tokenFile, []byte(rotated), 0o600)
	if err := srv.reload(p.corefile(opts + "\nttl 5")); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if as(rotated) != 200 || as(fileToken) != 401 || as(adminToken) != 200 {
		t.Errorf("after reload: rotated %d, old %d, env %d", as(rotated), as(fileToken), as(adminToken))
	}
	// A reload whose token file is gone fails and keeps the old tokens.
	os.Remove(tokenFile)
	if err := srv.reload(p.corefile(opts)); err == nil {
		t.Fatal("a reload with a missing token file succeeded")
	}
	if as(rotated) != 200 {
		t.Errorf("after a failed reload the admin API answers %d", as(rotated))
	}
	out := logs()
	for _, secret := range []string{adminToken, fileToken, rotated} {
		if strings.Contains(out, secret) {
			t.Errorf("a token reached the log")
		}
	}
}
