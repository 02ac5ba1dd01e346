package acmedns

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"

	"github.com/acmedns/acmedns/internal/autotls"

	"github.com/miekg/dns"
)

// ACMEConfig is the `tls acme` form: the API's certificates obtained from
// an ACME CA with DNS-01, answered by the block's own zones.
type ACMEConfig struct {
	Names  []string // one certificate each; lower-case, without the final dot
	CA     string   // the ACME directory URL
	CARoot string   // PEM file of roots to trust when talking to the CA; "": the system's
	Email  string   // the account's contact; "": none
}

// DefaultACMECA is the ACME directory of `tls acme` without ca: Let's
// Encrypt's production CA.
const DefaultACMECA = "https://acme-v02.api.letsencrypt.org/directory"

// defaultCA is the CA used without ca: DefaultACMECA, but in tests that
// start Corefiles without one.
var defaultCA = DefaultACMECA

// parseTLS reads "tls CERT KEY" or "tls acme [NAME...] { ... }".
func parseTLS(c *caddy.Controller, cfg *Config) error {
	args := c.RemainingArgs()
	if len(args) >= 1 && args[0] == "acme" {
		return parseACME(c, cfg, args[1:])
	}
	if len(args) != 2 {
		return c.Errf("tls needs CERT and KEY, or acme [NAME...]")
	}
	cfg.TLSCert, cfg.TLSKey = rootPath(c, args[0]), rootPath(c, args[1])
	return nil
}

// rootPath returns p relative to the root plugin's directory, if any.
func rootPath(c *caddy.Controller, p string) string {
	if root := dnsserver.GetConfig(c).Root; root != "" && !filepath.IsAbs(p) {
		return filepath.Join(root, p)
	}
	return p
}

// parseACME reads the names and the optional block of "tls acme".
func parseACME(c *caddy.Controller, cfg *Config, names []string) error {
	ac := &ACMEConfig{CA: defaultCA}
	for _, n := range names {
		name, err := acmeName(n, cfg.Zones)
		if err != nil {
			return c.Errf("tls acme: %v", err)
		}
		if !slices.Contains(ac.Names, name) {
			ac.Names = append(ac.Names, name)
		}
	}
	// The block is optional: without one, NextBlock (already inside the
	// acmedns block) would take the next acmedns option.
	peek := c.Dispenser
	if !peek.NextArg() || peek.Val() != "{" {
		cfg.ACME = ac
		return nil
	}
	seen := map[string]bool{}
	for c.NextBlock() {
		opt := c.Val()
		if seen[opt] {
			return c.Errf("tls acme %s specified more than once", opt)
		}
		seen[opt] = true
		args := c.RemainingArgs()
		if len(args) != 1 || args[0] == "" {
			return c.Errf("tls acme %s needs one value", opt)
		}
		if err := setACMEOption(ac, opt, args[0]); err != nil {
			return c.Errf("tls acme %s: %v", opt, err)
		}
		if opt == "ca_root" {
			ac.CARoot = rootPath(c, ac.CARoot)
		}
	}
	cfg.ACME = ac
	return nil
}

// setACMEOption applies one option of the tls acme block.
func setACMEOption(ac *ACMEConfig, opt, v string) error {
	switch opt {
	case "ca":
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("want the https:// URL of an ACME directory, got %q", v)
		}
		ac.CA = v
	case "ca_root":
		ac.CARoot = v
	case "email":
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || domain == "" || strings.ContainsAny(v, " \t,;<>\"") {
			return fmt.Errorf("want an e-mail address, got %q", v)
		}
		ac.Email = v
	default:
		return fmt.Errorf("unknown option (want ca, ca_root or email)")
	}
	return nil
}

// acmeName checks one NAME of tls acme: a host name or a wildcard, inside
// the zones or not (then its _acme-challenge must be a CNAME into the
// first zone, which must leave room for it).
func acmeName(n string, zones []string) (string, error) {
	name := strings.TrimSuffix(strings.ToLower(n), ".")
	host := strings.TrimPrefix(name, "*.")
	if _, ok := dns.IsDomainName(host); !ok || host == "" || strings.ContainsAny(host, "*_ ") || net.ParseIP(host) != nil {
		return "", fmt.Errorf("invalid name %q: want a host name, or *. and one", n)
	}
	if !strings.Contains(host, ".") {
		return "", fmt.Errorf("invalid name %q: want a fully qualified host name", n)
	}
	owner := autotls.ChallengeOwner(name, zones)
	if len(owner) > 254 {
		return "", fmt.Errorf("name %q is too long for its challenge name %s", n, owner)
	}
	return name, nil
}
