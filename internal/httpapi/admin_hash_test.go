package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// goodHash is a well-formed bcrypt hash (cost 4).
const goodHash = "$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"

// TestAdminPasswordHash: POST /accounts takes a password_hash only when it
// is a well-formed bcrypt hash of exactly 60 characters, at any cost.
func TestAdminPasswordHash(t *testing.T) {
	real12, _ := bcrypt.GenerateFromPassword([]byte(newPassword()), 12)
	cases := []struct {
		name, hash string
		status     int
	}{
		{"cost 4", goodHash, 201},
		{"cost 12, generated", string(real12), 201},
		{"version 2b", "$2b" + goodHash[3:], 201},
		{"version 2y", "$2y" + goodHash[3:], 201},
		{"cost 31", "$2a$31" + goodHash[6:], 201},
		{"invalid salt", "$2a$04$!!!!!!!!!!!!!!!!!!!!!!" + goodHash[29:], 400},
		{"invalid hash part", goodHash[:29] + strings.Repeat("%", 31), 400},
		{"tens of KB after it", goodHash + strings.Repeat("A", 30000), 400},
		{"one byte too long", goodHash + "A", 400},
		{"one byte short", goodHash[:59], 400},
		{"unknown version", "$2x" + goodHash[3:], 400},
		{"no minor version", "$2$04$" + goodHash[7:] + "A", 400},
		{"one-digit cost", "$2a$4$" + goodHash[7:] + "A", 400},
		{"cost below 4", "$2a$03" + goodHash[6:], 400},
		{"signed cost", "$2a$+4" + goodHash[6:], 400},
		{"escape character", goodHash[:59] + "\x1b", 400},
		{"no separator after the cost", "$2a$04x" + goodHash[7:], 400},
	}
	url := adminServer(t, newTestService(t, testConfig(), boltStore(t)))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"subdomain": fmt.Sprintf("hash-%d", i), "password_hash": c.hash})
			r := adminCall(t, "POST", url+"/accounts", string(body))
			if r.status != c.status || c.status == 400 && r.body != `{"error": "invalid_password_hash"}` {
				t.Errorf("%.80q: %d %.100s, want %d", c.hash, r.status, r.body, c.status)
			}
		})
	}
}
