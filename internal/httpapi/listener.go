package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/acmedns/acmedns/internal/registry"
)

// The API listener is process-wide and reference-counted per address. It is
// bound once and survives reloads: a new instance swaps in its handler (and
// certificate) while the old one still holds a reference, so no reload ever
// fails with "address already in use" and a failed reload simply swaps the
// old handler back.

var listeners = registry.New(func(l *listener) { l.close() })

type listener struct {
	addr   string
	tls    bool
	srv    *http.Server
	conns  *capListener
	active atomic.Pointer[Target]
	done   chan struct{} // closed when Serve has returned
}

// Target is what one instance serves on a listener.
type Target struct {
	Handler http.Handler
	Cert    *tls.Certificate // nil: plain HTTP, unless GetCertificate is set
	// GetCertificate, when set, is asked for the certificate at each
	// handshake instead of Cert (certificates renewed in the background).
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	Conns          ConnPolicy // concurrent connections allowed
}

// withTLS reports whether t is served over HTTPS.
func (t *Target) withTLS() bool { return t.Cert != nil || t.GetCertificate != nil }

// ReadHeaderTimeout is how long a client may take to send its request
// headers before its connection is closed.
const ReadHeaderTimeout = 5 * time.Second

// HTTP server limits: a slow or idle client cannot hold a connection for
// long, and headers are small (acme-dns clients send a few hundred bytes).
const (
	readTimeout    = 10 * time.Second
	writeTimeout   = 10 * time.Second
	idleTimeout    = 10 * time.Second
	maxHeaderBytes = 8 << 10
)

// Listen makes t the target served on addr, binding addr if no instance
// serves it yet. It returns the function that gives the reference back,
// closing the listener with the last one.
func Listen(addr string, t *Target) (func(), error) {
	_, release, err := listeners.Acquire(addr, func() (*listener, error) { return listen(addr, t) },
		func(l *listener) error {
			if l.tls != t.withTLS() {
				return fmt.Errorf("api %s: switching TLS on or off needs a restart, not a reload", addr)
			}
			l.activate(t)
			return nil
		})
	return release, err
}

// Activate makes t the served target of addr again, after a failed reload.
func Activate(addr string, t *Target) {
	if l, ok := listeners.Get(addr); ok {
		l.activate(t)
	}
}

// activate serves t, with its connection cap.
func (l *listener) activate(t *Target) {
	if t.Conns.Max > 0 {
		p := t.Conns
		l.conns.policy.Store(&p)
	}
	l.active.Store(t)
}

// close stops serving: it waits up to a second for requests in progress,
// then closes what is left, and returns once the serving goroutine ended.
func (l *listener) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		l.srv.Close()
	}
	<-l.done
}

// listen binds addr and serves t on it.
func listen(addr string, t *Target) (*listener, error) {
	withTLS := t.withTLS()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	l := &listener{addr: addr, tls: withTLS, done: make(chan struct{})}
	var tlsCfg *tls.Config
	if withTLS {
		tlsCfg = l.tlsConfig()
	}
	l.conns = newCapListener(ln, ConnPolicy{Max: DefaultConnections, PerClient: DefaultClientConnections}, tlsCfg)
	l.activate(t)
	ln = l.conns
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if withTLS {
		ln = tls.NewListener(ln, tlsCfg)
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("api on %s stopped: %v", addr, err)
		}
	}()
	return l, nil
}

// tlsConfig is the listener's TLS: the active target's certificate, read
// at each handshake so that a reload's new certificate serves at once. The
// connections refused by the cap are answered with it too.
func (l *listener) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			t := l.active.Load()
			if t.GetCertificate != nil {
				return t.GetCertificate(hello)
			}
			return t.Cert, nil
		},
	}
}

func (l *listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	l.active.Load().Handler.ServeHTTP(w, r)
}
