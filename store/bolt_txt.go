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
	return b.changeTXT(ctx, subdomain, func(values []Value) ([]Value, error) {
		return pushValue(values, value, keep, t, expiry(t, maxAge)), nil
	})
}

// changeTXT replaces the TXT values of subdomain with what change
// makes of them, and journals it; an error of change rolls back.
func (b *Bolt) changeTXT(ctx context.Context, subdomain string, change func([]Value) ([]Value, error)) error {
	_, err := b.modify(ctx, subdomain, func(tx *bolt.Tx, _ *boltAccount) error {
		key := []byte(subdomain)
		values, err := readTXT(tx, key)
		if err != nil {
			return err
		}
		next, err := change(values)
		if err != nil {
			return err
		}
		if err := writeTXT(tx, key, values, next); err != nil {
			return err
		}
		return b.journal(tx, ChangeTXT, subdomain, values, next)
	})
	return err
}
