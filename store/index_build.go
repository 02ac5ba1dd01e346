package store

import (
	"hash/maphash"
	"slices"
	"sync"
)

// indexBuild is a bulk load of an index in progress: the hashes the loader
// found so far, and every change applied to the index since the load began,
// which are replayed over the loaded hashes when it completes. A change made
// during the load thus wins over what the loader read, whichever came first.
type indexBuild struct {
	mu     sync.Mutex // the loader may insert from several goroutines
	hashes []uint64
	ops    map[uint64]bool // guarded by the index's mu
}

// startBuild distrusts the index and begins a bulk load that replaces its
// contents when finishBuild completes it. hint is the expected number of
// subdomains. A newer startBuild, or distrust, abandons this load.
func (x *subIndex) startBuild(hint int) *indexBuild {
	b := &indexBuild{hashes: make([]uint64, 0, max(hint, 0)), ops: map[uint64]bool{}}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.trusted.Store(false)
	x.build = b
	return b
}

// insert adds a registered subdomain found by the loader. Invalid names,
// which no lookup asks for, are skipped.
func (b *indexBuild) insert(subdomain string) {
	if !ValidSubdomain(subdomain) {
		return
	}
	h := hashSub(subdomain)
	b.mu.Lock()
	b.hashes = append(b.hashes, h)
	b.mu.Unlock()
}

// insertBytes is insert for a key read as bytes; it hashes as insert does.
func (b *indexBuild) insertBytes(subdomain []byte) {
	if !ValidSubdomain(string(subdomain)) { // no allocation: the conversion does not escape
		return
	}
	h := maphash.Bytes(indexSeed, subdomain)
	b.mu.Lock()
	b.hashes = append(b.hashes, h)
	b.mu.Unlock()
}

// reset forgets what the loader inserted, before it starts over.
func (b *indexBuild) reset() {
	b.mu.Lock()
	b.hashes = b.hashes[:0]
	b.mu.Unlock()
}

// finishBuild installs a completed load, with the changes made meanwhile,
// and trusts the index. It reports false, changing nothing, when the load
// was abandoned.
func (x *subIndex) finishBuild(b *indexBuild) bool {
	b.mu.Lock()
	hashes := b.hashes
	b.hashes = nil
	b.mu.Unlock()
	base := exactSet(hashes)

	x.mu.Lock()
	defer x.mu.Unlock()
	if x.build != b {
		return false
	}
	x.build = nil
	x.base, x.size = base, len(base)
	x.delta = map[uint64]bool{}
	for h, present := range b.ops {
		x.setLocked(h, present)
	}
	x.loads.Add(1)
	x.trusted.Store(true)
	return true
}

// exactSet sorts hashes and returns them without duplicates in a slice of
// exactly their number.
func exactSet(hashes []uint64) []uint64 {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	if cap(hashes) == len(hashes) {
		return hashes
	}
	out := make([]uint64, len(hashes))
	copy(out, hashes)
	return out
}
