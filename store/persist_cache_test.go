package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"
)

// TestPersistCacheCoherence: two replicas with caches on one Redis, a
// standalone server and a Cluster. A persistent record one stores or
// removes is served by the writer at once, and by the other as soon as
// the invalidation arrives, while it had the old RRset cached.
func TestPersistCacheCoherence(t *testing.T) {
	pairs := []struct {
		name string
		open func(t *testing.T) (a, b *store.Redis)
	}{
		{"redis", func(t *testing.T) (*store.Redis, *store.Redis) {
			srv := redistest.Start(t)
			return openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 1000)
		}},
		{"redis cluster", func(t *testing.T) (*store.Redis, *store.Redis) {
			nodes := redistest.StartCluster(t, 3)
			return openCluster(t, nodes, 1000), openCluster(t, nodes, 1000)
		}},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			a, b := p.open(t)
			ctx := context.Background()
			eventually(t, "caches trusted", func() bool { return a.CacheTrusted() && b.CacheTrusted() })
			if err := a.Register(ctx, account("ps-cache")); err != nil {
				t.Fatal(err)
			}
			if err := a.AddTXT(ctx, "ps-cache", "tok", 2, 0); err != nil {
				t.Fatal(err)
			}
			eventually(t, "registration seen", txtIs(b, "ps-cache", "tok"))
			setPersist(t, ctx, a, "ps-cache", persistA)
			if !txtIs(a, "ps-cache", "tok", persistA)() {
				t.Fatal("the writer does not serve its own record at once")
			}
			eventually(t, "record seen", txtIs(b, "ps-cache", "tok", persistA))
			if removed, err := b.RemovePersist(ctx, "ps-cache", "ca.example"); !removed || err != nil {
				t.Fatalf("RemovePersist = %v, %v", removed, err)
			}
			if !txtIs(b, "ps-cache", "tok")() {
				t.Fatal("the remover still serves the record")
			}
			eventually(t, "removal seen", txtIs(a, "ps-cache", "tok"))
		})
	}
}

// expireKeepsPersist: a sweep drops the expired dns-01 values and leaves
// the persistent records, journaled beside them.
func expireKeepsPersist(t *testing.T, ctx context.Context, e expireEnv) {
	if err := e.s.Register(ctx, account("ex-p")); err != nil {
		t.Fatal(err)
	}
	addTXT(t, ctx, e.s, "ex-p", "p1", 3)
	setPersist(t, ctx, e.s, "ex-p", persistA)
	e.clock.Advance(2 * time.Hour)
	from := serialOf(t, ctx, e.j)
	expire(t, ctx, e, time.Hour, 100, 1, false)
	c := expiredChanges(t, ctx, e, from)["ex-p"]
	if len(c.Old) != 2 || c.Old[1] != persistA || len(c.New) != 1 || c.New[0] != persistA {
		t.Fatalf("the sweep journaled %+v", c)
	}
	served(t, ctx, e.s, "ex-p", nil, []string{persistA})
	drain(t, ctx, e.x)
	served(t, ctx, e.s, "ex-p", nil, []string{persistA})
}
