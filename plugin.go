// Package acmedns is a CoreDNS plugin that serves an acme-dns compatible zone
// and HTTP API: ACME clients register once, then may change exactly one TXT
// record, the one their _acme-challenge CNAME points at.
package acmedns

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"

	"github.com/acmedns/acmedns/store"
)

const pluginName = "acmedns"

// ACMEDNS is the plugin: a DNS handler for its zones and the HTTP API that
// feeds them. Both read and write the same store.
type ACMEDNS struct {
	Next plugin.Handler
	cfg  *Config
	// zones holds the precomputed static records of each zone.
	zones map[string]*zone
	// store is set in OnStartup, before any query or request is served.
	store store.Store
	// target is what this instance serves on the API listener, and
	// adminTarget on the admin listener (nil without one).
	target      *apiTarget
	adminTarget *apiTarget
	// release gives back what OnStartup acquired.
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
}

// Config is the parsed acmedns block.
type Config struct {
	Zones          []string // normalised, fully qualified
	API            string   // host:port of the HTTP API
	TLSCert        string   // with TLSKey: serve the API over HTTPS
	TLSKey         string
	Redis          *RedisConfig // nil: the embedded store at DB
	DB             string       // embedded database path
	Nameservers    []Nameserver
	Hostmaster     string        // SOA RNAME, fully qualified; "" means hostmaster.<zone>
	TTL            uint32        // TTL of TXT answers
	NegativeTTL    uint32        // SOA TTL and MINIMUM, so the negative caching TTL
	TXTLimit       int           // TXT values kept per subdomain
	TXTExpire      time.Duration // values older than this are not served; 0: kept until replaced
	Registration   Registration
	TrustedProxies []netip.Prefix
	CORS           []string
	Timeout        time.Duration // bound on each store call made for a DNS query
	Fall           fall.F
	Limits         Limits       // what the API may cost
	AuthCache      AuthCache    // verified-credential cache
	Audit          bool         // one log line per state change and refused authentication
	Admin          *AdminConfig // nil: no admin API
}

// Nameserver is one NS target of the zones, with the addresses served for it
// when it lies inside one of them.
type Nameserver struct {
	Name  string
	Addrs []netip.Addr
}

// Registration says who may call POST /register.
type Registration struct {
	Closed bool           // no /register at all: 404
	Allow  []netip.Prefix // when set, only these source networks; others get 403
	Tokens []string       // when set, /register only under /<token>/
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
