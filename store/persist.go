package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MaxPersist bounds how many persistent records a subdomain may hold: one
// per issuer-domain-name.
const MaxPersist = 4

// MaxPersistLen bounds the length of a persistent record, in octets.
const MaxPersistLen = 1024

// ErrTooManyPersist is returned by SetPersist when the subdomain already
// holds MaxPersist records, none of them for the new record's issuer.
var ErrTooManyPersist = errors.New("store: too many persistent records")

// Persister keeps a subdomain's persistent records: the dns-persist-01
// issue-values that are served in its TXT RRset beside the dns-01 values,
// but that AddTXT never rotates out, txt_expire never drops and ClearTXT
// leaves. Each change of them is a change of the zone, journaled as a
// ChangeTXT whose values hold them after the dns-01 values.
type Persister interface {
	// SetPersist stores record, which must be ValidPersist, as a
	// persistent record of subdomain, in place of the one with the same
	// issuer (PersistIssuer) if any. It returns ErrNotFound for an
	// unregistered subdomain and ErrTooManyPersist when MaxPersist other
	// issuers have one, and changes nothing then.
	SetPersist(ctx context.Context, subdomain, record string) error
	// RemovePersist removes the persistent record of subdomain whose
	// issuer is issuer (compared case-insensitively), and reports whether
	// there was one. It returns ErrNotFound for an unregistered subdomain.
	RemovePersist(ctx context.Context, subdomain, issuer string) (bool, error)
}

// ValidPersist reports whether the store can keep v as a persistent
// record: 1 to MaxPersistLen printable ASCII characters or spaces, with a
// non-empty issuer before a ';'. The full syntax of an issue-value is the
// API's to check.
func ValidPersist(v string) bool {
	if len(v) == 0 || len(v) > MaxPersistLen || !strings.Contains(v, ";") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return PersistIssuer(v) != ""
}

// checkPersist checks the arguments of SetPersist.
func checkPersist(subdomain, record string) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	if !ValidPersist(record) {
		return fmt.Errorf("store: invalid persistent record")
	}
	return nil
}

// PersistIssuer is the issuer-domain-name of the record v, lower-cased:
// what comes before its first ';', without surrounding spaces.
func PersistIssuer(v string) string {
	issuer, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(issuer))
}

// persistSep marks the stored and journaled form of a persistent record
// (a token), in front, and stands for each of its spaces, as the stores
// separate values with spaces: neither a dns-01 value nor a persistent
// record may hold it.
const persistSep = "\x1f"

// persistToken is the stored form of the persistent record v.
func persistToken(v string) string { return persistSep + strings.ReplaceAll(v, " ", persistSep) }

// isPersistToken reports whether a stored value is a persistent record's.
func isPersistToken(token string) bool { return strings.HasPrefix(token, persistSep) }

// storedValue reads a stored value: a persistent record's token becomes the
// record, flagged, and a dns-01 value is unchanged.
func storedValue(token string) Value {
	if !isPersistToken(token) {
		return Value{Text: token}
	}
	return Value{Text: strings.ReplaceAll(token[1:], persistSep, " "), Persist: true}
}

// storedText is the text of a stored value (see storedValue).
func storedText(token string) string { return storedValue(token).Text }

// storedForm is the stored form of v: a token for a persistent record.
func storedForm(v Value) string {
	if v.Persist {
		return persistToken(v.Text)
	}
	return v.Text
}

// splitPersist separates values into the dns-01 values and the persistent
// records, each in their order.
func splitPersist(values []Value) (txt, persist []Value) {
	txt = make([]Value, 0, len(values))
	for _, v := range values {
		if v.Persist {
			persist = append(persist, v)
		} else {
			txt = append(txt, v)
		}
	}
	return txt, persist
}

// persistTexts are the texts of the persistent records among values.
func persistTexts(values []Value) []string {
	out := []string{}
	for _, v := range values {
		if v.Persist {
			out = append(out, v.Text)
		}
	}
	return out
}

// withPersist returns values whose persistent records are record in place
// of the one of the same issuer, or appended; ok is false when that would
// make more than MaxPersist.
func withPersist(values []Value, record string) (out []Value, ok bool) {
	txt, persist := splitPersist(values)
	issuer, replaced := PersistIssuer(record), false
	for i, p := range persist {
		if PersistIssuer(p.Text) == issuer {
			persist[i], replaced = Value{Text: record, Persist: true}, true
		}
	}
	if !replaced {
		if len(persist) >= MaxPersist {
			return values, false
		}
		persist = append(persist, Value{Text: record, Persist: true})
	}
	return append(txt, persist...), true
}

// withoutPersist returns values without the persistent record of issuer,
// and whether there was one.
func withoutPersist(values []Value, issuer string) ([]Value, bool) {
	issuer = PersistIssuer(issuer)
	out := make([]Value, 0, len(values))
	for _, v := range values {
		if !v.Persist || PersistIssuer(v.Text) != issuer {
			out = append(out, v)
		}
	}
	return out, len(out) != len(values)
}
