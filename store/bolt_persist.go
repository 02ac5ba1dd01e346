package store

import (
	"context"
	"errors"
)

// errUnchanged rolls back a transaction that would change nothing.
var errUnchanged = errors.New("store: unchanged")

// SetPersist implements Persister; the change is journaled in its
// transaction, and storing the record already stored changes nothing.
func (b *Bolt) SetPersist(ctx context.Context, subdomain, record string) error {
	if err := checkPersist(subdomain, record); err != nil {
		return err
	}
	err := b.changeTXT(ctx, subdomain, func(values []Value) ([]Value, error) {
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
	err := b.changeTXT(ctx, subdomain, func(values []Value) ([]Value, error) {
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
