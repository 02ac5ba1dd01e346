package acmedns

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The API listener is process-wide and reference-counted per address. It is
// bound once and survives reloads: a new instance swaps in its handler (and
// certificate) while the old one still holds a reference, so no reload ever
// fails with "address already in use" and a failed reload simply swaps the
// old handler back.

var (
	listenersMu sync.Mutex
	listeners   = map[string]*apiListener{}
)

type apiListener struct {
	addr   string
	tls    bool
	srv    *http.Server
	conns  *capListener
	active atomic.Pointer[apiTarget]
	refs   int
}

// apiTarget is what one instance serves on the listener.
type apiTarget struct {
	handler http.Handler
	cert    *tls.Certificate // nil without tls
	conns   connPolicy       // concurrent connections allowed
}

// HTTP server limits: a slow or idle client cannot hold a connection for
// long, and headers are small (acme-dns clients send a few hundred bytes).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 10 * time.Second
	maxHeaderBytes    = 8 << 10
)

// acquireListener makes t the target served on addr, binding addr if no
// instance serves it yet. It returns the function that gives the reference
// back, closing the listener with the last one.
func acquireListener(addr string, t *apiTarget) (func(), error) {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	l, ok := listeners[addr]
	if ok && l.tls != (t.cert != nil) {
		return nil, fmt.Errorf("api %s: switching TLS on or off needs a restart, not a reload", addr)
	}
	if !ok {
		var err error
		if l, err = listen(addr, t.cert != nil); err != nil {
			return nil, err
		}
		listeners[addr] = l
	}
	l.refs++
	l.activate(t)
	var once sync.Once
	return func() {
		once.Do(func() { releaseListener(l) })
	}, nil
}

// activate makes t the served target again, after a failed reload.
func activate(addr string, t *apiTarget) {
	listenersMu.Lock()
	defer listenersMu.Unlock()
	if l, ok := listeners[addr]; ok {
		l.activate(t)
	}
}

// activate serves t, with its connection cap.
func (l *apiListener) activate(t *apiTarget) {
	if t.conns.max > 0 {
		p := t.conns
		l.conns.policy.Store(&p)
	}
	l.active.Store(t)
}

func releaseListener(l *apiListener) {
	listenersMu.Lock()
	l.refs--
	last := l.refs == 0
	if last {
		delete(listeners, l.addr)
	}
	listenersMu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.srv.Close()
		}
	}
}

func listen(addr string, withTLS bool) (*apiListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	l := &apiListener{addr: addr, tls: withTLS, conns: newCapListener(ln, connPolicy{max: DefaultConnections, perClient: DefaultClientConnections})}
	ln = l.conns
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if withTLS {
		ln = tls.NewListener(ln, &tls.Config{
			MinVersion: tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				return l.active.Load().cert, nil
			},
		})
	}
	go func() {
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("api on %s stopped: %v", addr, err)
		}
	}()
	return l, nil
}

func (l *apiListener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	l.active.Load().handler.ServeHTTP(w, r)
}
