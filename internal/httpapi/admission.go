package httpapi

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt is the one expensive step of the API: a compare costs about 60 ms
// of CPU. The admission gate bounds how many run at once in the whole
// process (default: one CPU fewer than GOMAXPROCS, so one always stays for
// DNS), with a short bounded queue in front. A request that cannot get a
// slot in time is answered 503 busy without doing the work, and a request
// whose client has gone away never starts it. One client address (IPv6 by
// /64) may hold at most a quarter of the slots and queue together, so a
// single flooding client cannot keep the others out.

var (
	// errBusy: no bcrypt slot within the wait bound, or the queue is full.
	errBusy = errors.New("bcrypt admission: busy")
	// errGone: the client went away before its bcrypt work started.
	errGone = errors.New("bcrypt admission: client gone")
)

// admission is a semaphore with a bounded FIFO queue of waiters.
type admission struct {
	mu      sync.Mutex
	slots   int
	queue   int
	wait    time.Duration
	inUse   int
	waiters []chan struct{} // each closed when handed a slot
	held    map[netip.Addr]int

	setting gateSetting // who set the bounds, and what they replaced

	peak atomic.Int64  // highest inUse seen (tests)
	runs atomic.Uint64 // bcrypt operations started (tests)
}

// bcryptGate is the process-wide gate, shared by every instance's API.
var bcryptGate = newAdmission(DefaultLimits())

// ConfigureBcrypt sets the process-wide gate's bounds from l (the slots,
// the queue and the wait) and returns the function that puts back the
// bounds it replaced, if no later configuration replaced them since. An
// instance calls it at its shutdown and when a reload rejects it; undone in
// the reverse order, several configurations leave the gate as it was
// before them.
func ConfigureBcrypt(l Limits) (restore func()) { return bcryptGate.set(l) }

func newAdmission(l Limits) *admission {
	a := &admission{held: map[netip.Addr]int{}, setting: gateSetting{l: l}}
	a.configure(l)
	return a
}

// configure sets the gate's bounds; slots in use above a lowered bound drain
// as they are released.
func (a *admission) configure(l Limits) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.apply(l)
}

// apply sets the bounds; a.mu is held.
func (a *admission) apply(l Limits) {
	a.slots, a.queue, a.wait = l.BcryptSlots, l.BcryptQueue, l.BcryptWait
	a.grant()
}

// gateSetting identifies one configuration of the gate and what it
// replaced.
type gateSetting struct {
	id   uint64
	prev *gateSetting
	l    Limits
}

// settings numbers the gate's configurations.
var settings atomic.Uint64

// set configures the gate with l and returns the undo.
func (a *admission) set(l Limits) func() {
	a.mu.Lock()
	defer a.mu.Unlock()
	prev := a.setting
	mine := gateSetting{id: settings.Add(1), prev: &prev, l: l}
	a.setting = mine
	a.apply(l)
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.setting.id == mine.id {
			a.setting = *mine.prev
			a.apply(mine.prev.l)
		}
	}
}

// share is how many slots and queue places one client may hold.
func (a *admission) share() int { return max(1, (a.slots+a.queue)/4) }

// acquireFor waits for a slot for client (an invalid address: no per-client
// share). It returns errBusy when the queue or the client's share is full
// or the wait bound passes, errGone when ctx ends first (the client hung up).
func (a *admission) acquireFor(ctx context.Context, client netip.Addr) (release func(), err error) {
	if ctx.Err() != nil {
		return nil, errGone
	}
	key := client
	if key.IsValid() {
		key = ClientKey(key)
	}
	a.mu.Lock()
	if key.IsValid() && a.held[key] >= a.share() {
		a.mu.Unlock()
		return nil, errBusy
	}
	if a.inUse < a.slots && len(a.waiters) == 0 {
		a.hold(key)
		a.take()
		a.mu.Unlock()
		return a.releaser(key), nil
	}
	if len(a.waiters) >= a.queue {
		a.mu.Unlock()
		return nil, errBusy
	}
	a.hold(key)
	ready := make(chan struct{})
	a.waiters = append(a.waiters, ready)
	wait := a.wait
	a.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ready:
		if ctx.Err() != nil { // handed a slot just as the client left
			a.releaser(key)()
			return nil, errGone
		}
		return a.releaser(key), nil
	case <-ctx.Done():
		err = errGone
	case <-timer.C:
		err = errBusy
	}
	if a.leave(ready, key) {
		return nil, err
	}
	// The slot was handed over while we gave up: give it back.
	a.releaser(key)()
	return nil, err
}

// hold counts one more request of key; a.mu is held.
func (a *admission) hold(key netip.Addr) {
	if key.IsValid() {
		a.held[key]++
	}
}

// unhold counts one request of key less; a.mu is held.
func (a *admission) unhold(key netip.Addr) {
	if !key.IsValid() {
		return
	}
	if a.held[key]--; a.held[key] <= 0 {
		delete(a.held, key)
	}
}

// leave removes a waiter that gave up; false if it was already granted.
func (a *admission) leave(ready chan struct{}, key netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, w := range a.waiters {
		if w == ready {
			a.waiters = append(a.waiters[:i], a.waiters[i+1:]...)
			a.unhold(key)
			return true
		}
	}
	return false
}

// take counts one more slot in use; a.mu is held.
func (a *admission) take() {
	a.inUse++
	bcryptSlotsInUse.Set(float64(a.inUse))
	if n := int64(a.inUse); n > a.peak.Load() {
		a.peak.Store(n)
	}
}

// grant hands free slots to waiters in order; a.mu is held.
func (a *admission) grant() {
	for a.inUse < a.slots && len(a.waiters) > 0 {
		w := a.waiters[0]
		a.waiters = a.waiters[1:]
		a.take()
		close(w)
	}
}

func (a *admission) releaser(key netip.Addr) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.unhold(key)
			a.inUse--
			bcryptSlotsInUse.Set(float64(a.inUse))
			a.grant()
		})
	}
}

// run does fn, a bcrypt operation for client, once a slot is free.
func (a *admission) run(ctx context.Context, client netip.Addr, fn func()) error {
	release, err := a.acquireFor(ctx, client)
	if err != nil {
		return err
	}
	defer release()
	a.runs.Add(1)
	fn()
	return nil
}

// errHashFailed: bcrypt could not hash a password (it never fails for the
// 40-character passwords acmedns makes).
var errHashFailed = errors.New("bcrypt: hashing failed")

// hash returns the bcrypt hash of password at BcryptCost, computed once a
// slot is free for client: errBusy or errGone from the gate, or errHashFailed.
func (a *admission) hash(ctx context.Context, client netip.Addr, password string) ([]byte, error) {
	var hash []byte
	var hashErr error
	if err := a.run(ctx, client, func() { hash, hashErr = bcrypt.GenerateFromPassword([]byte(password), BcryptCost) }); err != nil {
		return nil, err
	}
	if hashErr != nil {
		return nil, errHashFailed
	}
	return hash, nil
}
