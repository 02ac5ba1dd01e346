package acmedns

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"

	"github.com/acmedns/acmedns/internal/httpapi"
)

// Parsing of the options that configure the HTTP API: registration,
// limits and auth_cache (api, tls, cors and trusted_proxies are one line
// each, in setup.go; admin is in setup_admin.go).

// parseRegistration reads "registration open|closed|allow CIDR...|token TOKEN...".
func parseRegistration(c *caddy.Controller, reg *httpapi.Registration) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.ArgErr()
	}
	switch args[0] {
	case "open", "closed":
		if len(args) != 1 {
			return c.ArgErr()
		}
		reg.Closed = args[0] == "closed"
	case "allow":
		if len(args) == 1 {
			return c.Err("registration allow needs at least one CIDR")
		}
		p, err := prefixes(args[1:])
		if err != nil {
			return c.Errf("registration allow: %v", err)
		}
		reg.Allow = p
	case "token":
		if len(args) == 1 {
			return c.Err("registration token needs at least one TOKEN")
		}
		for i, t := range args[1:] {
			// The token is a secret: the error names its position only.
			if !validPathToken(t) {
				return c.Errf("registration token %d: want 16 to 128 characters of A-Z a-z 0-9 . _ ~ -", i+1)
			}
		}
		reg.Tokens = args[1:]
	default:
		return c.Errf("registration: want open, closed, allow CIDR... or token TOKEN..., got %q", args[0])
	}
	return nil
}

// validPathToken reports whether t can be one path segment as written: 16
// to 128 unreserved URL characters.
func validPathToken(t string) bool {
	if len(t) < 16 || len(t) > 128 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._~-", c) >= 0) {
			return false
		}
	}
	return true
}

// parseLimits reads the limits block.
func parseLimits(c *caddy.Controller, l *httpapi.Limits) error {
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
func parseBcryptLimit(c *caddy.Controller, l *httpapi.Limits) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 3 {
		return c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 1024 {
		return c.Errf("limits bcrypt: want 1 to 1024 slots, got %q", args[0])
	}
	l.BcryptSlots = n
	if len(args) > 1 {
		q, err := strconv.Atoi(args[1])
		if err != nil || q < 0 || q > 100_000 {
			return c.Errf("limits bcrypt: want a queue of 0 to 100000, got %q", args[1])
		}
		l.BcryptQueue = q
	}
	if len(args) > 2 {
		d, err := time.ParseDuration(args[2])
		if err != nil || d <= 0 || d > 5*time.Minute {
			return c.Errf("limits bcrypt: want a wait up to 5m, got %q", args[2])
		}
		l.BcryptWait = d
	}
	return nil
}

// parseRateArgs reads "RATE [BURST]" or "off".
func parseRateArgs(c *caddy.Controller, opt string) (httpapi.Rate, error) {
	args := c.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		return httpapi.Rate{}, nil
	}
	if len(args) < 1 || len(args) > 2 {
		return httpapi.Rate{}, c.ArgErr()
	}
	perSecond, err := parseRate(args[0])
	if err != nil {
		return httpapi.Rate{}, c.Errf("limits %s: %v", opt, err)
	}
	r := httpapi.Rate{PerSecond: perSecond, Burst: max(1, int(perSecond))}
	if len(args) == 2 {
		b, err := strconv.Atoi(args[1])
		if err != nil || b < 1 || b > 1_000_000 {
			return httpapi.Rate{}, c.Errf("limits %s: want a burst of 1 to 1000000, got %q", opt, args[1])
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
func parseAuthCache(c *caddy.Controller, ac *httpapi.AuthCache) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return c.ArgErr()
	}
	if args[0] == "0" || args[0] == "off" {
		if len(args) != 1 {
			return c.ArgErr()
		}
		*ac = httpapi.AuthCache{}
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
		*ac = httpapi.AuthCache{}
	}
	return nil
}

// parseConnectionLimit reads "connections NUMBER [PER_CLIENT]".
func parseConnectionLimit(c *caddy.Controller, l *httpapi.Limits) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 1_000_000 {
		return c.Errf("limits connections: want an integer from 1 to 1000000, got %q", args[0])
	}
	l.Connections, l.ClientConnections = n, min(n, httpapi.DefaultClientConnections)
	if len(args) == 2 {
		p, err := strconv.Atoi(args[1])
		if err != nil || p < 1 || p > n {
			return c.Errf("limits connections: want a per-client bound from 1 to %d, got %q", n, args[1])
		}
		l.ClientConnections = p
	}
	return nil
}
