package store

import (
	"context"
	"errors"
	"time"
)

// ErrNoBlob is returned by GetBlob for a name that holds nothing.
var ErrNoBlob = errors.New("store: no such blob")

// Blobs keeps named byte strings and expiring locks beside the
// registrations: the API's own certificates, their keys and ACME account,
// and the DNS-01 challenge values that obtain them (see internal/autotls).
// Whoever can read the store can read them. Both backends implement it.
type Blobs interface {
	// PutBlob stores value under name, replacing what was there, and
	// records the time as its modification time.
	PutBlob(ctx context.Context, name string, value []byte) error
	// GetBlob returns the value of name and when it was stored, or
	// ErrNoBlob.
	GetBlob(ctx context.Context, name string) ([]byte, time.Time, error)
	// DeleteBlob removes name; a name that holds nothing is not an error.
	DeleteBlob(ctx context.Context, name string) error
	// BlobNames returns the names that start with prefix, in ascending
	// order.
	BlobNames(ctx context.Context, prefix string) ([]string, error)
	// Lock takes the lock name for token, for ttl: it returns true when
	// the lock was free, had expired, or was already token's (its expiry
	// then moves to ttl from now), and false when another token holds it.
	Lock(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	// Unlock frees the lock name if token holds it.
	Unlock(ctx context.Context, name, token string) error
}
