package httpapi

import (
	"context"
	"net/netip"
)

// Accessors of the tests only.

// acquire waits for a slot, for no client in particular.
func (a *admission) acquire(ctx context.Context) (release func(), err error) {
	return a.acquireFor(ctx, netip.Addr{})
}

// waiting returns how many requests wait for a slot.
func (a *admission) waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.waiters)
}

// tracked returns how many clients the table holds.
func (l *clientLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
