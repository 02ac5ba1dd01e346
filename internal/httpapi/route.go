package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// stripToken removes a registration token from the front of a cleaned
// path: "/<token>/register" is "/register" with the token. Tokens are
// compared in constant time, every one of them.
func (h *api) stripToken(p string) (string, bool) {
	tokens := h.cfg.Registration.Tokens
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
	reg := h.cfg.Registration
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
	case "/update", "/unregister", "/persist", "/unpersist", "/health":
		return p
	}
	return ""
}
