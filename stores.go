package acmedns

import (
	"fmt"

	"github.com/acmedns/acmedns/internal/registry"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// Stores are shared, reference-counted, across the server blocks of one
// Corefile and across reloads: a reload starts the new instance while the old
// one still serves, and the embedded database can only be opened once.
var stores = registry.New(func(s store.Store) {
	if err := s.Close(); err != nil {
		log.Warningf("closing store: %v", err)
	}
})

// acquireStore returns the store for cfg, opening it on first use, and the
// function that gives it back.
func acquireStore(cfg *Config) (store.Store, func(), error) {
	key := "bolt|" + cfg.DB
	if cfg.Redis != nil {
		key = cfg.Redis.key()
	}
	return stores.Acquire(key, func() (store.Store, error) { return openStore(cfg) }, nil)
}

// openStore opens the store cfg names.
func openStore(cfg *Config) (store.Store, error) {
	if cfg.Redis == nil {
		s, err := store.OpenBolt(cfg.DB, store.BoltOptions{CacheSize: DefaultCacheSize, CacheResult: countCacheLookup})
		if err != nil {
			return nil, fmt.Errorf("embedded store: %w", err)
		}
		return s, nil
	}
	// TLS files that cannot be read are a configuration error.
	if t := cfg.Redis.TLS; t != nil {
		if _, err := t.config(cfg.Redis.Addrs); err != nil {
			return nil, fmt.Errorf("redis tls: %w", err)
		}
	}
	quietRedis()
	// go-redis connects on demand, so a Redis that is down now is not an
	// error: queries answer SERVFAIL until it is back.
	return store.NewRedis(redis.NewUniversalClient(cfg.Redis.options()), cfg.Redis.storeOptions()), nil
}

// indexed is implemented by stores that keep an in-memory index of their
// registered subdomains.
type indexed interface{ IndexLen() int }

// indexEntries sums the index sizes of the open stores (for metrics).
func indexEntries() float64 {
	n := 0
	stores.Each(func(s store.Store) {
		if ix, ok := s.(indexed); ok {
			n += ix.IndexLen()
		}
	})
	return float64(n)
}

// indexTrusted is 1 when the index of every open store is trusted, 0 while
// one is not (for metrics).
func indexTrusted() float64 {
	trusted := true
	stores.Each(func(s store.Store) {
		if ix, ok := s.(store.Indexed); ok && !ix.IndexTrusted() {
			trusted = false
		}
	})
	if trusted {
		return 1
	}
	return 0
}
