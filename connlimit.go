package acmedns

import (
	"net"
	"sync"
	"sync/atomic"
)

// capListener bounds the API's concurrent connections. A connection beyond
// the cap is accepted and closed at once, so it neither waits in the
// kernel's backlog nor holds a file descriptor the DNS server may need.
type capListener struct {
	net.Listener
	max  atomic.Int64 // set on every (re)configuration
	open atomic.Int64
}

func newCapListener(ln net.Listener, max int) *capListener {
	l := &capListener{Listener: ln}
	l.max.Store(int64(max))
	return l
}

// Accept implements net.Listener.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max.Load() {
			l.open.Add(-1)
			c.Close()
			apiRejections.WithLabelValues("connections").Inc()
			continue
		}
		return &cappedConn{Conn: c, l: l}, nil
	}
}

type cappedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

// Close implements net.Conn; the slot is given back once.
func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}
