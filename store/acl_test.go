package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// TestConformanceACL runs the conformance, expiry and blob suites as a Redis user
// that holds only the ACL rule of docs/stores.md, on a standalone server and
// on a Cluster.
func TestConformanceACL(t *testing.T) {
	rule := redistest.ReadmeACL(t, "test:")
	tests := []struct {
		name string
		open func(t *testing.T, rule []string) (store.Store, func() store.Store)
	}{
		{"redis", aclBackend},
		{"redis cluster", aclClusterBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, reopen := tc.open(t, rule)
			ctx := context.Background()
			// The subscription (SUBSCRIBE) is confirmed and the index
			// loaded (SCAN): lookups of unknown names stay in memory.
			waitTrusted(t, s.(*store.Redis))
			for _, c := range slices.Concat(suite, lifecycleSuite, listSuite) {
				t.Run(c.name, func(t *testing.T) { c.run(t, ctx, s) })
			}
			t.Run("expiry", func(t *testing.T) {
				e := expireEnv{s: s, j: s.(store.Journal), x: s.(store.Expirer), clock: newFakeClock(t)}
				for _, c := range expireSuite {
					t.Run(c.name, func(t *testing.T) {
						e.clock.Advance(1000 * time.Hour)
						drain(t, ctx, e.x)
						c.run(t, ctx, e)
					})
				}
			})
			t.Run("blobs", func(t *testing.T) {
				blobRoundTrip(t, ctx, s.(store.Blobs))
				blobLock(t, ctx, s.(store.Blobs))
			})
			t.Run("survives restart", func(t *testing.T) {
				if err := s.Register(ctx, account("durable")); err != nil {
					t.Fatal(err)
				}
				s2 := reopen()
				if _, err := s2.Account(ctx, "durable"); err != nil {
					t.Fatalf("after restart Account: %v", err)
				}
			})
		})
	}
}

// aclOptions are the options of a client logged in as the ACL user.
func aclOptions(addrs []string) *redis.UniversalOptions {
	return &redis.UniversalOptions{Addrs: addrs, Username: redistest.ACLUser, Password: redistest.ACLPassword, IsClusterMode: len(addrs) > 1}
}

// aclBackend is a standalone server; the user is created again after a
// restart (ACL SETUSER is not persisted).
func aclBackend(t *testing.T, rule []string) (store.Store, func() store.Store) {
	srv := redistest.Start(t)
	srv.SetACL(rule)
	open := func() store.Store { return openUniversal(t, aclOptions([]string{srv.Addr}), 1000) }
	s := open()
	return s, func() store.Store {
		s.Close()
		srv.Kill()
		srv.Restart()
		srv.SetACL(rule)
		return open()
	}
}

// aclClusterBackend is a three-master Cluster with the user on every node.
func aclClusterBackend(t *testing.T, rule []string) (store.Store, func() store.Store) {
	nodes := redistest.StartCluster(t, 3)
	for _, n := range nodes {
		n.SetACL(rule)
	}
	open := func() store.Store { return openUniversal(t, aclOptions(nodeAddrs(nodes)), 1000) }
	s := open()
	return s, func() store.Store {
		s.Close()
		for _, n := range nodes {
			n.Kill()
		}
		for _, n := range nodes {
			n.Restart()
		}
		redistest.WaitCluster(t, nodes)
		for _, n := range nodes {
			n.SetACL(rule)
		}
		return open()
	}
}

// TestACLWaitReplicas: with wait_replicas, the ACL rule of docs/stores.md lets
// writes, and a sweep of expired values, wait for a replica.
func TestACLWaitReplicas(t *testing.T) {
	master := redistest.Start(t)
	redistest.StartReplica(t, master)
	master.SetACL(redistest.ReadmeACL(t, "test:"))
	s := store.NewRedis(redis.NewUniversalClient(aclOptions([]string{master.Addr})),
		store.RedisOptions{Prefix: "test:", WaitReplicas: 1, WaitTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.Register(ctx, account("waited")); err != nil {
		t.Fatalf("Register: %v", err)
	}
	clock := newFakeClock(t)
	if err := s.AddTXT(ctx, "waited", "v1", 2, 0); err != nil {
		t.Fatalf("AddTXT: %v", err)
	}
	clock.Advance(2 * time.Hour)
	if n, _, err := s.ExpireTXT(ctx, time.Hour, 10); err != nil || n != 1 {
		t.Fatalf("ExpireTXT = %d, %v; want 1 change", n, err)
	}
}

// waitTrusted waits until the store's index is trusted.
func waitTrusted(t *testing.T, s *store.Redis) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !s.IndexTrusted() {
		if time.Now().After(deadline) {
			t.Fatal("index not trusted within 5s: subscription or load refused")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
