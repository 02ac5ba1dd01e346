package httpapi

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// A connection beyond the bounds is answered 503 busy, as a request refused
// by bcrypt admission is, so that its client can tell the refusal from a
// network fault and retry after Retry-After. The answer costs little and
// is bounded: the request is never parsed, a refusal lasts refusalTime at
// most from accept to close (TLS handshake included), and at most
// maxRefusals are in progress at once; beyond them a refused connection is
// closed unanswered.
const (
	// maxRefusals bounds the refusals in progress at once, per listener: a
	// parked goroutine, a small buffer and a descriptor each, for a second
	// at most. A refusal waits on its client twice (for its request, and
	// for its close after the answer), so under a flood of clients that
	// reconnect at once, most refused clients are in a refusal: 64 was
	// saturated by 400 such clients from one address, and each connection
	// closed unanswered made its client reconnect sooner.
	maxRefusals = 512
	// refusalTime bounds one refusal, from accept to close.
	refusalTime = time.Second
	// refusalWait is how long a refusal waits for the request's first
	// bytes: an HTTP/1.1 client may take an answer that comes before its
	// request for an unsolicited one (Go's Transport does, and drops it).
	refusalWait = 500 * time.Millisecond
	// refusalDrain bounds the request bytes read and discarded, so that the
	// close is not turned into a reset by bytes left unread.
	refusalDrain = 64 << 10
)

// busyBody is writeError's body for "busy", byte for byte.
const busyBody = `{"error": "busy"}`

// busyAnswer is the whole answer of a refused connection.
var busyAnswer = []byte("HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: application/json\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: " + strconv.Itoa(len(busyBody)) + "\r\n" +
	"\r\n" + busyBody)

// refusal answers the connections a capListener refuses.
type refusal struct {
	slots chan struct{} // one per refusal in progress
	tls   *tls.Config   // nil: plain HTTP
	wait  time.Duration // refusalWait
	total time.Duration // refusalTime

	answered func() // counts a refused connection that is answered
	dropped  func() // counts one closed unanswered, all slots being taken
}

// newRefusal answers at most bound connections at once, over TLS with
// cfg's certificates when cfg is not nil. The answer is HTTP/1.1 whatever
// the client offers: ALPN is limited to it, so that an HTTP/2 client does
// not wait for frames.
func newRefusal(bound int, cfg *tls.Config) *refusal {
	r := &refusal{
		slots:    make(chan struct{}, bound),
		wait:     refusalWait,
		total:    refusalTime,
		answered: func() { apiRejections.WithLabelValues("connections").Inc() },
		dropped:  func() { apiRejections.WithLabelValues("connections_dropped").Inc() },
	}
	if cfg != nil {
		r.tls = cfg.Clone()
		r.tls.NextProtos = []string{"http/1.1"}
	}
	return r
}

// refuse answers c off the calling goroutine, or closes it at once when
// the bound of refusals in progress is reached. Either way it is counted
// before its client can see anything.
func (r *refusal) refuse(c net.Conn) {
	select {
	case r.slots <- struct{}{}:
	default:
		r.dropped()
		c.Close()
		return
	}
	r.answered()
	go r.answer(c)
}

// answer writes the answer on raw, discards what the client still sends
// until it closes (refusalDrain bytes at most), and closes raw: with no
// request bytes left unread, the close does not turn into a reset, and the
// client reads the answer.
func (r *refusal) answer(raw net.Conn) {
	defer func() { <-r.slots }()
	defer raw.Close()
	buf := make([]byte, 1024)
	if !r.write(raw, buf) {
		return
	}
	for n := 0; n < refusalDrain; {
		m, err := raw.Read(buf)
		if err != nil {
			return // the client closed, or refusalTime is over
		}
		n += m
	}
}

// write writes busyAnswer on raw once the request's first bytes came (or
// refusalWait passed), and half-closes raw. It reports whether the answer
// was written.
func (r *refusal) write(raw net.Conn, buf []byte) bool {
	start := time.Now()
	raw.SetDeadline(start.Add(r.total))
	conn := raw
	if r.tls != nil {
		tc := tls.Server(raw, r.tls)
		if tc.Handshake() != nil {
			return false
		}
		conn = tc
	}
	raw.SetReadDeadline(start.Add(min(r.wait, r.total)))
	if _, err := conn.Read(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return false // the client is gone, or the TLS record was bad
	}
	raw.SetReadDeadline(start.Add(r.total))
	if _, err := conn.Write(busyAnswer); err != nil {
		return false
	}
	if tc, ok := conn.(*tls.Conn); ok {
		tc.CloseWrite() // close_notify; the TCP side is half-closed below
	}
	if hc, ok := raw.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
	}
	return true
}
