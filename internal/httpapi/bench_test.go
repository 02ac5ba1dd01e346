package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkCompareMaxCost measures one bcrypt compare of a hash of
// MaxHashCost, the most a stored hash may cost, and of BcryptCost, the cost
// acmedns hashes at, for scale: the time one bcrypt slot is held.
// Run: go test -run '^$' -bench Compare -benchtime 3x ./internal/httpapi/
func BenchmarkCompareMaxCost(b *testing.B) {
	for _, cost := range []int{BcryptCost, MaxHashCost} {
		b.Run(fmt.Sprintf("cost-%d", cost), func(b *testing.B) {
			key := []byte(newPassword())
			hash, err := bcrypt.GenerateFromPassword(key, cost)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if bcrypt.CompareHashAndPassword(hash, key) != nil {
					b.Fatal("mismatch")
				}
			}
		})
	}
}

// BenchmarkUpdate compares one bcrypt comparison with a whole /update over
// loopback HTTP (the store's write included: an fsync on the embedded store)
// when the verified-credential cache knows the credentials and when it is off.
// Run: go test -run '^$' -bench Update -benchtime 3s ./internal/httpapi/
func BenchmarkUpdate(b *testing.B) {
	b.Run("bcrypt-compare", func(b *testing.B) {
		key := newPassword()
		hash, _ := bcrypt.GenerateFromPassword([]byte(key), BcryptCost)
		for b.Loop() {
			if bcrypt.CompareHashAndPassword(hash, []byte(key)) != nil {
				b.Fatal("mismatch")
			}
		}
	})
	redisAddr := redistest.Start(b).Addr
	for _, tc := range []struct {
		name    string
		open    backend
		noCache bool
	}{
		{"update-cached-bolt", boltStore, false},
		{"update-uncached-bolt", boltStore, true},
		{"update-cached-redis", func(t testing.TB) store.Store { return redisStore(t, redisAddr, "acmedns:") }, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.Limits.AuthFailures = Rate{}
			if tc.noCache {
				cfg.AuthCache = AuthCache{}
			}
			srv := httptest.NewServer(newTestService(b, cfg, tc.open(b)).API())
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/register", "", nil)
			if err != nil {
				b.Fatal(err)
			}
			var acc account
			json.NewDecoder(resp.Body).Decode(&acc)
			resp.Body.Close()
			body := `{"subdomain":"` + acc.Subdomain + `","txt":"` + txtA + `"}`
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest("POST", srv.URL+"/update", strings.NewReader(body))
				req.Header.Set("X-Api-User", acc.Username)
				req.Header.Set("X-Api-Key", acc.Password)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}
