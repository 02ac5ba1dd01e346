package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// goodHash is a well-formed bcrypt hash (cost 4).
const goodHash = "$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"

// withCost is hash with its two cost digits rewritten: a hash of a high
// cost made without computing one (a cost-13 hash takes seconds).
func withCost(hash string, cost int) string {
	return fmt.Sprintf("%s%02d%s", hash[:4], cost, hash[6:])
}

// realHash is a real cost-4 bcrypt hash of a new password.
func realHash(t *testing.T) (hash, password string) {
	t.Helper()
	password = newPassword()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h), password
}

// TestAdminPasswordHash: POST /accounts takes a password_hash only when it
// is a well-formed bcrypt hash of exactly 60 characters, of a cost of 4 to
// MaxHashCost; a well-formed hash of a higher cost is password_hash_cost,
// and a refused hash stores nothing.
func TestAdminPasswordHash(t *testing.T) {
	real4, _ := realHash(t)
	real12, _ := bcrypt.GenerateFromPassword([]byte(newPassword()), MaxHashCost)
	const invalid, tooCostly = "invalid_password_hash", "password_hash_cost"
	cases := []struct {
		name, hash string
		status     int
		code       string
	}{
		{"cost 4", goodHash, 201, ""},
		{"cost 12, generated", string(real12), 201, ""},
		{"cost 12, rewritten", withCost(real4, 12), 201, ""},
		{"version 2b", "$2b" + goodHash[3:], 201, ""},
		{"version 2y", "$2y" + goodHash[3:], 201, ""},
		{"cost 13, one above the ceiling", withCost(real4, 13), 400, tooCostly},
		{"cost 16", withCost(real4, 16), 400, tooCostly},
		{"cost 31", withCost(real4, 31), 400, tooCostly},
		{"cost 13, version 2b", "$2b" + withCost(real4, 13)[3:], 400, tooCostly},
		{"cost 32, beyond bcrypt", withCost(real4, 32), 400, invalid},
		{"cost 13 and one byte too long", withCost(real4, 13) + "A", 400, invalid},
		{"invalid salt", "$2a$04$!!!!!!!!!!!!!!!!!!!!!!" + goodHash[29:], 400, invalid},
		{"invalid hash part", goodHash[:29] + strings.Repeat("%", 31), 400, invalid},
		{"tens of KB after it", goodHash + strings.Repeat("A", 30000), 400, invalid},
		{"one byte too long", goodHash + "A", 400, invalid},
		{"one byte short", goodHash[:59], 400, invalid},
		{"unknown version", "$2x" + goodHash[3:], 400, invalid},
		{"no minor version", "$2$04$" + goodHash[7:] + "A", 400, invalid},
		{"one-digit cost", "$2a$4$" + goodHash[7:] + "A", 400, invalid},
		{"cost below 4", "$2a$03" + goodHash[6:], 400, invalid},
		{"signed cost", "$2a$+4" + goodHash[6:], 400, invalid},
		{"escape character", goodHash[:59] + "\x1b", 400, invalid},
		{"no separator after the cost", "$2a$04x" + goodHash[7:], 400, invalid},
	}
	url := adminServer(t, newTestService(t, testConfig(), boltStore(t)))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := fmt.Sprintf("hash-%d", i)
			body, _ := json.Marshal(map[string]string{"subdomain": sub, "password_hash": c.hash})
			r := adminCall(t, "POST", url+"/accounts", string(body))
			if r.status != c.status || c.status == 400 && r.body != `{"error": "`+c.code+`"}` {
				t.Errorf("%.80q: %d %.100s, want %d %s", c.hash, r.status, r.body, c.status, c.code)
			}
			if c.status == 400 {
				if r := adminCall(t, "GET", url+"/accounts/"+sub, ""); r.status != 404 {
					t.Errorf("a refused hash stored the account: %d %s", r.status, r.body)
				}
			}
		})
	}
}

// TestAdminReplaceHashCost: PUT /accounts/{subdomain} takes a hash of
// cost MaxHashCost and refuses one above it with password_hash_cost,
// keeping the account's hash and key.
func TestAdminReplaceHashCost(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	admin, public := adminServer(t, svc), apiServer(t, svc)
	hash, key := realHash(t)
	user := uuid.NewString()
	if r := adminCall(t, "POST", admin+"/accounts", `{"subdomain": "costly", `+replaceBody(user, hash, nil, nil)[1:]); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		name   string
		cost   int
		status int
		code   string
	}{
		{"cost 13, one above the ceiling", MaxHashCost + 1, 400, "password_hash_cost"},
		{"cost 16", 16, 400, "password_hash_cost"},
		{"cost 31", 31, 400, "password_hash_cost"},
		{"cost 32, beyond bcrypt", 32, 400, "invalid_password_hash"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := adminCall(t, "PUT", admin+"/accounts/costly", replaceBody(user, withCost(hash, c.cost), nil, nil))
			if r.status != c.status || r.body != `{"error": "`+c.code+`"}` {
				t.Errorf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			rec, err := svc.store.Account(context.Background(), "costly")
			if err != nil || string(rec.PasswordHash) != hash {
				t.Errorf("a refused hash changed the account: %q, %v", rec.PasswordHash, err)
			}
		})
	}
	if r := (account{Username: user, Password: key, Subdomain: "costly"}).update(t, public, txtA); r.status != 200 {
		t.Errorf("the key after refused replacements: %d %s", r.status, r.body)
	}
	twelve := withCost(hash, MaxHashCost)
	if r := adminCall(t, "PUT", admin+"/accounts/costly", replaceBody(user, twelve, nil, nil)); r.status != 200 {
		t.Errorf("cost %d: %d %s", MaxHashCost, r.status, r.body)
	}
	if rec, err := svc.store.Account(context.Background(), "costly"); err != nil || string(rec.PasswordHash) != twelve {
		t.Errorf("cost %d not stored: %q, %v", MaxHashCost, rec.PasswordHash, err)
	}
}

// TestHashCost reads the cost of well-formed hashes only.
func TestHashCost(t *testing.T) {
	for _, c := range []struct {
		hash string
		cost int
		ok   bool
	}{
		{goodHash, 4, true},
		{withCost(goodHash, 10), 10, true},
		{withCost(goodHash, MaxHashCost), MaxHashCost, true},
		{withCost(goodHash, 13), 13, true},
		{withCost(goodHash, 31), 31, true},
		{"$2y" + withCost(goodHash, 16)[3:], 16, true},
		{withCost(goodHash, 32), 0, false},
		{withCost(goodHash, 3), 0, false},
		{goodHash[:59], 0, false},
		{goodHash + "A", 0, false},
		{"$2a$1x" + goodHash[6:], 0, false},
		{"", 0, false},
	} {
		if cost, ok := hashCost([]byte(c.hash)); cost != c.cost || ok != c.ok {
			t.Errorf("hashCost(%q) = %d, %v; want %d, %v", c.hash, cost, ok, c.cost, c.ok)
		}
	}
}

// TestStoredHashAboveCeiling: an account stored before the ceiling, with a
// cost-16 hash, is refused at authentication with password_hash_cost and a
// log line naming it, without a compare; its key is never checked.
func TestStoredHashAboveCeiling(t *testing.T) {
	logged := captureLog(t)
	svc := newTestService(t, testConfig(), boltStore(t))
	h, url := limitedAPI(t, svc)
	hash, key := realHash(t)
	acct := store.Account{Username: uuid.NewString(), PasswordHash: []byte(withCost(hash, 16)), Subdomain: "old-costly", AllowFrom: []string{}}
	if err := svc.store.Register(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	runs := h.gate.runs.Load()
	r := (account{Username: acct.Username, Password: key, Subdomain: acct.Subdomain}).update(t, url, txtA)
	if r.status != 401 || r.body != `{"error": "password_hash_cost"}` {
		t.Errorf("update of a cost-16 account: %d %s, want 401 password_hash_cost", r.status, r.body)
	}
	if got := h.gate.runs.Load() - runs; got != 0 {
		t.Errorf("%d bcrypt operations for a cost-16 hash, want none", got)
	}
	if !strings.Contains(logged(), "account old-costly: its stored password hash has bcrypt cost 16") {
		t.Errorf("no log line names the account: %q", logged())
	}
	if got, _ := svc.store.TXT(context.Background(), acct.Subdomain); len(got) != 0 {
		t.Errorf("refused update stored %v", got)
	}
}
