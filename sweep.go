package acmedns

import (
	"context"
	"time"
)

// sweepBatch is how many subdomains one sweep call may change.
const sweepBatch = 1000

// sweepTimeout bounds each sweep call.
const sweepTimeout = 10 * time.Second

// sweepInterval is how often expired values are removed from the store
// with txt_expire: a tenth of it, between a second and a minute.
func sweepInterval(expire time.Duration) time.Duration {
	return min(max(expire/10, time.Second), time.Minute)
}

// sweeper removes, every interval, the TXT values txt_expire no longer
// serves, as journaled changes, so that the serial moves and secondaries
// drop them too. Every replica sweeps; a value is removed (and journaled)
// once whichever replica gets to it first.
type sweeper struct {
	stop chan struct{}
	done chan struct{}
}

// startSweep starts the sweeper when txt_expire is set.
func (a *ACMEDNS) startSweep() {
	if a.cfg.TXTExpire <= 0 {
		return
	}
	s := &sweeper{stop: make(chan struct{}), done: make(chan struct{})}
	a.sweep = s
	a.hold(s.close)
	go func() {
		defer close(s.done)
		tick := time.NewTicker(sweepInterval(a.cfg.TXTExpire))
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				a.sweepOnce(s.stop)
			}
		}
	}()
}

// sweepOnce removes every expired value, a batch at a time, and tells the
// secondaries when anything changed.
func (a *ACMEDNS) sweepOnce(stop <-chan struct{}) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
		n, more, err := a.store.ExpireTXT(ctx, a.cfg.TXTExpire, sweepBatch)
		cancel()
		if n > 0 {
			a.notify.kick()
		}
		if err != nil {
			countStoreError("expire")
			return // the next tick tries again
		}
		select {
		case <-stop:
			return
		default:
		}
		if !more {
			return
		}
	}
}

// close stops the sweeper and waits for a sweep in progress. It is called
// once (hold sees to that).
func (s *sweeper) close() {
	close(s.stop)
	<-s.done
}
