package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// expireEnv is a store under the expiry suite and the clock it reads.
type expireEnv struct {
	s     store.Store
	j     store.Journal
	x     store.Expirer
	clock *fakeClock
}

// expireCase is one test of the expiry suite.
type expireCase struct {
	name string
	run  func(t *testing.T, ctx context.Context, e expireEnv)
}

// TestExpireConformance runs the expiry suite on every backend. Each case
// starts with every value the earlier ones left expired and swept.
func TestExpireConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			clock := newFakeClock(t)
			s, _ := b.open(t)
			ctx := context.Background()
			e := expireEnv{s: s, j: s.(store.Journal), x: s.(store.Expirer), clock: clock}
			for _, tc := range expireSuite {
				t.Run(tc.name, func(t *testing.T) {
					e.clock.Advance(1000 * time.Hour)
					drain(t, ctx, e.x)
					tc.run(t, ctx, e)
				})
			}
		})
	}
}

// drain sweeps until nothing is left.
func drain(t *testing.T, ctx context.Context, x store.Expirer) {
	t.Helper()
	for more := true; more; {
		var err error
		if _, more, err = x.ExpireTXT(ctx, time.Hour, 100); err != nil {
			t.Fatalf("ExpireTXT: %v", err)
		}
	}
}

// expire runs ExpireTXT and fails unless it answers changed and more.
func expire(t *testing.T, ctx context.Context, e expireEnv, maxAge time.Duration, limit, changed int, more bool) {
	t.Helper()
	before := serialOf(t, ctx, e.j)
	n, m, err := e.x.ExpireTXT(ctx, maxAge, limit)
	if err != nil || n != changed || m != more {
		t.Fatalf("ExpireTXT(%v, %d) = %d, %v, %v; want %d, %v", maxAge, limit, n, m, err, changed, more)
	}
	if after := serialOf(t, ctx, e.j); after != before+uint32(changed) {
		t.Fatalf("ExpireTXT changed %d subdomains and moved the serial from %d to %d", changed, before, after)
	}
}

// expiredChanges returns the changes after from, which must be ChangeTXT
// alone, keyed by subdomain (failing on a subdomain changed twice).
func expiredChanges(t *testing.T, ctx context.Context, e expireEnv, from uint32) map[string]store.Change {
	t.Helper()
	out := map[string]store.Change{}
	for _, c := range changesSince(t, ctx, e.j, from, serialOf(t, ctx, e.j)) {
		if c.Kind != store.ChangeTXT {
			t.Fatalf("a sweep journaled %+v; want kind 't'", c)
		}
		if _, twice := out[c.Subdomain]; twice {
			t.Fatalf("%s journaled twice", c.Subdomain)
		}
		out[c.Subdomain] = c
	}
	return out
}

// wantChanges fails unless got holds, for each subdomain of want, a change
// from the first to the second texts ("" for none), and no other.
func wantChanges(t *testing.T, got map[string]store.Change, want map[string][2]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("journaled %v; want changes of %v", got, want)
	}
	for sub, w := range want {
		c, ok := got[sub]
		if !ok || !slices.Equal(c.Old, strings.Fields(w[0])) || !slices.Equal(c.New, strings.Fields(w[1])) {
			t.Fatalf("change of %s = %+v; want %q -> %q", sub, c, w[0], w[1])
		}
	}
}

// wantTXT fails unless the TXT values of each subdomain of want have the
// texts given.
func wantTXT(t *testing.T, ctx context.Context, s store.Store, want map[string]string) {
	t.Helper()
	for sub, w := range want {
		got, err := s.TXT(ctx, sub)
		if err != nil || !slices.Equal(texts(got), strings.Fields(w)) {
			t.Fatalf("TXT(%s) = %v, %v; want %q", sub, got, err, w)
		}
	}
}

// createWith creates sub with values, newest first.
func createWith(t *testing.T, ctx context.Context, s store.Store, sub string, values ...store.Value) {
	t.Helper()
	if err := s.Create(ctx, store.Record{Account: account(sub), TXT: values}); err != nil {
		t.Fatalf("Create(%s): %v", sub, err)
	}
}

// addTXT adds value to sub, keeping keep values.
func addTXT(t *testing.T, ctx context.Context, s store.Store, sub, value string, keep int) {
	t.Helper()
	if err := s.AddTXT(ctx, sub, value, keep, 0); err != nil {
		t.Fatalf("AddTXT(%s, %s): %v", sub, value, err)
	}
}

var expireSuite = []expireCase{
	{"drops expired values, one change each", expireDrops},
	{"limit and more", expireLimit},
	{"cleared, replaced and deleted records leave the index", expireLeaves},
	{"concurrent sweeps journal each drop once", expireConcurrent},
	{"persistent records never expire", expireKeepsPersist},
	{"arguments", func(t *testing.T, ctx context.Context, e expireEnv) {
		for _, a := range []struct {
			maxAge time.Duration
			limit  int
		}{{0, 1}, {-time.Hour, 1}, {time.Hour, 0}} {
			if _, _, err := e.x.ExpireTXT(ctx, a.maxAge, a.limit); err == nil {
				t.Errorf("ExpireTXT(%v, %d) succeeded", a.maxAge, a.limit)
			}
		}
	}},
}

// expireDrops: values set more than maxAge ago go, each subdomain's in one
// journaled change; those within maxAge and those of unknown time stay.
func expireDrops(t *testing.T, ctx context.Context, e expireEnv) {
	t0 := e.clock.Now()
	if err := e.s.Register(ctx, account("ex-a")); err != nil {
		t.Fatal(err)
	}
	addTXT(t, ctx, e.s, "ex-a", "a1", 3)
	createWith(t, ctx, e.s, "ex-c", store.Value{Text: "c1"}, store.Value{Text: "c0", Set: t0})
	createWith(t, ctx, e.s, "ex-u", store.Value{Text: "u1"})
	t30 := e.clock.Advance(30 * time.Minute)
	addTXT(t, ctx, e.s, "ex-a", "a2", 3)
	createWith(t, ctx, e.s, "ex-b", store.Value{Text: "b2", Set: t30}, store.Value{Text: "b1", Set: t0})
	e.clock.Advance(30 * time.Minute)
	createWith(t, ctx, e.s, "ex-d", store.Value{Text: "d1", Set: e.clock.Now()})
	e.clock.Advance(30 * time.Minute) // t0+90m: t0's values are older than an hour
	start := serialOf(t, ctx, e.j)
	expire(t, ctx, e, time.Hour, 10, 3, false)
	wantChanges(t, expiredChanges(t, ctx, e, start), map[string][2]string{
		"ex-a": {"a2 a1", "a2"}, "ex-b": {"b2 b1", "b2"}, "ex-c": {"c1 c0", "c1"},
	})
	wantTXT(t, ctx, e.s, map[string]string{"ex-a": "a2", "ex-b": "b2", "ex-c": "c1", "ex-d": "d1", "ex-u": "u1"})
	expire(t, ctx, e, time.Hour, 10, 0, false) // nothing left to do
	if got := mustRecord(t, ctx, e.s, "ex-b").TXT; !equalValues(got, []store.Value{{Text: "b2", Set: t30}}) {
		t.Fatalf("ex-b kept %v; want b2 set at %v", got, t30)
	}
	e.clock.Advance(time.Hour) // t0+150m: t30's and d1 (t0+60m) too
	start = serialOf(t, ctx, e.j)
	expire(t, ctx, e, time.Hour, 10, 3, false)
	wantChanges(t, expiredChanges(t, ctx, e, start), map[string][2]string{
		"ex-a": {"a2", ""}, "ex-b": {"b2", ""}, "ex-d": {"d1", ""},
	})
	wantTXT(t, ctx, e.s, map[string]string{"ex-a": "", "ex-b": "", "ex-c": "c1", "ex-d": "", "ex-u": "u1"})
	expire(t, ctx, e, time.Minute, 10, 0, false) // unknown times stay, however old
}

// expireLimit: a sweep changes at most limit subdomains and says whether
// more are left.
func expireLimit(t *testing.T, ctx context.Context, e expireEnv) {
	for i := range 3 {
		createWith(t, ctx, e.s, fmt.Sprintf("ex-lim-%d", i), store.Value{Text: "v", Set: e.clock.Now()})
	}
	e.clock.Advance(2 * time.Hour)
	start := serialOf(t, ctx, e.j)
	expire(t, ctx, e, time.Hour, 2, 2, true)
	expire(t, ctx, e, time.Hour, 2, 1, false)
	expire(t, ctx, e, time.Hour, 2, 0, false)
	wantChanges(t, expiredChanges(t, ctx, e, start), map[string][2]string{
		"ex-lim-0": {"v", ""}, "ex-lim-1": {"v", ""}, "ex-lim-2": {"v", ""},
	})
}

// expireLeaves: a record whose timed values were cleared, replaced or
// deleted gives a sweep nothing to do.
func expireLeaves(t *testing.T, ctx context.Context, e expireEnv) {
	for _, sub := range []string{"ex-clr", "ex-del", "ex-rep", "ex-rereg"} {
		createWith(t, ctx, e.s, sub, store.Value{Text: "old", Set: e.clock.Now()})
	}
	e.clock.Advance(2 * time.Hour)
	if err := e.s.ClearTXT(ctx, "ex-clr"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"ex-del", "ex-rereg"} {
		if err := e.s.Delete(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.s.Register(ctx, account("ex-rereg")); err != nil {
		t.Fatal(err)
	}
	addTXT(t, ctx, e.s, "ex-rep", "new", 1) // keep 1: "old" goes
	expire(t, ctx, e, time.Hour, 10, 0, false)
	wantTXT(t, ctx, e.s, map[string]string{"ex-clr": "", "ex-rep": "new", "ex-rereg": ""})
	e.clock.Advance(2 * time.Hour)
	start := serialOf(t, ctx, e.j)
	expire(t, ctx, e, time.Hour, 10, 1, false)
	wantChanges(t, expiredChanges(t, ctx, e, start), map[string][2]string{"ex-rep": {"new", ""}})
}

// expireConcurrent: sweeps racing on one store journal each drop once.
func expireConcurrent(t *testing.T, ctx context.Context, e expireEnv) {
	const n = 6
	for i := range n {
		createWith(t, ctx, e.s, fmt.Sprintf("ex-conc-%d", i), store.Value{Text: "v", Set: e.clock.Now()})
	}
	e.clock.Advance(2 * time.Hour)
	start := serialOf(t, ctx, e.j)
	total := sweepConcurrently(t, ctx, e.x, e.x, e.x, e.x)
	if total != n {
		t.Fatalf("concurrent sweeps changed %d subdomains; want %d", total, n)
	}
	if got := serialOf(t, ctx, e.j); got != start+n {
		t.Fatalf("serial moved from %d to %d; want %d changes", start, got, n)
	}
	if got := expiredChanges(t, ctx, e, start); len(got) != n {
		t.Fatalf("journaled %v; want %d changes", got, n)
	}
}

// sweepConcurrently runs a sweep on each of xs at once, each until it has
// nothing more, and returns how many subdomains they changed in all.
func sweepConcurrently(t *testing.T, ctx context.Context, xs ...store.Expirer) int {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	total := 0
	for _, x := range xs {
		wg.Go(func() {
			for more := true; more; {
				n, m, err := x.ExpireTXT(ctx, time.Hour, 2)
				if err != nil {
					t.Errorf("ExpireTXT: %v", err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				more = m
			}
		})
	}
	wg.Wait()
	return total
}
