package httpapi

import (
	"sync"
	"testing"
	"time"
)

// TestThrottle: one event per key per window goes through, the next one
// after the window tells how many were held back meanwhile, and keys do not
// share their budget.
func TestThrottle(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(10 * time.Second)
	th.now = func() time.Time { return clock }
	step := func(key string, d time.Duration, wantOK bool, wantSuppressed int) {
		t.Helper()
		clock = clock.Add(d)
		if ok, n := th.allow(key); ok != wantOK || n != wantSuppressed {
			t.Errorf("allow(%q) at +%s: %v, %d; want %v, %d", key, clock.Format("05.000"), ok, n, wantOK, wantSuppressed)
		}
	}
	step("update", 0, true, 0)
	for range 5 {
		step("update", time.Second, false, 0)
	}
	step("register", 0, true, 0) // another key has its own window
	step("update", 4*time.Second, false, 0)
	step("update", time.Second, true, 6) // 10 s after the first
	step("update", 9*time.Second, false, 0)
	step("update", time.Second, true, 1)
	step("update", time.Hour, true, 0) // nothing held back meanwhile
	step("register", 0, true, 0)
}

// TestThrottleConcurrent: of many events at once within a window, one goes
// through and the rest are all counted.
func TestThrottleConcurrent(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := newThrottle(10 * time.Second)
	th.now = func() time.Time { return clock }
	var wg sync.WaitGroup
	var mu sync.Mutex
	through := 0
	for range 100 {
		wg.Go(func() {
			if ok, _ := th.allow("ping"); ok {
				mu.Lock()
				through++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if through != 1 {
		t.Errorf("%d events went through, want 1", through)
	}
	clock = clock.Add(10 * time.Second)
	if ok, n := th.allow("ping"); !ok || n != 99 {
		t.Errorf("after the window: %v, %d; want true, 99", ok, n)
	}
}
