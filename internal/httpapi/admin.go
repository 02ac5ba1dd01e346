package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// The admin API: its own listener (process-wide and reference-counted like
// the public API's, so it survives reloads), every request authenticated by
// "Authorization: Bearer TOKEN" compared in constant time against each
// configured token. JSON in and out; errors are {"error": "<code>"}.

const codeUnauthorized = "unauthorized"

type adminAPI struct {
	*Service
	tokens [][]byte
}

// Admin returns the admin API's handler, which accepts any of tokens.
func (s *Service) Admin(tokens []string) http.Handler { return s.newAdminAPI(tokens) }

func (s *Service) newAdminAPI(tokens []string) *adminAPI {
	h := &adminAPI{Service: s}
	for _, t := range tokens {
		h.tokens = append(h.tokens, []byte(t))
	}
	return h
}

// authorized reports whether r carries one of the tokens. Every token is
// compared, whatever matched, so the time taken tells nothing.
func (h *adminAPI) authorized(r *http.Request) bool {
	given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	match := 0
	for _, t := range h.tokens {
		match |= subtle.ConstantTimeCompare([]byte(given), t)
	}
	return match == 1
}

// ServeHTTP authenticates the request, then routes it.
func (h *adminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		adminCalls.WithLabelValues("any", "unauthorized").Inc()
		h.auditRequest(r, "admin", "", "unauthorized")
		writeError(w, http.StatusUnauthorized, codeUnauthorized)
		return
	}
	p := cleanPath(r.URL.Path)
	if p == "/health" {
		if allowMethod(w, r, http.MethodGet, http.MethodHead) {
			h.health(w, r)
		}
		return
	}
	if p == "/accounts" {
		switch r.Method {
		case http.MethodGet:
			h.list(w, r)
		case http.MethodPost:
			h.create(w, r)
		default:
			allowMethod(w, r, http.MethodGet, http.MethodPost)
		}
		return
	}
	rest, ok := strings.CutPrefix(p, "/accounts/")
	if !ok {
		writeError(w, http.StatusNotFound, codeNotFound)
		return
	}
	sub, what, _ := strings.Cut(rest, "/")
	sub = strings.ToLower(sub)
	h.account(w, r, sub, what)
}

// account routes /accounts/{subdomain}[/what].
func (h *adminAPI) account(w http.ResponseWriter, r *http.Request, sub, what string) {
	switch what {
	case "":
		switch r.Method {
		case http.MethodGet:
			h.show(w, r, sub)
		case http.MethodPut:
			h.replace(w, r, sub)
		case http.MethodDelete:
			h.delete(w, r, sub)
		default:
			allowMethod(w, r, http.MethodGet, http.MethodPut, http.MethodDelete)
		}
	case "password":
		if allowMethod(w, r, http.MethodPost) {
			h.rotate(w, r, sub)
		}
	case "allowfrom":
		if allowMethod(w, r, http.MethodPut) {
			h.setAllowFrom(w, r, sub)
		}
	case "txt":
		if allowMethod(w, r, http.MethodDelete) {
			h.clearTXT(w, r, sub)
		}
	default:
		writeError(w, http.StatusNotFound, codeNotFound)
	}
}
