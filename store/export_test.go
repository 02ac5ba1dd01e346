package store

import (
	"testing"
	"time"
)

// SetClock makes every store read the time from f until the test ends.
func SetClock(t testing.TB, f func() time.Time) {
	testClock.Store(&f)
	t.Cleanup(func() { testClock.Store(nil) })
}
