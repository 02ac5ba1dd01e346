package acmedns

import (
	"fmt"
	"sync"

	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// Stores are shared, reference-counted, across the server blocks of one
// Corefile and across reloads: a reload starts the new instance while the old
// one still serves, and the embedded database can only be opened once.

var (
	storesMu sync.Mutex
	stores   = map[string]*sharedStore{}
)

type sharedStore struct {
	store.Store
	refs int
}

// acquireStore returns the store for cfg, opening it on first use, and the
// function that gives it back.
func acquireStore(cfg *Config) (store.Store, func(), error) {
	key := "bolt|" + cfg.DB
	if cfg.Redis != nil {
		key = cfg.Redis.key()
	}
	storesMu.Lock()
	defer storesMu.Unlock()
	s, ok := stores[key]
	if !ok {
		st, err := openStore(cfg)
		if err != nil {
			return nil, nil, err
		}
		s = &sharedStore{Store: st}
		stores[key] = s
	}
	s.refs++
	var once sync.Once
	release := func() {
		once.Do(func() {
			storesMu.Lock()
			defer storesMu.Unlock()
			s.refs--
			if s.refs == 0 {
				delete(stores, key)
				if err := s.Close(); err != nil {
					log.Warningf("closing store: %v", err)
				}
			}
		})
	}
	return s.Store, release, nil
}

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
	// go-redis connects on demand, so a Redis that is down now is not an
	// error: queries answer SERVFAIL until it is back.
	return store.NewRedis(redis.NewUniversalClient(cfg.Redis.options()), cfg.Redis.storeOptions()), nil
}

// Reloads. Caddy discards a new instance whose start fails without running
// its shutdown callbacks, so what its OnStartup acquired is recorded here
// while a reload is under way and given back if the old instance learns that
// the reload failed.

var (
	reloadMu  sync.Mutex
	reloading bool
	pending   []func()
)

// beginReload marks the start of a reload (old instance's OnRestart).
func beginReload() {
	reloadMu.Lock()
	defer reloadMu.Unlock()
	if !reloading {
		reloading, pending = true, nil
	}
}

// track records what a starting instance acquired.
func track(release func()) {
	reloadMu.Lock()
	defer reloadMu.Unlock()
	if reloading {
		pending = append(pending, release)
	}
}

// endReload closes the reload: on failure the new instance's acquisitions
// are given back.
func endReload(failed bool) {
	reloadMu.Lock()
	rel := pending
	reloading, pending = false, nil
	reloadMu.Unlock()
	if failed {
		for _, f := range rel {
			f()
		}
	}
}

// indexed is implemented by stores that keep an in-memory index of their
// registered subdomains.
type indexed interface{ IndexLen() int }

// indexEntries sums the index sizes of the open stores (for metrics).
func indexEntries() float64 {
	storesMu.Lock()
	defer storesMu.Unlock()
	n := 0
	for _, s := range stores {
		if ix, ok := s.Store.(indexed); ok {
			n += ix.IndexLen()
		}
	}
	return float64(n)
}
