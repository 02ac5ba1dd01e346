package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// cached returns j's serial from memory, failing the test unless it has it.
func cached(t *testing.T, j store.Journal) uint32 {
	t.Helper()
	serial, ok := j.CachedSerial()
	if !ok {
		t.Fatal("the serial is not known from memory")
	}
	return serial
}

// TestCachedSerialBolt: the embedded store, the file's only writer, knows
// its serial from memory after every change, and forgets it when closed.
func TestCachedSerialBolt(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenBolt(filepath.Join(t.TempDir(), "serial.db"), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := serialOf(t, ctx, s)
	if got := cached(t, s); got != start {
		t.Fatalf("cached %d, read %d", got, start)
	}
	if err := s.Register(ctx, account("memo")); err != nil {
		t.Fatal(err)
	}
	if got := cached(t, s); got != start+1 {
		t.Fatalf("after a registration: cached %d, want %d", got, start+1)
	}
	if err := s.AddTXT(ctx, "memo", "v", 2, 0); err != nil {
		t.Fatal(err)
	}
	if got := cached(t, s); got != start+2 || got != serialOf(t, ctx, s) {
		t.Fatalf("after an update: cached %d, want %d", got, start+2)
	}
	// A write that is not a change of the zone leaves it.
	if _, err := s.SetAllowFrom(ctx, "memo", nil); err != nil {
		t.Fatal(err)
	}
	if got := cached(t, s); got != start+2 {
		t.Fatalf("after allowfrom: cached %d", got)
	}
	s.Close()
	if serial, ok := s.CachedSerial(); ok {
		t.Fatalf("a closed store still answers %d from memory", serial)
	}
}

// TestCachedSerialRedis: a Redis replica forgets its serial at every change
// any replica makes (its own at once, another's when the invalidation
// arrives) and reads it again once; while its subscription is down it
// believes what it read for a second at most. The worst delay between a
// write's return on one replica and the other's forgetting is logged.
func TestCachedSerialRedis(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			a, b := e.open(t, store.RedisOptions{CacheSize: 100}, ""), e.open(t, store.RedisOptions{CacheSize: 100}, "")
			eventually(t, "both subscribed", func() bool { return a.CacheTrusted() && b.CacheTrusted() })
			if err := a.Register(ctx, account("memo")); err != nil {
				t.Fatal(err)
			}
			var delays []time.Duration
			stale := 0
			for i := range 200 {
				before := remembered(t, ctx, b)
				if err := a.AddTXT(ctx, "memo", "v"+string(rune('a'+i%26)), 2, 0); err != nil {
					t.Fatal(err)
				}
				if serial, ok := a.CachedSerial(); ok && serial == before {
					t.Fatalf("the writer answers the serial from before its own write")
				}
				done := time.Now()
				if _, ok := b.CachedSerial(); ok {
					stale++
				}
				deadline := done.Add(2 * time.Second)
				for {
					if serial, ok := b.CachedSerial(); !ok || serial != before {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("change %d: the other replica still answers serial %d from memory after 2 s", i, before)
					}
					time.Sleep(10 * time.Microsecond)
				}
				delays = append(delays, time.Since(done))
			}
			slices.Sort(delays)
			t.Logf("%s: right after 200 writes' return, the other replica still held the old serial %d times; it forgot it after p50 %v, p99 %v, max %v",
				e.name, stale, delays[len(delays)/2], delays[len(delays)*99/100], delays[len(delays)-1])
			remembered(t, ctx, b)

			// The subscription down: what b read is believed a second at most.
			for _, n := range e.nodes {
				n.Kill()
			}
			eventually(t, "the serial forgotten with the subscription down", func() bool {
				_, ok := b.CachedSerial()
				return !ok
			})
		})
	}
}

// remembered reads j's serial until j answers the same from memory (a
// change notified during a read keeps it from remembering), and returns it.
func remembered(t *testing.T, ctx context.Context, j store.Journal) uint32 {
	t.Helper()
	for range 100 {
		serial := serialOf(t, ctx, j)
		if got, ok := j.CachedSerial(); ok && got == serial {
			return serial
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the serial read is never remembered")
	return 0
}
