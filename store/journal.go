package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Journal is the part of Store that keeps the zone's serial and a bounded
// journal of its recent changes, so that any replica reading the store
// answers the same SOA and can send a secondary only what changed (IXFR).
//
// The serial is one counter for the whole store (every zone an acmedns block
// serves holds the same subdomains). It starts, the first time a store is
// used by a release that keeps it, at the current Unix time, so that a
// secondary which still holds a serial from an earlier, time-based, release
// sees a newer one; from then on every change to the zone's data moves it
// on by exactly one: a registration (Register, Create), a change of TXT
// values (AddTXT, ClearTXT), a deletion. A change of password or allowed
// networks is not a change of the zone and leaves it. The serial is the low
// 32 bits of the counter, compared in RFC 1982 arithmetic (SerialLess).
type Journal interface {
	// Serial returns the zone's current serial, read from the backend.
	Serial(ctx context.Context) (uint32, error)
	// CachedSerial returns the serial from memory, without waiting, when
	// it is known current: read since the last change this process heard
	// of and, while it may not hear of changes, within a second. ok is
	// false otherwise, and the caller asks Serial.
	CachedSerial() (serial uint32, ok bool)
	// Changes returns the changes made after serial from, oldest first,
	// and the current serial. ok is false when the journal cannot say
	// what changed: from is older than the oldest change it still holds,
	// from is not older than the current serial in RFC 1982 arithmetic
	// (but not equal to it), or a change is missing (a write whose journal
	// step failed); and when more than limit changes were made after from,
	// which are then not read. The caller then sends the whole zone. With
	// from equal to the current serial, changes is empty and ok true.
	Changes(ctx context.Context, from uint32, limit int) (changes []Change, serial uint32, ok bool, err error)
}

// Change is one journaled change of a subdomain's TXT values.
type Change struct {
	Serial    uint32     // the serial this change moved the zone to
	Kind      ChangeKind // what happened
	Subdomain string
	Old, New  []string // the TXT values before and after it: the dns-01 values newest first, then the persistent records
}

// ChangeKind says what a Change was.
type ChangeKind byte

// The kinds of change.
const (
	ChangeCreated ChangeKind = 'c' // registered or created (Old is empty)
	ChangeTXT     ChangeKind = 't' // TXT values set or cleared
	ChangeDeleted ChangeKind = 'd' // deleted (New is empty)
)

// DefaultJournalSize is how many changes a store's journal keeps unless
// told otherwise.
const DefaultJournalSize = 10000

// SerialLess reports whether serial a is older than b in RFC 1982
// arithmetic: b is a plus 1 to 2^31-1, modulo 2^32.
func SerialLess(a, b uint32) bool {
	d := b - a
	return d != 0 && d < 1<<31
}

// initialSerial is the counter a store starts from.
func initialSerial(t time.Time) uint64 { return uint64(t.Unix()) }

// encodeChange is the journal form of a change both stores keep: the
// counter, the kind, the subdomain and the old and new values, separated by
// tabs (values hold no white space, and a persistent record is in its
// stored form, persistToken), the values of each side separated by spaces.
func encodeChange(counter uint64, kind ChangeKind, sub string, old, new []string) string {
	return strconv.FormatUint(counter, 10) + "\t" + string(kind) + "\t" + sub + "\t" +
		strings.Join(old, " ") + "\t" + strings.Join(new, " ")
}

// decodeChange parses encodeChange's form.
func decodeChange(s string) (counter uint64, c Change, err error) {
	f := strings.Split(s, "\t")
	if len(f) != 5 || len(f[1]) != 1 {
		return 0, c, errors.New("store: corrupt journal entry")
	}
	counter, err = strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, c, errors.New("store: corrupt journal entry")
	}
	c = Change{Serial: uint32(counter), Kind: ChangeKind(f[1][0]), Subdomain: f[2], Old: journalTexts(f[3]), New: journalTexts(f[4])}
	return counter, c, nil
}

// journalTexts reads the values of one side of a journal entry.
func journalTexts(s string) []string {
	out := splitValues(s)
	for i, t := range out {
		out[i] = storedText(t)
	}
	return out
}

// pendingChanges checks that entries, oldest first, are exactly the changes
// after from up to current (consecutive counters ending at current), and
// decodes them. ok is false when they are not.
func pendingChanges(entries []string, from uint32, current uint64) (changes []Change, ok bool, err error) {
	want := uint32(current) - from
	if uint64(len(entries)) != uint64(want) || uint64(want) > current {
		return nil, false, nil
	}
	changes = make([]Change, 0, len(entries))
	next := current - uint64(want) + 1
	for _, e := range entries {
		counter, c, err := decodeChange(e)
		if err != nil {
			return nil, false, err
		}
		if counter != next {
			return nil, false, nil
		}
		next++
		changes = append(changes, c)
	}
	return changes, true, nil
}

// journalSpan says whether a secondary at serial from can be brought to the
// counter current from a journal in at most limit changes: the number of
// changes it lacks, and false when from is current (nothing to send), not
// older than it, or more than limit changes behind.
func journalSpan(from uint32, current uint64, limit int) (lacking uint32, older bool) {
	cur := uint32(current)
	if !SerialLess(from, cur) || int64(cur-from) > int64(limit) {
		return 0, false
	}
	return cur - from, true
}

// journalBound is how many changes a journal of the configured size keeps:
// size, or DefaultJournalSize when it is 0 (or less).
func journalBound(size int) int {
	if size <= 0 {
		return DefaultJournalSize
	}
	return size
}

// valueTexts are the stored forms of values, in their order: the journal's
// form of a record's TXT values.
func valueTexts(values []Value) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = storedForm(v)
	}
	return out
}
