package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// TestRedisReplicaSeesDelete: a deletion through one replica is answered
// ErrNotFound at once by it, and from memory by another that had the
// registration cached (or indexed), within a short poll.
func TestRedisReplicaSeesDelete(t *testing.T) {
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache %d", cacheSize), func(t *testing.T) {
			srv := redistest.Start(t)
			a, b := openRedis(t, srv.Addr, cacheSize), openRedis(t, srv.Addr, cacheSize)
			ctx := context.Background()
			eventually(t, "indexes loaded", func() bool { return a.IndexTrusted() && b.IndexTrusted() })
			if err := a.Register(ctx, account("doomed")); err != nil {
				t.Fatal(err)
			}
			if err := a.AddTXT(ctx, "doomed", "v1", 2, 0); err != nil {
				t.Fatal(err)
			}
			eventually(t, "registration seen", txtIs(b, "doomed", "v1"))
			if err := a.Delete(ctx, "doomed"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.TXT(ctx, "doomed"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the deleting replica answers %v", err)
			}
			start := time.Now()
			for {
				_, hit, err := b.CachedTXT("doomed")
				if hit && errors.Is(err, store.ErrNotFound) {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("the other replica still answers %v, %v from memory 2s after the deletion", hit, err)
				}
				time.Sleep(time.Millisecond)
			}
			t.Logf("deletion propagated in %v", time.Since(start))
			if b.IndexLen() != 0 {
				t.Errorf("IndexLen = %d after the deletion", b.IndexLen())
			}
		})
	}
}

// TestRedisReplicaSeesPassword: a password set through one replica is the
// one another replica checks, at once.
func TestRedisReplicaSeesPassword(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	if err := a.Register(ctx, account("rotated")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Account(ctx, "rotated"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		hash := fmt.Appendf(nil, "$2a$10$rotation-%d", i)
		if _, err := a.SetPassword(ctx, "rotated", hash); err != nil {
			t.Fatal(err)
		}
		if got, err := b.Account(ctx, "rotated"); err != nil || string(got.PasswordHash) != string(hash) {
			t.Fatalf("the other replica checks %q, %v; want %q", got.PasswordHash, err, hash)
		}
	}
}

// TestIndexReadsOwnDelete: a replica answers its own deletion from memory
// at once, before its subscription delivers the deletion's message (held up
// here behind a backlog of messages the index ignores).
func TestIndexReadsOwnDelete(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	eventually(t, "index loaded", func() bool { return s.IndexTrusted() && s.CacheTrusted() })
	if err := s.Register(ctx, account("mine")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cached", func() bool {
		s.TXT(ctx, "mine")
		_, hit, err := s.CachedTXT("mine")
		return hit && err == nil
	})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	_, err := admin.Pipelined(ctx, func(p redis.Pipeliner) error {
		for range 50000 {
			p.Publish(ctx, "test:invalidate", "Not.A.Label")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	if _, hit, err := s.CachedTXT("mine"); !hit || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("own deletion: CachedTXT = %v, %v; want ErrNotFound from memory", hit, err)
	}
}

// TestRedisUsernameClaims: a claim left behind by a failed create or
// delete is taken over, a live or pending one is not, and Delete releases
// the claim of the account it deletes.
func TestRedisUsernameClaims(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := s.Register(ctx, account("holder")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		claim   string // what test:user:U names before the registration
		pending bool   // the claim is another create's pending takeover
		want    error
		after   string // what it names after
	}{
		{"no claim", "", false, nil, "claimer"},
		{"names a deleted subdomain", "ghost", false, nil, "claimer"},
		{"names an account of another username", "holder", false, nil, "claimer"},
		{"names its own subdomain", "claimer", false, nil, "claimer"},
		{"names a live account", "live", false, store.ErrUsernameTaken, "live"},
		{"a pending takeover", "ghost", true, store.ErrUsernameTaken, "ghost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			live := account("live")
			live.Username = "U"
			if err := s.Create(ctx, store.Record{Account: live}); err != nil {
				t.Fatal(err)
			}
			admin.Del(ctx, "test:user:U")
			if tc.claim != "" {
				admin.Set(ctx, "test:user:U", tc.claim, 0)
			}
			if tc.pending {
				admin.PExpire(ctx, "test:user:U", time.Minute)
			}
			claimer := account("claimer")
			claimer.Username = "U"
			if err := s.Register(ctx, claimer); !errors.Is(err, tc.want) {
				t.Fatalf("Register = %v; want %v", err, tc.want)
			}
			if got := admin.Get(ctx, "test:user:U").Val(); got != tc.after {
				t.Errorf("the claim names %q; want %q", got, tc.after)
			}
			if ttl := admin.PTTL(ctx, "test:user:U").Val(); tc.want == nil && ttl != -1 {
				t.Errorf("the claim of the new account has PTTL %v; want permanent", ttl)
			}
			for _, sub := range []string{"live", "claimer"} {
				if err := s.Delete(ctx, sub); err != nil && tc.want == nil {
					t.Fatal(err)
				}
			}
			if n := admin.Exists(ctx, "test:user:U").Val(); n != 0 && !tc.pending {
				t.Errorf("the claim outlived Delete") // a pending one expires
			}
		})
	}
}

// TestRedisFailedCreateReleasesClaim: a create that finds its subdomain
// taken releases the claim it set, and leaves the holder's.
func TestRedisFailedCreateReleasesClaim(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	if err := s.Register(ctx, account("holder")); err != nil {
		t.Fatal(err)
	}
	taken := store.Record{Account: store.Account{Username: "fresh", PasswordHash: []byte("h"), Subdomain: "holder"}}
	if err := s.Create(ctx, taken); !errors.Is(err, store.ErrExists) {
		t.Fatal(err)
	}
	if n := admin.Exists(ctx, "test:user:fresh").Val(); n != 0 {
		t.Error("a failed create left its claim")
	}
	if got := admin.Get(ctx, "test:user:user-holder").Val(); got != "holder" {
		t.Errorf("the holder's claim names %q", got)
	}
}

// TestRedisForeignTXT: when an earlier release's replica rewrites t alone
// during a rolling upgrade, the times of s no longer describe the values:
// they read as unknown, and AddTXT's expiry keeps them.
func TestRedisForeignTXT(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	clock := newFakeClock(t)
	old := clock.Now().Add(-3 * time.Hour)
	tests := []struct {
		name    string
		foreign string // t as the old replica rewrote it; "" for none
		want    []string
	}{
		{"untouched: the times hold", "", []string{"d"}},
		{"a value added, as many values", "c b", []string{"d", "c", "b"}},
		{"a value added, fewer kept", "c", []string{"d", "c"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := fmt.Sprintf("foreign-%d", i)
			rec := store.Record{Account: account(sub), TXT: []store.Value{{Text: "b", Set: old}, {Text: "a", Set: old}}}
			if err := s.Create(ctx, rec); err != nil {
				t.Fatal(err)
			}
			if tc.foreign != "" {
				admin.HSet(ctx, "test:sub:"+sub, "t", tc.foreign)
				got := mustRecord(t, ctx, s, sub)
				if slices.ContainsFunc(got.TXT, func(v store.Value) bool { return !v.Set.IsZero() }) {
					t.Fatalf("values rewritten by an old replica have times: %v", got.TXT)
				}
			}
			if err := s.AddTXT(ctx, sub, "d", 3, time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := mustRecord(t, ctx, s, sub); !slices.Equal(texts(got.TXT), tc.want) {
				t.Fatalf("after AddTXT with expiry: %v; want %v", got.TXT, tc.want)
			}
		})
	}
}

// TestRedisConcurrentCreates: of concurrent creates of one subdomain, or of
// one username, the one that succeeds has the username's claim, permanent.
func TestRedisConcurrentCreates(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	tests := []struct {
		name string
		sub  func(i int) string
	}{
		{"one subdomain, one username", func(int) string { return "same" }},
		{"one username, many subdomains", func(i int) string { return fmt.Sprintf("many-%d", i) }},
	}
	for round, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprintf("racer-%d", round)
			won := raceCreates(t, ctx, s, user, tc.sub)
			if len(won) != 1 {
				t.Fatalf("%d creates succeeded: %v", len(won), won)
			}
			key := "test:user:" + user
			if got, ttl := admin.Get(ctx, key).Val(), admin.PTTL(ctx, key).Val(); got != won[0] || ttl != -1 {
				t.Errorf("the claim names %q (PTTL %v); the account is %q", got, ttl, won[0])
			}
		})
	}
}
