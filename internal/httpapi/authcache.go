package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/coredns/coredns/plugin/pkg/cache"
)

// The verified-credential cache lets a client that repeats its own valid
// credentials skip bcrypt. After a successful compare it keeps, per
// username, an HMAC (under a random key of this process) of the username,
// the API key and the stored hash, for a bounded time. A later update whose
// MAC matches is authenticated without bcrypt. The account is still read
// from the store on every update, and the stored hash is part of the MAC,
// so a changed password or a deleted account never authenticates from the
// cache. The API key itself is never kept.
type authCache struct {
	ttl     time.Duration
	macKey  [32]byte
	entries *cache.Cache[verified]
	now     func() time.Time
}

type verified struct {
	mac     [sha256.Size]byte
	expires time.Time
}

// newAuthCache returns a cache, or nil when cfg turns it off: a nil cache
// verifies nothing.
func newAuthCache(cfg AuthCache) *authCache {
	if cfg.TTL <= 0 || cfg.Entries <= 0 {
		return nil
	}
	c := &authCache{ttl: cfg.TTL, entries: cache.New[verified](cfg.Entries), now: time.Now}
	rand.Read(c.macKey[:])
	return c
}

func (c *authCache) mac(username, key string, hash []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.macKey[:])
	for _, part := range [][]byte{[]byte(username), []byte(key), hash} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		m.Write(n[:])
		m.Write(part)
	}
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

func (c *authCache) slot(username string) uint64 {
	sum := sha256.Sum256(append(c.macKey[:], username...))
	return binary.BigEndian.Uint64(sum[:8])
}

// verified reports whether username, key and hash were verified by bcrypt
// within the cache's time.
func (c *authCache) verified(username, key string, hash []byte) bool {
	if c == nil {
		return false
	}
	v, ok := c.entries.Get(c.slot(username))
	if !ok || c.now().After(v.expires) {
		return false
	}
	want := c.mac(username, key, hash)
	return hmac.Equal(v.mac[:], want[:])
}

// remember records a successful bcrypt compare.
func (c *authCache) remember(username, key string, hash []byte) {
	if c == nil {
		return
	}
	v := verified{mac: c.mac(username, key, hash), expires: c.now().Add(c.ttl)}
	c.entries.Add(c.slot(username), v)
}
