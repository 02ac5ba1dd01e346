package acmedns

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/transfer"
)

// New returns the plugin for cfg. Nothing is opened until OnStartup.
func New(cfg *Config) *ACMEDNS {
	a := &ACMEDNS{cfg: cfg, zones: make(map[string]*zone, len(cfg.Zones))}
	for _, z := range cfg.Zones {
		a.zones[z] = newZone(z, cfg)
	}
	return a
}

// OnStartup opens (or shares) the store and the API listener.
func (a *ACMEDNS) OnStartup() error {
	s, releaseStore, err := acquireStore(a.cfg)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	a.store = s
	a.startNotify()
	bcryptGate.configure(a.cfg.Limits)
	target := &apiTarget{handler: newAPI(a), conns: a.connPolicy()}
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			releaseStore()
			return plugin.Error(pluginName, err)
		}
		target.cert = &cert
	}
	releaseListener, err := acquireListener(a.cfg.API, target)
	if err != nil {
		releaseStore()
		return plugin.Error(pluginName, err)
	}
	a.target = target
	a.release = []func(){releaseListener, releaseStore}
	track(releaseListener)
	track(releaseStore)
	if err := a.startAdmin(); err != nil {
		for _, f := range a.release {
			f()
		}
		a.release = nil
		return plugin.Error(pluginName, err)
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
	return nil
}

// startNotify finds the server block's transfer plugin, which sends the
// NOTIFY messages; without one nothing is sent.
func (a *ACMEDNS) startNotify() {
	if a.server == nil {
		return
	}
	if t, ok := a.server.Handler("transfer").(*transfer.Transfer); ok {
		a.notify = newNotifier(t, a.cfg.Zones)
	}
}

// OnShutdown gives back the store and the listener; the last user closes
// them. After a successful reload it runs on the old instance.
func (a *ACMEDNS) OnShutdown() error {
	endReload(false)
	a.notify.close()
	a.sweep.close()
	a.sweep = nil
	for _, f := range a.release {
		f()
	}
	a.release = nil
	return nil
}

// OnRestart runs on the old instance before a reload.
func (a *ACMEDNS) OnRestart() error {
	beginReload()
	return nil
}

// OnRestartFailed runs on the old instance when a reload failed: what the
// new instance acquired is given back and the old API handler serves again.
func (a *ACMEDNS) OnRestartFailed() error {
	endReload(true)
	if a.target != nil {
		activate(a.cfg.API, a.target)
	}
	if a.adminTarget != nil {
		activate(a.cfg.Admin.Addr, a.adminTarget)
	}
	return nil
}

// Ready implements the ready plugin's Readiness: true once the store answers.
func (a *ACMEDNS) Ready() bool {
	if a.store == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Timeout)
	defer cancel()
	return a.store.Ping(ctx) == nil
}

// startAdmin opens (or takes over) the admin listener, when configured.
func (a *ACMEDNS) startAdmin() error {
	if a.cfg.Admin == nil {
		return nil
	}
	tokens, err := a.cfg.Admin.adminTokens()
	if err != nil {
		return err
	}
	target := &apiTarget{handler: newAdminAPI(a, tokens), conns: a.connPolicy()}
	release, err := acquireListener(a.cfg.Admin.Addr, target)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	a.adminTarget = target
	a.release = append(a.release, release)
	track(release)
	return nil
}

// connPolicy is the connection bounds of this instance's listeners.
func (a *ACMEDNS) connPolicy() connPolicy {
	l := a.cfg.Limits
	return connPolicy{max: l.Connections, perClient: l.ClientConnections, exempt: a.cfg.TrustedProxies}
}
