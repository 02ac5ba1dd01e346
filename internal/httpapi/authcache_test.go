package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// TestAuthCache: on both stores, 50 repeat updates cost one compare; a wrong
// key after a cached success is 401; a hash changed in the store (by another
// replica, or by hand) is 401 at once.
func TestAuthCache(t *testing.T) {
	srv := redistest.Start(t)
	backends := map[string]backend{
		"bolt":  boltStore,
		"redis": func(t testing.TB) store.Store { return redisStore(t, srv.Addr, "authcache:") },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			h, url := limitedAPI(t, newTestService(t, testConfig(), open(t)))
			acc := register(t, url, "")
			runs := h.gate.runs.Load()
			cached := metricValue(authentications.WithLabelValues("cached"))
			for i := range 50 {
				if r := acc.update(t, url, txtA); r.status != 200 {
					t.Fatalf("update %d: %d %s", i, r.status, r.body)
				}
			}
			if got := h.gate.runs.Load() - runs; got != 1 {
				t.Errorf("50 repeat updates ran %d compares, want 1", got)
			}
			if got := metricValue(authentications.WithLabelValues("cached")) - cached; got != 49 {
				t.Errorf("authentications_total{path=cached} grew by %v, want 49", got)
			}
			wrong := acc
			wrong.Password = newPassword()
			if r := wrong.update(t, url, txtB); r.status != 401 {
				t.Errorf("wrong key after a cached success: %d", r.status)
			}
			if name != "redis" {
				return
			}
			// Rotate the hash behind acmedns's back, as another replica would.
			newKey := newPassword()
			hash, _ := bcrypt.GenerateFromPassword([]byte(newKey), BcryptCost)
			rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer rc.Close()
			if err := rc.HSet(context.Background(), "authcache:sub:"+acc.Subdomain, "p", hash).Err(); err != nil {
				t.Fatal(err)
			}
			if r := acc.update(t, url, txtB); r.status != 401 {
				t.Errorf("old key after the hash changed in the store: %d", r.status)
			}
			rotated := acc
			rotated.Password = newKey
			if r := rotated.update(t, url, txtB); r.status != 200 {
				t.Errorf("new key: %d", r.status)
			}
			// Deleted account: never authenticates from the cache.
			if err := rc.Del(context.Background(), "authcache:sub:"+acc.Subdomain).Err(); err != nil {
				t.Fatal(err)
			}
			if r := rotated.update(t, url, txtB); r.status != 401 {
				t.Errorf("cached key of a deleted account: %d", r.status)
			}
		})
	}
}

func TestAuthCacheUnit(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newAuthCache(AuthCache{TTL: time.Minute, Entries: 10})
	c.now = func() time.Time { return now }
	hash := []byte("$2a$10$abcdefghijklmnopqrstuv")
	c.remember("user", "key", hash)
	tests := []struct {
		name            string
		user, key, hash string
		after           time.Duration
		want            bool
	}{
		{"same", "user", "key", string(hash), 0, true},
		{"other key", "user", "kex", string(hash), 0, false},
		{"other hash", "user", "key", string(hash) + "x", 0, false},
		{"other user", "resu", "key", string(hash), 0, false},
		{"expired", "user", "key", string(hash), time.Minute + time.Second, false},
	}
	for _, tc := range tests {
		now = time.Unix(1000, 0).Add(tc.after)
		if got := c.verified(tc.user, tc.key, []byte(tc.hash)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if newAuthCache(AuthCache{}).verified("user", "key", hash) {
		t.Error("an off cache verified")
	}
}
