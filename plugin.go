// Package acmedns is a CoreDNS plugin that serves an acme-dns compatible zone
// and HTTP API: ACME clients register once, then may change exactly one TXT
// record, the one their _acme-challenge CNAME points at.
package acmedns

import (
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"

	"github.com/acmedns/acmedns/internal/autotls"
	"github.com/acmedns/acmedns/internal/httpapi"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

const pluginName = "acmedns"

// ACMEDNS is the plugin: a DNS handler for its zones and the HTTP API that
// feeds them. Both read and write the same store.
type ACMEDNS struct {
	Next plugin.Handler
	cfg  *Config
	// zones holds the precomputed static records of each zone.
	zones map[string]*zone
	// store is set in OnStartup, before the servers start; started says
	// so to the ready plugin's goroutine.
	store   store.Store
	started atomic.Bool
	// target is what this instance serves on the API listener, and
	// adminTarget on the admin listener (nil without one).
	target      *httpapi.Target
	adminTarget *httpapi.Target
	// release gives back what OnStartup acquired, the last first.
	release []func()
	// serial is the zone's serial as last read from the store.
	serial atomic.Uint32
	// notify tells the secondaries of the transfer block about changes;
	// nil without one.
	notify *notifier
	// sweep removes expired TXT values from the store; nil without
	// txt_expire.
	sweep *sweeper
	// server is the server block's configuration, where OnStartup finds
	// the transfer plugin.
	server *dnsserver.Config
	// front answers the block's transfers ahead of the transfer plugin,
	// with the plugin's to lists, xfrACL (read in OnStartup); nil without
	// a transfer plugin.
	front  *xfrFront
	xfrACL xfrACL
	// acme manages the API's certificates with tls acme (nil without);
	// owners are the names whose TXT records are its DNS-01 challenges,
	// answered from challenges.
	acme       *autotls.Manager
	owners     map[string]bool
	challenges autotls.Challenges
}

// Config is the parsed acmedns block.
type Config struct {
	Zones          []string // normalised, fully qualified
	API            string   // host:port of the HTTP API
	TLSCert        string   // with TLSKey: serve the API over HTTPS
	TLSKey         string
	ACME           *ACMEConfig  // tls acme: certificates from an ACME CA; nil: none
	Redis          *RedisConfig // nil: the embedded store at DB
	DB             string       // embedded database path
	Nameservers    []Nameserver
	Hostmaster     string        // SOA RNAME, fully qualified; "" means hostmaster.<zone>
	TTL            uint32        // TTL of TXT answers
	NegativeTTL    uint32        // SOA TTL and MINIMUM, so the negative caching TTL
	TXTLimit       int           // TXT values kept per subdomain
	TXTExpire      time.Duration // values older than this are not served; 0: kept until replaced
	Timeout        time.Duration // bound on each store call made for a DNS query, and of /health's
	Fall           fall.F
	Registration   httpapi.Registration // who may call POST /register
	TrustedProxies []netip.Prefix
	CORS           []string
	Limits         httpapi.Limits    // what the API may cost
	AuthCache      httpapi.AuthCache // verified-credential cache
	Audit          bool              // one log line per state change and refused authentication
	Admin          *AdminConfig      // nil: no admin API
	Transfer       TransferLimits    // what zone transfers may cost
}

// apiConfig is what the HTTP side needs of the block.
func (c *Config) apiConfig() httpapi.Config {
	return httpapi.Config{
		Zone:           c.Zones[0],
		CORS:           c.CORS,
		Registration:   c.Registration,
		TrustedProxies: c.TrustedProxies,
		Timeout:        c.Timeout,
		TXTLimit:       c.TXTLimit,
		TXTExpire:      c.TXTExpire,
		Limits:         c.Limits,
		AuthCache:      c.AuthCache,
		Audit:          c.Audit,
		Reserved:       c.reserved(),
	}
}

// reserved returns the labels directly below a zone that the zone serves
// itself: the first label of each in-zone nameserver name. No account may
// have one (its TXT record could never be answered).
func (c *Config) reserved() []string {
	var out []string
	for _, ns := range c.Nameservers {
		z := plugin.Zones(c.Zones).Matches(ns.Name)
		if z == "" || ns.Name == z {
			continue
		}
		labels := dns.SplitDomainName(strings.TrimSuffix(ns.Name, "."+z))
		if l := labels[len(labels)-1]; !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// connPolicy is the connection bounds of the block's listeners.
func (c *Config) connPolicy() httpapi.ConnPolicy {
	return httpapi.ConnPolicy{Max: c.Limits.Connections, PerClient: c.Limits.ClientConnections, Exempt: c.TrustedProxies}
}

// Nameserver is one NS target of the zones, with the addresses served for it
// when it lies inside one of them.
type Nameserver struct {
	Name  string
	Addrs []netip.Addr
}

// Defaults used when the Corefile does not say otherwise.
const (
	DefaultTTL         = 1
	DefaultNegativeTTL = 60
	DefaultTXTLimit    = 2
	DefaultDB          = "acmedns.db"
	DefaultTimeout     = 500 * time.Millisecond
	staticTTL          = 3600 // NS and nameserver address records
)

// Name implements plugin.Handler.
func (a *ACMEDNS) Name() string { return pluginName }
