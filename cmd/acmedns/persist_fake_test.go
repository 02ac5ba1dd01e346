package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPersistServerFaults: what persist set says, and its exit code, for
// answers ./coredns does not give to this client, so a stand-in server
// gives them: a store failure (503), bad_record (the local check refuses
// first every record this server refuses; a server of another version may
// refuse more), an error code this client does not know, and one holding
// control characters. Everything ./coredns does answer is tested against
// it (TestPersistServer, TestPersistErrorMapping).
func TestPersistServerFaults(t *testing.T) {
	var status int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	cred, _ := json.Marshal(map[string]credentials{"example.org": {
		FullDomain: "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.test", SubDomain: "d420c923-bbd7-4056-ab64-c3ca54c9b3cf",
		Username: "c36f50e8-4632-44f0-83fe-e070fef28a10", Password: "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z", ServerURL: srv.URL}})
	if err := os.WriteFile(storage, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		status int
		body   string
		code   int
		want   string
	}{
		{503, `{"error": "storage_unavailable"}`, 3, "POST /persist: HTTP 503 storage_unavailable"},
		{502, `<html>bad gateway</html>`, 3, "POST /persist: HTTP 502 bad_gateway"},
		{400, `{"error": "bad_record"}`, 1, "refused the record as invalid (bad_record)"},
		{400, `{"error": "bad_subdomain"}`, 1, "refused the request: HTTP 400 bad_subdomain"},
		{400, `{"error": "\u001b[2J"}`, 1, `HTTP 400 "\x1b[2J"`},
	}
	for _, c := range cases {
		status, body = c.status, c.body
		code, out, errOut := cli(t, "persist", "set", "--domain", "example.org", "--storage", storage, "--issuer", "letsencrypt.org", "--account-uri", testAccountURI)
		if code != c.code || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%d %s: exit %d (want %d), stderr lacks %q:\n%s%s", c.status, c.body, code, c.code, c.want, out, errOut)
		}
	}
}
