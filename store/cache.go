package store

import (
	"sync/atomic"

	"github.com/coredns/coredns/plugin/pkg/cache"
)

// txtCache is a bounded in-process cache of TXT lookups, positive and
// negative, for one Redis store. It is trusted only while the store's
// invalidation subscription is known to be live.
//
// Coherence: every write publishes the subdomain after it is applied, and
// every replica deletes it on receipt. A lookup that fetched from Redis
// stores its result only if no invalidation (nor flush) arrived while it was
// fetching, so a value read just before a write can never outlive the
// write's invalidation.
type txtCache struct {
	size    int
	entries atomic.Pointer[cache.Cache[cacheEntry]]
	seq     atomic.Uint64 // bumped by every invalidation and flush
	trusted atomic.Bool
}

type cacheEntry struct {
	subdomain string  // guards against hash collisions
	values    []Value // nil: not registered
}

func newTXTCache(size int) *txtCache {
	c := &txtCache{size: size}
	c.entries.Store(cache.New[cacheEntry](size))
	return c
}

// cacheKey is the 64-bit FNV-1 hash of subdomain (as cache.Hash computes
// it), without the allocations of hash/fnv on the DNS hot path.
func cacheKey(subdomain string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(subdomain); i++ {
		h *= prime
		h ^= uint64(subdomain[i])
	}
	return h
}

// The methods below treat a nil *txtCache as a store without a cache: it
// never answers and drops nothing.

// get returns a cached lookup: values (nil with found for "not registered").
func (c *txtCache) get(subdomain string) (values []Value, registered, ok bool) {
	if c == nil || !c.trusted.Load() {
		return nil, false, false
	}
	e, ok := c.entries.Load().Get(cacheKey(subdomain))
	if !ok || e.subdomain != subdomain {
		return nil, false, false
	}
	return e.values, e.values != nil, true
}

// begin returns the token a lookup passes to put.
func (c *txtCache) begin() uint64 {
	if c == nil {
		return 0
	}
	return c.seq.Load()
}

// put caches a lookup made since token, unless the cache changed meanwhile.
func (c *txtCache) put(token uint64, subdomain string, values []Value) {
	if c == nil || !c.trusted.Load() || c.seq.Load() != token {
		return
	}
	entries := c.entries.Load()
	entries.Add(cacheKey(subdomain), cacheEntry{subdomain: subdomain, values: values})
	// An invalidation may have landed between the check and the add.
	if c.seq.Load() != token {
		entries.Remove(cacheKey(subdomain))
	}
}

// invalidate drops one subdomain.
func (c *txtCache) invalidate(subdomain string) {
	if c == nil {
		return
	}
	c.seq.Add(1)
	c.entries.Load().Remove(cacheKey(subdomain))
}

// flush drops everything and sets whether the cache may be used.
func (c *txtCache) flush(trusted bool) {
	if c == nil {
		return
	}
	c.trusted.Store(false)
	c.seq.Add(1)
	c.entries.Store(cache.New[cacheEntry](c.size))
	c.trusted.Store(trusted)
}
