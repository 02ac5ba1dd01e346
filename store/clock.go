package store

import (
	"sync/atomic"
	"time"
)

// testClock, when set (by tests only), replaces time.Now for every store.
var testClock atomic.Pointer[func() time.Time]

// now is the time a write records, truncated to the second the stores keep.
func now() time.Time {
	if f := testClock.Load(); f != nil {
		return (*f)().Truncate(time.Second)
	}
	return time.Now().Truncate(time.Second)
}
