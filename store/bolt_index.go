package store

import (
	bolt "go.etcd.io/bbolt"
)

// loadBoltIndex builds a trusted index of the registrations in db from the
// keys of its accounts bucket.
func loadBoltIndex(db *bolt.DB) (*subIndex, error) {
	x := newSubIndex()
	build := x.startBuild(0)
	err := db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(accountsBucket).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			build.insertBytes(k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.finishBuild(build)
	return x, nil
}

// IndexLen implements Indexed.
func (b *Bolt) IndexLen() int { return b.index.len() }

// IndexTrusted implements Indexed; the embedded store's index is always
// trusted.
func (b *Bolt) IndexTrusted() bool { return b.index.isTrusted() }

// IndexLoads implements Indexed: the one load, at open.
func (b *Bolt) IndexLoads() uint64 { return b.index.loadCount() }
