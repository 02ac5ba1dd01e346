package acmedns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
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
)

type api struct {
	a *ACMEDNS
}

func newAPI(a *ACMEDNS) http.Handler { return &api{a: a} }

func (h *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(h.a.cfg.CORS) > 0 && r.Header.Get("Origin") != "" {
		if !h.cors(w, r) {
			return
		}
	}
	// Clients that join a base URL ending in "/" send "//register".
	p := path.Clean("/" + r.URL.Path)
	switch {
	case p == "/register" && !h.a.cfg.Registration.Closed:
		if allowMethod(w, r, http.MethodPost) {
			h.register(w, r)
		}
	case p == "/update":
		if allowMethod(w, r, http.MethodPost) {
			h.update(w, r)
		}
	case p == "/health":
		if allowMethod(w, r, http.MethodGet, http.MethodHead) {
			h.health(w, r)
		}
	default:
		writeError(w, http.StatusNotFound, errNotFound)
	}
}

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
	if len(cfg.Registration.Allow) > 0 && !contains(cfg.Registration.Allow, clientIP(r, cfg.TrustedProxies)) {
		registrations.WithLabelValues("forbidden").Inc()
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

	password := newPassword()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
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
	if err := h.a.store.Register(ctx, acct); err != nil {
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
	for _, s := range req.AllowFrom {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, errInvalidCIDR
		}
		allow = append(allow, p.String())
	}
	return allow, ""
}

type updateRequest struct {
	Subdomain string `json:"subdomain"`
	TXT       string `json:"txt"`
}

func (h *api) update(w http.ResponseWriter, r *http.Request) {
	body, result := readBody(w, r)
	if result != "" {
		updates.WithLabelValues(result).Inc()
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	req, err := h.authenticate(ctx, r, body)
	if err != nil {
		if errors.Is(err, errForbiddenUpdate) {
			updates.WithLabelValues("forbidden").Inc()
			writeError(w, http.StatusUnauthorized, errForbidden)
			return
		}
		storeErrors.WithLabelValues("account").Inc()
		updates.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, errUnavailable)
		return
	}
	if !validToken(req.TXT, 43) {
		updates.WithLabelValues("bad_txt").Inc()
		writeError(w, http.StatusBadRequest, errBadTXT)
		return
	}
	if err := h.a.store.AddTXT(ctx, req.Subdomain, req.TXT, h.a.cfg.TXTLimit); err != nil {
		storeErrors.WithLabelValues("update").Inc()
		updates.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, errUnavailable)
		return
	}
	updates.WithLabelValues("ok").Inc()
	writeJSON(w, http.StatusOK, []byte(`{"txt": "`+req.TXT+`"}`))
}

var errForbiddenUpdate = errors.New("forbidden")

// authenticate checks an update's credentials, source address and
// subdomain. Every failure is errForbiddenUpdate, whatever its cause; any
// other error is the store's.
func (h *api) authenticate(ctx context.Context, r *http.Request, body []byte) (updateRequest, error) {
	user, err := uuid.Parse(r.Header.Get("X-Api-User"))
	key := r.Header.Get("X-Api-Key")
	if err != nil || !validToken(key, 40) {
		return updateRequest{}, errForbiddenUpdate
	}
	req, ok := decodeUpdate(body)
	if !ok {
		spendCompare(key)
		return req, errForbiddenUpdate
	}
	acct, err := h.a.store.Account(ctx, req.Subdomain)
	if errors.Is(err, store.ErrNotFound) || err == nil && acct.Username != user.String() {
		spendCompare(key)
		return req, errForbiddenUpdate
	}
	if err != nil {
		return req, err
	}
	if bcrypt.CompareHashAndPassword(acct.PasswordHash, []byte(key)) != nil {
		return req, errForbiddenUpdate
	}
	if len(acct.AllowFrom) > 0 && !allowedFrom(acct.AllowFrom, clientIP(r, h.a.cfg.TrustedProxies)) {
		return req, errForbiddenUpdate
	}
	return req, nil
}

// allowedFrom reports whether ip is in one of an account's stored CIDRs.
func allowedFrom(cidrs []string, ip netip.Addr) bool {
	for _, s := range cidrs {
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(ip) {
			return true
		}
	}
	return false
}

// decodeUpdate reads {"subdomain": ..., "txt": ...}: keys in any case, bytes
// after the JSON value ignored, the subdomain lower-cased.
func decodeUpdate(body []byte) (updateRequest, bool) {
	var req updateRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return updateRequest{}, false
	}
	req.Subdomain = strings.ToLower(req.Subdomain)
	return req, true
}

// dummyHash is compared against when there is no account, so that a wrong
// username costs as much time as a wrong key.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(newPassword()), BcryptCost)
	return h
})

func spendCompare(key string) { bcrypt.CompareHashAndPassword(dummyHash(), []byte(key)) }

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
