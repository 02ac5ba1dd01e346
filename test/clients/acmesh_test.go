package clients

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"
)

// acme.sh 3.1.x dns_acmedns, replayed byte for byte. Its _post runs curl;
// these are the requests curl 7.88 sends for it (captured on the wire):
// register is `curl -X POST` with neither body nor Content-Type (nor
// Content-Length), update is `curl -X POST --data ...`, which labels the JSON
// application/x-www-form-urlencoded.
const acmeshUA = "acme.sh/3.1.1 (https://github.com/acmesh-official/acme.sh)"

func acmeshRegisterRequest(host string) string {
	return "POST /register HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + acmeshUA + "\r\nAccept: */*\r\n\r\n"
}

func acmeshUpdateRequest(host, user, key, subdomain, txt string) string {
	data := `{"subdomain":"` + subdomain + `", "txt": "` + txt + `"}`
	return "POST /update HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + acmeshUA + "\r\nAccept: */*\r\n" +
		"X-Api-User: " + user + "\r\nX-Api-Key: " + key + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(data)) + "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" + data
}

// rawPOST writes request on a new TCP connection and returns the response
// body, as curl's stdout would hold it.
func rawPOST(t testing.TB, host, request string) []byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s -> %s %s", strings.SplitN(request, "\r\n", 2)[0], resp.Status, body)
	return body
}

// acmeshField runs acme.sh's own extraction on a reply:
// echo "$response" | sed -n 's/^{.*"FIELD":[ ]*"\([^"]*\)".*}/\1/p'
// inside $(...), which drops the trailing newline.
func acmeshField(t testing.TB, response []byte, field string) string {
	t.Helper()
	cmd := exec.Command("sed", "-n", `s/^{.*"`+field+`":[ ]*"\([^"]*\)".*}/\1/p`)
	cmd.Stdin = bytes.NewReader(append(response, '\n'))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sed: %v", err)
	}
	return strings.TrimRight(string(out), "\n")
}

// acmeshAccepted judges an update as acme.sh does:
// echo "$response" | grep "\"$txtvalue\"" >/dev/null
func acmeshAccepted(t testing.TB, response []byte, txt string) bool {
	t.Helper()
	cmd := exec.Command("grep", "-q", `"`+txt+`"`)
	cmd.Stdin = bytes.NewReader(append(response, '\n'))
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return false
	}
	if err != nil {
		t.Fatalf("grep: %v", err)
	}
	return true
}

func testAcmeSh(t *testing.T, srv *harness.CoreDNS) {
	host := strings.TrimPrefix(srv.APIURL, "http://")
	reg := rawPOST(t, host, acmeshRegisterRequest(host))
	user, key := acmeshField(t, reg, "username"), acmeshField(t, reg, "password")
	sub, full := acmeshField(t, reg, "subdomain"), acmeshField(t, reg, "fulldomain")
	checkAccount(t, user, key, sub, full)

	// The base name and the wildcard: both values are published before the
	// CA looks, so both must be live.
	v1, v2 := token(t), token(t)
	for _, v := range []string{v1, v2} {
		if reply := rawPOST(t, host, acmeshUpdateRequest(host, user, key, sub, v)); !acmeshAccepted(t, reply, v) {
			t.Fatalf("acme.sh would report \"invalid response of acme-dns\" for %q", reply)
		}
	}
	expectTXT(t, srv.DNSAddr, full, v2, v1)

	// A wrong key: acme.sh must see a failure, and nothing changes.
	v3 := token(t)
	if reply := rawPOST(t, host, acmeshUpdateRequest(host, user, wrongPassword(key), sub, v3)); acmeshAccepted(t, reply, v3) {
		t.Fatalf("acme.sh would take %q as success for a wrong key", reply)
	}
	expectTXT(t, srv.DNSAddr, full, v2, v1)
}
