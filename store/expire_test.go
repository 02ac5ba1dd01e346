package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// expiryIndexKey is the Redis key of the expiry index of the test stores.
const expiryIndexKey = "test:{zone}expiry"

// redisPair is two stores, as two replicas, on one Redis deployment, and a
// client of its own.
type redisPair struct {
	name string
	open func(t *testing.T) (a, b *store.Redis, raw redis.UniversalClient)
}

func redisPairs() []redisPair {
	return []redisPair{
		{"redis", func(t *testing.T) (*store.Redis, *store.Redis, redis.UniversalClient) {
			srv := redistest.Start(t)
			raw := srv.Client()
			t.Cleanup(func() { raw.Close() })
			return openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 0), raw
		}},
		{"redis cluster", func(t *testing.T) (*store.Redis, *store.Redis, redis.UniversalClient) {
			nodes := redistest.StartCluster(t, 3)
			raw := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodeAddrs(nodes)})
			t.Cleanup(func() { raw.Close() })
			return openCluster(t, nodes, 1000), openCluster(t, nodes, 0), raw
		}},
	}
}

// TestExpireRedis checks, on a standalone server and a Cluster, the expiry
// index each write keeps, that a record whose times do not count is not
// swept, and that two replicas sweeping at once journal each drop once.
func TestExpireRedis(t *testing.T) {
	for _, p := range redisPairs() {
		t.Run(p.name, func(t *testing.T) {
			clock := newFakeClock(t)
			a, b, raw := p.open(t)
			ctx := context.Background()
			t.Run("index scores", func(t *testing.T) { redisIndexScores(t, ctx, clock, a, raw) })
			t.Run("unknown times", func(t *testing.T) { redisUnknownTimes(t, ctx, clock, a, raw) })
			t.Run("two replicas", func(t *testing.T) { redisTwoReplicas(t, ctx, clock, a, b, raw) })
		})
	}
}

// wantScore fails unless sub's score in the expiry index is want (0: no
// member).
func wantScore(t *testing.T, ctx context.Context, raw redis.UniversalClient, sub string, want time.Time) {
	t.Helper()
	score, err := raw.ZScore(ctx, expiryIndexKey, sub).Result()
	switch {
	case want.IsZero() && errors.Is(err, redis.Nil):
	case want.IsZero() || err != nil:
		t.Fatalf("expiry score of %s = %v, %v; want %v", sub, score, err, want)
	case int64(score) != want.Unix():
		t.Fatalf("expiry score of %s = %v; want %d", sub, score, want.Unix())
	}
}

// redisIndexScores: every write of TXT values scores the record by its
// oldest timed value, or removes it.
func redisIndexScores(t *testing.T, ctx context.Context, clock *fakeClock, s *store.Redis, raw redis.UniversalClient) {
	t1 := clock.Now()
	t2 := clock.Advance(time.Minute)
	createWith(t, ctx, s, "sc", store.Value{Text: "v2", Set: t2}, store.Value{Text: "v1", Set: t1}, store.Value{Text: "v0"})
	wantScore(t, ctx, raw, "sc", t1)
	t3 := clock.Advance(time.Minute)
	addTXT(t, ctx, s, "sc", "v3", 2) // v3 v2
	wantScore(t, ctx, raw, "sc", t2)
	addTXT(t, ctx, s, "sc", "v4", 1)
	wantScore(t, ctx, raw, "sc", t3)
	if err := s.ClearTXT(ctx, "sc"); err != nil {
		t.Fatal(err)
	}
	wantScore(t, ctx, raw, "sc", time.Time{})
	createWith(t, ctx, s, "sc-unknown", store.Value{Text: "u"})
	wantScore(t, ctx, raw, "sc-unknown", time.Time{})
	createWith(t, ctx, s, "sc-del", store.Value{Text: "d", Set: t1})
	wantScore(t, ctx, raw, "sc-del", t1)
	if err := s.Delete(ctx, "sc-del"); err != nil {
		t.Fatal(err)
	}
	wantScore(t, ctx, raw, "sc-del", time.Time{})
}

// redisUnknownTimes: a record whose checksum h no longer matches t (an
// earlier release rewrote t alone, as many values as s has times) has
// unknown times: a sweep drops nothing and takes it out of the index.
func redisUnknownTimes(t *testing.T, ctx context.Context, clock *fakeClock, s *store.Redis, raw redis.UniversalClient) {
	createWith(t, ctx, s, "uk", store.Value{Text: "v1", Set: clock.Now()})
	if err := raw.HSet(ctx, s.Key("uk"), "t", "w1").Err(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	e := expireEnv{s: s, j: s, x: s, clock: clock}
	expire(t, ctx, e, time.Hour, 10, 0, false)
	wantScore(t, ctx, raw, "uk", time.Time{})
	if got, err := s.FetchTXT(ctx, "uk"); err != nil || len(got) != 1 || !got[0].Set.IsZero() {
		t.Fatalf("TXT(uk) = %v, %v; want w1 of unknown time", got, err)
	}
}

// redisTwoReplicas: two replicas sweeping at once journal each drop once.
func redisTwoReplicas(t *testing.T, ctx context.Context, clock *fakeClock, a, b *store.Redis, raw redis.UniversalClient) {
	const n = 10
	for i := range n {
		sub := fmt.Sprintf("two-%d", i)
		createWith(t, ctx, a, sub, store.Value{Text: "new", Set: clock.Now().Add(time.Hour)}, store.Value{Text: "old", Set: clock.Now()})
	}
	clock.Advance(90 * time.Minute)
	e := expireEnv{s: a, j: a, x: a, clock: clock}
	start := serialOf(t, ctx, a)
	if total := sweepConcurrently(t, ctx, a, b, a, b); total != n {
		t.Fatalf("the sweeps changed %d subdomains; want %d", total, n)
	}
	if got := serialOf(t, ctx, b); got != start+n {
		t.Fatalf("serial moved from %d to %d; want %d changes", start, got, n)
	}
	want := map[string][2]string{}
	for i := range n {
		want[fmt.Sprintf("two-%d", i)] = [2]string{"new old", "new"}
	}
	wantChanges(t, expiredChanges(t, ctx, e, start), want)
	for i := range n {
		wantScore(t, ctx, raw, fmt.Sprintf("two-%d", i), clock.Now().Add(-30*time.Minute))
	}
	for _, s := range []*store.Redis{a, b} { // both see the drop, b once its invalidations arrive
		for _, sub := range []string{"two-0", "two-9"} {
			eventually(t, sub+" swept", txtIs(s, sub, "new"))
		}
	}
}

// TestBoltExpiryIndexBuilt: a file without the expiry index (written by an
// earlier release) has it built at open, and its old values are swept.
func TestBoltExpiryIndexBuilt(t *testing.T) {
	clock := newFakeClock(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acmedns.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	createWith(t, ctx, s, "built", store.Value{Text: "new", Set: clock.Now().Add(time.Hour)}, store.Value{Text: "old", Set: clock.Now()})
	createWith(t, ctx, s, "built-unknown", store.Value{Text: "u"})
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("acmedns-expiry-v1")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clock.Advance(90 * time.Minute)
	e := expireEnv{s: s, j: s, x: s, clock: clock}
	start := serialOf(t, ctx, s)
	expire(t, ctx, e, time.Hour, 10, 1, false)
	wantChanges(t, expiredChanges(t, ctx, e, start), map[string][2]string{"built": {"new old", "new"}})
	wantTXT(t, ctx, s, map[string]string{"built": "new", "built-unknown": "u"})
}

// TestBoltExpiryIndexEntries: the expiry index holds one entry per record
// with a timed value, keyed by the oldest, and none for a record cleared,
// deleted or of unknown times.
func TestBoltExpiryIndexEntries(t *testing.T) {
	clock := newFakeClock(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acmedns.db")
	s, err := store.OpenBolt(path, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t1 := clock.Now()
	for _, sub := range []string{"en-clr", "en-del", "en-kept"} {
		createWith(t, ctx, s, sub, store.Value{Text: "v1", Set: t1})
	}
	createWith(t, ctx, s, "en-unknown", store.Value{Text: "u"})
	clock.Advance(time.Minute)
	addTXT(t, ctx, s, "en-kept", "v2", 2)
	if err := s.ClearTXT(ctx, "en-clr"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "en-del"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys []string
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("acmedns-expiry-v1")).ForEach(func(k, _ []byte) error {
			keys = append(keys, fmt.Sprintf("%d %s", binary.BigEndian.Uint64(k[:8]), k[8:]))
			return nil
		})
	})
	if want := []string{fmt.Sprintf("%d en-kept", t1.Unix())}; !slices.Equal(keys, want) {
		t.Fatalf("expiry index %q; want %q", keys, want)
	}
}
