package store

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The fields of a registration's hash (see Redis).
const (
	fieldUser    = "u"
	fieldPass    = "p"
	fieldAllow   = "a"
	fieldTXT     = "t"
	fieldSet     = "s"
	fieldSum     = "h"
	fieldCreated = "c"
	fieldUpdated = "m"
	fieldPersist = "q" // the persistent records' tokens, space-separated
)

// recordFields are the fields of a whole record, in the order decodeRecord
// reads them; the scripts that return a record (recordLua) return them in
// this order too.
var recordFields = []string{fieldUser, fieldPass, fieldAllow, fieldTXT, fieldSet, fieldSum, fieldCreated, fieldUpdated, fieldPersist}

// decodeAccount reads the account of subdomain from the replies of HMGET u
// p a; a missing field means the record does not exist.
func decodeAccount(subdomain string, vals []any) (Account, error) {
	user, ok1 := vals[0].(string)
	pass, ok2 := vals[1].(string)
	allow, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return Account{}, ErrNotFound
	}
	a := Account{Username: user, PasswordHash: []byte(pass), Subdomain: subdomain}
	if err := json.Unmarshal([]byte(allow), &a.AllowFrom); err != nil {
		return Account{}, fmt.Errorf("store: corrupt allowfrom for %q: %w", subdomain, err)
	}
	return a, nil
}

// decodeRecord reads the record of subdomain from the replies of HMGET
// recordFields.
func decodeRecord(subdomain string, vals []any) (Record, error) {
	if len(vals) != len(recordFields) {
		return Record{}, fmt.Errorf("store: %d fields for %q, want %d", len(vals), subdomain, len(recordFields))
	}
	a, err := decodeAccount(subdomain, vals[:3])
	if err != nil {
		return Record{}, err
	}
	t, ok := vals[3].(string)
	if !ok {
		return Record{}, ErrNotFound
	}
	return Record{
		Account: a,
		TXT:     decodeValues(t, vals[4], vals[5]),
		Persist: persistTexts(decodePersist(vals[8])),
		Created: unixField(vals[6]),
		Updated: unixField(vals[7]),
	}, nil
}

// decodePersist reads the q field: the persistent records, flagged.
func decodePersist(q any) []Value {
	s, _ := q.(string)
	tokens := splitValues(s)
	out := make([]Value, 0, len(tokens))
	for _, t := range tokens {
		if isPersistToken(t) {
			out = append(out, storedValue(t))
		}
	}
	return out
}

// decodeValues reads the values t with their times s, which count only if
// the checksum sum is t's and they are as many as the values.
func decodeValues(t string, s, sum any) []Value {
	texts := splitValues(t)
	values := plainValues(texts)
	times, ok := s.(string)
	if !ok || sum != txtSum(t) {
		return values
	}
	secs := splitValues(times)
	if len(secs) != len(texts) {
		return values
	}
	for i, sec := range secs {
		n, _ := strconv.ParseInt(sec, 10, 64)
		values[i].Set = fromUnix(n)
	}
	return values
}

// encodeValues returns the t, s and h fields of values.
func encodeValues(values []Value) (t, s, sum string) {
	texts := make([]string, len(values))
	secs := make([]string, len(values))
	for i, v := range values {
		texts[i] = v.Text
		secs[i] = strconv.FormatInt(unixSeconds(v.Set), 10)
	}
	t = strings.Join(texts, " ")
	return t, strings.Join(secs, " "), txtSum(t)
}

// txtSum is the h field for t: the first 16 hex digits of its SHA-1, as
// the scripts compute it with redis.sha1hex.
func txtSum(t string) string {
	sum := sha1.Sum([]byte(t))
	return hex.EncodeToString(sum[:8])
}

// encodeAllow is the a field: allow as a JSON array, [] when empty.
func encodeAllow(allow []string) (string, error) {
	if allow == nil {
		allow = []string{}
	}
	b, err := json.Marshal(allow)
	return string(b), err
}

// unixField reads a time field: unix seconds, missing or 0 for unknown.
func unixField(v any) time.Time {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return fromUnix(n)
}

// unixArg is a time as a script argument.
func unixArg(t time.Time) string { return strconv.FormatInt(unixSeconds(t), 10) }
