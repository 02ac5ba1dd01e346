package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// Register implements Store.
func (b *Bolt) Register(ctx context.Context, a Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return b.create(ctx, Record{Account: a})
}

// Create implements Store.
func (b *Bolt) Create(ctx context.Context, rec Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	return b.create(ctx, rec)
}

// create writes the account, its TXT values and its username in one
// transaction, which journals the creation, unless the subdomain or the
// username is taken.
func (b *Bolt) create(ctx context.Context, rec Record) error {
	rec = newRecord(rec, now())
	wrote := false // the transaction may commit the registration
	indexed := func(error) {
		if wrote {
			b.index.add(rec.Subdomain)
		}
	}
	return b.update(ctx, rec.Subdomain, func(tx *bolt.Tx) error {
		key := []byte(rec.Subdomain)
		if tx.Bucket(accountsBucket).Get(key) != nil {
			return ErrExists
		}
		taken, err := userTaken(tx, rec.Username, rec.Subdomain)
		if err != nil {
			return err
		}
		if taken {
			return ErrUsernameTaken
		}
		wrote = true
		if err := putAccount(tx, key, toBolt(rec)); err != nil {
			return err
		}
		if err := writeTXT(tx, key, nil, rec.TXT); err != nil {
			return err
		}
		if err := b.journal(tx, ChangeCreated, rec.Subdomain, nil, rec.TXT); err != nil {
			return err
		}
		return tx.Bucket(usersBucket).Put([]byte(rec.Username), key)
	}, indexed)
}
