package acmedns

import (
	"bytes"
	golog "log"
	"strings"
	"sync"
	"testing"
)

const (
	regToken  = "s3cret-Registration_token.1"
	regToken2 = "another~registration~token~2"
)

func TestParseRegistrationToken(t *testing.T) {
	cfg, err := parse(newTestController("acmedns {\napi :8053\nregistration token "+regToken+" "+regToken2+"\n}", []string{testZone}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registration.Tokens; len(got) != 2 || got[0] != regToken || got[1] != regToken2 {
		t.Errorf("tokens %v", got)
	}
	for _, bad := range []string{"short-secret", strings.Repeat("x", 129), "with/slash-in-it-0123", "percent%20encoded-xx"} {
		_, err := parse(newTestController("acmedns {\napi :8053\nregistration token "+regToken+" "+bad+"\n}", []string{testZone}, ""))
		if err == nil || !strings.Contains(err.Error(), "registration token 2: want 16 to 128 characters") {
			t.Errorf("token %q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	if _, err := parse(newTestController("acmedns {\napi :8053\nregistration token\n}", []string{testZone}, "")); err == nil {
		t.Error("registration token without a token parsed")
	}
	for in, want := range map[string]bool{"audit on": true, "audit off": false} {
		cfg, err := parse(newTestController("acmedns {\napi :8053\n"+in+"\n}", []string{testZone}, ""))
		if err != nil || cfg.Audit != want {
			t.Errorf("%s: %v %v", in, cfg, err)
		}
	}
	if _, err := parse(newTestController("acmedns {\napi :8053\naudit maybe\n}", []string{testZone}, "")); err == nil || !strings.Contains(err.Error(), "audit: want on or off") {
		t.Errorf("audit maybe: %v", err)
	}
}

// TestRegistrationToken: /register only under a token's prefix, where
// /update and /health are served too; plain /update keeps working.
func TestRegistrationToken(t *testing.T) {
	a := testPlugin(t, "acmedns auth.example.org {\napi 127.0.0.1:0\nregistration token "+regToken+" "+regToken2+"\n}")
	url := apiServer(t, a)
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
	closed := apiServer(t, testPlugin(t, "acmedns auth.example.org {\napi 127.0.0.1:0\nregistration closed\n}"))
	if r := call(t, "POST", closed+"/register", ""); r.status != 404 {
		t.Errorf("registration closed: %d", r.status)
	}
}

// captureLog collects CoreDNS's log output for the rest of the test.
func captureLog(t *testing.T) func() string {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	golog.SetOutput(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	t.Cleanup(func() { golog.SetOutput(discard{}) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestAuditLog: a line for each state change and refused authentication,
// none with a secret; "audit off" writes none.
func TestAuditLog(t *testing.T) {
	logs := captureLog(t)
	a := testPlugin(t, "acmedns auth.example.org {\napi 127.0.0.1:0\nregistration token "+regToken+"\n}")
	url := apiServer(t, a)
	acc := register(t, url+"/"+regToken, "")
	acc.update(t, url, txtA)
	wrong := acc
	wrong.Password = newPassword()
	wrong.update(t, url, txtB)
	restricted := apiServer(t, testPlugin(t, "acmedns auth.example.org {\napi 127.0.0.1:0\nregistration allow 192.0.2.0/24\n}"))
	call(t, "POST", restricted+"/register", "")

	out := logs()
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
	hash, _ := a.store.Account(t.Context(), acc.Subdomain)
	for name, secret := range map[string]string{"password": acc.Password, "wrong key": wrong.Password, "token": regToken, "hash": string(hash.PasswordHash), "username": acc.Username} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}

	quiet := testPlugin(t, "acmedns auth.example.org {\napi 127.0.0.1:0\naudit off\n}")
	before := len(logs())
	register(t, apiServer(t, quiet), "")
	if after := logs()[before:]; strings.Contains(after, "audit") {
		t.Errorf("audit off logged: %s", after)
	}
}
