package store

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// indexSeed keys the hashes of every index in the process. It is random per
// process, so which names collide differs from one replica to the next and
// cannot be aimed at.
var indexSeed = maphash.MakeSeed()

// maxDelta is how many changes an index keeps beside its sorted base before
// it merges them into a new base.
const maxDelta = 4096

// hashSub is the index key of a subdomain; it does not allocate.
func hashSub(subdomain string) uint64 { return maphash.String(indexSeed, subdomain) }

// subIndex is the set of a store's registered subdomains, held as 64-bit
// hashes in about 8 bytes each: a sorted, exactly sized base, never changed
// in place, and a small delta (true: added, false: removed) holding only the
// hashes whose presence differs from the base.
//
// A hash stands for every name that has it. A collision makes has say yes
// for an unregistered name, which costs the caller a store read and never a
// wrong answer; removing one of two colliding registered names would hide
// the other, but with 64-bit hashes that takes about 2^64/n removals among n
// registrations.
//
// A lookup that misses a trusted index means "not registered" for sure;
// while the index is not trusted (its owner may have missed a change, or a
// load is in progress) callers ask the store instead.
type subIndex struct {
	mu      sync.RWMutex
	base    []uint64        // sorted, no duplicates
	delta   map[uint64]bool // differences from base
	size    int             // hashes in the set
	build   *indexBuild     // the bulk load in progress, if any
	trusted atomic.Bool
	loads   atomic.Uint64 // completed bulk loads
	adds    atomic.Uint64 // calls of add, for removeOwn
}

func newSubIndex() *subIndex { return &subIndex{delta: map[uint64]bool{}} }

// has reports whether subdomain may be registered.
func (x *subIndex) has(subdomain string) bool { return x.hasHash(hashSub(subdomain)) }

// add records that subdomain is registered.
func (x *subIndex) add(subdomain string) {
	x.adds.Add(1)
	x.setHash(hashSub(subdomain), true)
}

// addMark returns the mark a store takes before it deletes a subdomain, for
// removeOwn.
func (x *subIndex) addMark() uint64 { return x.adds.Load() }

// removeOwn records a deletion this store made, without waiting for its
// invalidation message, unless add was called since mark. The deleted
// subdomain may have been registered again since (by another replica, whose
// message may have been applied already); the deletion's own message then
// removes it in its place in the order of the messages. Skipping leaves the
// subdomain in the index, which costs a lookup a store read, never a wrong
// answer.
func (x *subIndex) removeOwn(subdomain string, mark uint64) {
	h := hashSub(subdomain)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.adds.Load() != mark {
		return
	}
	if x.build != nil {
		x.build.ops[h] = false
	}
	x.setLocked(h, false)
}

// remove records that subdomain is no longer registered.
func (x *subIndex) remove(subdomain string) { x.setHash(hashSub(subdomain), false) }

// len is the number of hashes in the set.
func (x *subIndex) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.size
}

// isTrusted reports whether a miss means "not registered".
func (x *subIndex) isTrusted() bool { return x.trusted.Load() }

// loadCount is the number of bulk loads completed so far.
func (x *subIndex) loadCount() uint64 { return x.loads.Load() }

// distrust stops misses from counting until the next completed load, and
// abandons the load in progress: it may have missed changes too.
func (x *subIndex) distrust() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.trusted.Store(false)
	x.build = nil
}

func (x *subIndex) hasHash(h uint64) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.containsLocked(h)
}

func (x *subIndex) containsLocked(h uint64) bool {
	if present, ok := x.delta[h]; ok {
		return present
	}
	return contains(x.base, h)
}

// contains reports whether base, sorted hashes, has h.
func contains(base []uint64, h uint64) bool {
	_, found := slices.BinarySearch(base, h)
	return found
}

// setHash records h as present or absent, in the set and in the load in
// progress. A change that changes nothing takes only the read lock.
func (x *subIndex) setHash(h uint64, present bool) {
	x.mu.RLock()
	unchanged := x.build == nil && x.containsLocked(h) == present
	x.mu.RUnlock()
	if unchanged {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.build != nil {
		x.build.ops[h] = present
	}
	x.setLocked(h, present)
}

func (x *subIndex) setLocked(h uint64, present bool) {
	if x.containsLocked(h) == present {
		return
	}
	if present {
		x.size++
	} else {
		x.size--
	}
	if contains(x.base, h) == present {
		delete(x.delta, h)
		return
	}
	x.delta[h] = present
	if len(x.delta) > maxDelta {
		x.base = mergeDelta(x.base, x.delta, x.size)
		clear(x.delta)
	}
}

// mergeDelta returns a new base of exactly size hashes: base without the
// removed hashes of delta, with its added ones.
func mergeDelta(base []uint64, delta map[uint64]bool, size int) []uint64 {
	added := make([]uint64, 0, len(delta))
	for h, present := range delta {
		if present {
			added = append(added, h)
		}
	}
	slices.Sort(added)
	out := make([]uint64, 0, size)
	for _, h := range base {
		for len(added) > 0 && added[0] < h {
			out = append(out, added[0])
			added = added[1:]
		}
		if present, ok := delta[h]; !ok || present {
			out = append(out, h)
		}
	}
	return append(out, added...)
}
