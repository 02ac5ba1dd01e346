package acmedns

import (
	"sync"
	"time"

	"github.com/coredns/coredns/plugin/transfer"
)

// notifyInterval is the shortest time between two rounds of NOTIFY: the
// first change after a quiet spell is announced at once, and a burst of
// changes is one more round per interval.
const notifyInterval = 100 * time.Millisecond

// notifySettle is how long a round waits, on a store shared by several
// replicas (Redis), before it tells the secondaries: the other replicas
// answer the SOA from memory until the store's invalidation of the change
// reaches them (well under a millisecond on one Redis, some milliseconds
// through a Cluster's bus), and a secondary that asks one of them after the
// NOTIFY must see the new serial.
const notifySettle = 20 * time.Millisecond

// notifyWarnEvery bounds how often a failing secondary is logged.
const notifyWarnEvery = time.Minute

// notifier sends the transfer plugin's NOTIFY for the zones after a change,
// coalesced: at most one round is in flight and rounds are notifyInterval
// apart, however many changes there were.
type notifier struct {
	xfer   *transfer.Transfer
	zones  []string
	settle time.Duration // wait before each round

	stop chan struct{} // closed by close: a waiting round gives up

	mu       sync.Mutex
	pending  bool // a change not yet announced
	running  bool // a goroutine is sending
	closed   bool
	lastWarn time.Time
}

func newNotifier(xfer *transfer.Transfer, zones []string, settle time.Duration) *notifier {
	return &notifier{xfer: xfer, zones: zones, settle: settle, stop: make(chan struct{})}
}

// kick announces a change: at once when no round ran lately, else at the
// end of the current interval. It never blocks.
func (n *notifier) kick() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.pending = true
	if !n.running {
		n.running = true
		go n.run()
	}
}

// close stops further rounds: a goroutine waiting for the next interval
// ends at once, one sending a round ends after it. It is called once.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	close(n.stop)
}

func (n *notifier) run() {
	for {
		n.sleep(n.settle)
		n.mu.Lock()
		if n.closed || !n.pending {
			n.running = false
			n.mu.Unlock()
			return
		}
		n.pending = false
		n.mu.Unlock()
		n.round()
		n.sleep(notifyInterval)
	}
}

// sleep waits d, or until the notifier is closed.
func (n *notifier) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n.stop:
	case <-t.C:
	}
}

// round sends one NOTIFY per zone to every secondary of the transfer block.
func (n *notifier) round() {
	for _, z := range n.zones {
		err := n.xfer.Notify(z)
		if err == nil {
			notifies.WithLabelValues(z, "sent").Inc()
			continue
		}
		notifies.WithLabelValues(z, "failed").Inc()
		n.mu.Lock()
		warn := time.Since(n.lastWarn) >= notifyWarnEvery
		if warn {
			n.lastWarn = time.Now()
		}
		n.mu.Unlock()
		if warn {
			log.Warningf("NOTIFY for %s: %v", z, err)
		}
	}
}
