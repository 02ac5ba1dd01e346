package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// notData are the commands that read or write no registration: health
// checks, connection and topology set-up, the subscription and its loads.
var notData = map[string]bool{
	"ping": true, "info": true, "subscribe": true, "scan": true,
	"hello": true, "client": true, "cluster": true, "command": true, "select": true, "readonly": true,
}

// dataCommands sums, over the servers at addrs, the calls of every data
// command Redis has served.
func dataCommands(t *testing.T, addrs ...string) map[string]int {
	t.Helper()
	calls := map[string]int{}
	for _, addr := range addrs {
		admin := redis.NewClient(&redis.Options{Addr: addr})
		stats, err := admin.Info(context.Background(), "commandstats").Result()
		admin.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(stats, "\n") {
			var name string
			var n int
			rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_")
			if !ok {
				continue
			}
			name, rest, _ = strings.Cut(rest, ":")
			if _, err := fmt.Sscanf(rest, "calls=%d", &n); err != nil {
				t.Fatalf("commandstats line %q: %v", line, err)
			}
			if !notData[strings.SplitN(name, "|", 2)[0]] {
				calls[name] += n
			}
		}
	}
	return calls
}

// randomName is a valid subdomain that nobody registered.
func randomName() string { return fmt.Sprintf("junk-%016x", rand.Uint64()) }

// lookupRandom looks up n random names through s, which must answer each
// ErrNotFound.
func lookupRandom(t *testing.T, s store.Store, n int) {
	t.Helper()
	for range n {
		if _, err := s.TXT(context.Background(), randomName()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("random name: %v", err)
		}
	}
}

// TestIndexAnswersUnregistered: once the index is loaded, unregistered
// names are answered without a Redis command, with or without a TXT cache.
func TestIndexAnswersUnregistered(t *testing.T) {
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache %d", cacheSize), func(t *testing.T) {
			srv := redistest.Start(t)
			s := openRedis(t, srv.Addr, cacheSize)
			ctx := context.Background()
			if err := s.Register(ctx, account("known")); err != nil {
				t.Fatal(err)
			}
			eventually(t, "index loaded", s.IndexTrusted)
			before := dataCommands(t, srv.Addr)
			lookupRandom(t, s, 100)
			if after := dataCommands(t, srv.Addr); !maps.Equal(before, after) {
				t.Errorf("unregistered names reached Redis: %v then %v", before, after)
			}
			if got, err := s.TXT(ctx, "known"); err != nil || len(got) != 0 {
				t.Fatalf("registered name: %v, %v", got, err)
			}
			if s.IndexLen() != 1 {
				t.Errorf("IndexLen = %d, want 1", s.IndexLen())
			}
		})
	}
}

// TestIndexClusterScansEveryMaster: a store opened on a Cluster loads the
// registrations of all three masters, and answers random names without a
// Redis command.
func TestIndexClusterScansEveryMaster(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	ctx := context.Background()
	writer := openCluster(t, nodes, 0)
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer admin.Close()
	masters := map[string]bool{}
	var subs []string
	for i := 0; i < 30 || len(masters) < len(nodes); i++ {
		sub := fmt.Sprintf("spread-%d", i)
		if err := writer.Register(ctx, account(sub)); err != nil {
			t.Fatal(err)
		}
		m, err := admin.MasterForKey(ctx, writer.Key(sub))
		if err != nil {
			t.Fatal(err)
		}
		masters[m.Options().Addr] = true
		subs = append(subs, sub)
	}
	writer.Close()

	s := openCluster(t, nodes, 0)
	eventually(t, "index loaded", s.IndexTrusted)
	if s.IndexLen() != len(subs) {
		t.Fatalf("IndexLen = %d, want %d", s.IndexLen(), len(subs))
	}
	before := dataCommands(t, addrs...)
	lookupRandom(t, s, 100)
	if after := dataCommands(t, addrs...); !maps.Equal(before, after) {
		t.Errorf("unregistered names reached Redis: %v then %v", before, after)
	}
	for _, sub := range subs {
		if got, err := s.TXT(ctx, sub); err != nil || len(got) != 0 {
			t.Fatalf("%s: %v, %v", sub, got, err)
		}
	}
}

// TestIndexKeepsJunkOutOfTheCache: lookups of many random names leave a
// cached registration in the TXT cache.
func TestIndexKeepsJunkOutOfTheCache(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	writer := openRedis(t, srv.Addr, 0)
	if err := writer.Register(ctx, account("real")); err != nil {
		t.Fatal(err)
	}
	if err := writer.AddTXT(ctx, "real", "v1", 2, 0); err != nil {
		t.Fatal(err)
	}
	writer.Close()

	s := openRedis(t, srv.Addr, 1024) // 4 entries per shard
	eventually(t, "index loaded", func() bool { return s.IndexTrusted() && s.CacheTrusted() })
	eventually(t, "cached", func() bool {
		before := dataCommands(t, srv.Addr)
		got, err := s.TXT(ctx, "real")
		return err == nil && slices.Equal(texts(got), []string{"v1"}) && maps.Equal(before, dataCommands(t, srv.Addr))
	})
	lookupRandom(t, s, 10000)
	before := dataCommands(t, srv.Addr)
	if got, err := s.TXT(ctx, "real"); err != nil || !slices.Equal(texts(got), []string{"v1"}) {
		t.Fatalf("TXT = %v, %v", got, err)
	}
	if after := dataCommands(t, srv.Addr); !maps.Equal(before, after) {
		t.Errorf("the cached registration was evicted: %v then %v", before, after)
	}
}

// TestIndexPropagatesRegistration: a registration through one replica is
// answered by another, which answered "not registered" from its index just
// before, within 2 s.
func TestIndexPropagatesRegistration(t *testing.T) {
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache %d", cacheSize), func(t *testing.T) {
			srv := redistest.Start(t)
			a, b := openRedis(t, srv.Addr, cacheSize), openRedis(t, srv.Addr, cacheSize)
			ctx := context.Background()
			eventually(t, "indexes loaded", func() bool { return a.IndexTrusted() && b.IndexTrusted() })
			if _, hit, err := b.CachedTXT("fresh"); !hit || !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("before: CachedTXT = %v, %v; want an answer from the index", hit, err)
			}
			if err := a.Register(ctx, account("fresh")); err != nil {
				t.Fatal(err)
			}
			if got, err := a.TXT(ctx, "fresh"); err != nil || len(got) != 0 {
				t.Fatalf("A does not read its own registration: %v, %v", got, err)
			}
			start := time.Now()
			for {
				got, err := b.TXT(ctx, "fresh")
				if err == nil && got != nil && len(got) == 0 {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("B answers %v, %v 2s after the registration", got, err)
				}
				time.Sleep(time.Millisecond)
			}
			t.Logf("propagated in %v", time.Since(start))
		})
	}
}

// TestIndexReadsOwnRegistration: a replica answers its own registration at
// once, before its subscription delivers the registration's message (held up
// here behind a backlog of messages the index ignores).
func TestIndexReadsOwnRegistration(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	eventually(t, "index loaded", s.IndexTrusted)
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
	if err := s.Register(ctx, account("mine")); err != nil {
		t.Fatal(err)
	}
	if _, hit, err := s.CachedTXT("mine"); hit {
		t.Fatalf("own registration answered from memory: %v", err)
	}
	if got, err := s.TXT(ctx, "mine"); err != nil || len(got) != 0 {
		t.Fatalf("TXT = %v, %v", got, err)
	}
}

// TestIndexReloadsAfterSubscriptionLoss: a registration made while B's
// subscription is cut, whose message B misses, is in the index B reloads
// once subscribed again.
func TestIndexReloadsAfterSubscriptionLoss(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr, 1000), openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	for i := range 3 {
		sub := fmt.Sprintf("late-%d", i)
		eventually(t, "indexes loaded", func() bool { return a.IndexTrusted() && b.IndexTrusted() })
		loads := b.IndexLoads()
		if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		if err := a.Register(ctx, account(sub)); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B reloaded", func() bool { return b.IndexLoads() > loads && b.IndexTrusted() })
		for start := time.Now(); time.Since(start) < time.Second; time.Sleep(time.Millisecond) {
			if got, err := b.TXT(ctx, sub); err != nil || len(got) != 0 {
				t.Fatalf("%s after B reloaded: %v, %v", sub, got, err)
			}
		}
	}
}

// TestIndexDistrustedWhileRedisIsDown: from the moment the subscription
// breaks the index answers nothing, until it is loaded again.
func TestIndexDistrustedWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	s := openRedis(t, srv.Addr, 0)
	ctx := context.Background()
	eventually(t, "index loaded", s.IndexTrusted)
	loads := s.IndexLoads()
	srv.Kill()
	eventually(t, "index distrusted", func() bool { return !s.IndexTrusted() })
	if _, err := s.TXT(ctx, randomName()); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a distrusted index answered while Redis is down: %v", err)
	}
	srv.Restart()
	eventually(t, "index loaded again", func() bool { return s.IndexTrusted() && s.IndexLoads() > loads })
	lookupRandom(t, s, 10)
}

// TestIndexDeletionMessage: "-sub" on the channel removes sub from every
// index (and TXT cache); a plain "sub" adds it back.
func TestIndexDeletionMessage(t *testing.T) {
	srv := redistest.Start(t)
	a, b := openRedis(t, srv.Addr, 0), openRedis(t, srv.Addr, 1000)
	ctx := context.Background()
	eventually(t, "indexes loaded", func() bool { return a.IndexTrusted() && b.IndexTrusted() })
	if err := a.Register(ctx, account("gone")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "registration seen", txtIs(b, "gone"))
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	tests := []struct {
		payload string
		want    int // IndexLen of both stores
		present bool
	}{
		{"-gone", 0, false},
		{"gone", 1, true},
		{"-gone", 0, false},
	}
	for _, tc := range tests {
		if err := admin.Publish(ctx, "test:invalidate", tc.payload).Err(); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*store.Redis{a, b} {
			eventually(t, "after "+tc.payload, func() bool {
				_, hit, err := s.CachedTXT("gone")
				return s.IndexLen() == tc.want && (hit && errors.Is(err, store.ErrNotFound)) != tc.present
			})
		}
	}
}
