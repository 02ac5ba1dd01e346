package acmedns

import (
	"bytes"
	"encoding/json"
	"io"
	golog "log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The HTTP side has its own tests (internal/httpapi); these helpers let the
// plugin's tests drive a whole instance through its API.

const (
	adminToken  = "admin-token-0123456789abcdef"
	adminToken2 = "second-admin-token-rotated-in"
	txtA        = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	txtB        = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	txtC        = "ccccccccccccccccccccccccccccccccccccccccc-_"
)

// apiServer serves the plugin's public API over real HTTP on loopback.
func apiServer(t *testing.T, a *ACMEDNS) string {
	t.Helper()
	srv := httptest.NewServer(a.apiService().API())
	t.Cleanup(srv.Close)
	return srv.URL
}

// adminServer serves a's admin API over real HTTP with the two test tokens.
func adminServer(t *testing.T, a *ACMEDNS) string {
	t.Helper()
	srv := httptest.NewServer(a.apiService().Admin([]string{adminToken, adminToken2}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type reply struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, body string, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func adminCall(t *testing.T, method, url, body string) reply {
	t.Helper()
	return call(t, method, url, body, "Authorization", "Bearer "+adminToken)
}

type account struct {
	Username, Password, Fulldomain, Subdomain string
	Allowfrom                                 []string
}

func register(t *testing.T, url, body string) account {
	t.Helper()
	r := call(t, "POST", url+"/register", body)
	if r.status != http.StatusCreated {
		t.Fatalf("register %q: %d %s", body, r.status, r.body)
	}
	var acc account
	if err := json.Unmarshal([]byte(r.body), &acc); err != nil {
		t.Fatal(err)
	}
	return acc
}

func (acc account) update(t *testing.T, url, txt string) reply {
	t.Helper()
	return call(t, "POST", url+"/update", `{"subdomain":"`+acc.Subdomain+`","txt":"`+txt+`"}`,
		"X-Api-User", acc.Username, "X-Api-Key", acc.Password)
}

// captureLog collects CoreDNS's log output until the test ends.
func captureLog(t *testing.T) func() string {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	golog.SetOutput(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	t.Cleanup(func() { golog.SetOutput(io.Discard) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
