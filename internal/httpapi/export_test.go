package httpapi

import (
	"context"
	"net/netip"
)

// Accessors of the tests only.

// grab waits for a slot, for no client in particular.
func (a *admission) grab(ctx context.Context) (release func(), err error) {
	return a.acquire(asker{ctx: ctx})
}

// grabFor waits for a slot for client.
func (a *admission) grabFor(ctx context.Context, client netip.Addr) (release func(), err error) {
	return a.acquire(asker{ctx: ctx, client: client})
}

// waiting returns how many requests wait for a slot.
func (a *admission) waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.queued
}

// tracked returns how many clients the table holds.
func (l *clientLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
