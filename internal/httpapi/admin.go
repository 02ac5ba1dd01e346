package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
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
	// failures is each peer's budget of refused tokens (nil: off).
	failures *clientLimiter
}

// Admin returns the admin API's handler, which accepts any of tokens.
func (s *Service) Admin(tokens []string) http.Handler { return s.newAdminAPI(tokens) }

func (s *Service) newAdminAPI(tokens []string) *adminAPI {
	h := &adminAPI{Service: s, failures: newClientLimiter(s.cfg.Limits.AuthFailures, s.cfg.Limits.Clients)}
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

// refuse answers a request without a valid token. Each spends a token of
// its TCP peer's failure budget (auth_failures) and is audited; beyond the
// budget it is 429, held back for the tarpit and counted, with no audit
// line, so that a flood of guesses costs neither CPU nor log.
func (h *adminAPI) refuse(w http.ResponseWriter, r *http.Request) {
	if ok, retry := h.failures.take(addrOf(r.RemoteAddr)); !ok {
		adminCalls.WithLabelValues("any", "rate_limited").Inc()
		apiRejections.WithLabelValues("rate_limit").Inc()
		tarpit(r.Context())
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(retry)))
		writeError(w, http.StatusTooManyRequests, codeTooManyRequests)
		return
	}
	adminCalls.WithLabelValues("any", "unauthorized").Inc()
	h.auditAdmin(r, "admin", "", "unauthorized")
	writeError(w, http.StatusUnauthorized, codeUnauthorized)
}

// ServeHTTP authenticates the request, then routes it.
func (h *adminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.refuse(w, r)
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

// account routes /accounts/{subdomain}[/what], what being password,
// allowfrom, txt, persist or persist/{issuer}.
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
	case "persist":
		if allowMethod(w, r, http.MethodPut) {
			h.setPersist(w, r, sub)
		}
	default:
		if issuer, ok := strings.CutPrefix(what, "persist/"); ok && !strings.Contains(issuer, "/") {
			if allowMethod(w, r, http.MethodDelete) {
				h.unpersist(w, r, sub, issuer)
			}
			return
		}
		writeError(w, http.StatusNotFound, codeNotFound)
	}
}
