package store

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Record implements Store.
func (b *Bolt) Record(ctx context.Context, subdomain string) (Record, error) {
	if !ValidSubdomain(subdomain) {
		return Record{}, ErrNotFound
	}
	var rec Record
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = readRecord(tx, []byte(subdomain))
		return err
	})
	return rec, err
}

// Delete implements Store: the account, its TXT values and its username go
// in one transaction, which journals the deletion, and the index and the
// cache drop it.
func (b *Bolt) Delete(ctx context.Context, subdomain string) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	indexed := func(err error) {
		if err == nil {
			b.index.remove(subdomain)
		}
	}
	return b.update(ctx, subdomain, func(tx *bolt.Tx) error {
		key := []byte(subdomain)
		a, err := getAccount(tx, key)
		if err != nil {
			return err
		}
		values, err := readTXT(tx, key)
		if err != nil {
			return err
		}
		if err := b.journal(tx, ChangeDeleted, subdomain, values, nil); err != nil {
			return err
		}
		if err := reindexExpiry(tx, key, values, nil); err != nil {
			return err
		}
		for _, name := range [][]byte{accountsBucket, txtV1Bucket, txtV2Bucket} {
			if err := tx.Bucket(name).Delete(key); err != nil {
				return err
			}
		}
		users := tx.Bucket(usersBucket)
		if string(users.Get([]byte(a.Username))) != subdomain {
			return nil
		}
		return users.Delete([]byte(a.Username))
	}, indexed)
}

// SetPassword implements Store.
func (b *Bolt) SetPassword(ctx context.Context, subdomain string, hash []byte) (Record, error) {
	if len(hash) == 0 {
		return Record{}, errors.New("store: empty password hash")
	}
	return b.modify(ctx, subdomain, func(_ *bolt.Tx, a *boltAccount) error {
		a.Password = hash
		return nil
	})
}

// SetAllowFrom implements Store.
func (b *Bolt) SetAllowFrom(ctx context.Context, subdomain string, allow []string) (Record, error) {
	return b.modify(ctx, subdomain, func(_ *bolt.Tx, a *boltAccount) error {
		a.AllowFrom = allow
		return nil
	})
}

// ClearTXT implements Store, leaving the persistent records; the change is
// journaled in its transaction.
func (b *Bolt) ClearTXT(ctx context.Context, subdomain string) error {
	return b.changeTXT(ctx, subdomain, func(values []Value) ([]Value, error) {
		_, kept := splitPersist(values)
		if kept == nil {
			kept = []Value{}
		}
		return kept, nil
	})
}

// modify applies change to the account of subdomain in a write
// transaction, records the update time and returns the updated record.
func (b *Bolt) modify(ctx context.Context, subdomain string, change func(*bolt.Tx, *boltAccount) error) (Record, error) {
	if !ValidSubdomain(subdomain) {
		return Record{}, ErrNotFound
	}
	var rec Record
	err := b.update(ctx, subdomain, func(tx *bolt.Tx) error {
		key := []byte(subdomain)
		a, err := getAccount(tx, key)
		if err != nil {
			return err
		}
		if err := change(tx, &a); err != nil {
			return err
		}
		a.Updated = unixSeconds(now())
		if err := putAccount(tx, key, a); err != nil {
			return err
		}
		rec, err = readRecord(tx, key)
		return err
	}, nil)
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}
