// Package store holds acmedns accounts and their TXT records.
//
// A registration is one record keyed by its subdomain: the account that owns
// it (username, bcrypt hash of the password, allowed source networks) and the
// most recent TXT values, newest first. Every backend keeps a registration in
// a single key, so each write is atomic on its own.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned when no registration exists for a subdomain.
var ErrNotFound = errors.New("store: subdomain not registered")

// ErrExists is returned by Register when the subdomain is already taken.
var ErrExists = errors.New("store: subdomain already registered")

// Account is the credential side of a registration.
type Account struct {
	Username     string   // lower-case UUID
	PasswordHash []byte   // bcrypt hash of the API key
	Subdomain    string   // lower-case DNS label
	AllowFrom    []string // CIDR prefixes the updates may come from; empty means anywhere
}

// Store is what acmedns needs from a backend. Implementations are safe for
// concurrent use and honour the context's deadline.
type Store interface {
	// Register stores a new account with no TXT values. It returns ErrExists
	// if the subdomain is taken, and writes nothing then.
	Register(ctx context.Context, a Account) error
	// Account returns the account that owns subdomain, or ErrNotFound.
	Account(ctx context.Context, subdomain string) (Account, error)
	// AddTXT makes value the newest TXT value of subdomain and keeps at most
	// keep values, dropping the oldest (and an older copy of value itself). It returns ErrNotFound for an
	// unregistered subdomain. It returns only once the backend has the
	// write: on disk for the embedded store, in Redis's memory (and its AOF
	// as Redis is configured) for Redis.
	AddTXT(ctx context.Context, subdomain, value string, keep int) error
	// TXT returns the TXT values of subdomain, newest first (empty, not nil,
	// when none was set yet), or ErrNotFound.
	TXT(ctx context.Context, subdomain string) ([]string, error)
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// Cached is implemented by stores that keep TXT lookups in memory. A DNS
// query tries CachedTXT first, which never waits, and only on a miss pays
// for a deadline and FetchTXT.
type Cached interface {
	CachedTXT(subdomain string) (values []string, hit bool, err error)
	FetchTXT(ctx context.Context, subdomain string) ([]string, error)
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
		return fmt.Errorf("store: invalid subdomain %q", a.Subdomain)
	}
	if a.Username == "" || len(a.PasswordHash) == 0 {
		return errors.New("store: account needs a username and a password hash")
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

// pushValue returns values with v in front, at most keep long. An older copy
// of v is dropped, so a retried update does not evict the other live value.
func pushValue(values []string, v string, keep int) []string {
	out := make([]string, 0, keep)
	out = append(out, v)
	for _, old := range values {
		if len(out) == keep {
			break
		}
		if old != v {
			out = append(out, old)
		}
	}
	return out
}

// splitValues parses the space-separated form both backends store.
func splitValues(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}
