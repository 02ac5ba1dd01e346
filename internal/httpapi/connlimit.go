package httpapi

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// capListener bounds the API's concurrent connections, in all and per
// client address (IPv6 by /64; the proxies in trusted_proxies are exempt
// from the per-client bound, as every client behind them shares their
// address). A connection beyond a bound is accepted and answered 503 busy
// off the accept goroutine (see refusal), so it neither waits in the
// kernel's backlog nor holds a file descriptor the DNS server may need for
// longer than refusalTime.
type capListener struct {
	net.Listener
	policy atomic.Pointer[ConnPolicy] // set on every (re)configuration
	open   atomic.Int64

	mu      sync.Mutex
	perPeer map[netip.Addr]int
	refusal *refusal // answers the connections beyond the bounds
}

// ConnPolicy is how many connections a configuration allows.
type ConnPolicy struct {
	Max       int            // concurrent connections in all
	PerClient int            // of one client address (IPv6 by /64)
	Exempt    []netip.Prefix // peers not bounded per client (trusted proxies)
}

// newCapListener bounds ln's connections by p. A refused connection is
// answered over TLS with tlsCfg's certificates when tlsCfg is not nil (the
// listener's own configuration: ln's accepted connections are wrapped in
// TLS after the cap).
func newCapListener(ln net.Listener, p ConnPolicy, tlsCfg *tls.Config) *capListener {
	l := &capListener{Listener: ln, perPeer: map[netip.Addr]int{}, refusal: newRefusal(maxRefusals, tlsCfg)}
	l.policy.Store(&p)
	return l
}

// Accept implements net.Listener.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if cc, ok := l.admit(c); ok {
			return cc, nil
		}
		l.refusal.refuse(c) // counted before the client can see the answer
	}
}

// admit counts c in, unless a bound is reached.
func (l *capListener) admit(c net.Conn) (net.Conn, bool) {
	p := l.policy.Load()
	if l.open.Add(1) > int64(p.Max) {
		l.open.Add(-1)
		return nil, false
	}
	cc := &cappedConn{Conn: c, l: l}
	peer := addrOf(c.RemoteAddr().String())
	if peer.IsValid() && !contains(p.Exempt, peer) {
		key := ClientKey(peer)
		l.mu.Lock()
		if l.perPeer[key] >= p.PerClient {
			l.mu.Unlock()
			l.open.Add(-1)
			return nil, false
		}
		l.perPeer[key]++
		l.mu.Unlock()
		cc.peer = key
	}
	return cc, true
}

func (l *capListener) release(peer netip.Addr) {
	l.open.Add(-1)
	if !peer.IsValid() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perPeer[peer]--; l.perPeer[peer] <= 0 {
		delete(l.perPeer, peer)
	}
}

type cappedConn struct {
	net.Conn
	l    *capListener
	peer netip.Addr // invalid: not counted per client
	once sync.Once
}

// Close implements net.Conn; the slot is given back once.
func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.peer) })
	return err
}
