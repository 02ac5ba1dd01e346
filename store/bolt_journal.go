package store

import (
	"context"
	"encoding/binary"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// serialKey is the key of the change counter in acmedns-zone-v1.
var serialKey = []byte("serial")

// errCorruptSerial is returned when the stored counter is not 8 bytes.
var errCorruptSerial = errors.New("store: corrupt zone serial")

// initZone creates the zone's and the journal's buckets a database lacks,
// and starts the counter at the current Unix time if it has none.
func initZone(tx *bolt.Tx) error {
	zone, err := tx.CreateBucketIfNotExists(zoneBucket)
	if err != nil {
		return err
	}
	if _, err := tx.CreateBucketIfNotExists(journalBucket); err != nil {
		return err
	}
	if zone.Get(serialKey) != nil {
		return nil
	}
	return zone.Put(serialKey, counterKey(initialSerial(now())))
}

// counterKey is the 8-byte big-endian form of a counter.
func counterKey(counter uint64) []byte { return binary.BigEndian.AppendUint64(nil, counter) }

// readCounter reads the zone's change counter.
func readCounter(tx *bolt.Tx) (uint64, error) {
	v := tx.Bucket(zoneBucket).Get(serialKey)
	if len(v) != 8 {
		return 0, errCorruptSerial
	}
	return binary.BigEndian.Uint64(v), nil
}

// journal moves the counter on by one and appends the change of sub from
// old to new values to the journal, in the transaction tx that makes it,
// dropping the entries beyond the journal's bound.
func (b *Bolt) journal(tx *bolt.Tx, kind ChangeKind, sub string, old, new []Value) error {
	counter, err := readCounter(tx)
	if err != nil {
		return err
	}
	counter++
	if err := tx.Bucket(zoneBucket).Put(serialKey, counterKey(counter)); err != nil {
		return err
	}
	tx.OnCommit(func() { b.serial.note(b.serial.changed(), counter) })
	j := tx.Bucket(journalBucket)
	entry := encodeChange(counter, kind, sub, valueTexts(old), valueTexts(new))
	if err := j.Put(counterKey(counter), []byte(entry)); err != nil {
		return err
	}
	bound := uint64(journalBound(b.opts.JournalSize))
	if counter < bound {
		return nil
	}
	oldest := counter - bound + 1 // the oldest entry kept
	c := j.Cursor()
	for k, _ := c.First(); k != nil && (len(k) != 8 || binary.BigEndian.Uint64(k) < oldest); k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Serial implements Journal.
func (b *Bolt) Serial(ctx context.Context) (uint32, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	token := b.serial.begin()
	var counter uint64
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		counter, err = readCounter(tx)
		return err
	})
	if err == nil {
		b.serial.note(token, counter)
	}
	return uint32(counter), err
}

// CachedSerial implements Journal.
func (b *Bolt) CachedSerial() (uint32, bool) { return b.serial.get() }

// Changes implements Journal: one read transaction reads the counter and,
// with a cursor from the first change the caller lacks, the changes since.
func (b *Bolt) Changes(ctx context.Context, from uint32, limit int) ([]Change, uint32, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, false, err
	}
	var changes []Change
	var counter uint64
	var ok bool
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		if counter, err = readCounter(tx); err != nil {
			return err
		}
		if uint32(counter) == from {
			changes, ok = []Change{}, true
			return nil
		}
		entries, found := journalTail(tx, from, counter, limit)
		if !found {
			return nil
		}
		changes, ok, err = pendingChanges(entries, from, counter)
		return err
	})
	if err != nil || !ok {
		return nil, uint32(counter), false, err
	}
	return changes, uint32(counter), true, nil
}

// journalTail reads the entries after from up to counter, oldest first.
// found is false when from is not older than counter, more than limit
// changes behind it, or the journal no longer holds the first of them.
func journalTail(tx *bolt.Tx, from uint32, counter uint64, limit int) (entries []string, found bool) {
	lacking, older := journalSpan(from, counter, limit)
	if !older || uint64(lacking) > counter {
		return nil, false
	}
	first := counterKey(counter - uint64(lacking) + 1)
	c := tx.Bucket(journalBucket).Cursor()
	k, v := c.Seek(first)
	if k == nil || string(k) != string(first) {
		return nil, false
	}
	entries = make([]string, 0, min(int(lacking), 1024))
	for ; k != nil && len(entries) < int(lacking); k, v = c.Next() {
		entries = append(entries, string(v))
	}
	return entries, true
}
