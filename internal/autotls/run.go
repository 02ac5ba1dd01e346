package autotls

import (
	"context"
	"time"
)

// run obtains the certificates (from the store, or from the CA), then
// checks them for renewal, until ctx ends.
func (m *Manager) run(ctx context.Context) {
	defer close(m.done)
	if !m.obtain(ctx) {
		return
	}
	for {
		next := m.observe()
		m.checkEvery(next)
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-m.wake: // a certificate came: observe it, no renewal check
			t.Stop()
			continue
		}
		if err := m.cache.RenewManagedCertificates(ctx); err != nil && ctx.Err() == nil {
			log.Warningf("checking the API's certificates for renewal: %v", err)
		}
	}
}

// obtain loads or orders every certificate, trying again with backoff
// until it succeeds (true) or ctx ends (false).
func (m *Manager) obtain(ctx context.Context) bool {
	wait := m.cfg.Retry
	for {
		err := m.magic.ManageSync(ctx, m.cfg.Names)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			return true
		}
		log.Errorf("no certificate for the API yet (DNS serves, the API does not), trying again in %s: %v", wait, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, maxRetry)
	}
}

// observe reports the served certificates' expiry, updates readiness and
// returns when to check again: a twentieth of the shortest lifetime,
// between a second and a minute, so a short-lived certificate is renewed
// in time too.
func (m *Manager) observe() time.Duration {
	now := time.Now()
	next, ready := time.Minute, true
	for _, name := range m.cfg.Names {
		var best *certLife
		for _, c := range m.cache.AllMatchingCertificates(name) {
			if c.Leaf != nil && (best == nil || c.Leaf.NotAfter.After(best.notAfter)) {
				best = &certLife{c.Leaf.NotBefore, c.Leaf.NotAfter}
			}
		}
		if best == nil || !now.Before(best.notAfter) {
			ready = false
			continue
		}
		if m.cfg.Events.Expiry != nil {
			m.cfg.Events.Expiry(name, best.notAfter)
		}
		next = min(next, best.notAfter.Sub(best.notBefore)/20)
	}
	m.ready.Store(ready)
	return max(next, time.Second)
}

// checkEvery tells certmagic how often run checks for renewal. A renewal
// time the CA suggests (ACME Renewal Information) is acted on from one
// check interval before it, so that the check after it is not too late;
// certmagic's default interval, ten minutes, would renew a certificate
// living less than that (or whose window opens at issuance) at every
// check.
func (m *Manager) checkEvery(d time.Duration) {
	if m.options.RenewCheckInterval == d {
		return
	}
	m.options.RenewCheckInterval = d
	m.cache.SetOptions(m.options)
}

// certLife is a certificate's validity period.
type certLife struct{ notBefore, notAfter time.Time }

// onEvent counts certmagic's orders and wakes run after each.
func (m *Manager) onEvent(_ context.Context, event string, data map[string]any) error {
	renewal, _ := data["renewal"].(bool)
	switch event {
	case "cert_obtained":
		log.Infof("certificate for %v %s", data["identifier"], map[bool]string{false: "obtained", true: "renewed"}[renewal])
	case "cert_failed":
	case "cached_managed_cert":
		m.kick()
		return nil
	default:
		return nil
	}
	if m.cfg.Events.Order != nil {
		m.cfg.Events.Order(renewal, event == "cert_obtained")
	}
	m.kick()
	return nil
}

// kick wakes run, without waiting.
func (m *Manager) kick() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}
