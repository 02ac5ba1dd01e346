package httpapi

import (
	"errors"
	"strings"
	"testing"
)

const (
	regToken  = "s3cret-Registration_token.1"
	regToken2 = "another~registration~token~2"
)

// TestRegistrationToken: /register only under a token's prefix, where
// /update and /health are served too; plain /update keeps working.
func TestRegistrationToken(t *testing.T) {
	cfg := testConfig()
	cfg.Registration.Tokens = []string{regToken, regToken2}
	url := apiServer(t, newTestService(t, cfg, boltStore(t)))
	notFound := `{"error": "not_found"}`
	for _, p := range []string{"/register", "//register", "/wrong-token-0123456789/register", "/" + regToken[:len(regToken)-1] + "/register", "/" + regToken + "x/register"} {
		if r := call(t, "POST", url+p, ""); r.status != 404 || r.body != notFound {
			t.Errorf("POST %s: %d %s, want 404", p, r.status, r.body)
		}
	}
	acc := register(t, url+"/"+regToken, "")
	register(t, url+"/"+regToken2+"/", "") // a base URL ending in "/"
	for _, base := range []string{url, url + "/" + regToken, url + "/" + regToken2} {
		if r := acc.update(t, base, txtA); r.status != 200 {
			t.Errorf("update under %q: %d %s", strings.TrimPrefix(base, url), r.status, r.body)
		}
		if r := call(t, "GET", base+"/health", ""); r.status != 200 {
			t.Errorf("health under %q: %d", strings.TrimPrefix(base, url), r.status)
		}
	}
	closedCfg := testConfig()
	closedCfg.Registration.Closed = true
	closed := apiServer(t, newTestService(t, closedCfg, boltStore(t)))
	if r := call(t, "POST", closed+"/register", ""); r.status != 404 {
		t.Errorf("registration closed: %d", r.status)
	}
}

// TestAuditLog: a line for each state change and refused authentication,
// none with a secret; "audit off" writes none.
func TestAuditLog(t *testing.T) {
	logs := captureLog(t)
	cfg := testConfig()
	cfg.Registration.Tokens = []string{regToken}
	fs := &failingStore{Store: boltStore(t)}
	svc := newTestService(t, cfg, fs)
	url := apiServer(t, svc)
	acc := register(t, url+"/"+regToken, "")
	acc.update(t, url, txtA)
	wrong := acc
	wrong.Password = newPassword()
	wrong.update(t, url, txtB)
	restrictedCfg := testConfig()
	restrictedCfg.Registration.Allow = prefixList("192.0.2.0/24")
	restricted := apiServer(t, newTestService(t, restrictedCfg, boltStore(t)))
	call(t, "POST", restricted+"/register", "")
	hash, _ := svc.store.Account(t.Context(), acc.Subdomain)
	// A failed store call logs its cause: even one that carried what the
	// store was sent (as Redis echoes an unknown command's arguments, or a
	// proxy might) keeps its secrets out of the log.
	fs.fail(errors.New("proxy: " + acc.Password + " " + string(hash.PasswordHash) + " for user:" + acc.Username +
		" at redis://default:" + regToken + "@10.0.0.1:6379, with args beginning with: '" + acc.Username + "' '" + acc.Password + "'"))
	if r := acc.update(t, url, txtB); r.status != 503 {
		t.Fatalf("update on a failing store: %d %s", r.status, r.body)
	}

	out := logs()
	if !strings.Contains(out, "storage_unavailable op=update suppressed=0 cause=") {
		t.Errorf("no line with the cause of the failed update in:\n%s", out)
	}
	for _, want := range []string{
		"client=127.0.0.1 action=register subdomain=" + acc.Subdomain + " result=ok",
		"client=127.0.0.1 action=update subdomain=" + acc.Subdomain + " result=ok",
		"client=127.0.0.1 action=update subdomain=" + acc.Subdomain + " result=forbidden",
		"client=127.0.0.1 action=register subdomain=- result=forbidden",
	} {
		if !strings.Contains(out, "[INFO] plugin/acmedns: audit time=") || !strings.Contains(out, want) {
			t.Errorf("no audit line with %q in:\n%s", want, out)
		}
	}
	for name, secret := range map[string]string{"password": acc.Password, "wrong key": wrong.Password, "token": regToken, "hash": string(hash.PasswordHash), "username": acc.Username} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}

	quietCfg := testConfig()
	quietCfg.Audit = false
	quiet := newTestService(t, quietCfg, boltStore(t))
	before := len(logs())
	register(t, apiServer(t, quiet), "")
	if after := logs()[before:]; strings.Contains(after, "audit") {
		t.Errorf("audit off logged: %s", after)
	}
}
