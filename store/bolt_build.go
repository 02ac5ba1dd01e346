package store

import (
	"bytes"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// entry is one key and value to put in a bucket being built.
type entry struct{ key, value []byte }

// putSorted puts entries into b in ascending key order; of entries with
// the same key the first given is kept. bbolt splits a node only when its
// transaction commits, so inserting a million keys in random order into a
// new bucket in one transaction moves the growing node on every insert
// (quadratic: minutes at a million accounts); in order, each insert is an
// append.
func putSorted(b *bolt.Bucket, entries []entry) error {
	slices.SortStableFunc(entries, func(x, y entry) int { return bytes.Compare(x.key, y.key) })
	var last []byte
	for i, e := range entries {
		if i > 0 && bytes.Equal(e.key, last) {
			continue
		}
		last = e.key
		if err := b.Put(e.key, e.value); err != nil {
			return err
		}
	}
	return nil
}
