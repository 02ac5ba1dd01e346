package httpapi

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// replaceBody is a PUT /accounts/{subdomain} body.
func replaceBody(user, hash string, allow, txt []string) string {
	b, _ := json.Marshal(map[string]any{"username": user, "password_hash": hash, "allowfrom": allow, "txt": txt})
	return string(b)
}

// TestAdminReplace: PUT /accounts/{subdomain} gives an account another
// password hash, allowfrom and TXT values in place (its creation time
// stays, the old key stops at once, the new one works), refuses another
// username without touching the account, and checks its body as POST does.
func TestAdminReplace(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			var hooks hookRecorder
			svc := NewService(testConfig(), open(t), hooks.hooks())
			admin, public := adminServer(t, svc), apiServer(t, svc)
			user, key1, key2 := uuid.NewString(), newPassword(), newPassword()
			hash1, _ := bcrypt.GenerateFromPassword([]byte(key1), 4)
			hash2, _ := bcrypt.GenerateFromPassword([]byte(key2), 4)
			if r := adminCall(t, "POST", admin+"/accounts", `{"subdomain": "moved", `+replaceBody(user, string(hash1), []string{"192.0.2.0/24"}, []string{txtA})[1:]); r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			before := showAccount(t, admin, "moved")
			changed, _ := hooks.counts()

			r := adminCall(t, "PUT", admin+"/accounts/moved", replaceBody(user, string(hash2), nil, []string{txtB, txtC, txtB}))
			var got accountJSON
			if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || len(got.AllowFrom) != 0 || got.Username != user {
				t.Fatalf("replace: %d %s", r.status, r.body)
			}
			if values, err := lookupTXT(svc, "moved"); err != nil || !slices.Equal(texts(values), []string{txtB, txtC}) {
				t.Errorf("values after replace: %q, %v", texts(values), err)
			}
			if after := showAccount(t, admin, "moved"); after.Created == nil || !after.Created.Equal(*before.Created) {
				t.Errorf("created %v before, %v after: the account was not replaced in place", before.Created, after.Created)
			}
			if now, _ := hooks.counts(); now == changed {
				t.Error("new TXT values were not told to the Changed hook")
			}
			old := account{Username: user, Password: key1, Subdomain: "moved"}
			if r := old.update(t, public, txtA); r.status != 401 {
				t.Errorf("the old key after replace: %d", r.status)
			}
			if r := (account{Username: user, Password: key2, Subdomain: "moved"}).update(t, public, txtA); r.status != 200 {
				t.Errorf("the new key after replace: %d %s", r.status, r.body)
			}

			r = adminCall(t, "PUT", admin+"/accounts/moved", replaceBody(uuid.NewString(), string(hash1), nil, nil))
			if r.status != 409 || r.body != `{"error": "username_mismatch"}` {
				t.Errorf("another username: %d %s", r.status, r.body)
			}
			if r := (account{Username: user, Password: key2, Subdomain: "moved"}).update(t, public, txtB); r.status != 200 {
				t.Errorf("a refused replace changed the account: %d", r.status)
			}
			if r := adminCall(t, "PUT", admin+"/accounts/nobody", replaceBody(user, string(hash1), nil, nil)); r.status != 404 || r.body != `{"error": "not_found"}` {
				t.Errorf("a missing account: %d %s", r.status, r.body)
			}
		})
	}
}

// TestAdminReplaceErrors: a PUT body is checked as a POST's, and needs the
// username and the password hash.
func TestAdminReplaceErrors(t *testing.T) {
	url := adminServer(t, newTestService(t, testConfig(), boltStore(t)))
	user := uuid.NewString()
	if r := adminCall(t, "POST", url+"/accounts", `{"subdomain": "target", "username": "`+user+`"}`); r.status != 201 {
		t.Fatal(r)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not json", `{"username":`, "malformed_json_payload"},
		{"no username", replaceBody("", goodHash, nil, nil), "invalid_username"},
		{"no hash", replaceBody(user, "", nil, nil), "invalid_password_hash"},
		{"a password instead of a hash", `{"username": "` + user + `", "password": "` + newPassword() + `"}`, "invalid_password_hash"},
		{"bad hash", replaceBody(user, goodHash+"A", nil, nil), "invalid_password_hash"},
		{"bad cidr", replaceBody(user, goodHash, []string{"nope"}, nil), "invalid_allowfrom_cidr"},
		{"bad txt", replaceBody(user, goodHash, nil, []string{"has space"}), "invalid_txt"},
		{"another subdomain", `{"subdomain": "other", "username": "` + user + `", "password_hash": "` + goodHash + `"}`, "invalid_subdomain"},
	} {
		if r := adminCall(t, "PUT", url+"/accounts/target", tc.body); r.status != 400 || r.body != `{"error": "`+tc.want+`"}` {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.want)
		}
	}
	if r := adminCall(t, "PATCH", url+"/accounts/target", ""); r.status != 405 || r.header.Get("Allow") != "GET, PUT, DELETE" {
		t.Errorf("PATCH: %d %v", r.status, r.header)
	}
}

// showAccount reads an account through the admin API.
func showAccount(t *testing.T, url, sub string) accountJSON {
	t.Helper()
	r := adminCall(t, "GET", url+"/accounts/"+sub, "")
	var a accountJSON
	if r.status != 200 || json.Unmarshal([]byte(r.body), &a) != nil {
		t.Fatalf("GET %s: %d %s", sub, r.status, r.body)
	}
	return a
}

// TestAdminReplaceExpired: a value txt_expire no longer serves is written
// again when a replacement names it, so the account shows and serves what
// the replacement says.
func TestAdminReplaceExpired(t *testing.T) {
	cfg := testConfig()
	cfg.TXTExpire = time.Second
	svc := newTestService(t, cfg, boltStore(t))
	url := adminServer(t, svc)
	user := uuid.NewString()
	if r := adminCall(t, "POST", url+"/accounts", `{"subdomain": "aged", `+replaceBody(user, goodHash, nil, []string{txtA})[1:]); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := adminCall(t, "PUT", url+"/accounts/aged", replaceBody(user, goodHash, nil, []string{txtA})); r.status != 200 {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	if values, err := lookupTXT(svc, "aged"); err != nil || !slices.Equal(texts(values), []string{txtA}) {
		t.Errorf("after replacing an expired value: %q, %v; want it served", texts(values), err)
	}
}
