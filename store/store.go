// Package store holds acmedns accounts and their TXT records.
//
// A registration is one record keyed by its subdomain: the account that owns
// it (username, bcrypt hash of the password, allowed source networks) and the
// most recent TXT values, newest first, each with the time it was set, and
// its persistent (dns-persist-01) records, served beside them. Every
// backend keeps a registration's fields under a single key, so each write is
// atomic on its own; Redis keeps beside it the username's claim and the
// listing's sorted set, each a key of its own (see Redis).
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned when no registration exists for a subdomain.
var ErrNotFound = errors.New("store: subdomain not registered")

// ErrExists is returned by Register and Create when the subdomain is already
// taken.
var ErrExists = errors.New("store: subdomain already registered")

// Account is the credential side of a registration.
type Account struct {
	Username     string   // lower-case UUID
	PasswordHash []byte   // bcrypt hash of the API key
	Subdomain    string   // lower-case DNS label
	AllowFrom    []string // CIDR prefixes the updates may come from; empty means anywhere
}

// Store is what acmedns needs from a backend. Implementations are safe for
// concurrent use and honour the context's deadline. Every write is seen at
// once by the replica that made it, and by the others as soon as its
// invalidation reaches them.
type Store interface {
	// Register stores a new account with no TXT values, created and updated
	// now, and claims its username. It returns ErrExists if the subdomain
	// is taken and ErrUsernameTaken if another account has the username,
	// and writes nothing then.
	Register(ctx context.Context, a Account) error
	// Create stores a whole record as given (an administrator's creation or
	// an import): the password hash verbatim, the TXT values newest first
	// with their set times, and the creation and update times, or now where
	// they are zero. It returns ErrExists if the subdomain is taken and
	// ErrUsernameTaken if another account has the username, and writes
	// nothing then.
	Create(ctx context.Context, rec Record) error
	// Account returns the account that owns subdomain, or ErrNotFound.
	Account(ctx context.Context, subdomain string) (Account, error)
	// Record returns the whole registration of subdomain, or ErrNotFound.
	Record(ctx context.Context, subdomain string) (Record, error)
	// List returns up to limit records in ascending subdomain order,
	// strictly after the subdomain after ("" to start from the first), and
	// the after of the next page, "" when there is none. A listing page by
	// page returns every account that exists throughout it exactly once.
	List(ctx context.Context, after string, limit int) (recs []Record, next string, err error)
	// Delete removes the registration of subdomain and releases its
	// username, or returns ErrNotFound.
	Delete(ctx context.Context, subdomain string) error
	// SetPassword replaces the password hash of subdomain and returns the
	// updated record, or ErrNotFound.
	SetPassword(ctx context.Context, subdomain string, hash []byte) (Record, error)
	// SetAllowFrom replaces the allowed source networks of subdomain and
	// returns the updated record, or ErrNotFound.
	SetAllowFrom(ctx context.Context, subdomain string, allow []string) (Record, error)
	// ClearTXT removes every dns-01 TXT value of subdomain, which stays
	// registered with its persistent records, or returns ErrNotFound.
	ClearTXT(ctx context.Context, subdomain string) error
	// AddTXT makes value, set now, the newest TXT value of subdomain and
	// keeps at most keep values, dropping the oldest, an older copy of
	// value itself and, when maxAge is above 0, every value known to be set
	// more than maxAge ago (a value of unknown time is kept). It returns
	// ErrNotFound for an unregistered subdomain. It returns only once the
	// backend has the write: on disk for the embedded store, in Redis's
	// memory (and its AOF as Redis is configured) for Redis.
	AddTXT(ctx context.Context, subdomain, value string, keep int, maxAge time.Duration) error
	// TXT returns the TXT values of subdomain with their set times, newest
	// first, then its persistent records, flagged (empty, not nil, when
	// there are none), or ErrNotFound: what the zone serves. The caller
	// must not modify the slice, which a cache may share.
	TXT(ctx context.Context, subdomain string) ([]Value, error)
	// Cached is TXT in two steps, for the DNS path.
	Cached
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
	// Journal keeps the zone's serial and its recent changes.
	Journal
	// Expirer drops expired TXT values as changes of the zone.
	Expirer
	// Persister keeps the persistent (dns-persist-01) records.
	Persister
}

// Cached is the part of Store that answers TXT lookups from memory when it
// can. A DNS query tries CachedTXT first, which never waits, and only on a
// miss pays for a deadline and FetchTXT.
type Cached interface {
	// CachedTXT answers a lookup from memory; hit is false when it cannot.
	CachedTXT(subdomain string) (values []Value, hit bool, err error)
	// FetchTXT reads a lookup from the backend, caching it when safe.
	FetchTXT(ctx context.Context, subdomain string) ([]Value, error)
}

// MaxKeep bounds how many TXT values a subdomain may keep.
const MaxKeep = 10

// ValidValue reports whether v can be stored as a TXT value: the stores
// separate values with spaces, so a value is 1 to 255 printable ASCII
// characters other than space.
func ValidValue(v string) bool {
	if len(v) == 0 || len(v) > 255 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// ValidSubdomain reports whether s is a lower-case DNS label of letters,
// digits and hyphens.
func ValidSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkAccount(a Account) error {
	if !ValidSubdomain(a.Subdomain) {
		return fmt.Errorf("%w: invalid subdomain %q", ErrInvalidRecord, a.Subdomain)
	}
	if a.Username == "" || len(a.PasswordHash) == 0 {
		return fmt.Errorf("%w: an account needs a username and a password hash", ErrInvalidRecord)
	}
	return nil
}

func checkAdd(subdomain, value string, keep int) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	if !ValidValue(value) {
		return fmt.Errorf("store: invalid TXT value")
	}
	if keep < 1 || keep > MaxKeep {
		return fmt.Errorf("store: keep must be 1 to %d", MaxKeep)
	}
	return nil
}

// splitValues parses the space-separated form both backends store.
func splitValues(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

// checkLimit validates the page size of List.
func checkLimit(limit int) error {
	if limit < 1 {
		return errors.New("store: list limit must be at least 1")
	}
	return nil
}
