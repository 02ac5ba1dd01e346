package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// hostileToken is the registration token in the --api URL of these tests:
// it must never be printed.
const hostileToken = "hostile-registration-token-0123"

// registrar is a server that answers POST /register as a test wants (a
// fault a real acmedns cannot show) and counts the calls.
type registrar struct {
	*httptest.Server
	calls atomic.Int32
}

func newRegistrar(t *testing.T, answer func(w http.ResponseWriter)) *registrar {
	t.Helper()
	r := &registrar{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.calls.Add(1)
		answer(w)
	}))
	t.Cleanup(r.Close)
	return r
}

// answering is a handler that writes status and body.
func answering(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// goodCredentials is an answer as acme-dns gives it, with edit's changes.
func goodCredentials(edit func(map[string]any)) string {
	sub := newUUID()
	m := map[string]any{"username": newUUID(), "password": password(), "subdomain": sub,
		"fulldomain": sub + ".auth.example.test", "allowfrom": []string{}}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// registerWith runs register against url with the token and storage.
func registerWith(t *testing.T, url, storage string) (int, string, string) {
	t.Helper()
	return cli(t, "register", "--api", url+"/"+hostileToken, "--domain", "example.test", "--storage", storage)
}

// TestRegisterHostileServer: register refuses an answer whose username,
// subdomain or fulldomain is malformed, saves nothing then, and prints the
// server's text escaped and never the registration token.
func TestRegisterHostileServer(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	cases := []struct {
		name, body, want string
		status, code     int
	}{
		{"good", goodCredentials(nil), "", 201, exitOK},
		{"fulldomain with a final dot", goodCredentials(func(m map[string]any) { m["fulldomain"] = m["fulldomain"].(string) + "." }), "", 201, exitOK},
		{"username not a UUID", goodCredentials(set("username", "admin\x1b[2J")), "username", 201, exitRuntime},
		{"subdomain not a label", goodCredentials(set("subdomain", "a.b")), "subdomain", 201, exitRuntime},
		{"subdomain with escapes", goodCredentials(set("subdomain", "\x1b]0;x\x07")), "subdomain", 201, exitRuntime},
		{"fulldomain elsewhere", goodCredentials(set("fulldomain", "evil.example.com")), "fulldomain", 201, exitRuntime},
		{"fulldomain not a domain name", goodCredentials(func(m map[string]any) { m["fulldomain"] = m["subdomain"].(string) + ".auth example.test" }), "fulldomain", 201, exitRuntime},
		{"fulldomain without a zone", goodCredentials(func(m map[string]any) { m["fulldomain"] = m["subdomain"] }), "fulldomain", 201, exitRuntime},
		{"no password", goodCredentials(set("password", "")), "password", 201, exitRuntime},
		{"password with a newline", goodCredentials(set("password", "pass\nregistered")), "password", 201, exitRuntime},
		{"not JSON", "\x1b[2Jnot json\nacmedns register: registered", "not", 201, exitRuntime},
		{"an error with escapes", "\x1b]0;pwned\x07\x1b[2Jboom\nacmedns register: registered", "500", 500, exitRuntime},
		{"an error naming the token", `{"error": "bad token ` + hostileToken + `"}`, "403", 403, exitRuntime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRegistrar(t, answering(c.status, c.body))
			storage := filepath.Join(t.TempDir(), "acmedns.json")
			code, out, errOut := registerWith(t, srv.URL, storage)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s%s", code, c.code, c.want, out, errOut)
			}
			checkInert(t, out+errOut)
			if _, err := os.Stat(storage); (err == nil) != (c.code == exitOK) {
				t.Errorf("the credentials file after exit %d: %v", code, err)
			}
		})
	}
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	code, out, errOut := registerWith(t, dead, filepath.Join(t.TempDir(), "acmedns.json"))
	if code != exitRuntime {
		t.Errorf("a server that does not answer: exit %d", code)
	}
	checkInert(t, out+errOut)
}

// checkInert fails when out holds a character a terminal acts on, a line
// forged by the server, or the registration token.
func checkInert(t *testing.T, out string) {
	t.Helper()
	if bad := unsafeText(out); bad != "" {
		t.Errorf("the output holds %s: %q", bad, out)
	}
	if strings.Contains(out, hostileToken) {
		t.Errorf("the output holds the registration token: %q", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "acmedns register: registered") {
			t.Errorf("a line forged by the server: %q", line)
		}
	}
}

// TestRegisterStorageFirst: register checks that it can write the
// credentials file before it registers; a file it cannot use means no
// registration at all.
func TestRegisterStorageFirst(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, storage := range map[string]string{
		"missing directory": filepath.Join(dir, "missing", "acmedns.json"),
		"not JSON":          notJSON,
		"a directory":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRegistrar(t, answering(201, goodCredentials(nil)))
			code, out, errOut := registerWith(t, srv.URL, storage)
			if code != exitRuntime || srv.calls.Load() != 0 {
				t.Errorf("exit %d after %d registrations, want exit 3 and none\n%s%s", code, srv.calls.Load(), out, errOut)
			}
		})
	}
}

// TestRegisterSaveFails: when the credentials file cannot be written after
// all (here its directory goes away during the registration), register
// prints the new credentials, without the token, so they are not lost.
func TestRegisterSaveFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	body := goodCredentials(nil)
	var want credentials
	json.Unmarshal([]byte(body), &want)
	srv := newRegistrar(t, func(w http.ResponseWriter) {
		os.RemoveAll(dir)
		answering(201, body)(w)
	})
	code, out, errOut := registerWith(t, srv.URL, filepath.Join(dir, "acmedns.json"))
	if code != exitRuntime {
		t.Errorf("exit %d, want %d", code, exitRuntime)
	}
	for _, s := range []string{want.Username, want.Password, want.FullDomain} {
		if !strings.Contains(out+errOut, s) {
			t.Errorf("the credentials are lost: %q is not printed\n%s%s", s, out, errOut)
		}
	}
	checkInert(t, out+errOut)
}
