package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the embedded single-node store: a bbolt database file. Every write
// is committed with fsync before it returns, so an acknowledged update
// survives a crash. Lookups are cached in memory; as this process is the
// file's only writer, each write simply drops its subdomain from the cache.
// For the same reason the index of registered subdomains, built from the
// file at open and kept current by every write, is always trusted: a name it
// lacks is answered "not registered" without reading the file.
//
// The file holds seven buckets, the first three keyed by subdomain, and
// the two of Blobs (see bolt_blobs.go) once written:
//
//	acmedns-accounts-v1  the account, JSON {"u":username, "p":bcrypt hash
//	                     (base64), "a":[allowfrom], "c":created, "m":updated},
//	                     times in unix seconds, absent when unknown
//	acmedns-txt-v2       the TXT values, newest first, JSON
//	                     [{"v":value, "s":set}], s absent when unknown
//	acmedns-txt-v1       an earlier release's TXT values, "v1 v2" separated by
//	                     spaces, of unknown times: read when the subdomain has
//	                     no v2 entry, and deleted by its next write
//	acmedns-users-v1     username -> subdomain, kept in the same transaction
//	                     as the account, which makes usernames unique
//	acmedns-zone-v1      "serial" -> the zone's change counter (see Journal),
//	                     8 bytes big-endian; its low 32 bits are the serial
//	acmedns-journal-v1   counter (8 bytes big-endian) -> the change that moved
//	                     the counter to it, in encodeChange's form: counter,
//	                     kind, subdomain, old and new values, tab-separated;
//	                     the newest BoltOptions.JournalSize are kept
//	acmedns-expiry-v1    the expiry index: for each record with a value of
//	                     known set time, the unix seconds of the oldest such
//	                     (8 bytes big-endian) then the subdomain -> empty
//
// Every registration, change of TXT values and deletion moves the counter
// on by one and appends its change to the journal in the transaction that
// makes it, so the serial, the journal and the records always agree; a
// change of password or allowed networks leaves both alone. Each write of
// TXT values (and each deletion) moves the record's expiry entry in the same
// transaction, so ExpireTXT finds the records it has work on by a cursor
// from the index's start, without reading the others; the drops it makes
// are changes of TXT values like any other, journaled as such.
//
// An account written by an earlier release reads with unknown times. A file
// that lacks the usernames' bucket has it built from the accounts at open;
// one that lacks the zone's serial has it set to the current Unix time, and
// one that lacks the expiry index has it built from the TXT values.
type Bolt struct {
	db    *bolt.DB
	cache *txtCache // nil: no TXT cache
	index *subIndex
	opts  BoltOptions
	mu    sync.Mutex // held by each write until the index has its outcome
	// serial is the zone's serial as last read or committed: this
	// process is the file's only writer, so it hears of every change.
	serial serialMemo
}

// BoltOptions tunes the embedded store.
type BoltOptions struct {
	// CacheSize bounds the in-memory cache of TXT lookups (entries); 0
	// disables it. The index of registered subdomains is kept either way.
	CacheSize int
	// CacheResult, if set, is told of each lookup whether the cache
	// answered it (for metrics).
	CacheResult func(hit bool)
	// JournalSize bounds the journal of changes (see Journal): it keeps
	// the newest JournalSize; 0 means DefaultJournalSize.
	JournalSize int
}

// OpenBolt opens (creating if needed) the database at path.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening %q: %w", path, err)
	}
	var index *subIndex
	err = db.Update(initBuckets)
	if err == nil {
		index, err = loadBoltIndex(db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising %q: %w", path, err)
	}
	b := &Bolt{db: db, opts: opts, index: index}
	b.serial.trust(true) // the only writer: every change is its own
	if opts.CacheSize > 0 {
		b.cache = newTXTCache(opts.CacheSize)
		b.cache.flush(true)
	}
	return b, nil
}

// Account implements Store.
func (b *Bolt) Account(ctx context.Context, subdomain string) (Account, error) {
	if !ValidSubdomain(subdomain) {
		return Account{}, ErrNotFound
	}
	var a boltAccount
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = getAccount(tx, []byte(subdomain))
		return err
	})
	if err != nil {
		return Account{}, err
	}
	return a.account(subdomain), nil
}

// TXT implements Store.
func (b *Bolt) TXT(ctx context.Context, subdomain string) ([]Value, error) {
	if values, hit, err := b.CachedTXT(subdomain); hit {
		return values, err
	}
	return b.FetchTXT(ctx, subdomain)
}

// CachedTXT implements Cached: from the TXT cache, or ErrNotFound from the
// index for a name that is not registered.
func (b *Bolt) CachedTXT(subdomain string) (values []Value, hit bool, err error) {
	return answer(b.cache, b.index, subdomain, b.opts.CacheResult)
}

// FetchTXT implements Cached: it reads the file and caches what it read,
// unless a write to any subdomain committed meanwhile.
func (b *Bolt) FetchTXT(ctx context.Context, subdomain string) ([]Value, error) {
	if !ValidSubdomain(subdomain) {
		return nil, ErrNotFound
	}
	token := b.cache.begin()
	var values []Value
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		values, err = readTXT(tx, []byte(subdomain))
		return err
	})
	if err == nil || errors.Is(err, ErrNotFound) {
		b.cache.put(token, subdomain, values)
	}
	return values, err
}

// Ping implements Store.
func (b *Bolt) Ping(ctx context.Context) error {
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(txtV2Bucket) == nil {
			return fmt.Errorf("store: database not initialised")
		}
		return nil
	})
}

// Close implements Store.
func (b *Bolt) Close() error {
	b.serial.trust(false) // a closed file answers nothing, from memory either
	return b.db.Close()
}

// update runs fn in a write transaction unless ctx is already done. bbolt
// serialises writers, which makes each read-modify-write atomic; b.mu, held
// until indexed (if not nil) has applied the outcome to the index, keeps the
// index's changes in the order of the commits. The cache drops subdomain.
func (b *Bolt) update(ctx context.Context, subdomain string, fn func(*bolt.Tx) error, indexed func(err error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.cache.invalidate(subdomain)
	err := b.db.Update(fn)
	if indexed != nil {
		indexed(err)
	}
	return err
}
