package clients

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"
)

// corefileDual serves the API on 127.0.0.1 and on [::1], same port, from two
// server blocks sharing the embedded store (the harness waits on the
// 127.0.0.1 one). Both are one CoreDNS's, so a registration made through
// either API is updated through either.
const corefileDual = corefile + `
auth6.example.test:{DNS} {
    bind 127.0.0.1
    acmedns {
        api [::1]:{API}
    }
}
`

// TestAllowFromIPv4AndIPv6 checks allowfrom against the TCP peer, IPv4 and
// IPv6: each account is updated once over 127.0.0.1 and once over [::1], and
// exactly the allowed updates answer 200 {"txt": ...} (the others 401
// {"error": "forbidden"}) and are then served over DNS.
func TestAllowFromIPv4AndIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("this test needs the IPv6 loopback ::1, which cannot be bound here: %v", err)
	}
	l.Close()

	srv := harness.StartCoreDNS(t, corefileDual, nil)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.APIURL, "http://"))
	api4, api6 := srv.APIURL, "http://[::1]:"+port
	client := &http.Client{Timeout: 10 * time.Second}
	if resp, err := client.Get(api6 + "/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the API on [::1] does not answer /health: %v %v", resp, err)
	}

	for _, c := range []struct {
		name     string
		allow    []string
		echo     []string
		from4    bool
		from6    bool
		register string // the API registered through
	}{
		{"ipv4 host", []string{"127.0.0.1/32"}, []string{"127.0.0.1/32"}, true, false, api4},
		{"ipv6 host", []string{"::1/128"}, []string{"::1/128"}, false, true, api4},
		{"ipv6 host in brackets", []string{"[::1]/128"}, []string{"::1/128"}, false, true, api6},
		{"both", []string{"127.0.0.0/8", "::1/128"}, []string{"127.0.0.0/8", "::1/128"}, true, true, api6},
		{"neither", []string{"192.0.2.0/24", "2001:db8::/32"}, []string{"192.0.2.0/24", "2001:db8::/32"}, false, false, api4},
		{"no limit", nil, []string{}, true, true, api6},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := registerAllow(t, c.register, c.allow)
			if !slices.Equal(a.AllowFrom, c.echo) {
				t.Errorf("allowfrom %q echoed as %q, want %q", c.allow, a.AllowFrom, c.echo)
			}
			var live []string
			for _, u := range []struct {
				api     string
				allowed bool
			}{{api4, c.from4}, {api6, c.from6}} {
				txt := token(t)
				status, reply := postUpdate(t, client, u.api, a, txt)
				want, wantReply := 401, `{"error": "forbidden"}`
				if u.allowed {
					want, wantReply = 200, `{"txt": "`+txt+`"}`
					live = append([]string{txt}, live...)
				}
				if status != want || reply != wantReply {
					t.Errorf("update through %s with allowfrom %q: %d %s, want %d %s", u.api, c.allow, status, reply, want, wantReply)
				}
			}
			expectTXT(t, srv.DNSAddr, a.Fulldomain, live...)
		})
	}
}

// postUpdate sends the documented update and returns the status and body.
func postUpdate(t testing.TB, client *http.Client, apiURL string, a harness.Account, txt string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"subdomain": a.Subdomain, "txt": txt})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, apiURL+"/update", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-User", a.Username)
	req.Header.Set("X-Api-Key", a.Password)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(reply)
}
