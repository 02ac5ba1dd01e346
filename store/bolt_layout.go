package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The buckets of the embedded store (see Bolt).
var (
	accountsBucket = []byte("acmedns-accounts-v1")
	txtV1Bucket    = []byte("acmedns-txt-v1")
	txtV2Bucket    = []byte("acmedns-txt-v2")
	usersBucket    = []byte("acmedns-users-v1")
	zoneBucket     = []byte("acmedns-zone-v1")
	journalBucket  = []byte("acmedns-journal-v1")
	expiryBucket   = []byte("acmedns-expiry-v1")
)

// boltAccount is the JSON of an account in acmedns-accounts-v1.
type boltAccount struct {
	Username  string   `json:"u"`
	Password  []byte   `json:"p"`
	AllowFrom []string `json:"a,omitempty"`
	Created   int64    `json:"c,omitempty"` // unix seconds; absent: unknown
	Updated   int64    `json:"m,omitempty"` // unix seconds; absent: unknown
}

// boltValue is one TXT value in acmedns-txt-v2.
type boltValue struct {
	Text    string `json:"v"`
	Set     int64  `json:"s,omitempty"` // unix seconds; absent: unknown
	Persist bool   `json:"p,omitempty"` // a persistent record
}

// initBuckets creates the buckets a database lacks, the zone's serial
// (initZone), the expiry index (initExpiry) and, the first time it is
// opened by a release that keeps usernames, their bucket.
func initBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{accountsBucket, txtV1Bucket, txtV2Bucket} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if err := initZone(tx); err != nil {
		return err
	}
	if err := initExpiry(tx); err != nil {
		return err
	}
	if tx.Bucket(usersBucket) != nil {
		return nil
	}
	users, err := tx.CreateBucket(usersBucket)
	if err != nil {
		return err
	}
	var entries []entry
	err = tx.Bucket(accountsBucket).ForEach(func(k, v []byte) error {
		var a boltAccount
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("store: corrupt account %q: %w", k, err)
		}
		entries = append(entries, entry{[]byte(a.Username), bytes.Clone(k)})
		return nil
	})
	if err != nil {
		return err
	}
	return putSorted(users, entries) // the first account of a username keeps it
}

// getAccount reads the account of key, or ErrNotFound.
func getAccount(tx *bolt.Tx, key []byte) (boltAccount, error) {
	var a boltAccount
	v := tx.Bucket(accountsBucket).Get(key)
	if v == nil {
		return a, ErrNotFound
	}
	if err := json.Unmarshal(v, &a); err != nil {
		return a, fmt.Errorf("store: corrupt account %q: %w", key, err)
	}
	return a, nil
}

// putAccount writes the account of key.
func putAccount(tx *bolt.Tx, key []byte, a boltAccount) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Bucket(accountsBucket).Put(key, v)
}

// readTXT reads the TXT values of key, the persistent records last: from acmedns-txt-v2, else from
// acmedns-txt-v1 (with unknown times), else none if the account exists, else
// ErrNotFound. What it returns is copied out of the transaction.
func readTXT(tx *bolt.Tx, key []byte) ([]Value, error) {
	if v := tx.Bucket(txtV2Bucket).Get(key); v != nil {
		var stored []boltValue
		if err := json.Unmarshal(v, &stored); err != nil {
			return nil, fmt.Errorf("store: corrupt TXT values of %q: %w", key, err)
		}
		values := make([]Value, len(stored))
		for i, s := range stored {
			values[i] = Value{Text: s.Text, Set: fromUnix(s.Set), Persist: s.Persist}
		}
		return values, nil
	}
	if v := tx.Bucket(txtV1Bucket).Get(key); v != nil {
		return plainValues(splitValues(string(v))), nil
	}
	if tx.Bucket(accountsBucket).Get(key) == nil {
		return nil, ErrNotFound
	}
	return []Value{}, nil
}

// writeTXT stores the TXT values of key in acmedns-txt-v2 in place of old
// (nil for a new record), drops the earlier release's form and moves the
// record's expiry entry.
func writeTXT(tx *bolt.Tx, key []byte, old, values []Value) error {
	stored := make([]boltValue, len(values))
	for i, v := range values {
		stored[i] = boltValue{Text: v.Text, Set: unixSeconds(v.Set), Persist: v.Persist}
	}
	v, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	if err := tx.Bucket(txtV2Bucket).Put(key, v); err != nil {
		return err
	}
	if err := tx.Bucket(txtV1Bucket).Delete(key); err != nil {
		return err
	}
	return reindexExpiry(tx, key, old, values)
}

// readRecord reads the whole record of key, or ErrNotFound.
func readRecord(tx *bolt.Tx, key []byte) (Record, error) {
	a, err := getAccount(tx, key)
	if err != nil {
		return Record{}, err
	}
	values, err := readTXT(tx, key)
	if err != nil {
		return Record{}, err
	}
	txt, _ := splitPersist(values)
	return Record{
		Account: a.account(string(key)),
		TXT:     txt,
		Persist: persistTexts(values),
		Created: fromUnix(a.Created),
		Updated: fromUnix(a.Updated),
	}, nil
}

// account is the Account of subdomain that a holds.
func (a boltAccount) account(subdomain string) Account {
	return Account{Username: a.Username, PasswordHash: a.Password, Subdomain: subdomain, AllowFrom: a.AllowFrom}
}

// toBolt is the stored form of rec's account.
func toBolt(rec Record) boltAccount {
	return boltAccount{
		Username:  rec.Username,
		Password:  rec.PasswordHash,
		AllowFrom: rec.AllowFrom,
		Created:   unixSeconds(rec.Created),
		Updated:   unixSeconds(rec.Updated),
	}
}

// userTaken reports whether a live account other than subdomain's holds
// username.
func userTaken(tx *bolt.Tx, username, subdomain string) (bool, error) {
	holder := tx.Bucket(usersBucket).Get([]byte(username))
	if holder == nil || string(holder) == subdomain {
		return false, nil
	}
	a, err := getAccount(tx, holder)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && a.Username == username, err
}
