package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
		return err == nil && slices.Equal(texts(got), want)
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
		if err := a.AddTXT(ctx, "coherent", v, 2, 0); err != nil {
			t.Fatal(err)
		}
		got, _ := a.TXT(ctx, "coherent")
		eventually(t, "update "+v+" seen", txtIs(b, "coherent", texts(got)...))
	}

	// The cache really answers: repeated lookups send Redis no command.
	if err := a.AddTXT(ctx, "coherent", "four", 2, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "four seen", txtIs(b, "coherent", "four", "three"))
	before := dataCommands(t, srv.Addr)
	for range 100 {
		if got, err := b.TXT(ctx, "coherent"); err != nil || !slices.Equal(texts(got), []string{"four", "three"}) {
			t.Fatalf("cached lookup: %v %v", got, err)
		}
	}
	if after := dataCommands(t, srv.Addr); !maps.Equal(before, after) {
		t.Errorf("cached lookups reached Redis: %v then %v", before, after)
	}

	srv.Kill()
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
		if err := a.AddTXT(ctx, "dropped", v, 2, 0); err != nil {
			t.Fatal(err)
		}
		want := []string{v}
		if i > 0 {
			want = append(want, []string{"v1", "v2", "v3", "v4"}[i-1])
		}
		eventually(t, "write after a cut subscription", txtIs(b, "dropped", want...))
	}
}

// TestClusterInvalidation: in a Cluster, writes to keys on every master
// reach the other replica's cache (PUBLISH is cluster-wide).
func TestClusterInvalidation(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	a, b := openCluster(t, nodes, 1000), openCluster(t, nodes, 1000)
	ctx := context.Background()
	eventually(t, "caches trusted", func() bool { return a.CacheTrusted() && b.CacheTrusted() })
	subs := make([]string, 30) // spread over the three masters' slots
	for i := range subs {
		subs[i] = fmt.Sprintf("cluster-%d", i)
		if _, err := b.TXT(ctx, subs[i]); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if err := a.Register(ctx, account(subs[i])); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range subs {
		eventually(t, "registration of "+sub, txtIs(b, sub))
		if err := a.AddTXT(ctx, sub, "v-"+sub, 2, 0); err != nil {
			t.Fatal(err)
		}
		eventually(t, "update of "+sub, txtIs(b, sub, "v-"+sub))
	}
}

// TestWaitReplicas: with WaitReplicas, an acknowledged update is on the
// replica, so it survives the master being killed right after; asking for
// more replicas than there are fails the write.
func TestWaitReplicas(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	ctx := context.Background()
	open := func(n int) *store.Redis {
		client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{master.Addr}})
		s := store.NewRedis(client, store.RedisOptions{Prefix: "test:", WaitReplicas: n, WaitTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open(1)
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr})
	if err := s.Register(ctx, account("durable")); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		v := fmt.Sprintf("value-%d", i)
		if err := s.AddTXT(ctx, "durable", v, 2, 0); err != nil {
			t.Fatal(err)
		}
		// Read the replica at once: WAIT made it have the write already.
		got, err := rc.HGet(ctx, "test:sub:durable", "t").Result()
		if err != nil || !strings.HasPrefix(got, v+" ") && got != v {
			t.Fatalf("replica has %q after update %s was acknowledged (%v)", got, v, err)
		}
	}
	if err := open(2).AddTXT(ctx, "durable", "too-few", 2, 0); !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("WAIT for 2 replicas with 1: %v", err)
	}

	// Killed right after the acknowledgement, the master loses nothing.
	if err := s.AddTXT(ctx, "durable", "last", 2, 0); err != nil {
		t.Fatal(err)
	}
	master.Kill()
	if err := rc.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	promoted := store.NewRedis(rc, store.RedisOptions{Prefix: "test:"})
	defer promoted.Close()
	if got, err := promoted.TXT(ctx, "durable"); err != nil || got[0].Text != "last" {
		t.Fatalf("promoted replica has %v, %v; want the acknowledged value first", got, err)
	}
}
