package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AddTXT implements Store; the change is journaled in its transaction.
func (b *Bolt) AddTXT(ctx context.Context, subdomain, value string, keep int, maxAge time.Duration) error {
	if err := checkAdd(subdomain, value, keep); err != nil {
		return err
	}
	t := now()
	_, err := b.modify(ctx, subdomain, func(tx *bolt.Tx, _ *boltAccount) error {
		key := []byte(subdomain)
		values, err := readTXT(tx, key)
		if err != nil {
			return err
		}
		next := pushValue(values, value, keep, t, expiry(t, maxAge))
		if err := writeTXT(tx, key, values, next); err != nil {
			return err
		}
		return b.journal(tx, ChangeTXT, subdomain, values, next)
	})
	return err
}
