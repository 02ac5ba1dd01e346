package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AddTXT implements Store.
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
		return writeTXT(tx, key, pushValue(values, value, keep, t, expiry(t, maxAge)))
	})
	return err
}
