package acmedns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/acmedns/acmedns/internal/httpapi"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

var log = clog.NewWithPlugin(pluginName)

func init() { plugin.Register(pluginName, setup) }

// apiAddrsKey keys the instance-wide set of API addresses, to refuse two
// blocks on one address.
type apiAddrsKey struct{}

func setup(c *caddy.Controller) error {
	cfg, err := parse(c)
	if err != nil {
		return plugin.Error(pluginName, err)
	}
	a := New(cfg)
	a.server = dnsserver.GetConfig(c)
	a.aheadOfTransfer(a.server)
	a.server.AddPlugin(func(next plugin.Handler) plugin.Handler {
		a.Next = next
		return a
	})
	c.OnStartup(a.OnStartup)
	c.OnShutdown(a.OnShutdown)
	c.OnRestart(a.OnRestart)
	c.OnRestartFailed(a.OnRestartFailed)
	return nil
}

// parse reads one acmedns block. It only parses and validates: files are
// opened and sockets bound in OnStartup.
func parse(c *caddy.Controller) (*Config, error) {
	c.Next() // the directive
	cfg := &Config{
		TTL:         DefaultTTL,
		NegativeTTL: DefaultNegativeTTL,
		TXTLimit:    DefaultTXTLimit,
		Timeout:     DefaultTimeout,
		Limits:      httpapi.DefaultLimits(),
		Transfer:    defaultTransferLimits(),
		AuthCache:   httpapi.AuthCache{TTL: httpapi.DefaultAuthCacheTTL, Entries: httpapi.DefaultAuthCacheEntries},
		Audit:       true,
	}
	cfg.Zones = plugin.OriginsFromArgsOrServerBlock(c.RemainingArgs(), c.ServerBlockKeys)
	if len(cfg.Zones) == 0 {
		return nil, c.Err("no zones")
	}
	for _, z := range cfg.Zones {
		if _, ok := dns.IsDomainName(z); !ok || z == "." {
			return nil, c.Errf("invalid zone %q", z)
		}
	}

	seen := map[string]bool{}
	for c.NextBlock() {
		opt := c.Val()
		if seen[opt] && opt != "nameserver" {
			return nil, c.Errf("%s specified more than once", opt)
		}
		seen[opt] = true
		if err := parseOption(c, cfg, opt); err != nil {
			return nil, err
		}
	}
	if c.Next() {
		return nil, plugin.ErrOnce
	}

	if cfg.API == "" {
		return nil, c.Err("api ADDRESS is required")
	}
	if cfg.Redis != nil && cfg.DB != "" {
		return nil, c.Err("db and redis exclude each other: db is the embedded store's file")
	}
	if cfg.Redis == nil {
		if cfg.DB == "" {
			cfg.DB = DefaultDB
		}
		if root := dnsserver.GetConfig(c).Root; root != "" && !filepath.IsAbs(cfg.DB) {
			cfg.DB = filepath.Join(root, cfg.DB)
		}
		abs, err := filepath.Abs(cfg.DB)
		if err != nil {
			return nil, c.Errf("db %q: %v", cfg.DB, err)
		}
		cfg.DB = abs
	}
	if len(cfg.Nameservers) == 0 {
		for _, z := range cfg.Zones {
			cfg.Nameservers = append(cfg.Nameservers, Nameserver{Name: z})
		}
	}
	if cfg.ACME != nil && len(cfg.ACME.Names) == 0 {
		cfg.ACME.Names = []string{strings.TrimSuffix(cfg.Nameservers[0].Name, ".")}
	}
	return cfg, nil
}

func parseOption(c *caddy.Controller, cfg *Config, opt string) error {
	switch opt {
	case "api":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		if _, port, err := net.SplitHostPort(args[0]); err != nil || port == "" {
			return c.Errf("api: invalid address %q, want HOST:PORT", args[0])
		}
		if err := claimAddress(c, args[0]); err != nil {
			return err
		}
		cfg.API = args[0]
	case "tls":
		return parseTLS(c, cfg)
	case "redis":
		return parseRedis(c, cfg)
	case "db":
		args := c.RemainingArgs()
		if len(args) != 1 || args[0] == "" {
			return c.ArgErr()
		}
		cfg.DB = args[0]
	case "nameserver":
		args := c.RemainingArgs()
		if len(args) == 0 {
			return c.ArgErr()
		}
		ns := Nameserver{Name: dns.CanonicalName(args[0])}
		if _, ok := dns.IsDomainName(ns.Name); !ok || ns.Name == "." {
			return c.Errf("nameserver: invalid name %q", args[0])
		}
		for _, s := range args[1:] {
			ip, err := netip.ParseAddr(s)
			if err != nil || ip.Zone() != "" {
				return c.Errf("nameserver %s: invalid address %q", args[0], s)
			}
			ns.Addrs = append(ns.Addrs, ip.Unmap())
		}
		if len(ns.Addrs) > 0 && plugin.Zones(cfg.Zones).Matches(ns.Name) == "" {
			return c.Errf("nameserver %s: addresses are only served for names inside %v", args[0], cfg.Zones)
		}
		cfg.Nameservers = append(cfg.Nameservers, ns)
	case "hostmaster":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		mbox, err := mailbox(args[0])
		if err != nil {
			return c.Errf("hostmaster: %v", err)
		}
		cfg.Hostmaster = mbox
	case "ttl", "negative_ttl":
		n, err := intArg(c, opt, 0, 86400)
		if err != nil {
			return err
		}
		if opt == "ttl" {
			cfg.TTL = uint32(n)
		} else {
			cfg.NegativeTTL = uint32(n)
		}
	case "txt_limit":
		n, err := intArg(c, opt, 1, store.MaxKeep)
		if err != nil {
			return err
		}
		cfg.TXTLimit = n
	case "txt_expire":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 || d > 8760*time.Hour {
			return c.Errf("txt_expire: want a duration up to 8760h, or 0, got %q", args[0])
		}
		cfg.TXTExpire = d
	case "timeout":
		args := c.RemainingArgs()
		if len(args) != 1 {
			return c.ArgErr()
		}
		d, err := time.ParseDuration(args[0])
		if err != nil || d <= 0 || d > time.Minute {
			return c.Errf("timeout: want a duration up to 1m, got %q", args[0])
		}
		cfg.Timeout = d
	case "registration":
		return parseRegistration(c, &cfg.Registration)
	case "trusted_proxies":
		args := c.RemainingArgs()
		if len(args) == 0 {
			return c.ArgErr()
		}
		p, err := prefixes(args)
		if err != nil {
			return c.Errf("trusted_proxies: %v", err)
		}
		cfg.TrustedProxies = p
	case "cors":
		args := c.RemainingArgs()
		if len(args) == 0 {
			return c.ArgErr()
		}
		for _, o := range args {
			if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				return c.Errf("cors: origin %q must be * or start with http:// or https://", o)
			}
		}
		cfg.CORS = args
	case "fallthrough":
		cfg.Fall.SetZonesFromArgs(c.RemainingArgs())
	case "limits":
		return parseLimits(c, &cfg.Limits)
	case "transfer_limits":
		return parseTransferLimits(c, &cfg.Transfer)
	case "auth_cache":
		return parseAuthCache(c, &cfg.AuthCache)
	case "admin":
		return parseAdmin(c, cfg)
	case "audit":
		args := c.RemainingArgs()
		if len(args) != 1 || args[0] != "on" && args[0] != "off" {
			return c.Err("audit: want on or off")
		}
		cfg.Audit = args[0] == "on"

	default:
		return c.Errf("unknown property %q", opt)
	}
	return nil
}

// intArg reads exactly one integer argument in [lo, hi].
func intArg(c *caddy.Controller, name string, lo, hi int) (int, error) {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return 0, c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < lo || n > hi {
		return 0, c.Errf("%s: want an integer from %d to %d, got %q", name, lo, hi, args[0])
	}
	return n, nil
}

// prefixes parses CIDRs, accepting IPv6 in brackets ("[::1]/128").
func prefixes(args []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(args))
	for _, s := range args {
		p, err := httpapi.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// mailbox turns an e-mail address or a domain-style mailbox into an SOA
// RNAME: "dns.admin@example.org" becomes "dns\.admin.example.org.".
func mailbox(s string) (string, error) {
	local, domain, isMail := strings.Cut(s, "@")
	name := s
	if isMail {
		if local == "" || domain == "" || strings.Contains(domain, "@") {
			return "", fmt.Errorf("invalid e-mail address %q", s)
		}
		name = strings.ReplaceAll(local, ".", `\.`) + "." + domain
	}
	name = dns.Fqdn(strings.ToLower(name))
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return "", errors.New("invalid mailbox " + strconv.Quote(s))
	}
	return name, nil
}
