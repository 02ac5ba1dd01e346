// Package httpapi is acmedns's HTTP side: the acme-dns compatible public API
// (/register, /update, /unregister, /health) and its persistent records
// (/persist, /unpersist), the admin API, their authentication and credential cache, bcrypt admission, rate and
// connection limits, the process-wide listeners and the audit log.
//
// It knows nothing of DNS or of CoreDNS's plugin chain: the plugin hands it
// a Config, a store and Hooks, and serves the handlers it returns on the
// listeners it acquires here.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
)

// The HTTP API is byte-compatible with acme-dns: clients match status codes,
// parse one-line JSON and compare error strings.

const (
	maxBody    = 64 << 10
	apiTimeout = 5 * time.Second
	// BcryptCost is the cost of stored password hashes, acme-dns's own, so
	// that its databases can be imported with their hashes.
	BcryptCost = 10
)

// Error codes sent as {"error": "<code>"}.
const (
	codeForbidden       = "forbidden"
	codeMalformedJSON   = "malformed_json_payload"
	codeInvalidCIDR     = "invalid_allowfrom_cidr"
	codeBadTXT          = "bad_txt"
	codeUnavailable     = "storage_unavailable"
	codeNotFound        = "not_found"
	codeMethod          = "method_not_allowed"
	codeTooLarge        = "request_too_large"
	codeRegisterFailure = "registration_failed"
	codeTooManyRequests = "too_many_requests"
	codeBusy            = "busy"
	codeAllowFromLong   = "allowfrom_too_long"
)

// api is the public API's handler.
type api struct {
	*Service
	// registerLimit and failureLimit are per-client buckets (nil: off).
	registerLimit *clientLimiter
	failureLimit  *clientLimiter
	auth          *authCache // nil: off
}

// API returns the public API's handler. Its rate limits and credential
// cache are its own: a reload starts them afresh.
func (s *Service) API() http.Handler { return s.newAPI() }

func (s *Service) newAPI() *api {
	l := s.cfg.Limits
	return &api{
		Service:       s,
		registerLimit: newClientLimiter(l.Register, l.Clients),
		failureLimit:  newClientLimiter(l.AuthFailures, l.Clients),
		auth:          newAuthCache(s.cfg.AuthCache),
	}
}

// ServeHTTP routes a request to its endpoint, after CORS.
func (h *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(h.cfg.CORS) > 0 && r.Header.Get("Origin") != "" {
		if !h.cors(w, r) {
			return
		}
	}
	switch h.route(r) {
	case "/register":
		if allowMethod(w, r, http.MethodPost) {
			h.register(w, r)
		}
	case "/update":
		if allowMethod(w, r, http.MethodPost) {
			h.update(w, r)
		}
	case "/unregister":
		if allowMethod(w, r, http.MethodPost) {
			h.unregister(w, r)
		}
	case "/persist":
		if allowMethod(w, r, http.MethodPost) {
			h.persist(w, r)
		}
	case "/unpersist":
		if allowMethod(w, r, http.MethodPost) {
			h.unpersist(w, r)
		}
	case "/health":
		if allowMethod(w, r, http.MethodGet, http.MethodHead) {
			h.health(w, r)
		}
	default:
		writeError(w, http.StatusNotFound, codeNotFound)
	}
}

// cleanPath cleans a request path; "//register" becomes "/register".
func cleanPath(p string) string { return path.Clean("/" + p) }

// cors sets the CORS headers for an allowed origin and answers preflights.
// It reports whether the request goes on to its handler.
func (h *api) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := ""
	for _, o := range h.cfg.CORS {
		if o == "*" || o == origin {
			allowed = o
			break
		}
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if allowed == "" {
		if preflight {
			writeError(w, http.StatusForbidden, codeForbidden)
			return false
		}
		return true
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", allowed)
	if allowed != "*" {
		hd.Add("Vary", "Origin")
	}
	if preflight {
		hd.Set("Access-Control-Allow-Methods", "POST, GET")
		hd.Set("Access-Control-Allow-Headers", "Content-Type, X-Api-User, X-Api-Key")
		hd.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

type registerRequest struct {
	AllowFrom []string `json:"allowfrom"`
}

type registerResponse struct {
	Username   string   `json:"username"`
	Password   string   `json:"password"`
	Fulldomain string   `json:"fulldomain"`
	Subdomain  string   `json:"subdomain"`
	AllowFrom  []string `json:"allowfrom"`
}

func (h *api) register(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg
	client := clientIP(r, cfg.TrustedProxies)
	if len(cfg.Registration.Allow) > 0 && !contains(cfg.Registration.Allow, client) {
		registrations.WithLabelValues("forbidden").Inc()
		h.audit(client, "register", "", "forbidden")
		writeError(w, http.StatusForbidden, codeForbidden)
		return
	}
	body, result := readBody(w, r)
	if result != "" {
		registrations.WithLabelValues(result).Inc()
		return
	}
	allow, code := decodeRegister(body)
	if code != "" {
		registrations.WithLabelValues("bad_request").Inc()
		writeError(w, http.StatusBadRequest, code)
		return
	}
	if ok, retry := h.registerLimit.take(client); !ok {
		registrations.WithLabelValues(h.refuse(w, r, &rateLimited{retry}, "register")).Inc()
		return
	}
	password := newPassword()
	hash, err := h.gate.hash(asker{ctx: r.Context(), client: client, w: w}, password)
	if err != nil && !errors.Is(err, errHashFailed) {
		registrations.WithLabelValues(h.refuse(w, r, err, "register")).Inc()
		return
	}
	if err != nil {
		registrations.WithLabelValues("error").Inc()
		writeError(w, http.StatusInternalServerError, codeRegisterFailure)
		return
	}
	acct := store.Account{
		Username:     uuid.NewString(),
		PasswordHash: hash,
		Subdomain:    uuid.NewString(),
		AllowFrom:    allow,
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err = h.store.Register(ctx, acct)
	h.changed(err)
	if err != nil {
		h.storeError("register", err)
		registrations.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	reply, _ := json.Marshal(registerResponse{
		Username:   acct.Username,
		Password:   password,
		Fulldomain: h.fulldomain(acct.Subdomain),
		Subdomain:  acct.Subdomain,
		AllowFrom:  allow,
	})
	registrations.WithLabelValues("ok").Inc()
	h.audit(client, "register", acct.Subdomain, "ok")
	writeJSON(w, http.StatusCreated, reply)
}

// decodeRegister reads an optional {"allowfrom": [...]} body. It returns the
// cleaned CIDRs (never nil) or an error code.
func decodeRegister(body []byte) ([]string, string) {
	allow := []string{}
	if len(bytes.TrimSpace(body)) == 0 {
		return allow, ""
	}
	var req registerRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, codeMalformedJSON
	}
	return cleanAllowFrom(req.AllowFrom)
}

// cleanAllowFrom parses CIDRs as they are stored: brackets dropped,
// IPv4-mapped prefixes unmapped, duplicates removed, at most MaxAllowFrom.
// It returns the list (never nil) or an error code.
func cleanAllowFrom(list []string) ([]string, string) {
	allow := []string{}
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, codeInvalidCIDR
		}
		if c := p.String(); !seen[c] {
			seen[c] = true
			allow = append(allow, c)
		}
	}
	if len(allow) > MaxAllowFrom {
		return nil, codeAllowFromLong
	}
	return allow, ""
}

// refuse answers a request that a limit, its credentials or the store
// turned down, and returns the metric's result label. op names the store
// call for store_errors_total.
//
// A refusal by a budget (429) is held back for tarpitDelay before it is
// written: a client that ignores Retry-After and repeats at once costs a
// sleeping goroutine, not the CPU the DNS needs, and its request rate drops
// to one per connection per tarpitDelay. A refusal by bcrypt admission (503
// busy) is written at once, with a Retry-After of when the queue ahead
// should have drained: it comes before any wait, and costs nothing.
func (h *api) refuse(w http.ResponseWriter, r *http.Request, err error, op string) string {
	var limited *rateLimited
	var busy *busyError
	switch {
	case errors.Is(err, errForbiddenUpdate):
		writeError(w, http.StatusUnauthorized, codeForbidden)
		return "forbidden"
	case errors.Is(err, errHashCost):
		writeError(w, http.StatusUnauthorized, codeHashCost)
		return "hash_cost"
	case errors.As(err, &limited):
		apiRejections.WithLabelValues("rate_limit").Inc()
		tarpit(r.Context())
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(limited.retryAfter)))
		writeError(w, http.StatusTooManyRequests, codeTooManyRequests)
		return "rate_limited"
	case errors.As(err, &busy):
		apiRejections.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(busy.retryAfter)))
		writeError(w, http.StatusServiceUnavailable, codeBusy)
		return "busy"
	case errors.Is(err, errGone):
		return "gone" // nobody is left to answer
	}
	h.storeError(op, err)
	writeError(w, http.StatusServiceUnavailable, codeUnavailable)
	return "unavailable"
}

// health answers 200 while the store answers, else 503.
func (s *Service) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.storeError("ping", err)
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readBody reads at most maxBody bytes; a larger body is answered 413. On
// failure it has answered and returns the metric's result label.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, codeTooLarge)
			return nil, "too_large"
		}
		writeError(w, http.StatusBadRequest, codeMalformedJSON)
		return nil, "bad_request"
	}
	return body, ""
}

// allowMethod answers 405 unless r uses one of methods.
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, codeMethod)
	return false
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// writeError writes acme-dns's error form, with its space after the colon.
func writeError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, []byte(`{"error": "`+code+`"}`))
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// newPassword returns 40 characters drawn uniformly from tokenAlphabet.
func newPassword() string {
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = tokenAlphabet[b[i]&63]
	}
	return string(b)
}

// validToken reports whether s is exactly n characters of [A-Za-z0-9_-].
func validToken(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
