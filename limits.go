package acmedns

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
)

// Limits bounds what the HTTP API may cost the process, so that no API load
// can starve the DNS server it shares the CPU with.
type Limits struct {
	// BcryptSlots bounds concurrent bcrypt work process-wide; BcryptQueue
	// requests may wait for a slot, each at most BcryptWait.
	BcryptSlots int
	BcryptQueue int
	BcryptWait  time.Duration
	// Register and AuthFailures are per-client token buckets: every
	// registration takes a token, and so does every failed authentication.
	Register     Rate
	AuthFailures Rate
	// Clients bounds the clients each bucket table tracks.
	Clients int
	// Connections bounds the API's concurrent connections, and
	// ClientConnections those of one client address (trusted proxies
	// exempt).
	Connections       int
	ClientConnections int
}

// Rate is a token bucket: PerSecond tokens refill a bucket of Burst. A zero
// Rate is off: nothing is limited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond == 0 }

// Defaults of the limits block.
const (
	DefaultBcryptWait  = time.Second
	DefaultClients     = 10000
	DefaultConnections = 256
	// DefaultClientConnections bounds one client's concurrent connections.
	DefaultClientConnections = 16
	// DefaultAuthCacheTTL and DefaultAuthCacheEntries bound the
	// verified-credential cache.
	DefaultAuthCacheTTL     = 10 * time.Minute
	DefaultAuthCacheEntries = 10000
	// MaxAllowFrom bounds the CIDRs of one account, after duplicates are
	// removed.
	MaxAllowFrom = 64
)

var (
	// DefaultRegisterRate is 10 registrations a minute per client, 30 at once.
	DefaultRegisterRate = Rate{PerSecond: 10.0 / 60, Burst: 30}
	// DefaultAuthFailureRate is 10 failed authentications a minute per
	// client, 30 at once.
	DefaultAuthFailureRate = Rate{PerSecond: 10.0 / 60, Burst: 30}
)

// defaultLimits returns the limits of a block that sets none: one CPU always
// stays for DNS.
func defaultLimits() Limits {
	slots := max(1, runtime.GOMAXPROCS(0)-1)
	return Limits{
		BcryptSlots:       slots,
		BcryptQueue:       8 * slots,
		BcryptWait:        DefaultBcryptWait,
		Register:          DefaultRegisterRate,
		AuthFailures:      DefaultAuthFailureRate,
		Clients:           DefaultClients,
		Connections:       DefaultConnections,
		ClientConnections: DefaultClientConnections,
	}
}

// AuthCache configures the verified-credential cache; TTL 0 turns it off.
type AuthCache struct {
	TTL     time.Duration
	Entries int
}

// parseLimits reads the limits block.
func parseLimits(c *caddy.Controller, l *Limits) error {
	// The block is required: without one, NextBlock (already inside the
	// acmedns block) would take the next acmedns option as a limit.
	peek := c.Dispenser
	if !peek.NextArg() || peek.Val() != "{" {
		return c.Err("limits needs a block: limits { ... }")
	}
	seen := map[string]bool{}
	for c.NextBlock() {
		opt := c.Val()
		if seen[opt] {
			return c.Errf("limits %s specified more than once", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "bcrypt":
			err = parseBcryptLimit(c, l)
		case "register":
			l.Register, err = parseRateArgs(c, opt)
		case "auth_failures":
			l.AuthFailures, err = parseRateArgs(c, opt)
		case "clients":
			l.Clients, err = intArg(c, "limits clients", 1, 10_000_000)
		case "connections":
			err = parseConnectionLimit(c, l)
		default:
			err = c.Errf("unknown limits property %q", opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseBcryptLimit reads "bcrypt SLOTS [QUEUE [WAIT]]".
func parseBcryptLimit(c *caddy.Controller, l *Limits) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 3 {
		return c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 1024 {
		return c.Errf("limits bcrypt: want 1 to 1024 slots, got %q", args[0])
	}
	l.BcryptSlots, l.BcryptQueue = n, 8*n
	if len(args) > 1 {
		q, err := strconv.Atoi(args[1])
		if err != nil || q < 0 || q > 100_000 {
			return c.Errf("limits bcrypt: want a queue of 0 to 100000, got %q", args[1])
		}
		l.BcryptQueue = q
	}
	if len(args) > 2 {
		d, err := time.ParseDuration(args[2])
		if err != nil || d <= 0 || d > time.Minute {
			return c.Errf("limits bcrypt: want a wait up to 1m, got %q", args[2])
		}
		l.BcryptWait = d
	}
	return nil
}

// parseRateArgs reads "RATE [BURST]" or "off".
func parseRateArgs(c *caddy.Controller, opt string) (Rate, error) {
	args := c.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		return Rate{}, nil
	}
	if len(args) < 1 || len(args) > 2 {
		return Rate{}, c.ArgErr()
	}
	perSecond, err := parseRate(args[0])
	if err != nil {
		return Rate{}, c.Errf("limits %s: %v", opt, err)
	}
	r := Rate{PerSecond: perSecond, Burst: max(1, int(perSecond))}
	if len(args) == 2 {
		b, err := strconv.Atoi(args[1])
		if err != nil || b < 1 || b > 1_000_000 {
			return Rate{}, c.Errf("limits %s: want a burst of 1 to 1000000, got %q", opt, args[1])
		}
		r.Burst = b
	}
	return r, nil
}

// parseRate reads N/s, N/m or N/h (N a positive integer) as a rate per second.
func parseRate(s string) (float64, error) {
	num, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || n > 1_000_000 {
		return 0, fmt.Errorf("want a rate like 10/m (N/s, N/m or N/h), got %q", s)
	}
	per := map[string]float64{"s": 1, "m": 60, "h": 3600}[unit]
	if per == 0 {
		return 0, fmt.Errorf("want a rate like 10/m (N/s, N/m or N/h), got %q", s)
	}
	return float64(n) / per, nil
}

// parseAuthCache reads "auth_cache DURATION [ENTRIES]" or "auth_cache 0".
func parseAuthCache(c *caddy.Controller, ac *AuthCache) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return c.ArgErr()
	}
	if args[0] == "0" || args[0] == "off" {
		if len(args) != 1 {
			return c.ArgErr()
		}
		*ac = AuthCache{}
		return nil
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 || d > 24*time.Hour {
		return c.Errf("auth_cache: want a duration up to 24h, or 0, got %q", args[0])
	}
	ac.TTL = d
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 10_000_000 {
			return c.Errf("auth_cache: want 1 to 10000000 entries, got %q", args[1])
		}
		ac.Entries = n
	}
	if d == 0 {
		*ac = AuthCache{}
	}
	return nil
}

// parseConnectionLimit reads "connections NUMBER [PER_CLIENT]".
func parseConnectionLimit(c *caddy.Controller, l *Limits) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 1_000_000 {
		return c.Errf("limits connections: want an integer from 1 to 1000000, got %q", args[0])
	}
	l.Connections, l.ClientConnections = n, min(n, DefaultClientConnections)
	if len(args) == 2 {
		p, err := strconv.Atoi(args[1])
		if err != nil || p < 1 || p > n {
			return c.Errf("limits connections: want a per-client bound from 1 to %d, got %q", n, args[1])
		}
		l.ClientConnections = p
	}
	return nil
}
