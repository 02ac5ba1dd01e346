package store

import (
	"sync/atomic"
	"time"
)

// serialMemoAge bounds how long a serial read from the store is believed
// while the store cannot hear of changes (a Redis subscription that is
// down): the staleness of a SOA answer then, and the rate of the reads a
// flood of SOA queries makes.
const serialMemoAge = time.Second

// serialMemo keeps the zone's serial in memory between changes, so that
// SOA answers need no store call. Every change notification the store gets
// (its own commits for the embedded store, the invalidation channel for
// Redis) forgets it; the next read from the store remembers it again, unless
// a change was notified while that read was under way.
type serialMemo struct {
	changes atomic.Uint64 // bumped by every change notification
	live    atomic.Bool   // notifications are known to arrive
	known   atomic.Pointer[memo]
}

type memo struct {
	counter uint64
	changes uint64 // the notifications seen before it was read
	at      time.Time
}

// get returns the serial if it is known current: no change was notified
// since it was read and, when notifications may be missed, it was read
// within serialMemoAge.
func (m *serialMemo) get() (uint32, bool) {
	k := m.known.Load()
	if k == nil || k.changes != m.changes.Load() {
		return 0, false
	}
	if !m.live.Load() && now().Sub(k.at) >= serialMemoAge {
		return 0, false
	}
	return uint32(k.counter), true
}

// begin returns the token of a read that is about to start.
func (m *serialMemo) begin() uint64 { return m.changes.Load() }

// note remembers counter, read since begin returned token, unless a change
// was notified meanwhile.
func (m *serialMemo) note(token, counter uint64) {
	if m.changes.Load() != token {
		return
	}
	m.known.Store(&memo{counter: counter, changes: token, at: now()})
}

// changed forgets the serial, and returns the token of what comes after.
func (m *serialMemo) changed() uint64 { return m.changes.Add(1) }

// trust says whether notifications arrive; a change of it forgets the serial.
func (m *serialMemo) trust(live bool) {
	m.live.Store(live)
	m.changed()
}
