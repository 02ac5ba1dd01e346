package httpapi

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/acmedns/acmedns/store"
)

// The audit log is one line per state change (register, update, and later
// every admin write) and per refused authentication or registration,
// through CoreDNS's logging:
//
//	[INFO] plugin/acmedns: audit time=2026-12-01T09:30:00Z client=192.0.2.7 action=update subdomain=<label> result=forbidden
//
// It never holds a password, an API key, a hash or a token: only the time,
// the client address, the action, the subdomain (when it is a valid label,
// else "-") and the result. Requests refused by a rate limit (429) are not
// logged one by one, so a flood cannot turn into a log flood; the failures
// that spent the budget were.

// auditAdmin writes one audit line for an admin request, naming its TCP
// peer: the admin listener believes no X-Forwarded-For, so that no one can
// have a ban filter reading the log ban an address of their choosing.
func (s *Service) auditAdmin(r *http.Request, action, subdomain, result string) {
	s.audit(addrOf(r.RemoteAddr), action, subdomain, result)
}

// audit writes one audit line, unless the block turned auditing off.
func (s *Service) audit(client netip.Addr, action, subdomain, result string) {
	if !s.cfg.Audit {
		return
	}
	if !store.ValidSubdomain(subdomain) {
		subdomain = "-"
	}
	addr := "-"
	if client.IsValid() {
		addr = client.String()
	}
	log.Infof("audit time=%s client=%s action=%s subdomain=%s result=%s",
		time.Now().UTC().Format(time.RFC3339), addr, action, subdomain, result)
}
