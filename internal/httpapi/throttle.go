package httpapi

import (
	"sync"
	"time"
)

// throttle lets through at most one event per key per window and counts
// the events it holds back, so that a log line can say how many it stands
// for. The set of keys must be small and fixed (an operation's name): each
// one is kept for good.
type throttle struct {
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]*throttled
}

// throttled is what a throttle knows of one key.
type throttled struct {
	last       time.Time // when an event was last let through
	suppressed int       // events held back since
}

// newThrottle returns a throttle that lets one event per key through per
// window.
func newThrottle(window time.Duration) *throttle {
	return &throttle{window: window, now: time.Now, keys: map[string]*throttled{}}
}

// allow reports whether an event of key may go through now and, when it
// may, how many events of key were held back since the last one that went
// through.
func (t *throttle) allow(key string) (ok bool, suppressed int) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.keys[key]
	if k == nil {
		t.keys[key] = &throttled{last: now}
		return true, 0
	}
	if now.Sub(k.last) < t.window {
		k.suppressed++
		return false, 0
	}
	suppressed = k.suppressed
	k.last, k.suppressed = now, 0
	return true, suppressed
}
