package store

import (
	"errors"
	"fmt"
	"time"
)

// ErrUsernameTaken is returned by Create when another account has the username.
var ErrUsernameTaken = errors.New("store: username already registered")

// ErrInvalidRecord is returned, with the reason, by Register and Create for
// a record they refuse to store (and write nothing): an invalid subdomain,
// no username or password hash, or TXT values that are invalid, repeated
// or more than MaxKeep.
var ErrInvalidRecord = errors.New("store: invalid record")

// Value is one TXT value and the time it was set; a zero Set means unknown
// (a value written by an earlier release, which kept no times).
type Value struct {
	Text    string
	Set     time.Time // zero for a persistent record
	Persist bool      // a persistent record (see Persister), not a dns-01 value
}

// Record is a whole registration.
type Record struct {
	Account
	TXT     []Value   // the dns-01 values, newest first
	Persist []string  // the persistent records (see Persister); Create ignores them
	Created time.Time // zero: unknown (written by an earlier release)
	Updated time.Time // last change of any kind; zero: unknown
}

// checkRecord validates a record given to Create: a valid account and at
// most MaxKeep distinct valid TXT values.
func checkRecord(rec Record) error {
	if err := checkAccount(rec.Account); err != nil {
		return err
	}
	if len(rec.TXT) > MaxKeep {
		return fmt.Errorf("%w: at most %d TXT values", ErrInvalidRecord, MaxKeep)
	}
	seen := make(map[string]bool, len(rec.TXT))
	for _, v := range rec.TXT {
		if !ValidValue(v.Text) {
			return fmt.Errorf("%w: invalid TXT value", ErrInvalidRecord)
		}
		if seen[v.Text] {
			return fmt.Errorf("%w: TXT value %q given twice", ErrInvalidRecord, v.Text)
		}
		seen[v.Text] = true
	}
	return nil
}

// newRecord completes a record about to be created at now: zero creation
// and update times become now, and a nil TXT becomes empty.
func newRecord(rec Record, now time.Time) Record {
	if rec.Created.IsZero() {
		rec.Created = now
	}
	if rec.Updated.IsZero() {
		rec.Updated = now
	}
	if rec.TXT == nil {
		rec.TXT = []Value{}
	}
	return rec
}

// pushValue returns values with v, set at now, in front, at most keep long.
// An older copy of v is dropped, so a retried update does not evict the
// other live value; so is a value set before oldest (unless oldest is zero),
// while a value of unknown time is kept. The persistent records among values stay, after the dns-01 values.
func pushValue(values []Value, v string, keep int, now, oldest time.Time) []Value {
	txt, persist := splitPersist(values)
	out := make([]Value, 0, keep+len(persist))
	out = append(out, Value{Text: v, Set: now})
	for _, old := range txt {
		if len(out) == keep {
			break
		}
		if old.Text == v || !oldest.IsZero() && old.Expired(oldest) {
			continue
		}
		out = append(out, old)
	}
	return append(out, persist...)
}

// expiry returns the time before which AddTXT drops values: zero (none)
// unless maxAge is positive.
func expiry(now time.Time, maxAge time.Duration) time.Time {
	if maxAge <= 0 {
		return time.Time{}
	}
	return now.Add(-maxAge)
}

// unixSeconds is the stored form of a time: unix seconds, 0 for unknown.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() || t.Unix() <= 0 {
		return 0
	}
	return t.Unix()
}

// fromUnix reads a stored time: 0 (or less) is unknown, the zero time.
func fromUnix(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// plainValues is values of unknown time, as an earlier release stored them.
func plainValues(texts []string) []Value {
	out := make([]Value, len(texts))
	for i, t := range texts {
		out[i] = Value{Text: t}
	}
	return out
}
