package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	accountsBucket = []byte("acmedns-accounts-v1")
	txtBucket      = []byte("acmedns-txt-v1")
)

// Bolt is the embedded single-node store: a bbolt database file. Every write
// is committed with fsync before it returns, so an acknowledged update
// survives a crash. Lookups are cached in memory; as this process is the
// file's only writer, each write simply drops its subdomain from the cache.
// For the same reason the index of registered subdomains, built from the
// file at open and kept current by Register, is always trusted: a name it
// lacks is answered "not registered" without reading the file.
type Bolt struct {
	db    *bolt.DB
	cache *txtCache // nil: no TXT cache
	index *subIndex
	opts  BoltOptions
}

// BoltOptions tunes the embedded store.
type BoltOptions struct {
	// CacheSize bounds the in-memory cache of TXT lookups (entries); 0
	// disables it. The index of registered subdomains is kept either way.
	CacheSize int
	// CacheResult, if set, is told of each lookup whether the cache
	// answered it (for metrics).
	CacheResult func(hit bool)
}

type boltAccount struct {
	Username  string   `json:"u"`
	Password  []byte   `json:"p"`
	AllowFrom []string `json:"a,omitempty"`
}

// OpenBolt opens (creating if needed) the database at path.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", path, err)
	}
	var index *subIndex
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(accountsBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(txtBucket)
		return err
	})
	if err == nil {
		index, err = loadBoltIndex(db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising %q: %w", path, err)
	}
	b := &Bolt{db: db, opts: opts, index: index}
	if opts.CacheSize > 0 {
		b.cache = newTXTCache(opts.CacheSize)
		b.cache.flush(true)
	}
	return b, nil
}

// Register implements Store.
func (b *Bolt) Register(ctx context.Context, a Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	rec, err := json.Marshal(boltAccount{Username: a.Username, Password: a.PasswordHash, AllowFrom: a.AllowFrom})
	if err != nil {
		return err
	}
	defer b.invalidate(a.Subdomain)
	wrote := false // the transaction may commit the registration
	defer func() {
		if wrote {
			b.index.add(a.Subdomain)
		}
	}()
	return b.update(ctx, func(tx *bolt.Tx) error {
		key := []byte(a.Subdomain)
		accts := tx.Bucket(accountsBucket)
		if accts.Get(key) != nil {
			return ErrExists
		}
		wrote = true
		if err := accts.Put(key, rec); err != nil {
			return err
		}
		return tx.Bucket(txtBucket).Put(key, []byte{})
	})
}

// Account implements Store.
func (b *Bolt) Account(ctx context.Context, subdomain string) (Account, error) {
	if !ValidSubdomain(subdomain) {
		return Account{}, ErrNotFound
	}
	var rec boltAccount
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(accountsBucket).Get([]byte(subdomain))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return Account{}, err
	}
	return Account{Username: rec.Username, PasswordHash: rec.Password, Subdomain: subdomain, AllowFrom: rec.AllowFrom}, nil
}

// AddTXT implements Store.
func (b *Bolt) AddTXT(ctx context.Context, subdomain, value string, keep int) error {
	if err := checkAdd(subdomain, value, keep); err != nil {
		return err
	}
	defer b.invalidate(subdomain)
	return b.update(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(txtBucket)
		key := []byte(subdomain)
		cur := bk.Get(key)
		if cur == nil {
			return ErrNotFound
		}
		values := pushValue(splitValues(string(cur)), value, keep)
		return bk.Put(key, []byte(strings.Join(values, " ")))
	})
}

// TXT implements Store.
func (b *Bolt) TXT(ctx context.Context, subdomain string) ([]string, error) {
	if values, hit, err := b.CachedTXT(subdomain); hit {
		return values, err
	}
	return b.FetchTXT(ctx, subdomain)
}

// CachedTXT implements Cached: from the TXT cache, or ErrNotFound from the
// index for a name that is not registered.
func (b *Bolt) CachedTXT(subdomain string) (values []string, hit bool, err error) {
	return answer(b.cache, b.index, subdomain, b.opts.CacheResult)
}

// FetchTXT implements Cached: it reads the file and caches what it read,
// unless a write to any subdomain committed meanwhile.
func (b *Bolt) FetchTXT(ctx context.Context, subdomain string) ([]string, error) {
	if !ValidSubdomain(subdomain) {
		return nil, ErrNotFound
	}
	token := b.cache.begin()
	var values []string
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(txtBucket).Get([]byte(subdomain))
		if v == nil {
			return ErrNotFound
		}
		values = splitValues(string(v)) // copies out of the mmap
		return nil
	})
	if err == nil || errors.Is(err, ErrNotFound) {
		b.cache.put(token, subdomain, values)
	}
	return values, err
}

// invalidate drops a subdomain from the cache once its write is committed
// (or failed).
func (b *Bolt) invalidate(subdomain string) { b.cache.invalidate(subdomain) }

// Ping implements Store.
func (b *Bolt) Ping(ctx context.Context) error {
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(txtBucket) == nil {
			return fmt.Errorf("store: database not initialised")
		}
		return nil
	})
}

// Close implements Store.
func (b *Bolt) Close() error { return b.db.Close() }

// update runs fn in a write transaction unless ctx is already done. bbolt
// serialises writers, which makes each read-modify-write atomic.
func (b *Bolt) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(fn)
}
