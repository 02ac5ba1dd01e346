package acmedns

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
	errForbidden       = "forbidden"
	errMalformedJSON   = "malformed_json_payload"
	errInvalidCIDR     = "invalid_allowfrom_cidr"
	errBadTXT          = "bad_txt"
	errUnavailable     = "storage_unavailable"
	errNotFound        = "not_found"
	errMethod          = "method_not_allowed"
	errTooLarge        = "request_too_large"
	errRegisterFailure = "registration_failed"
	errTooManyRequests = "too_many_requests"
	errBusyCode        = "busy"
	errAllowFromLong   = "allowfrom_too_long"
)

type api struct {
	a *ACMEDNS
	// registerLimit and failureLimit are per-client buckets (nil: off).
	registerLimit *clientLimiter
	failureLimit  *clientLimiter
	auth          *authCache // nil: off
	gate          *admission
}

func newAPI(a *ACMEDNS) http.Handler { return newAPIHandler(a) }

func newAPIHandler(a *ACMEDNS) *api {
	l := a.cfg.Limits
	return &api{
		a:             a,
		registerLimit: newClientLimiter(l.Register, l.Clients),
		failureLimit:  newClientLimiter(l.AuthFailures, l.Clients),
		auth:          newAuthCache(a.cfg.AuthCache),
		gate:          bcryptGate,
	}
}

func (h *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(h.a.cfg.CORS) > 0 && r.Header.Get("Origin") != "" {
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
	case "/health":
		if allowMethod(w, r, http.MethodGet, http.MethodHead) {
			h.health(w, r)
		}
	default:
		writeError(w, http.StatusNotFound, errNotFound)
	}
}

// cleanPath cleans a request path; "//register" becomes "/register".
func cleanPath(p string) string { return path.Clean("/" + p) }

// cors sets the CORS headers for an allowed origin and answers preflights.
// It reports whether the request goes on to its handler.
func (h *api) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := ""
	for _, o := range h.a.cfg.CORS {
		if o == "*" || o == origin {
			allowed = o
			break
		}
	}
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if allowed == "" {
		if preflight {
			writeError(w, http.StatusForbidden, errForbidden)
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
	cfg := h.a.cfg
	client := clientIP(r, cfg.TrustedProxies)
	if len(cfg.Registration.Allow) > 0 && !contains(cfg.Registration.Allow, client) {
		registrations.WithLabelValues("forbidden").Inc()
		h.audit(client, "register", "", "forbidden")
		writeError(w, http.StatusForbidden, errForbidden)
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
	hash, err := h.gate.hash(r.Context(), client, password)
	if err != nil && !errors.Is(err, errHashFailed) {
		registrations.WithLabelValues(h.refuse(w, r, err, "register")).Inc()
		return
	}
	if err != nil {
		registrations.WithLabelValues("error").Inc()
		writeError(w, http.StatusInternalServerError, errRegisterFailure)
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
	err = h.a.store.Register(ctx, acct)
	h.a.changed(err)
	if err != nil {
		storeErrors.WithLabelValues("register").Inc()
		registrations.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, errUnavailable)
		return
	}
	reply, _ := json.Marshal(registerResponse{
		Username:   acct.Username,
		Password:   password,
		Fulldomain: acct.Subdomain + "." + strings.TrimSuffix(cfg.Zones[0], "."),
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
		return nil, errMalformedJSON
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
		p, err := parsePrefix(s)
		if err != nil {
			return nil, errInvalidCIDR
		}
		if c := p.String(); !seen[c] {
			seen[c] = true
			allow = append(allow, c)
		}
	}
	if len(allow) > MaxAllowFrom {
		return nil, errAllowFromLong
	}
	return allow, ""
}

// refuse answers a request that a limit, its credentials or the store
// turned down, and returns the metric's result label. op names the store
// call for store_errors_total.
//
// A refusal by a limit (429, 503 busy) is held back for tarpitDelay before
// it is written: a client that ignores Retry-After and repeats at once
// costs a sleeping goroutine, not the CPU the DNS needs, and its request
// rate drops to one per connection per tarpitDelay.
func (h *api) refuse(w http.ResponseWriter, r *http.Request, err error, op string) string {
	var limited *rateLimited
	switch {
	case errors.Is(err, errForbiddenUpdate):
		writeError(w, http.StatusUnauthorized, errForbidden)
		return "forbidden"
	case errors.As(err, &limited):
		apiRejections.WithLabelValues("rate_limit").Inc()
		tarpit(r.Context())
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(limited.retryAfter)))
		writeError(w, http.StatusTooManyRequests, errTooManyRequests)
		return "rate_limited"
	case errors.Is(err, errBusy):
		apiRejections.WithLabelValues("busy").Inc()
		tarpit(r.Context())
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(h.a.cfg.Limits.BcryptWait)))
		writeError(w, http.StatusServiceUnavailable, errBusyCode)
		return "busy"
	case errors.Is(err, errGone):
		return "gone" // nobody is left to answer
	}
	storeErrors.WithLabelValues(op).Inc()
	writeError(w, http.StatusServiceUnavailable, errUnavailable)
	return "unavailable"
}

func (h *api) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.a.cfg.Timeout)
	defer cancel()
	if err := h.a.store.Ping(ctx); err != nil {
		storeErrors.WithLabelValues("ping").Inc()
		writeError(w, http.StatusServiceUnavailable, errUnavailable)
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
			writeError(w, http.StatusRequestEntityTooLarge, errTooLarge)
			return nil, "too_large"
		}
		writeError(w, http.StatusBadRequest, errMalformedJSON)
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
	writeError(w, http.StatusMethodNotAllowed, errMethod)
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
