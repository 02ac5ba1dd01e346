package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt is the one expensive step of the API: a compare costs about 60 ms
// of CPU. The admission gate bounds how many run at once in the whole
// process (default: one CPU fewer than GOMAXPROCS, so one always stays for
// DNS). Requests that find every slot taken wait in line, and the lines are
// served round-robin across client addresses (IPv6 by /64; the admin API,
// which has no client address, is one more client), oldest first within a
// client: a busy client cannot starve another, and one client may still
// queue a real burst.
//
// A request joins a line only when its expected wait (the work ahead of it
// in that order, at the measured time of one operation) is within the wait
// bound; otherwise it is refused at once with busy, never after waiting in
// vain. Once in line it waits for its turn: its connection's deadlines are
// moved past the wait so that its answer can always be written, and it
// leaves the line when its client hangs up. Clients arriving later can take
// turns ahead of it (that is what fairness means), so it gives up only at
// twice the bound.

// busyError is a refusal of the gate: no slot within the wait bound, the
// queue or the client's share is full, or (rarely) twice the bound passed
// in line. retryAfter is when the queue ahead should have drained.
type busyError struct{ retryAfter time.Duration }

// Error implements error.
func (e *busyError) Error() string { return "bcrypt admission: busy" }

var (
	// errBusy matches every *busyError with errors.Is.
	errBusy = errors.New("bcrypt admission: busy")
	// errGone: the client went away before its bcrypt work started.
	errGone = errors.New("bcrypt admission: client gone")
)

// Is lets errors.Is(err, errBusy) match a *busyError.
func (e *busyError) Is(target error) bool { return target == errBusy }

// initialCost is the time of one operation assumed before any was measured:
// a compare at cost 10 takes about 60 ms on a slow core.
const initialCost = 100 * time.Millisecond

// admission is the gate: slots, and a line of waiters per client.
type admission struct {
	mu      sync.Mutex
	slots   int
	queue   int           // waiters at most, in all lines together
	wait    time.Duration // bound of a waiter's expected wait
	inUse   int
	queued  int
	clients map[netip.Addr]*line // every client with a slot or a waiter
	ring    []*line              // clients with waiters, in the order they are served
	cost    time.Duration        // moving average of one operation's time

	setting gateSetting // who set the bounds, and what they replaced

	peak atomic.Int64  // highest inUse seen (tests)
	runs atomic.Uint64 // bcrypt operations started
}

// line is one client's waiters, oldest first, and what it holds.
type line struct {
	key     netip.Addr
	waiters []chan struct{} // each closed when handed a slot
	held    int             // slots in use and waiters
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
	a := &admission{clients: map[netip.Addr]*line{}, cost: initialCost, setting: gateSetting{l: l}}
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
	bcryptQueueCapacity.Set(float64(a.queue))
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

// share is how many slots and waiting places one client address may hold
// (the admin API, with none, is not bounded by it).
func (a *admission) share() int { return max(1, (a.slots+a.queue)/4) }

// asker is a request for a slot: its context (done when its client hangs
// up), its client address (invalid for the admin API) and its response,
// whose deadlines are moved past the wait (nil: none to move).
type asker struct {
	ctx    context.Context
	client netip.Addr
	w      http.ResponseWriter
}

// key is the line the asker waits in.
func (k asker) key() netip.Addr {
	if k.client.IsValid() {
		return ClientKey(k.client)
	}
	return netip.Addr{}
}

// acquire waits for a slot for k. It returns a *busyError when k would wait
// longer than the bound or a bound on waiters is reached, and errGone when
// k's context ends first.
func (a *admission) acquire(k asker) (release func(), err error) {
	if k.ctx.Err() != nil {
		return nil, errGone
	}
	key := k.key()
	a.mu.Lock()
	l, err := a.admit(key)
	if err != nil {
		a.mu.Unlock()
		return nil, err
	}
	if l == nil {
		a.mu.Unlock()
		return a.releaser(key), nil
	}
	ready := make(chan struct{})
	a.enqueue(l, ready)
	bound := 2 * a.wait
	a.mu.Unlock()

	extendDeadlines(k.w, bound)
	timer := time.NewTimer(bound)
	defer timer.Stop()
	select {
	case <-ready:
		if k.ctx.Err() != nil { // handed a slot just as the client left
			a.releaser(key)()
			return nil, errGone
		}
		return a.releaser(key), nil
	case <-k.ctx.Done():
		err = errGone
	case <-timer.C:
		err = &busyError{retryAfter: a.wait}
	}
	if a.leave(ready, key) {
		return nil, err
	}
	// The slot was handed over while we gave up: give it back.
	a.releaser(key)()
	return nil, err
}

// admit decides for a request of key: a slot at once (nil line, the slot
// taken), a place in key's line (the line), or a *busyError. a.mu is held.
func (a *admission) admit(key netip.Addr) (*line, error) {
	now, _, err := a.decide(a.clients[key])
	switch {
	case err != nil:
		return nil, err
	case now:
		a.hold(key).held++
		a.take()
		return nil, nil
	}
	return a.hold(key), nil
}

// decide says what a new request of l's client (l nil: a client holding
// nothing) gets: a slot now, a place in line with its expected wait, or a
// *busyError when its share or the queue is full or the wait is over the
// bound. a.mu is held.
func (a *admission) decide(l *line) (now bool, wait time.Duration, err error) {
	if l != nil && l.key.IsValid() && l.held >= a.share() {
		return false, 0, &busyError{retryAfter: a.expectedWait(l)}
	}
	if a.inUse < a.slots && a.queued == 0 {
		return true, 0, nil
	}
	wait = a.expectedWait(l)
	if a.queued >= a.queue || wait > a.wait {
		return false, 0, &busyError{retryAfter: wait}
	}
	return false, wait, nil
}

// hold returns key's line, made if it has none; a.mu is held.
func (a *admission) hold(key netip.Addr) *line {
	l := a.clients[key]
	if l == nil {
		l = &line{key: key}
		a.clients[key] = l
	}
	return l
}

// enqueue puts ready at the end of l; a.mu is held.
func (a *admission) enqueue(l *line, ready chan struct{}) {
	if len(l.waiters) == 0 {
		a.ring = append(a.ring, l)
	}
	l.waiters = append(l.waiters, ready)
	l.held++
	a.queued++
	bcryptQueued.Set(float64(a.queued))
}

// expectedWait is how long a new waiter in l (nil: a client with none) would
// wait for its slot: the operations running and those served before it,
// round-robin, each slot finishing one per measured cost. a.mu is held.
func (a *admission) expectedWait(l *line) time.Duration {
	if a.inUse < a.slots && a.queued == 0 {
		return 0
	}
	own := 0
	if l != nil {
		own = len(l.waiters)
	}
	ahead := own
	for _, o := range a.ring {
		if o != l {
			ahead += min(len(o.waiters), own+1)
		}
	}
	return time.Duration(float64(a.cost) * (1 + float64(ahead)/float64(max(1, a.slots))))
}

// unhold counts one slot or waiter of key less; a.mu is held.
func (a *admission) unhold(key netip.Addr) {
	l := a.clients[key]
	if l == nil {
		return
	}
	if l.held--; l.held <= 0 && len(l.waiters) == 0 {
		delete(a.clients, key)
	}
}

// leave removes a waiter that gave up; false if it was already granted.
func (a *admission) leave(ready chan struct{}, key netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.clients[key]
	if l == nil {
		return false
	}
	for i, w := range l.waiters {
		if w == ready {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			if len(l.waiters) == 0 {
				a.unring(l)
			}
			a.queued--
			bcryptQueued.Set(float64(a.queued))
			a.unhold(key)
			return true
		}
	}
	return false
}

// unring takes l, whose line is empty, out of the ring; a.mu is held.
func (a *admission) unring(l *line) {
	for i, o := range a.ring {
		if o == l {
			a.ring = append(a.ring[:i], a.ring[i+1:]...)
			return
		}
	}
}

// take counts one more slot in use; a.mu is held.
func (a *admission) take() {
	a.inUse++
	bcryptSlotsInUse.Set(float64(a.inUse))
	if n := int64(a.inUse); n > a.peak.Load() {
		a.peak.Store(n)
	}
}

// grant hands free slots to the first waiter of each line in turn, the
// line going to the back of the ring; a.mu is held.
func (a *admission) grant() {
	for a.inUse < a.slots && len(a.ring) > 0 {
		l := a.ring[0]
		a.ring = a.ring[1:]
		w := l.waiters[0]
		l.waiters = l.waiters[1:]
		if len(l.waiters) > 0 {
			a.ring = append(a.ring, l)
		}
		a.queued--
		bcryptQueued.Set(float64(a.queued))
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

// observe folds the time of one operation into the moving average.
func (a *admission) observe(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cost += (d - a.cost) / 5
}

// run does fn, a bcrypt operation (op: hash or compare) for k, once a slot
// is free. fn's error is returned.
func (a *admission) run(k asker, op string, fn func() error) error {
	release, err := a.acquire(k)
	if err != nil {
		return err
	}
	defer release()
	a.runs.Add(1)
	bcryptOperations.WithLabelValues(op).Inc()
	start := time.Now()
	err = fn()
	a.observe(time.Since(start))
	return err
}

// mimic takes as long as a compare for k would, without one: the same
// refusal when k could not have a slot, else a sleep for the expected wait
// and one operation's time. errGone when k's client leaves first.
func (a *admission) mimic(k asker) error {
	a.mu.Lock()
	_, wait, err := a.decide(a.clients[k.key()])
	d := wait + a.cost
	a.mu.Unlock()
	if err != nil {
		return err
	}
	extendDeadlines(k.w, d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-k.ctx.Done():
		return errGone
	}
}

// extendDeadlines moves w's connection deadlines to after wait and the
// usual time to answer, so that a request that waited for its slot can
// still be answered and its client's silence is not taken for a hang-up.
func extendDeadlines(w http.ResponseWriter, wait time.Duration) {
	if w == nil {
		return
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(wait + writeTimeout)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
}

// errHashFailed: bcrypt could not hash a password (it never fails for the
// 40-character passwords acmedns makes).
var errHashFailed = errors.New("bcrypt: hashing failed")

// hash returns the bcrypt hash of password at BcryptCost, computed once a
// slot is free for k: a *busyError or errGone from the gate, or
// errHashFailed.
func (a *admission) hash(k asker, password string) ([]byte, error) {
	var hash []byte
	err := a.run(k, "hash", func() error {
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(password), BcryptCost); err != nil {
			return errHashFailed
		}
		return nil
	})
	return hash, err
}
