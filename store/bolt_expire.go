package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// expiryKey is a record's key in acmedns-expiry-v1: the unix seconds of its
// oldest timed value, 8 bytes big-endian, then the subdomain.
func expiryKey(oldest int64, sub []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(oldest)), sub...)
}

// reindexExpiry moves the expiry entry of key from what the values old
// give to what new give (none for a record without a timed value), in the
// transaction that writes new.
func reindexExpiry(tx *bolt.Tx, key []byte, old, new []Value) error {
	before, after := oldestSet(old), oldestSet(new)
	if before == after {
		return nil
	}
	idx := tx.Bucket(expiryBucket)
	if before > 0 {
		if err := idx.Delete(expiryKey(before, key)); err != nil {
			return err
		}
	}
	if after == 0 {
		return nil
	}
	return idx.Put(expiryKey(after, key), []byte{})
}

// initExpiry creates acmedns-expiry-v1 if the file lacks it, filled from
// the TXT values already stored (an earlier release's, of unknown times,
// have no entry).
func initExpiry(tx *bolt.Tx) error {
	if tx.Bucket(expiryBucket) != nil {
		return nil
	}
	idx, err := tx.CreateBucket(expiryBucket)
	if err != nil {
		return err
	}
	var entries []entry
	err = tx.Bucket(txtV2Bucket).ForEach(func(k, v []byte) error {
		var stored []boltValue
		if err := json.Unmarshal(v, &stored); err != nil {
			return fmt.Errorf("store: corrupt TXT values of %q: %w", k, err)
		}
		var oldest int64
		for _, s := range stored {
			if s.Set > 0 && (oldest == 0 || s.Set < oldest) {
				oldest = s.Set
			}
		}
		if oldest > 0 {
			entries = append(entries, entry{expiryKey(oldest, k), []byte{}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return putSorted(idx, entries)
}

// ExpireTXT implements Expirer: one transaction walks acmedns-expiry-v1
// from its start to the cutoff and, for each of at most limit subdomains,
// drops the expired values and journals the change.
func (b *Bolt) ExpireTXT(ctx context.Context, maxAge time.Duration, limit int) (int, bool, error) {
	if err := checkExpire(maxAge, limit); err != nil {
		return 0, false, err
	}
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	t := now()
	cutoff := unixSeconds(t.Add(-maxAge))
	b.mu.Lock()
	defer b.mu.Unlock()
	var due [][]byte
	var more bool
	changed := 0
	err := b.db.Update(func(tx *bolt.Tx) error {
		due, more = dueExpiry(tx, cutoff, limit)
		changed = 0
		for _, k := range due {
			dropped, err := b.expireOne(tx, k, cutoff, t)
			if err != nil {
				return err
			}
			if dropped {
				changed++
			}
		}
		return nil
	})
	for _, k := range due {
		b.cache.invalidate(string(k[8:]))
	}
	if err != nil {
		return 0, false, err
	}
	return changed, more, nil
}

// dueExpiry returns the keys of acmedns-expiry-v1 older than cutoff, at
// most limit of them, and whether there are more.
func dueExpiry(tx *bolt.Tx, cutoff int64, limit int) (due [][]byte, more bool) {
	end := binary.BigEndian.AppendUint64(nil, uint64(cutoff))
	c := tx.Bucket(expiryBucket).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		if len(due) == limit {
			return due, true
		}
		if len(k) > 8 {
			due = append(due, bytes.Clone(k))
		}
	}
	return due, false
}

// expireOne drops the values of the expiry entry k's record set before
// cutoff, journals the change and records the update time t. It reports
// whether it dropped any; when not (an entry that does not match its
// record), it puts the entry right.
func (b *Bolt) expireOne(tx *bolt.Tx, k []byte, cutoff int64, t time.Time) (bool, error) {
	key := k[8:]
	a, err := getAccount(tx, key)
	if errors.Is(err, ErrNotFound) {
		return false, tx.Bucket(expiryBucket).Delete(k)
	}
	if err != nil {
		return false, err
	}
	values, err := readTXT(tx, key)
	if err != nil {
		return false, err
	}
	kept := unexpired(values, cutoff)
	if len(kept) == len(values) {
		if err := tx.Bucket(expiryBucket).Delete(k); err != nil {
			return false, err
		}
		return false, reindexExpiry(tx, key, nil, values)
	}
	if err := writeTXT(tx, key, values, kept); err != nil {
		return false, err
	}
	a.Updated = unixSeconds(t)
	if err := putAccount(tx, key, a); err != nil {
		return false, err
	}
	return true, b.journal(tx, ChangeTXT, string(key), values, kept)
}
