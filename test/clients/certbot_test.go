package clients

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/acmedns/acmedns/test/harness"
)

// testCertbot runs testdata/certbot_hook.py, a certbot hook using
// python-requests, through a recorder, and checks what it sent and that its
// values are live.
func testCertbot(t *testing.T, srv *harness.CoreDNS) {
	if out, err := exec.Command("python3", "-c", "import requests").CombinedOutput(); err != nil {
		t.Fatalf("python3 with requests is needed (apt-get install -y python3-requests): %v\n%s", err, out)
	}
	rec := newRecorder(t, srv.APIURL)
	v1, v2 := token(t), token(t)
	cmd := exec.CommandContext(t.Context(), "python3", "testdata/certbot_hook.py", rec.URL, v1, v2)
	cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("certbot_hook.py: %v\n%s", err, stderr.Bytes())
	}
	var a harness.Account
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("certbot_hook.py printed %q: %v", out, err)
	}
	checkAccount(t, a.Username, a.Password, a.Subdomain, a.Fulldomain)

	x := rec.take(t, 4)
	// requests.post(url) with no data: Content-Length 0, no Content-Type.
	wantExchange(t, x[0], "/register", "", "", 201, "")
	if x[0].ContentLength != 0 || len(x[0].Header.Values("Content-Type")) != 0 {
		t.Errorf("register sent Content-Length %d, Content-Type %q: want 0 and none", x[0].ContentLength, x[0].Header.Values("Content-Type"))
	}
	// json=...: json.dumps's separators, labelled application/json.
	for i, v := range []string{v1, v2} {
		wantExchange(t, x[1+i], "/update", "application/json", `{"subdomain": "`+a.Subdomain+`", "txt": "`+v+`"}`, 200, `{"txt": "`+v+`"}`)
	}
	wantExchange(t, x[3], "/update", "application/json", `{"subdomain": "`+a.Subdomain+`", "txt": "not-a-digest"}`, 400, `{"error": "bad_txt"}`)
	expectTXT(t, srv.DNSAddr, a.Fulldomain, v2, v1)
}
