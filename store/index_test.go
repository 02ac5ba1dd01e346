package store

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// checkIndex fails unless x holds exactly want among names, and its base is
// sorted, duplicate-free and exactly sized.
func checkIndex(t *testing.T, x *subIndex, names []string, want map[string]bool) {
	t.Helper()
	for _, n := range names {
		if got := x.has(n); got != want[n] {
			t.Errorf("has(%q) = %v, want %v", n, got, want[n])
		}
	}
	n := 0
	for _, in := range want {
		if in {
			n++
		}
	}
	if x.len() != n {
		t.Errorf("len = %d, want %d", x.len(), n)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !slices.IsSorted(x.base) || len(slices.Compact(slices.Clone(x.base))) != len(x.base) || cap(x.base) != len(x.base) {
		t.Errorf("base not an exact sorted set: len %d cap %d", len(x.base), cap(x.base))
	}
	if len(x.delta) > maxDelta {
		t.Errorf("delta holds %d changes, more than %d", len(x.delta), maxDelta)
	}
}

func TestIndexOps(t *testing.T) {
	type op struct {
		add bool
		sub string
	}
	tests := []struct {
		name string
		ops  []op
		want map[string]bool
	}{
		{"empty", nil, map[string]bool{}},
		{"add", []op{{true, "a"}}, map[string]bool{"a": true}},
		{"add twice counts once", []op{{true, "a"}, {true, "a"}}, map[string]bool{"a": true}},
		{"remove", []op{{true, "a"}, {true, "b"}, {false, "a"}}, map[string]bool{"b": true}},
		{"remove absent", []op{{false, "a"}}, map[string]bool{}},
		{"add after remove", []op{{true, "a"}, {false, "a"}, {true, "a"}}, map[string]bool{"a": true}},
	}
	names := []string{"a", "b", "c"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newSubIndex()
			for _, o := range tc.ops {
				if o.add {
					x.add(o.sub)
				} else {
					x.remove(o.sub)
				}
			}
			checkIndex(t, x, names, tc.want)
		})
	}
}

// TestIndexMerge: past maxDelta changes the delta is merged into an exact
// base, and removals and re-additions on either side of a merge hold.
func TestIndexMerge(t *testing.T) {
	x := newSubIndex()
	var names []string
	want := map[string]bool{}
	for i := range 3*maxDelta + 7 {
		n := fmt.Sprintf("sub-%d", i)
		names = append(names, n)
		x.add(n)
		want[n] = true
		if i%3 == 0 { // some removed right away, some long after
			x.remove(names[i/2])
			want[names[i/2]] = false
		}
	}
	x.mu.RLock()
	merged := len(x.base) > 0
	x.mu.RUnlock()
	if !merged {
		t.Fatal("the delta was never merged")
	}
	checkIndex(t, x, append(names, "never-added"), want)
	for _, n := range names[:100] {
		x.add(n)
		want[n] = true
	}
	checkIndex(t, x, names, want)
}

// TestIndexHashEdges: the extreme hash values are ordinary members.
func TestIndexHashEdges(t *testing.T) {
	for _, h := range []uint64{0, 1, math.MaxUint64 - 1, math.MaxUint64} {
		t.Run(fmt.Sprint(h), func(t *testing.T) {
			x := newSubIndex()
			if x.hasHash(h) {
				t.Fatal("empty index has it")
			}
			x.setHash(h, true)
			b := x.startBuild(0)
			b.hashes = append(b.hashes, h, h) // loaded twice
			if !x.finishBuild(b) || !x.hasHash(h) || x.len() != 1 {
				t.Fatalf("after load: has %v len %d", x.hasHash(h), x.len())
			}
			x.setHash(h, false)
			if x.hasHash(h) || x.len() != 0 {
				t.Fatalf("after removal: has %v len %d", x.hasHash(h), x.len())
			}
		})
	}
}

// TestIndexBuild: a bulk load replaces the contents, and the changes made
// while it runs, from other goroutines, win over what it loaded.
func TestIndexBuild(t *testing.T) {
	const n = 20000
	x := newSubIndex()
	x.add("stale") // not in the load: gone after it
	b := x.startBuild(0)
	if x.isTrusted() {
		t.Fatal("trusted during a load")
	}
	var wg sync.WaitGroup
	for w := range 4 { // loaders, as ForEachMaster runs them
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				b.insert(fmt.Sprintf("old-%d", i))
			}
		})
	}
	wg.Go(func() { // invalidations arriving meanwhile
		for i := range n / 2 {
			x.add(fmt.Sprintf("new-%d", i))
			x.remove(fmt.Sprintf("old-%d", i))
		}
	})
	wg.Wait()
	b.insert("Invalid.Name")
	if !x.finishBuild(b) || !x.isTrusted() || x.loadCount() != 1 {
		t.Fatalf("load not installed: trusted %v loads %d", x.isTrusted(), x.loadCount())
	}
	want := map[string]bool{}
	var names []string
	for i := range n {
		old, nw := fmt.Sprintf("old-%d", i), fmt.Sprintf("new-%d", i)
		names = append(names, old, nw)
		want[old], want[nw] = i >= n/2, i < n/2
	}
	checkIndex(t, x, append(names, "stale", "Invalid.Name"), want)
}

// TestIndexBuildAbandoned: a load superseded by a newer one, or cut short by
// distrust, installs nothing and trusts nothing.
func TestIndexBuildAbandoned(t *testing.T) {
	tests := []struct {
		name    string
		abandon func(x *subIndex)
	}{
		{"superseded", func(x *subIndex) { x.startBuild(0) }},
		{"distrusted", func(x *subIndex) { x.distrust() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newSubIndex()
			b := x.startBuild(0)
			b.insert("loaded")
			tc.abandon(x)
			if x.finishBuild(b) || x.isTrusted() || x.has("loaded") || x.loadCount() != 0 {
				t.Fatalf("abandoned load installed: trusted %v has %v", x.isTrusted(), x.has("loaded"))
			}
		})
	}
}

// TestIndexMemory: at a million subdomains, loaded or added one by one, the
// index takes at most 16 bytes each.
func TestIndexMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a million-entry index")
	}
	const n = 1_000_000
	tests := []struct {
		name  string
		build func() *subIndex
	}{
		{"loaded", func() *subIndex { return loadedIndex(n) }},
		{"added", func() *subIndex {
			x := newSubIndex()
			for i := range n {
				x.add(benchName("acct", i))
			}
			return x
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			perAccount, x := measureIndex(tc.build)
			if x.len() != n {
				t.Fatalf("len = %d", x.len())
			}
			t.Logf("%.2f bytes per account", perAccount)
			if perAccount > 16 {
				t.Fatalf("%.1f bytes per account, want at most 16", perAccount)
			}
		})
	}
}

// measureIndex returns the heap an index built by build holds, per entry.
func measureIndex(build func() *subIndex) (float64, *subIndex) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(x.len()), x
}

// loadedIndex is a trusted index of n names, bulk loaded as a store loads.
func loadedIndex(n int) *subIndex {
	x := newSubIndex()
	b := x.startBuild(0)
	for i := range n {
		b.insert(benchName("acct", i))
	}
	x.finishBuild(b)
	return x
}

// benchName is a subdomain shaped like the UUIDs acmedns hands out.
func benchName(kind string, i int) string {
	return fmt.Sprintf("%08x-%4.4s-4000-8000-%012x", i, kind, uint64(i)*0x9e3779b97f4a7c15>>16)
}

// TestIndexRemoveOwn: a store's own deletion leaves the index at once,
// unless a subdomain was added since the store took its mark (a message of
// a later registration may have been applied before the removal); during a
// load, the removal wins over what the load found.
func TestIndexRemoveOwn(t *testing.T) {
	tests := []struct {
		name   string
		before func(x *subIndex) // between the mark and the removal
		load   bool              // a load, which finds the name, is in progress
		want   bool              // the name is in the index afterwards
	}{
		{"nothing meanwhile", func(*subIndex) {}, false, false},
		{"another name added meanwhile", func(x *subIndex) { x.add("other") }, false, true},
		{"the name added again meanwhile", func(x *subIndex) { x.add("gone") }, false, true},
		{"another name removed meanwhile", func(x *subIndex) { x.remove("other") }, false, false},
		{"during a load", func(*subIndex) {}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := newSubIndex()
			x.add("gone")
			x.add("other")
			var b *indexBuild
			if tc.load {
				b = x.startBuild(0)
				b.insert("gone")
			}
			mark := x.addMark()
			tc.before(x)
			x.removeOwn("gone", mark)
			if b != nil && !x.finishBuild(b) {
				t.Fatal("load not installed")
			}
			if got := x.has("gone"); got != tc.want {
				t.Errorf("has = %v, want %v", got, tc.want)
			}
		})
	}
}
