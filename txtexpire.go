package acmedns

import (
	"time"

	"github.com/acmedns/acmedns/store"
)

// live returns the values that may be served: with txt_expire, those set
// within it (values of unknown time, written by an earlier release, are
// kept, as acme-dns would serve them). It allocates only when it drops one.
func (a *ACMEDNS) live(values []store.Value) []store.Value {
	if a.cfg.TXTExpire <= 0 {
		return values
	}
	oldest := time.Now().Add(-a.cfg.TXTExpire)
	for i, v := range values {
		if expired(v, oldest) {
			out := append([]store.Value(nil), values[:i]...)
			for _, w := range values[i+1:] {
				if !expired(w, oldest) {
					out = append(out, w)
				}
			}
			return out
		}
	}
	return values
}

func expired(v store.Value, oldest time.Time) bool { return !v.Set.IsZero() && v.Set.Before(oldest) }
