package store_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// benchAccounts is how many accounts BenchmarkList lists.
const benchAccounts = 1_000_000

// BenchmarkList lists a million accounts from Redis in pages of 1000, and
// reports the time of a whole listing, the peak heap in use while listing
// (sampled) and the bytes allocated per account. It is opt-in, as seeding
// takes a while: ACMEDNS_BENCH_LIST=1 go test -run '^$' -bench List
// -benchtime 1x ./store/
func BenchmarkList(b *testing.B) {
	if os.Getenv("ACMEDNS_BENCH_LIST") != "1" {
		b.Skip("set ACMEDNS_BENCH_LIST=1 to list a million accounts")
	}
	srv := redistest.Start(b, "--appendonly", "no")
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer client.Close()
	seedAccounts(b, client, benchAccounts)
	s := store.NewRedis(client, store.RedisOptions{Prefix: "test:"})
	defer s.Close()
	for !s.IndexTrusted() { // let the index load finish first
		time.Sleep(10 * time.Millisecond)
	}
	ctx := context.Background()
	var peak uint64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		stop := sampleHeap(&peak)
		n := 0
		cursor := ""
		for {
			page, next, err := s.List(ctx, cursor, 1000)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
			if next == "" {
				break
			}
			cursor = next
		}
		stop()
		if n != benchAccounts {
			b.Fatalf("listed %d accounts, want %d", n, benchAccounts)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "base-heap-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*benchAccounts), "alloc-B/account")
}

// sampleHeap records the largest HeapInuse in *peak, every 5 ms, until the
// returned func is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var high atomic.Uint64
	high.Store(*peak)
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > high.Load() {
				high.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return func() { close(done); wg.Wait(); *peak = high.Load() }
}

// seedAccounts writes n records in this release's form, and their members
// of the sorted set of accounts, in pipelines of 10000.
func seedAccounts(b *testing.B, c *redis.Client, n int) {
	ctx := context.Background()
	const batch = 10000
	value := "kR2m9QxJbT4sVw7yZ0aC3dF6gH8jL1nP5rU9eX2iO4q"
	sum := sha1.Sum([]byte(value))
	h := hex.EncodeToString(sum[:8])
	for start := 0; start < n; start += batch {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			members := make([]redis.Z, 0, batch)
			for i := start; i < min(start+batch, n); i++ {
				sub := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, uint64(i)*0x9e3779b97f4a7c15>>16)
				p.HSet(ctx, "test:sub:"+sub, "u", "user-"+sub, "p", "$2a$10$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ",
					"a", `["192.0.2.0/24"]`, "t", value, "s", "1700000000", "h", h, "c", "1700000000", "m", "1700000000")
				members = append(members, redis.Z{Member: sub})
			}
			p.ZAdd(ctx, "test:accounts", members...)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
