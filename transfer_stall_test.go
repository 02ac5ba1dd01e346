//go:build !race

// The stalled client's connection is closed from a timer's goroutine while
// the transfer's write is blocked in it: the only way to end a blocked TCP
// write of the DNS library, whose response writer does not guard its
// closed flag (miekg/dns#983), so the race detector reports that pair.
// make unit runs this file without it.

package acmedns

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testTransferStalled (a subtest of TestTransferBounds): a client that
// sends an AXFR and never reads has its connection closed within the idle
// bound (1 s here), and the store's reads stop with it: when it reads at
// last, it gets what was queued and then the end of the connection, not
// the rest of the zone. Its slot stays taken for stalledSlotHold (4 s
// here) after the close. A secondary transfers the zone meanwhile.
func testTransferStalled(t *testing.T, redisAddr string) {
	defer func(d time.Duration) { stalledSlotHold = d }(stalledSlotHold)
	stalledSlotHold = 4 * time.Second
	p := newPorts(t)
	core := startCoreDNS(t, p.transferCorefile("*", "redis "+redisAddr+"\n\t\ttransfer_limits 16 4 1s"))
	defer core.stop()
	aborts := xfrMetric("transfer_aborts_total", "stalled")
	abortsBefore := metric(t, "127.0.0.1:"+p.metrics, aborts)
	slots := metric(t, "127.0.0.1:"+p.metrics, slotsInUse)

	start := settledCalls(t, redisAddr, "zrange")
	stalled, stalledAt := xfrFrom(t, p.dnsAddr(), "127.0.0.1", 0, 4096), time.Now()
	if got := len(xfrAllFrom(t, p.dnsAddr(), "127.0.0.2", 0)); got != zoneRecords {
		t.Errorf("the secondary's AXFR beside a stalled one: %d records", got)
	}
	time.Sleep(time.Until(stalledAt.Add(3 * time.Second))) // the idle bound, and some
	if got := metric(t, "127.0.0.1:"+p.metrics, slotsInUse) - slots; got != 1 {
		t.Errorf("slots in use just after the stalled transfer was cut off: %v more than before, want 1 (held)", got)
	}
	pages := settledCalls(t, redisAddr, "zrange")
	time.Sleep(2 * time.Second)
	if more := redisCalls(t, redisAddr, "zrange") - pages; more != 0 {
		t.Errorf("the store read %d more pages after the stalled transfer was cut off", more)
	}

	records, soas, err := drain(stalled)
	t.Logf("the stalled client, reading at last, got %d records and then %v; the store read %d pages for it and the secondary's AXFR", records, err, pages-start)
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reading the stalled transfer at last: %v after %d records, want the end of the connection", err, records)
	}
	if soas > 1 || records >= zoneRecords {
		t.Errorf("the stalled client read %d records and %d SOAs, want less than the zone", records, soas)
	}
	if got := metric(t, "127.0.0.1:"+p.metrics, aborts) - abortsBefore; got != 1 {
		t.Errorf("%s went up by %v, want 1", aborts, got)
	}
	eventually(t, 10*time.Second, "the stalled transfer's slot given back", func() bool {
		return metric(t, "127.0.0.1:"+p.metrics, slotsInUse) == slots
	})
}

// drain reads a transfer's messages until the connection fails, and counts
// the records and SOAs received.
func drain(co *dns.Conn) (records, soas int, err error) {
	for {
		co.SetReadDeadline(time.Now().Add(5 * time.Second))
		m, err := co.ReadMsg()
		if err != nil {
			return records, soas, err
		}
		for _, rr := range m.Answer {
			records++
			if rr.Header().Rrtype == dns.TypeSOA {
				soas++
			}
		}
	}
}
