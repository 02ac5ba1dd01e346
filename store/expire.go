package store

import (
	"context"
	"errors"
	"time"
)

// Expirer is the part of Store that drops expired TXT values as journaled
// changes of the zone.
type Expirer interface {
	// ExpireTXT removes, from at most limit subdomains, every TXT value set
	// more than maxAge ago (a value of unknown time is kept), each
	// subdomain's removal one journaled ChangeTXT that moves the serial. It
	// returns how many subdomains it changed and whether more may be left
	// (more is true when it stopped at limit).
	ExpireTXT(ctx context.Context, maxAge time.Duration, limit int) (changed int, more bool, err error)
}

// checkExpire validates the arguments of ExpireTXT.
func checkExpire(maxAge time.Duration, limit int) error {
	if maxAge <= 0 {
		return errors.New("store: expiry needs a positive maximum age")
	}
	if limit < 1 {
		return errors.New("store: expiry limit must be at least 1")
	}
	return nil
}

// oldestSet is the unix seconds of the earliest known set time of values,
// 0 when none has one: the score of a record in the expiry index.
func oldestSet(values []Value) int64 {
	var oldest int64
	for _, v := range values {
		if s := unixSeconds(v.Set); s > 0 && (oldest == 0 || s < oldest) {
			oldest = s
		}
	}
	return oldest
}

// unexpired returns the values of values set at or after cutoff (unix
// seconds) or at an unknown time, in their order.
func unexpired(values []Value, cutoff int64) []Value {
	oldest := fromUnix(cutoff)
	out := make([]Value, 0, len(values))
	for _, v := range values {
		if !v.Expired(oldest) {
			out = append(out, v)
		}
	}
	return out
}

// Expired reports whether v was set before oldest. A value of unknown time
// (written by an earlier release) never expires, as acme-dns would serve it,
// nor does a persistent record.
func (v Value) Expired(oldest time.Time) bool {
	return !v.Persist && !v.Set.IsZero() && v.Set.Before(oldest)
}

// Live returns the values of values that txt_expire maxAge still serves at
// now: all of them when maxAge is not positive, else those not expired. It
// allocates only when it drops one.
func Live(values []Value, maxAge time.Duration, now time.Time) []Value {
	if maxAge <= 0 {
		return values
	}
	oldest := now.Add(-maxAge)
	for i, v := range values {
		if v.Expired(oldest) {
			out := append([]Value(nil), values[:i]...)
			for _, w := range values[i+1:] {
				if !w.Expired(oldest) {
					out = append(out, w)
				}
			}
			return out
		}
	}
	return values
}
