package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// apiServer serves s's public API over real HTTP on loopback.
func apiServer(t testing.TB, s *Service) string {
	t.Helper()
	srv := httptest.NewServer(s.API())
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

const (
	txtA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	txtB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	txtC = "ccccccccccccccccccccccccccccccccccccccccc-_"
)

// registerReply is the exact one-line shape acme.sh's sed and strict JSON
// clients rely on: keys in this order, no spaces, no newline.
var registerReply = regexp.MustCompile(`^\{"username":"([0-9a-f-]{36})","password":"([A-Za-z0-9_-]{40})","fulldomain":"([0-9a-f-]{36})\.auth\.example\.org","subdomain":"([0-9a-f-]{36})","allowfrom":(\[.*\])\}$`)

func TestRegister(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	cases := []struct {
		name, body, contentType string
		allow                   string
	}{
		{"no body", "", "", `[]`},
		{"null", "null\n", "application/json", `[]`},
		{"empty object", "{}", "application/json", `[]`},
		{"whitespace", " \n", "text/plain", `[]`},
		{"allowfrom", `{"allowfrom":["192.0.2.0/24","[::1]/128"]}`, "application/json", `["192.0.2.0/24","::1/128"]`},
		{"capitalised key", `{"AllowFrom":["10.0.0.0/8"]}`, "", `["10.0.0.0/8"]`},
		{"form content type", `{"allowfrom":[]}`, "application/x-www-form-urlencoded", `[]`},
		{"trailing bytes", `{"allowfrom":["10.1.0.0/16"]} trailing`, "application/json", `["10.1.0.0/16"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", url+"/register", tc.body, "Content-Type", tc.contentType)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d %s, want 201", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			m := registerReply.FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("reply not in acme-dns's exact form: %s", r.body)
			}
			user, password, full, sub, allow := m[1], m[2], m[3], m[4], m[5]
			if full != sub || allow != tc.allow {
				t.Errorf("fulldomain %s subdomain %s allowfrom %s; want allowfrom %s", full, sub, allow, tc.allow)
			}
			for _, id := range []string{user, sub} {
				u, err := uuid.Parse(id)
				if err != nil || u.Version() != 4 || u.String() != id {
					t.Errorf("%s is not a lower-case UUID v4", id)
				}
			}
			acct, err := svc.store.Account(context.Background(), sub)
			if err != nil {
				t.Fatal(err)
			}
			if acct.Username != user || bcrypt.CompareHashAndPassword(acct.PasswordHash, []byte(password)) != nil {
				t.Error("stored account does not match the reply")
			}
			if cost, _ := bcrypt.Cost(acct.PasswordHash); cost != 10 {
				t.Errorf("bcrypt cost %d, want 10", cost)
			}
			if strings.Contains(string(acct.PasswordHash), password) {
				t.Error("password stored in clear")
			}
		})
	}
	t.Run("acme.sh sed extracts every field", func(t *testing.T) {
		r := call(t, "POST", url+"/register", "")
		for _, field := range []string{"username", "password", "fulldomain", "subdomain"} {
			re := regexp.MustCompile(`^\{.*"` + field + `":[ ]*"([^"]*)".*\}$`)
			if m := re.FindStringSubmatch(r.body); m == nil || m[1] == "" {
				t.Errorf("no %s in %s", field, r.body)
			}
		}
	})
}

func TestRegisterErrors(t *testing.T) {
	url := apiServer(t, newTestService(t, testConfig(), boltStore(t)))
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"cidr without prefix", "POST", "/register", `{"allowfrom":["192.0.2.1"]}`, 400, `{"error": "invalid_allowfrom_cidr"}`},
		{"garbage cidr", "POST", "/register", `{"allowfrom":["192.0.2.0/24","nope/8"]}`, 400, `{"error": "invalid_allowfrom_cidr"}`},
		{"bad json", "POST", "/register", `{"allowfrom":`, 400, `{"error": "malformed_json_payload"}`},
		{"wrong type", "POST", "/register", `{"allowfrom":"10.0.0.0/8"}`, 400, `{"error": "malformed_json_payload"}`},
		{"array", "POST", "/register", `[]`, 400, `{"error": "malformed_json_payload"}`},
		{"too large", "POST", "/register", `{"allowfrom":[],"pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413, `{"error": "request_too_large"}`},
		{"GET", "GET", "/register", "", 405, `{"error": "method_not_allowed"}`},
		{"unknown path", "POST", "/nope", "", 404, `{"error": "not_found"}`},
		{"root", "GET", "/", "", 404, `{"error": "not_found"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.method, url+tc.path, tc.body)
			if r.status != tc.status || r.body != tc.want || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.body, r.header.Get("Content-Type"), tc.status, tc.want)
			}
		})
	}
	if r := call(t, "GET", url+"/register", ""); r.header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST: %v", r.header)
	}
	// Base URLs that end in "/" make "//register".
	if r := call(t, "POST", url+"//register", ""); r.status != http.StatusCreated {
		t.Errorf("//register: %d %s", r.status, r.body)
	}
}

func TestRegistrationModes(t *testing.T) {
	proxy := prefixList("127.0.0.1/32")
	cases := []struct {
		name    string
		reg     Registration
		trusted []netip.Prefix
		xff     string
		status  int
		want    string
	}{
		{"closed", Registration{Closed: true}, nil, "", 404, `{"error": "not_found"}`},
		{"allow other network", Registration{Allow: prefixList("192.0.2.0/24")}, nil, "", 403, `{"error": "forbidden"}`},
		{"allow loopback", Registration{Allow: prefixList("127.0.0.0/8", "::1/128")}, nil, "", 201, ""},
		{"header ignored without trusted proxy", Registration{Allow: prefixList("192.0.2.0/24")}, nil, "192.0.2.7", 403, `{"error": "forbidden"}`},
		{"trusted proxy vouches", Registration{Allow: prefixList("192.0.2.0/24")}, proxy, "192.0.2.7", 201, ""},
		{"spoofed left entry ignored", Registration{Allow: prefixList("192.0.2.0/24")}, proxy, "192.0.2.7, 198.51.100.9", 403, `{"error": "forbidden"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Registration, cfg.TrustedProxies = tc.reg, tc.trusted
			url := apiServer(t, newTestService(t, cfg, boltStore(t)))
			var r reply
			if tc.xff != "" {
				r = call(t, "POST", url+"/register", "", "X-Forwarded-For", tc.xff)
			} else {
				r = call(t, "POST", url+"/register", "")
			}
			if r.status != tc.status || tc.want != "" && r.body != tc.want {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.want)
			}
			if tc.status != 201 {
				// /update is not affected by registration mode.
				if u := call(t, "POST", url+"/update", "{}"); u.status != 401 {
					t.Errorf("/update: %d", u.status)
				}
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	acc := register(t, url, "")

	r := acc.update(t, url, txtA)
	if r.status != 200 || r.body != `{"txt": "`+txtA+`"}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("update: %d %q", r.status, r.body)
	}
	acc.update(t, url, txtB)
	acc.update(t, url, txtC)
	values, _ := svc.store.TXT(context.Background(), acc.Subdomain)
	if got := texts(values); !reflect.DeepEqual(got, []string{txtC, txtB}) {
		t.Fatalf("after three updates with txt_limit 2: %v", got)
	}

	u := uuid.MustParse(acc.Username)
	forms := map[string]string{
		"upper case": strings.ToUpper(acc.Username),
		"urn":        u.URN(),
		"braces":     "{" + acc.Username + "}",
		"no hyphens": strings.ReplaceAll(acc.Username, "-", ""),
	}
	for name, user := range forms {
		r := call(t, "POST", url+"/update", `{"subdomain":"`+acc.Subdomain+`","txt":"`+txtA+`"}`,
			"X-Api-User", user, "X-Api-Key", acc.Password)
		if r.status != 200 {
			t.Errorf("X-Api-User %s (%s): %d %s", name, user, r.status, r.body)
		}
	}
	bodies := map[string][2]string{
		"capitalised keys":  {`{"SubDomain":"` + acc.Subdomain + `","Txt":"` + txtB + `"}`, "application/json"},
		"form content type": {`{"subdomain":"` + acc.Subdomain + `", "txt": "` + txtB + `"}`, "application/x-www-form-urlencoded"},
		"trailing bytes":    {`{"subdomain":"` + acc.Subdomain + `","txt":"` + txtB + `"}\n\ngarbage`, ""},
		"upper subdomain":   {`{"subdomain":"` + strings.ToUpper(acc.Subdomain) + `","txt":"` + txtB + `"}`, ""},
	}
	for name, b := range bodies {
		r := call(t, "POST", url+"/update", b[0], "X-Api-User", acc.Username, "X-Api-Key", acc.Password, "Content-Type", b[1])
		if r.status != 200 || r.body != `{"txt": "`+txtB+`"}` {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}

func TestUpdateErrors(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	acc := register(t, url, "")
	other := register(t, url, "")
	restricted := register(t, url, `{"allowfrom":["192.0.2.0/24","[::1]/128"]}`)
	if r := acc.update(t, url, txtA); r.status != 200 {
		t.Fatal(r)
	}
	body := func(sub, txt string) string { return `{"subdomain":"` + sub + `","txt":"` + txt + `"}` }
	forbidden := `{"error": "forbidden"}`
	cases := []struct {
		name, user, key, body string
		status                int
		want                  string
	}{
		{"no headers", "", "", body(acc.Subdomain, txtB), 401, forbidden},
		{"user not a uuid", "admin", acc.Password, body(acc.Subdomain, txtB), 401, forbidden},
		{"unknown user", uuid.NewString(), acc.Password, body(acc.Subdomain, txtB), 401, forbidden},
		{"another account's user", other.Username, other.Password, body(acc.Subdomain, txtB), 401, forbidden},
		{"wrong key", acc.Username, other.Password, body(acc.Subdomain, txtB), 401, forbidden},
		{"short key", acc.Username, acc.Password[:39], body(acc.Subdomain, txtB), 401, forbidden},
		{"key with bad char", acc.Username, acc.Password[:39] + "!", body(acc.Subdomain, txtB), 401, forbidden},
		{"other subdomain", acc.Username, acc.Password, body(other.Subdomain, txtB), 401, forbidden},
		{"unknown subdomain", acc.Username, acc.Password, body("nothere", txtB), 401, forbidden},
		{"no subdomain", acc.Username, acc.Password, `{"txt":"` + txtB + `"}`, 401, forbidden},
		{"undecodable body", acc.Username, acc.Password, `{"subdomain":`, 401, forbidden},
		{"empty body", acc.Username, acc.Password, ``, 401, forbidden},
		{"source not allowed", restricted.Username, restricted.Password, body(restricted.Subdomain, txtB), 401, forbidden},
		{"txt too short", acc.Username, acc.Password, body(acc.Subdomain, txtB[:42]), 400, `{"error": "bad_txt"}`},
		{"txt too long", acc.Username, acc.Password, body(acc.Subdomain, txtB+"b"), 400, `{"error": "bad_txt"}`},
		{"txt bad char", acc.Username, acc.Password, body(acc.Subdomain, txtB[:42]+"="), 400, `{"error": "bad_txt"}`},
		{"txt with space", acc.Username, acc.Password, body(acc.Subdomain, txtB[:42]+" "), 400, `{"error": "bad_txt"}`},
		{"no txt", acc.Username, acc.Password, `{"subdomain":"` + acc.Subdomain + `"}`, 400, `{"error": "bad_txt"}`},
		{"txt a number", acc.Username, acc.Password, `{"subdomain":"` + acc.Subdomain + `","txt":1234567890}`, 400, `{"error": "bad_txt"}`},
		{"txt a number, wrong key", acc.Username, other.Password, `{"subdomain":"` + acc.Subdomain + `","txt":1234567890}`, 401, forbidden},
		{"subdomain a number", acc.Username, acc.Password, `{"subdomain":5,"txt":"` + txtB + `"}`, 401, forbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", url+"/update", tc.body, "X-Api-User", tc.user, "X-Api-Key", tc.key)
			if r.status != tc.status || r.body != tc.want {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	for _, acct := range []account{acc, other, restricted} {
		values, _ := svc.store.TXT(context.Background(), acct.Subdomain)
		got, want := texts(values), []string{}
		if acct.Subdomain == acc.Subdomain {
			want = []string{txtA}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s changed by rejected updates: %v", acct.Subdomain, got)
		}
	}
	if r := call(t, "GET", url+"/update", ""); r.status != 405 || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /update: %d %v", r.status, r.header)
	}
}

// TestUpdateAllowFrom: an account's networks decide, in both families.
func TestUpdateAllowFrom(t *testing.T) {
	cfg := testConfig()
	cfg.TrustedProxies = prefixList("127.0.0.1/32")
	url := apiServer(t, newTestService(t, cfg, boltStore(t)))
	v4 := register(t, url, `{"allowfrom":["127.0.0.0/8"]}`)
	v6 := register(t, url, `{"allowfrom":["[::1]/128"]}`)
	if r := v4.update(t, url, txtA); r.status != 200 {
		t.Errorf("IPv4 allowfrom from 127.0.0.1: %d", r.status)
	}
	if r := v6.update(t, url, txtA); r.status != 401 {
		t.Errorf("IPv6-only allowfrom from 127.0.0.1: %d", r.status)
	}
	// Through the trusted proxy the client is ::1.
	r := call(t, "POST", url+"/update", `{"subdomain":"`+v6.Subdomain+`","txt":"`+txtA+`"}`,
		"X-Api-User", v6.Username, "X-Api-Key", v6.Password, "X-Forwarded-For", "::1")
	if r.status != 200 {
		t.Errorf("IPv6 client behind trusted proxy: %d %s", r.status, r.body)
	}
	r = call(t, "POST", url+"/update", `{"subdomain":"`+v4.Subdomain+`","txt":"`+txtA+`"}`,
		"X-Api-User", v4.Username, "X-Api-Key", v4.Password, "X-Forwarded-For", "::1")
	if r.status != 401 {
		t.Errorf("IPv4-only account from ::1: %d", r.status)
	}
}

// TestAPIStoreFailure: a store that fails is 503 with a JSON error that
// leaks nothing, for every call.
func TestAPIStoreFailure(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	acc := register(t, url, "")
	if r := call(t, "GET", url+"/health", ""); r.status != 200 {
		t.Fatalf("health: %d", r.status)
	}
	svc.store.Close()
	want := `{"error": "storage_unavailable"}`
	for name, r := range map[string]reply{
		"register": call(t, "POST", url+"/register", ""),
		"update":   acc.update(t, url, txtA),
		"health":   call(t, "GET", url+"/health", ""),
	} {
		if r.status != 503 || r.body != want {
			t.Errorf("%s: %d %q, want 503 %q", name, r.status, r.body, want)
		}
	}
}

func TestCORS(t *testing.T) {
	off := apiServer(t, newTestService(t, testConfig(), boltStore(t)))
	cfg := testConfig()
	cfg.CORS = []string{"https://app.example"}
	on := apiServer(t, newTestService(t, cfg, boltStore(t)))
	preflight := []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST"}

	if r := call(t, "OPTIONS", off+"/update", "", preflight...); r.status != 405 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("cors off: preflight %d %v", r.status, r.header)
	}
	r := call(t, "OPTIONS", on+"/update", "", preflight...)
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		r.header.Get("Access-Control-Allow-Methods") != "POST, GET" ||
		r.header.Get("Access-Control-Allow-Headers") != "Content-Type, X-Api-User, X-Api-Key" {
		t.Errorf("cors on: preflight %d %v", r.status, r.header)
	}
	if r := call(t, "POST", on+"/register", "", "Origin", "https://app.example"); r.status != 201 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("cors on: register %d %v", r.status, r.header)
	}
	if r := call(t, "OPTIONS", on+"/update", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST"); r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("cors on, other origin: preflight %d %v", r.status, r.header)
	}
}

func TestHealth(t *testing.T) {
	url := apiServer(t, newTestService(t, testConfig(), boltStore(t)))
	if r := call(t, "GET", url+"/health", ""); r.status != 200 {
		t.Errorf("GET /health: %d", r.status)
	}
	if r := call(t, "POST", url+"/health", ""); r.status != 405 || r.body != `{"error": "method_not_allowed"}` {
		t.Errorf("POST /health: %d %s", r.status, r.body)
	}
}

// TestAllowFromBound: at most 64 CIDRs after duplicates are removed.
func TestAllowFromBound(t *testing.T) {
	url := apiServer(t, newTestService(t, testConfig(), boltStore(t)))
	list := func(n, dups int) string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf(`"10.%d.%d.0/24"`, i/256, i%256))
		}
		for range dups {
			s = append(s, `"10.0.0.0/24"`, `"10.0.1.0/24"`)
		}
		return `{"allowfrom":[` + strings.Join(s, ",") + `]}`
	}
	acc := register(t, url, list(64, 20))
	if len(acc.Allowfrom) != 64 {
		t.Errorf("64 CIDRs with duplicates: %d stored", len(acc.Allowfrom))
	}
	r := call(t, "POST", url+"/register", list(65, 0))
	if r.status != 400 || r.body != `{"error": "allowfrom_too_long"}` {
		t.Errorf("65 CIDRs: %d %s", r.status, r.body)
	}
}
