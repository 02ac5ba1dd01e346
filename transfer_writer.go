package acmedns

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/miekg/dns"
)

// xfrMessageSize is how many bytes of records one transfer message holds at
// most, as the transfer plugin packs them: under the 64 KiB TCP message
// limit, with room for the header, the question and a TSIG.
const xfrMessageSize = 63000

// Why a transfer stopped before its end, the reason label of
// transfer_aborts_total.
var (
	errStalled    = errors.New("the client did not take a message within the idle bound")
	errClientGone = errors.New("the client went away")
)

// xfrWriter sends a transfer's records to the client in messages of up to
// xfrMessageSize bytes, as they come: it holds one message's records, never
// more. Each write must finish within idle: a client that does not take a
// message within that long has its connection closed, which ends the
// blocked write, so that it holds neither the transfer nor the
// connection.
type xfrWriter struct {
	w       dns.ResponseWriter
	q       *dns.Msg
	idle    time.Duration
	batch   []dns.RR
	size    int
	wrote   bool // a message has been written
	stalled bool // cut off for not taking a message within idle
}

func newXfrWriter(w dns.ResponseWriter, q *dns.Msg, idle time.Duration) *xfrWriter {
	return &xfrWriter{w: w, q: q, idle: idle}
}

// add queues rrs, writing a message whenever the next record would not fit.
func (x *xfrWriter) add(rrs ...dns.RR) error {
	for _, rr := range rrs {
		n := dns.Len(rr)
		if len(x.batch) > 0 && x.size+n > xfrMessageSize {
			if err := x.flush(); err != nil {
				return err
			}
		}
		x.batch = append(x.batch, rr)
		x.size += n
	}
	return nil
}

// flush writes the queued records, if any, as one message.
func (x *xfrWriter) flush() error {
	if len(x.batch) == 0 {
		return nil
	}
	err := x.write(x.batch)
	x.batch, x.size = nil, 0
	return err
}

// write sends rrs as one message, signed when the request was (as the
// transfer plugin's dns.Transfer.Out does). A write that has not finished
// within idle is ended by closing the connection from the timer's
// goroutine: the DNS library's TCP writes have no deadline of their own.
func (x *xfrWriter) write(rrs []dns.RR) error {
	m := new(dns.Msg)
	m.SetReply(x.q)
	m.Authoritative = true
	m.Answer = rrs
	if tsig := x.q.IsTsig(); tsig != nil && x.w.TsigStatus() == nil {
		m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, tsig.Fudge, time.Now().Unix())
	}
	closed := make(chan struct{})
	timer := time.AfterFunc(x.idle, func() {
		x.w.Close()
		close(closed)
	})
	err := x.w.WriteMsg(m)
	if !timer.Stop() {
		<-closed // the connection is closed: nothing more may be written
		x.stalled = true
		return errStalled
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errClientGone, err)
	}
	x.wrote = true
	x.w.TsigTimersOnly(true)
	runtime.Gosched() // queries waiting for a thread go first
	return nil
}
