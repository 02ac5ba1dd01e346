package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func txtIs(s store.Store, sub string, want ...string) func() bool {
	return func() bool {
		got, err := s.TXT(context.Background(), sub)
		return err == nil && slices.Equal(got, want)
	}
}

// TestCacheCoherence: two replicas with caches on one Redis. What one
// writes, the other answers once the invalidation arrives, including a
// registration that replaces a cached "not registered".
func TestCacheCoherence(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	eventually(t, "caches trusted", func() bool { return a.CacheTrusted() && b.CacheTrusted() })

	// b caches "not registered"; a registers: b must see it.
	if _, err := b.TXT(ctx, "coherent"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if err := a.Register(ctx, account("coherent")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "registration seen", txtIs(b, "coherent"))

	for _, v := range []string{"one", "two", "three"} {
		if _, err := b.TXT(ctx, "coherent"); err != nil { // cached now
			t.Fatal(err)
		}
		if err := a.AddTXT(ctx, "coherent", v, 2); err != nil {
			t.Fatal(err)
		}
		got, _ := a.TXT(ctx, "coherent")
		eventually(t, "update "+v+" seen", txtIs(b, "coherent", got...))
	}

	// The cache really answers: with Redis gone, a trusted cache still has
	// the value until the subscription notices (it is checked every second).
	if err := a.AddTXT(ctx, "coherent", "four", 2); err != nil {
		t.Fatal(err)
	}
	eventually(t, "four seen", txtIs(b, "coherent", "four", "three"))
	srv.Kill()
	if got, err := b.TXT(ctx, "coherent"); err != nil || !reflect.DeepEqual(got, []string{"four", "three"}) {
		t.Fatalf("cached lookup with Redis just killed: %v %v", got, err)
	}
	eventually(t, "cache distrusted after Redis died", func() bool { return !b.CacheTrusted() })
	if _, err := b.TXT(ctx, "coherent"); err == nil {
		t.Fatal("a distrusted cache answered while Redis is down")
	}
	srv.Restart()
	eventually(t, "cache trusted again", b.CacheTrusted)
	eventually(t, "answers again", txtIs(b, "coherent", "four", "three"))
}

// TestCacheSubscriptionDrop: when the invalidation subscription is cut, a
// write made meanwhile is never hidden by the cache.
func TestCacheSubscriptionDrop(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	eventually(t, "caches trusted", func() bool { return a.CacheTrusted() && b.CacheTrusted() })
	if err := a.Register(ctx, account("dropped")); err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	for i, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
		eventually(t, "cached", func() bool { _, err := b.TXT(ctx, "dropped"); return err == nil && b.CacheTrusted() })
		// Cut every subscriber, then write before they can resubscribe.
		if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		if err := a.AddTXT(ctx, "dropped", v, 2); err != nil {
			t.Fatal(err)
		}
		want := []string{v}
		if i > 0 {
			want = append(want, []string{"v1", "v2", "v3", "v4"}[i-1])
		}
		eventually(t, "write after a cut subscription", txtIs(b, "dropped", want...))
	}
}
