package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

const (
	adminToken  = "admin-token-0123456789abcdef"
	adminToken2 = "second-admin-token-rotated-in"
)

// adminServer serves s's admin API over real HTTP with the two test tokens.
func adminServer(t *testing.T, s *Service) string {
	t.Helper()
	srv := httptest.NewServer(s.Admin([]string{adminToken, adminToken2}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func adminCall(t *testing.T, method, url, body string) reply {
	t.Helper()
	return call(t, method, url, body, "Authorization", "Bearer "+adminToken)
}

// adminBackends are the stores the admin tests run on: both of them.
func adminBackends(t *testing.T) map[string]backend {
	return bothBackends(t, fmt.Sprintf("admin-%d:", time.Now().UnixNano()))
}

func TestAdminUnauthorized(t *testing.T) {
	url := adminServer(t, newTestService(t, testConfig(), boltStore(t)))
	unauthorized := `{"error": "unauthorized"}`
	for name, headers := range map[string][]string{
		"no header":       nil,
		"wrong token":     {"Authorization", "Bearer wrong-token-0123456789"},
		"token prefix":    {"Authorization", "Bearer " + adminToken[:len(adminToken)-1]},
		"token longer":    {"Authorization", "Bearer " + adminToken + "x"},
		"no Bearer":       {"Authorization", adminToken},
		"basic":           {"Authorization", "Basic " + adminToken},
		"public api keys": {"X-Api-Key", adminToken},
	} {
		for _, p := range []string{"/accounts", "/accounts/x", "/health", "/nothing"} {
			if r := call(t, "GET", url+p, "", headers...); r.status != 401 || r.body != unauthorized {
				t.Errorf("%s, GET %s: %d %s", name, p, r.status, r.body)
			}
		}
	}
	for _, tok := range []string{adminToken, adminToken2} {
		if r := call(t, "GET", url+"/health", "", "Authorization", "Bearer "+tok); r.status != 200 {
			t.Errorf("token %s...: %d", tok[:6], r.status)
		}
	}
	if r := adminCall(t, "GET", url+"/nothing", ""); r.status != 404 || r.body != `{"error": "not_found"}` {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	if r := adminCall(t, "PATCH", url+"/accounts", ""); r.status != 405 || r.header.Get("Allow") != "GET, POST" {
		t.Errorf("PATCH /accounts: %d %v", r.status, r.header)
	}
}

// TestAdminLifecycle walks one account through every admin call, on both
// stores, checking the public API and what DNS would answer after each.
func TestAdminLifecycle(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			svc := newTestService(t, testConfig(), open(t))
			admin, public := adminServer(t, svc), apiServer(t, svc)

			r := adminCall(t, "POST", admin+"/accounts", `{"subdomain": "Customer-42", "allowfrom": ["127.0.0.0/8", "127.0.0.0/8"]}`)
			var acc account
			if r.status != 201 || json.Unmarshal([]byte(r.body), &acc) != nil || acc.Subdomain != "customer-42" ||
				acc.Fulldomain != "customer-42.auth.example.org" || len(acc.Password) != 40 || len(acc.Allowfrom) != 1 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			if r := acc.update(t, public, txtA); r.status != 200 {
				t.Fatalf("update with the created account: %d %s", r.status, r.body)
			}
			r = adminCall(t, "GET", admin+"/accounts/customer-42", "")
			var shown accountJSON
			if r.status != 200 || json.Unmarshal([]byte(r.body), &shown) != nil || shown.Username != acc.Username ||
				len(shown.TXT) != 1 || shown.TXT[0].Value != txtA || shown.TXT[0].Updated == nil || shown.Created == nil || shown.Updated == nil {
				t.Fatalf("show: %d %s", r.status, r.body)
			}
			if strings.Contains(r.body, "$2a$") || strings.Contains(r.body, acc.Password) || strings.Contains(r.body, `"p"`) {
				t.Errorf("show leaks a secret: %s", r.body)
			}

			// Rotation: the old password stops at once, also after a cached success.
			r = adminCall(t, "POST", admin+"/accounts/customer-42/password", "")
			var rotated account
			if r.status != 200 || json.Unmarshal([]byte(r.body), &rotated) != nil || rotated.Username != acc.Username || len(rotated.Password) != 40 || rotated.Password == acc.Password {
				t.Fatalf("rotate: %d %s", r.status, r.body)
			}
			if r := acc.update(t, public, txtB); r.status != 401 {
				t.Errorf("old password after rotation: %d", r.status)
			}
			acc.Password = rotated.Password
			if r := acc.update(t, public, txtB); r.status != 200 {
				t.Errorf("new password: %d", r.status)
			}

			r = adminCall(t, "PUT", admin+"/accounts/customer-42/allowfrom", `{"allowfrom": ["192.0.2.0/24"]}`)
			if r.status != 200 || !strings.Contains(r.body, `"allowfrom":["192.0.2.0/24"]`) {
				t.Fatalf("allowfrom: %d %s", r.status, r.body)
			}
			if r := acc.update(t, public, txtA); r.status != 401 {
				t.Errorf("update from outside the new allowfrom: %d", r.status)
			}
			adminCall(t, "PUT", admin+"/accounts/customer-42/allowfrom", `{"allowfrom": []}`)

			if r := adminCall(t, "DELETE", admin+"/accounts/customer-42/txt", ""); r.status != 204 || r.body != "" {
				t.Fatalf("clear: %d %s", r.status, r.body)
			}
			if values, err := lookupTXT(svc, "customer-42"); err != nil || len(values) != 0 {
				t.Errorf("after clear: %v, values %v; want the name with no values (NODATA)", err, texts(values))
			}

			if r := adminCall(t, "DELETE", admin+"/accounts/customer-42", ""); r.status != 204 {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			if _, err := lookupTXT(svc, "customer-42"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after delete: %v, want not found (NXDOMAIN)", err)
			}
			if r := acc.update(t, public, txtA); r.status != 401 {
				t.Errorf("update after delete: %d", r.status)
			}
			for _, c := range []struct{ method, path string }{
				{"GET", "/accounts/customer-42"}, {"DELETE", "/accounts/customer-42"}, {"POST", "/accounts/customer-42/password"},
				{"DELETE", "/accounts/customer-42/txt"},
			} {
				if r := adminCall(t, c.method, admin+c.path, ""); r.status != 404 || r.body != `{"error": "not_found"}` {
					t.Errorf("%s %s after delete: %d %s", c.method, c.path, r.status, r.body)
				}
			}
			if r := adminCall(t, "PUT", admin+"/accounts/customer-42/allowfrom", `{"allowfrom": []}`); r.status != 404 {
				t.Errorf("allowfrom after delete: %d", r.status)
			}
		})
	}
}

// lookupTXT reads sub's TXT values from s's store as the DNS handler does
// (from the store's cache when it has them, else from the backend within
// the timeout) and keeps those txt_expire still serves. store.ErrNotFound
// is what DNS answers NXDOMAIN; no error with no values is NODATA.
func lookupTXT(s *Service, sub string) ([]store.Value, error) {
	values, hit, err := s.store.CachedTXT(sub)
	if !hit {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		values, err = s.store.FetchTXT(ctx, sub)
	}
	if err != nil {
		return nil, err
	}
	return store.Live(values, s.cfg.TXTExpire, time.Now()), nil
}

// TestAdminImport: an account created with a verbatim hash, username and
// TXT values (as an import does) works with its old credentials.
func TestAdminImport(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			svc := newTestService(t, testConfig(), open(t))
			admin, public := adminServer(t, svc), apiServer(t, svc)
			key := newPassword()
			hash, _ := bcrypt.GenerateFromPassword([]byte(key), 4) // any cost up to MaxHashCost is kept
			user := uuid.NewString()
			body := fmt.Sprintf(`{"subdomain": "imported", "username": %q, "password_hash": %q, "allowfrom": ["127.0.0.1/32"], "txt": [%q, %q]}`, strings.ToUpper(user), hash, txtB, txtA)
			r := adminCall(t, "POST", admin+"/accounts", body)
			if r.status != 201 || strings.Contains(r.body, "password") || !strings.Contains(r.body, `"username":"`+user+`"`) {
				t.Fatalf("import: %d %s", r.status, r.body)
			}
			if values, err := lookupTXT(svc, "imported"); err != nil || len(values) != 2 {
				t.Errorf("imported values: %v, values %v", err, texts(values))
			}
			acc := account{Username: user, Password: key, Subdomain: "imported"}
			if r := acc.update(t, public, txtC); r.status != 200 {
				t.Errorf("update with the imported credentials: %d %s", r.status, r.body)
			}
			rec, _ := svc.store.Account(context.Background(), "imported")
			if string(rec.PasswordHash) != string(hash) {
				t.Errorf("hash not kept verbatim")
			}
			// Conflicts: the subdomain, or the username, taken.
			for _, b := range []string{`{"subdomain": "imported"}`, fmt.Sprintf(`{"subdomain": "other", "username": %q}`, user)} {
				if r := adminCall(t, "POST", admin+"/accounts", b); r.status != 409 || r.body != `{"error": "exists"}` {
					t.Errorf("conflict %s: %d %s", b, r.status, r.body)
				}
			}
			if r := adminCall(t, "GET", admin+"/accounts/other", ""); r.status != 404 {
				t.Errorf("a refused create wrote something: %d", r.status)
			}
			// A chosen password: usable, not echoed.
			r = adminCall(t, "POST", admin+"/accounts", `{"subdomain": "chosen", "password": "`+key+`"}`)
			var chosen account
			if r.status != 201 || json.Unmarshal([]byte(r.body), &chosen) != nil || chosen.Password != "" {
				t.Fatalf("chosen password: %d %s", r.status, r.body)
			}
			chosen.Password = key
			if r := chosen.update(t, public, txtA); r.status != 200 {
				t.Errorf("update with the chosen password: %d", r.status)
			}
		})
	}
}

func TestAdminCreateErrors(t *testing.T) {
	url := adminServer(t, newTestService(t, testConfig(), boltStore(t)))
	for _, tc := range []struct{ name, body, want string }{
		{"not json", `{"subdomain":`, "malformed_json_payload"},
		{"bad subdomain", `{"subdomain": "has.dot"}`, "invalid_subdomain"},
		{"subdomain with hyphen first", `{"subdomain": "-x"}`, "invalid_subdomain"},
		{"bad username", `{"username": "admin"}`, "invalid_username"},
		{"short password", `{"password": "short"}`, "invalid_password"},
		{"bad hash", `{"password_hash": "$2a$10$short"}`, "invalid_password_hash"},
		{"password and hash", `{"password": "` + newPassword() + `", "password_hash": "$2a$10$x"}`, "password_and_password_hash"},
		{"bad cidr", `{"allowfrom": ["nope"]}`, "invalid_allowfrom_cidr"},
		{"bad txt", `{"txt": ["has space"]}`, "invalid_txt"},
	} {
		if r := adminCall(t, "POST", url+"/accounts", tc.body); r.status != 400 || r.body != `{"error": "`+tc.want+`"}` {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.want)
		}
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "cursor=!!!", "cursor=bm8uZG90"} {
		if r := adminCall(t, "GET", url+"/accounts?"+q, ""); r.status != 400 {
			t.Errorf("list ?%s: %d %s", q, r.status, r.body)
		}
	}
	if r := adminCall(t, "PUT", url+"/accounts/x/allowfrom", `{"allow": []}`); r.status != 400 || r.body != `{"error": "malformed_json_payload"}` {
		t.Errorf("allowfrom without the field: %d %s", r.status, r.body)
	}
}

// TestAdminList pages through every account once, in order.
func TestAdminList(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			svc := newTestService(t, testConfig(), open(t))
			url := adminServer(t, svc)
			want := map[string]bool{}
			for i := range 25 {
				sub := fmt.Sprintf("list-%02d", i)
				want[sub] = true
				if r := adminCall(t, "POST", url+"/accounts", `{"subdomain": "`+sub+`"}`); r.status != 201 {
					t.Fatal(r)
				}
			}
			var got []string
			cursor, pages := "", 0
			for {
				r := adminCall(t, "GET", url+"/accounts?limit=10&cursor="+cursor, "")
				var page struct {
					Accounts []accountJSON `json:"accounts"`
					Next     *string       `json:"next"`
				}
				if r.status != 200 || json.Unmarshal([]byte(r.body), &page) != nil {
					t.Fatalf("list: %d %s", r.status, r.body)
				}
				pages++
				for _, acc := range page.Accounts {
					got = append(got, acc.Subdomain)
				}
				if page.Next == nil {
					break
				}
				cursor = *page.Next
			}
			if pages != 3 || len(got) != 25 {
				t.Errorf("%d pages, %d accounts: %v", pages, len(got), got)
			}
			for i, sub := range got {
				if !want[sub] || i > 0 && got[i-1] >= sub {
					t.Errorf("listing out of order or unknown at %d: %v", i, got)
					break
				}
			}
		})
	}
}

// TestUnregister: the public API deletes the caller's own account, with the
// same authentication as an update.
func TestUnregister(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			svc := newTestService(t, testConfig(), open(t))
			url := apiServer(t, svc)
			acc, other := register(t, url, ""), register(t, url, "")
			acc.update(t, url, txtA) // cached credentials from here
			body := `{"subdomain": "` + acc.Subdomain + `"}`
			for name, headers := range map[string][]string{
				"wrong key":        {"X-Api-User", acc.Username, "X-Api-Key", other.Password},
				"other user":       {"X-Api-User", other.Username, "X-Api-Key", other.Password},
				"no headers":       nil,
				"malformed header": {"X-Api-User", "x", "X-Api-Key", "y"},
			} {
				if r := call(t, "POST", url+"/unregister", body, headers...); r.status != 401 || r.body != `{"error": "forbidden"}` {
					t.Errorf("%s: %d %s", name, r.status, r.body)
				}
			}
			if values, err := lookupTXT(svc, acc.Subdomain); err != nil || len(values) != 1 {
				t.Fatalf("refused unregisters changed the account: %v, values %v", err, texts(values))
			}
			r := call(t, "POST", url+"/unregister", body, "X-Api-User", acc.Username, "X-Api-Key", acc.Password)
			if r.status != 200 || r.body != `{"unregistered": "`+acc.Subdomain+`"}` {
				t.Fatalf("unregister: %d %s", r.status, r.body)
			}
			if _, err := lookupTXT(svc, acc.Subdomain); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after unregister: %v, want not found (NXDOMAIN)", err)
			}
			if r := acc.update(t, url, txtB); r.status != 401 {
				t.Errorf("update after unregister: %d", r.status)
			}
			if _, err := lookupTXT(svc, other.Subdomain); err != nil {
				t.Errorf("the other account: %v", err)
			}
			if r := call(t, "GET", url+"/unregister", ""); r.status != 405 {
				t.Errorf("GET /unregister: %d", r.status)
			}
		})
	}
}

// TestAdminAudit: every admin write and refused token is an audit line, and
// no line holds a token, a password or a hash.
func TestAdminAudit(t *testing.T) {
	logs := captureLog(t)
	svc := newTestService(t, testConfig(), boltStore(t))
	admin, public := adminServer(t, svc), apiServer(t, svc)
	key := newPassword()
	hash, _ := bcrypt.GenerateFromPassword([]byte(key), 4)
	adminCall(t, "POST", admin+"/accounts", `{"subdomain": "audited", "password_hash": "`+string(hash)+`"}`)
	r := adminCall(t, "POST", admin+"/accounts/audited/password", "")
	var rotated account
	json.Unmarshal([]byte(r.body), &rotated)
	adminCall(t, "PUT", admin+"/accounts/audited/allowfrom", `{"allowfrom": []}`)
	adminCall(t, "DELETE", admin+"/accounts/audited/txt", "")
	adminCall(t, "DELETE", admin+"/accounts/audited", "")
	adminCall(t, "DELETE", admin+"/accounts/audited", "")
	call(t, "GET", admin+"/accounts", "", "Authorization", "Bearer wrong-token-0123456789")
	acc := register(t, public, "")
	call(t, "POST", public+"/unregister", `{"subdomain": "`+acc.Subdomain+`"}`, "X-Api-User", acc.Username, "X-Api-Key", acc.Password)

	out := logs()
	for _, want := range []string{
		"action=admin_create subdomain=audited result=ok",
		"action=admin_rotate subdomain=audited result=ok",
		"action=admin_allowfrom subdomain=audited result=ok",
		"action=admin_clear subdomain=audited result=ok",
		"action=admin_delete subdomain=audited result=ok",
		"action=admin_delete subdomain=audited result=not_found",
		"client=127.0.0.1 action=admin subdomain=- result=unauthorized",
		"action=unregister subdomain=" + acc.Subdomain + " result=ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no audit line with %q in:\n%s", want, out)
		}
	}
	for name, secret := range map[string]string{
		"admin token": adminToken, "second admin token": adminToken2, "wrong token": "wrong-token-0123456789",
		"imported key": key, "imported hash": string(hash), "rotated password": rotated.Password, "password": acc.Password,
	} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// TestAdminTokenFlood: wrong tokens from one peer spend its failure budget:
// within it each is a 401 and an audit line, beyond it 429 with Retry-After,
// counted and not logged, so a flood of guesses writes a bounded log. The
// administrator's own token still works throughout, from the same address.
func TestAdminTokenFlood(t *testing.T) {
	logs := captureLog(t)
	cfg := testConfig()
	cfg.Limits.AuthFailures = Rate{PerSecond: 1.0 / 60, Burst: 5}
	url := adminServer(t, newTestService(t, cfg, boltStore(t)))
	limited := adminCalls.WithLabelValues("any", "rate_limited")
	before := metricValue(limited)
	statuses := map[int]int{}
	for i := range 200 {
		r := call(t, "GET", url+"/accounts", "", "Authorization", "Bearer guess-0123456789-"+strconv.Itoa(i))
		statuses[r.status]++
		if r.status == 429 && (r.header.Get("Retry-After") == "" || r.body != `{"error": "too_many_requests"}`) {
			t.Fatalf("429 without Retry-After or with %s", r.body)
		}
		if i%50 == 0 {
			if r := adminCall(t, "GET", url+"/accounts", ""); r.status != 200 {
				t.Fatalf("the administrator's token during the flood: %d %s", r.status, r.body)
			}
		}
	}
	if statuses[401] != 5 || statuses[429] != 195 {
		t.Errorf("statuses %v, want 5 × 401 then 195 × 429", statuses)
	}
	if got := metricValue(limited) - before; got != 195 {
		t.Errorf("rate_limited counted %v times, want 195", got)
	}
	out := logs()
	if n := strings.Count(out, "result=unauthorized"); n != 5 {
		t.Errorf("%d audit lines for 200 refused tokens, want 5 (the budget)", n)
	}
	if strings.Contains(out, "guess-0123456789") {
		t.Error("a refused token reached the log")
	}
}

// TestAdminAuditPeer: the admin audit line names the TCP peer, even from a
// trusted proxy with an X-Forwarded-For header, so that a local process
// cannot choose the address a ban filter reads.
func TestAdminAuditPeer(t *testing.T) {
	logs := captureLog(t)
	cfg := testConfig()
	cfg.TrustedProxies = prefixList("127.0.0.0/8")
	url := adminServer(t, newTestService(t, cfg, boltStore(t)))
	call(t, "GET", url+"/accounts", "", "Authorization", "Bearer wrong-0123456789", "X-Forwarded-For", "203.0.113.9")
	call(t, "POST", url+"/accounts", `{"subdomain": "peer"}`, "Authorization", "Bearer "+adminToken, "X-Forwarded-For", "203.0.113.9")
	out := logs()
	for _, want := range []string{"client=127.0.0.1 action=admin subdomain=- result=unauthorized", "client=127.0.0.1 action=admin_create subdomain=peer result=ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "203.0.113.9") {
		t.Errorf("the forwarded address reached the audit log:\n%s", out)
	}
}
