package acmedns

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/acmedns/acmedns/internal/httpapi"
)

// New returns the plugin for cfg. Nothing is opened until OnStartup.
func New(cfg *Config) *ACMEDNS {
	a := &ACMEDNS{cfg: cfg, zones: make(map[string]*zone, len(cfg.Zones)), owners: challengeOwners(cfg)}
	for _, z := range cfg.Zones {
		a.zones[z] = newZone(z, cfg)
	}
	return a
}

// OnStartup opens (or shares) the store and the API listeners, and starts
// the notifier and the expiry sweeper. On failure it gives back whatever it
// had acquired.
func (a *ACMEDNS) OnStartup() error {
	if err := a.start(); err != nil {
		a.stop()
		return plugin.Error(pluginName, err)
	}
	return nil
}

func (a *ACMEDNS) start() error {
	s, releaseStore, err := acquireStore(a.cfg)
	if err != nil {
		return err
	}
	a.hold(releaseStore)
	a.store = s
	if err := a.startTransfers(); err != nil {
		return err
	}
	a.hold(httpapi.ConfigureBcrypt(a.cfg.Limits))
	svc := a.apiService()
	target := &httpapi.Target{Handler: svc.API(), Conns: a.cfg.connPolicy()}
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			return err
		}
		target.Cert = &cert
	}
	if err := a.startACME(target); err != nil {
		return err
	}
	releaseListener, err := httpapi.Listen(a.cfg.API, target)
	if err != nil {
		return err
	}
	a.hold(releaseListener)
	a.target = target
	if err := a.startAdmin(svc); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		log.Warningf("store does not answer yet (DNS answers SERVFAIL, the API 503, until it does): %v", err)
	} else if serial, err := s.Serial(ctx); err == nil {
		a.noteSerial(serial)
	}
	// Secondaries check the zone at once after a start or a reload, as
	// the file plugin has them do.
	a.notify.kick()
	a.startSweep()
	a.started.Store(true)
	return nil
}

// apiService is the HTTP side over the instance's store: its writes
// notify the secondaries, its store failures count in store_errors_total.
func (a *ACMEDNS) apiService() *httpapi.Service {
	return httpapi.NewService(a.cfg.apiConfig(), a.store, httpapi.Hooks{Changed: a.notify.kick, StoreError: countStoreError})
}

// hold records what the starting instance must give back: at its shutdown,
// or, while a reload is under way, when the old instance learns that the
// reload failed (caddy runs no shutdown callback of a rejected instance).
// Each is given back once, the last acquired first.
func (a *ACMEDNS) hold(release func()) {
	var once sync.Once
	f := func() { once.Do(release) }
	a.release = append(a.release, f)
	track(f)
}

// stop gives back everything the instance holds, the last acquired first:
// the sweeper and the notifier stop before the store they use is released.
func (a *ACMEDNS) stop() {
	a.started.Store(false)
	for i := len(a.release) - 1; i >= 0; i-- {
		a.release[i]()
	}
	a.release = nil
}

// startAdmin opens (or takes over) the admin listener, when configured.
func (a *ACMEDNS) startAdmin(svc *httpapi.Service) error {
	if a.cfg.Admin == nil {
		return nil
	}
	tokens, err := a.cfg.Admin.tokens()
	if err != nil {
		return err
	}
	target := &httpapi.Target{Handler: svc.Admin(tokens), Conns: a.cfg.connPolicy()}
	release, err := httpapi.Listen(a.cfg.Admin.Addr, target)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	a.hold(release)
	a.adminTarget = target
	return nil
}

// adminTokens returns every admin token: those of the Corefile and those
// read from the token files now (so a reload picks up a rotated file).
func (ac *AdminConfig) tokens() ([]string, error) {
	tokens := append([]string(nil), ac.Tokens...)
	for _, p := range ac.TokenFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("admin token_file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if len(t) < minAdminToken || strings.ContainsAny(t, " \t\r\n") {
			return nil, fmt.Errorf("admin token_file %s: want one token of at least %d characters", p, minAdminToken)
		}
		tokens = append(tokens, t)
	}
	return tokens, nil
}

// OnShutdown gives back what the instance holds; the last user of the
// store and of a listener closes it. After a successful reload it runs on
// the old instance.
func (a *ACMEDNS) OnShutdown() error {
	endReload(false)
	a.stop()
	return nil
}

// OnRestart runs on the old instance before a reload.
func (a *ACMEDNS) OnRestart() error {
	beginReload()
	return nil
}

// OnRestartFailed runs on the old instance when a reload failed: what the
// new instance acquired is given back (its sweeper and notifier stop, the
// bcrypt bounds it set are restored) and the old API handlers serve again.
func (a *ACMEDNS) OnRestartFailed() error {
	endReload(true)
	if a.target != nil {
		httpapi.Activate(a.cfg.API, a.target)
	}
	if a.adminTarget != nil {
		httpapi.Activate(a.cfg.Admin.Addr, a.adminTarget)
	}
	return nil
}

// Ready implements the ready plugin's Readiness: true once the instance has
// started, its store answers and, with tls acme, the API has a certificate. The ready plugin asks from its own
// goroutine, maybe while OnStartup runs: started orders the two.
func (a *ACMEDNS) Ready() bool {
	if !a.started.Load() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Timeout)
	defer cancel()
	return a.store.Ping(ctx) == nil && (a.acme == nil || a.acme.Ready())
}

// Reloads. Caddy discards a new instance whose start fails without running
// its shutdown callbacks, so what its OnStartup acquired is recorded here
// while a reload is under way and given back if the old instance learns that
// the reload failed.

var (
	reloadMu  sync.Mutex
	reloading bool
	pending   []func()
)

// beginReload marks the start of a reload (old instance's OnRestart).
func beginReload() {
	reloadMu.Lock()
	defer reloadMu.Unlock()
	if !reloading {
		reloading, pending = true, nil
	}
}

// track records what a starting instance acquired.
func track(release func()) {
	reloadMu.Lock()
	defer reloadMu.Unlock()
	if reloading {
		pending = append(pending, release)
	}
}

// endReload closes the reload: on failure the new instances' acquisitions
// are given back, the last acquired first.
func endReload(failed bool) {
	reloadMu.Lock()
	rel := pending
	reloading, pending = false, nil
	reloadMu.Unlock()
	if !failed {
		return
	}
	for i := len(rel) - 1; i >= 0; i-- {
		rel[i]()
	}
}
