package acmedns

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/coredns/caddy"
)

// parseRegistration reads "registration open|closed|allow CIDR...|token TOKEN...".
func parseRegistration(c *caddy.Controller, reg *Registration) error {
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

// stripToken removes a registration token from the front of a cleaned
// path: "/<token>/register" is "/register" with the token. Tokens are
// compared in constant time, every one of them.
func (h *api) stripToken(p string) (string, bool) {
	tokens := h.a.cfg.Registration.Tokens
	if len(tokens) == 0 {
		return p, false
	}
	first, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	match := 0
	for _, t := range tokens {
		match |= subtle.ConstantTimeCompare([]byte(first), []byte(t))
	}
	if match == 0 {
		return p, false
	}
	return "/" + rest, true
}

// registrationOpen reports whether /register is served for a request that
// came with (or without) a registration token.
func (h *api) registrationOpen(withToken bool) bool {
	reg := h.a.cfg.Registration
	return !reg.Closed && (len(reg.Tokens) == 0 || withToken)
}

// route returns the endpoint a request is for ("" if none).
func (h *api) route(r *http.Request) string {
	// Clients that join a base URL ending in "/" send "//register".
	p, withToken := h.stripToken(cleanPath(r.URL.Path))
	switch p {
	case "/register":
		if h.registrationOpen(withToken) {
			return p
		}
	case "/update", "/unregister", "/health":
		return p
	}
	return ""
}
