package store

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// errUnchanged rolls back a transaction that would change nothing.
var errUnchanged = errors.New("store: unchanged")

// SetPersist implements Persister; the change is journaled in its
// transaction, and storing the record already stored changes nothing.
func (b *Bolt) SetPersist(ctx context.Context, subdomain, record string) error {
	if !ValidPersist(record) {
		return fmt.Errorf("store: invalid persistent record")
	}
	err := b.changePersist(ctx, subdomain, func(values []Value) ([]Value, error) {
		next, ok := withPersist(values, record)
		if !ok {
			return nil, ErrTooManyPersist
		}
		if sameValues(values, next) {
			return nil, errUnchanged
		}
		return next, nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// RemovePersist implements Persister; the change is journaled in its
// transaction.
func (b *Bolt) RemovePersist(ctx context.Context, subdomain, issuer string) (bool, error) {
	err := b.changePersist(ctx, subdomain, func(values []Value) ([]Value, error) {
		next, removed := withoutPersist(values, issuer)
		if !removed {
			return nil, errUnchanged
		}
		return next, nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	return err == nil, err
}

// changePersist replaces the TXT values of subdomain with what change
// makes of them, and journals it; an error of change rolls back.
func (b *Bolt) changePersist(ctx context.Context, subdomain string, change func([]Value) ([]Value, error)) error {
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

// sameValues reports whether a and b hold the same values in the same
// order.
func sameValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Text != b[i].Text || a[i].Persist != b[i].Persist {
			return false
		}
	}
	return true
}
