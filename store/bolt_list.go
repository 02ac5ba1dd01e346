package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// List implements Store. A page is one read transaction over the accounts
// bucket, whose keys bbolt keeps sorted, from the first key after after.
func (b *Bolt) List(ctx context.Context, after string, limit int) ([]Record, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	recs := make([]Record, 0, min(limit, 1024))
	next := ""
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(accountsBucket).Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil; k, _ = c.Next() {
			if len(recs) == limit {
				next = recs[len(recs)-1].Subdomain
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := readRecord(tx, k)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return recs, next, nil
}
