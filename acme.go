package acmedns

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/acmedns/acmedns/internal/autotls"
	"github.com/acmedns/acmedns/internal/httpapi"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// The `tls acme` form: the API's certificates come from an ACME CA, which
// validates them by DNS-01 against the block's own zones (internal/autotls).

// challengeOwners returns the names whose TXT queries are the DNS-01
// challenges of cfg's certificates; nil without tls acme.
func challengeOwners(cfg *Config) map[string]bool {
	if cfg.ACME == nil {
		return nil
	}
	owners := map[string]bool{}
	for _, n := range cfg.ACME.Names {
		owners[autotls.ChallengeOwner(n, cfg.Zones)] = true
	}
	return owners
}

// startACME starts managing the API's certificates, served through target.
func (a *ACMEDNS) startACME(target *httpapi.Target) error {
	ac := a.cfg.ACME
	if ac == nil {
		return nil
	}
	blobs, ok := a.store.(store.Blobs)
	if !ok {
		return errors.New("tls acme: the store cannot keep certificates")
	}
	var roots *x509.CertPool
	if ac.CARoot != "" {
		pem, err := os.ReadFile(ac.CARoot)
		if err != nil {
			return fmt.Errorf("tls acme ca_root: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls acme ca_root %s: no PEM certificate in it", ac.CARoot)
		}
	}
	a.challenges = autotls.NewChallenges(blobs)
	m := autotls.Start(autotls.Config{
		Names: ac.Names, Zones: a.cfg.Zones, CA: ac.CA, Roots: roots, Email: ac.Email, Blobs: blobs,
		Events:  autotls.Events{Order: countOrder, Expiry: noteExpiry},
		Serving: a.serving,
	})
	a.hold(m.Stop)
	a.acme = m
	target.GetCertificate = m.GetCertificate
	return nil
}

// challengeTXT answers a challenge owner's query from the store: every
// replica on the store answers the values being presented.
func (a *ACMEDNS) challengeTXT(ctx context.Context, q *query, m *dns.Msg, qtype uint16) (int, error) {
	if qtype != dns.TypeTXT && qtype != dns.TypeANY {
		return q.write(m)
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	values, err := a.challenges.TXT(ctx, q.qname)
	if err != nil {
		countStoreError("challenge")
		q.count("servfail")
		return dns.RcodeServerFailure, plugin.Error(pluginName, err)
	}
	for _, v := range values {
		m.Answer = append(m.Answer, txtRecord(q.owner, v, a.cfg.TTL))
	}
	return q.write(m)
}

// serving reports whether the block's DNS server answers over UDP (when
// it serves plain DNS; other transports are not probed).
func (a *ACMEDNS) serving(ctx context.Context) bool {
	if a.server == nil || a.server.Transport != "dns" {
		return true
	}
	host := ""
	if len(a.server.ListenHosts) > 0 {
		host = a.server.ListenHosts[0]
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	m := new(dns.Msg)
	m.SetQuestion(a.cfg.Zones[0], dns.TypeSOA)
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	_, _, err := c.ExchangeContext(ctx, m, net.JoinHostPort(host, a.server.Port))
	return err == nil
}
