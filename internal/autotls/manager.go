// Package autotls obtains and renews the HTTPS certificates of the acmedns
// API from an ACME CA with DNS-01, answered from acmedns's own zone: the
// challenge values, the ACME account, the certificates and their keys all
// live in the store, so every replica on one store answers the challenge
// and serves the same certificate, and one lock in the store lets only one
// replica order at a time. It builds on certmagic, with an instance's own
// cache and no process-wide configuration.
package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"sync/atomic"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/caddyserver/certmagic"
)

// Config is what one acmedns block asks of its API's certificates.
type Config struct {
	Names   []string       // one certificate each; lower-case, no final dot
	Zones   []string       // the block's zones, fully qualified
	CA      string         // the ACME directory URL
	Roots   *x509.CertPool // trusted when talking to the CA; nil: the system's
	Email   string         // the account's contact; "" for none
	Blobs   store.Blobs    // where everything is kept
	Events  Events
	LockTTL time.Duration // 0: DefaultLockTTL
	Retry   time.Duration // first wait after a failed first order; 0: DefaultRetry
	// Serving, when set, reports whether the DNS server that answers the
	// challenges is up; a challenge is presented to the CA only once it
	// is (or after ten seconds), since the first order starts with the
	// process, maybe before the DNS servers.
	Serving func(ctx context.Context) bool
}

// Events are told what the Manager does, for metrics. Either may be nil.
type Events struct {
	// Order is told of each order this replica made: a renewal or a
	// first certificate, and whether it succeeded.
	Order func(renewal, ok bool)
	// Expiry is told the expiry of the certificate served for a name,
	// whenever it is checked.
	Expiry func(name string, notAfter time.Time)
}

// Retry bounds: a first order that fails is tried again after Retry, then
// after twice as long each time, up to maxRetry. Renewals keep certmagic's
// backoff (from a minute to six hours), the old certificate serving.
const (
	DefaultRetry = 30 * time.Second
	maxRetry     = time.Hour
)

// Manager obtains, renews and serves one block's certificates.
type Manager struct {
	cfg     Config
	cache   *certmagic.Cache
	options certmagic.CacheOptions // cache's; RenewCheckInterval follows run's checks
	magic   *certmagic.Config
	storage *Storage
	cancel  context.CancelFunc
	done    chan struct{}
	wake    chan struct{}
	ready   atomic.Bool
}

// Start starts managing the certificates of cfg in the background: those
// in the store are loaded, missing ones ordered, all renewed in time.
func Start(cfg Config) *Manager {
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	m := &Manager{cfg: cfg, storage: NewStorage(cfg.Blobs, cfg.LockTTL), done: make(chan struct{}), wake: make(chan struct{}, 1)}
	logger := newLogger()
	m.options = certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return m.magic, nil },
		Logger:           logger,
	}
	m.cache = certmagic.NewCache(m.options)
	m.magic = certmagic.New(m.cache, certmagic.Config{
		Storage:           m.storage,
		Logger:            logger,
		OnEvent:           m.onEvent,
		DefaultServerName: cfg.Names[0],
		OCSP:              certmagic.OCSPConfig{DisableStapling: true},
	})
	m.magic.Issuers = []certmagic.Issuer{quietIssuer{certmagic.NewACMEIssuer(m.magic, certmagic.ACMEIssuer{
		CA:                      cfg.CA,
		Email:                   cfg.Email,
		Agreed:                  true,
		TrustedRoots:            cfg.Roots,
		DisableHTTPChallenge:    true,
		DisableTLSALPNChallenge: true,
		DNS01Solver:             solver{blobs: cfg.Blobs, zones: cfg.Zones, serving: cfg.Serving},
		Logger:                  logger,
	})}}
	m.preload()
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.run(ctx)
	return m
}

// Stop stops every goroutine the Manager started and frees the locks it
// holds. The certificates stay in the store.
func (m *Manager) Stop() {
	m.cancel()
	<-m.done
	m.cache.Stop()
	m.storage.Close()
}

// GetCertificate is the tls.Config hook: the certificate for the name the
// client asks for, or the first name's when it names none.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.magic.GetCertificate(hello)
}

// Ready reports whether a valid certificate serves every name.
func (m *Manager) Ready() bool { return m.ready.Load() }

// preload loads the certificates already in the store, so that a reload's
// new instance serves at once; what it cannot load, run obtains.
func (m *Manager) preload() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range m.cfg.Names {
		if _, err := m.magic.CacheManagedCertificate(ctx, name); err != nil {
			return
		}
	}
	m.observe()
}
