package acmedns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// Admin error codes, beyond the public API's.
const (
	errExists          = "exists"
	errInvalidLimit    = "invalid_limit"
	errInvalidCursor   = "invalid_cursor"
	errInvalidSub      = "invalid_subdomain"
	errInvalidUsername = "invalid_username"
	errInvalidPassword = "invalid_password"
	errInvalidHash     = "invalid_password_hash"
	errPasswordAndHash = "password_and_password_hash"
	errInvalidTXT      = "invalid_txt"
)

// Listing bounds.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// accountJSON is an account as the admin API shows it: never a hash.
type accountJSON struct {
	Subdomain  string     `json:"subdomain"`
	Username   string     `json:"username"`
	Fulldomain string     `json:"fulldomain"`
	AllowFrom  []string   `json:"allowfrom"`
	TXT        []txtJSON  `json:"txt"`
	Created    *time.Time `json:"created,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
}

type txtJSON struct {
	Value   string     `json:"value"`
	Updated *time.Time `json:"updated,omitempty"`
}

// timeOrNil is nil for the zero time: a record written by an older release
// does not know it.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (h *adminAPI) accountJSON(rec store.Record) accountJSON {
	out := accountJSON{
		Subdomain:  rec.Subdomain,
		Username:   rec.Username,
		Fulldomain: rec.Subdomain + "." + strings.TrimSuffix(h.a.cfg.Zones[0], "."),
		AllowFrom:  rec.AllowFrom,
		TXT:        []txtJSON{},
		Created:    timeOrNil(rec.Created),
		Updated:    timeOrNil(rec.Updated),
	}
	if out.AllowFrom == nil {
		out.AllowFrom = []string{}
	}
	for _, v := range h.a.live(rec.TXT) {
		out.TXT = append(out.TXT, txtJSON{Value: v.Text, Updated: timeOrNil(v.Set)})
	}
	return out
}

func (h *adminAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultListLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListLimit {
			h.done(w, r, "list", "", http.StatusBadRequest, errInvalidLimit)
			return
		}
		limit = n
	}
	after, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
	if err != nil || len(after) > 0 && !store.ValidSubdomain(string(after)) {
		h.done(w, r, "list", "", http.StatusBadRequest, errInvalidCursor)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	recs, next, err := h.a.store.List(ctx, string(after), limit)
	if err != nil {
		h.storeFailed(w, r, "list", "", err)
		return
	}
	reply := struct {
		Accounts []accountJSON `json:"accounts"`
		Next     string        `json:"next,omitempty"`
	}{Accounts: []accountJSON{}}
	for _, rec := range recs {
		reply.Accounts = append(reply.Accounts, h.accountJSON(rec))
	}
	if next != "" {
		reply.Next = base64.RawURLEncoding.EncodeToString([]byte(next))
	}
	h.reply(w, r, "list", "", http.StatusOK, reply)
}

func (h *adminAPI) show(w http.ResponseWriter, r *http.Request, sub string) {
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	rec, err := h.a.store.Record(ctx, sub)
	if err != nil {
		h.storeFailed(w, r, "show", sub, err)
		return
	}
	h.reply(w, r, "show", sub, http.StatusOK, h.accountJSON(rec))
}

// createRequest is POST /accounts: every field optional.
type createRequest struct {
	Subdomain    string   `json:"subdomain"`
	Username     string   `json:"username"`
	Password     string   `json:"password"`
	PasswordHash string   `json:"password_hash"`
	AllowFrom    []string `json:"allowfrom"`
	TXT          []string `json:"txt"`
}

// createResponse answers like /register; password only when the server made it.
type createResponse struct {
	Username   string   `json:"username"`
	Password   string   `json:"password,omitempty"`
	Fulldomain string   `json:"fulldomain"`
	Subdomain  string   `json:"subdomain"`
	AllowFrom  []string `json:"allowfrom"`
}

func (h *adminAPI) create(w http.ResponseWriter, r *http.Request) {
	body, result := readBody(w, r)
	if result != "" {
		adminCalls.WithLabelValues("create", result).Inc()
		return
	}
	var req createRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			h.done(w, r, "create", "", http.StatusBadRequest, errMalformedJSON)
			return
		}
	}
	rec, password, code := h.newRecord(req)
	if code != "" {
		h.done(w, r, "create", "", http.StatusBadRequest, code)
		return
	}
	if len(rec.PasswordHash) == 0 {
		hash, err := bcryptGate.hash(r.Context(), netip.Addr{}, password)
		if err != nil {
			h.done(w, r, "create", "", http.StatusServiceUnavailable, errBusyCode)
			return
		}
		rec.PasswordHash = hash
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.a.store.Create(ctx, rec)
	h.a.changed(err)
	if err != nil {
		h.storeFailed(w, r, "create", rec.Subdomain, err)
		return
	}
	reply := createResponse{
		Username:   rec.Username,
		Fulldomain: rec.Subdomain + "." + strings.TrimSuffix(h.a.cfg.Zones[0], "."),
		Subdomain:  rec.Subdomain,
		AllowFrom:  rec.AllowFrom,
	}
	if req.Password == "" && req.PasswordHash == "" {
		reply.Password = password
	}
	h.reply(w, r, "create", rec.Subdomain, http.StatusCreated, reply)
}

// newRecord validates a create request into a record; password is the
// one to hash when the record has no hash yet.
func (h *adminAPI) newRecord(req createRequest) (rec store.Record, password, code string) {
	rec.Subdomain = strings.ToLower(req.Subdomain)
	if rec.Subdomain == "" {
		rec.Subdomain = uuid.NewString()
	} else if !store.ValidSubdomain(rec.Subdomain) {
		return rec, "", errInvalidSub
	}
	rec.Username = uuid.NewString()
	if req.Username != "" {
		u, err := uuid.Parse(req.Username)
		if err != nil {
			return rec, "", errInvalidUsername
		}
		rec.Username = u.String()
	}
	switch {
	case req.Password != "" && req.PasswordHash != "":
		return rec, "", errPasswordAndHash
	case req.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(req.PasswordHash)); err != nil {
			return rec, "", errInvalidHash
		}
		rec.PasswordHash = []byte(req.PasswordHash)
	case req.Password != "":
		if !validToken(req.Password, 40) {
			return rec, "", errInvalidPassword
		}
		password = req.Password
	default:
		password = newPassword()
	}
	allow, code := cleanAllowFrom(req.AllowFrom)
	if code != "" {
		return rec, "", code
	}
	rec.AllowFrom = allow
	now := time.Now()
	for _, v := range req.TXT {
		if !store.ValidValue(v) {
			return rec, "", errInvalidTXT
		}
		if len(rec.TXT) < h.a.cfg.TXTLimit {
			rec.TXT = append(rec.TXT, store.Value{Text: v, Set: now})
		}
	}
	rec.Created, rec.Updated = now, now
	return rec, password, ""
}

func (h *adminAPI) delete(w http.ResponseWriter, r *http.Request, sub string) {
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.a.store.Delete(ctx, sub)
	h.a.changed(err)
	if err != nil {
		h.storeFailed(w, r, "delete", sub, err)
		return
	}
	h.noContent(w, r, "delete", sub)
}

func (h *adminAPI) rotate(w http.ResponseWriter, r *http.Request, sub string) {
	password := newPassword()
	hash, err := bcryptGate.hash(r.Context(), netip.Addr{}, password)
	if err != nil {
		h.done(w, r, "rotate", sub, http.StatusServiceUnavailable, errBusyCode)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	rec, err := h.a.store.SetPassword(ctx, sub, hash)
	if err != nil {
		h.storeFailed(w, r, "rotate", sub, err)
		return
	}
	h.reply(w, r, "rotate", sub, http.StatusOK, map[string]string{"username": rec.Username, "password": password})
}

func (h *adminAPI) setAllowFrom(w http.ResponseWriter, r *http.Request, sub string) {
	body, result := readBody(w, r)
	if result != "" {
		adminCalls.WithLabelValues("allowfrom", result).Inc()
		return
	}
	var req struct {
		AllowFrom *[]string `json:"allowfrom"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.AllowFrom == nil {
		h.done(w, r, "allowfrom", sub, http.StatusBadRequest, errMalformedJSON)
		return
	}
	allow, code := cleanAllowFrom(*req.AllowFrom)
	if code != "" {
		h.done(w, r, "allowfrom", sub, http.StatusBadRequest, code)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	rec, err := h.a.store.SetAllowFrom(ctx, sub, allow)
	if err != nil {
		h.storeFailed(w, r, "allowfrom", sub, err)
		return
	}
	h.reply(w, r, "allowfrom", sub, http.StatusOK, h.accountJSON(rec))
}

func (h *adminAPI) clearTXT(w http.ResponseWriter, r *http.Request, sub string) {
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.a.store.ClearTXT(ctx, sub)
	h.a.changed(err)
	if err != nil {
		h.storeFailed(w, r, "clear", sub, err)
		return
	}
	h.noContent(w, r, "clear", sub)
}

// storeFailed answers a store error: 404, 409 or 503.
func (h *adminAPI) storeFailed(w http.ResponseWriter, r *http.Request, action, sub string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.done(w, r, action, sub, http.StatusNotFound, errNotFound)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrUsernameTaken):
		h.done(w, r, action, sub, http.StatusConflict, errExists)
	default:
		storeErrors.WithLabelValues("admin_" + action).Inc()
		h.done(w, r, action, sub, http.StatusServiceUnavailable, errUnavailable)
	}
}

// done answers an error and records it.
func (h *adminAPI) done(w http.ResponseWriter, r *http.Request, action, sub string, status int, code string) {
	adminCalls.WithLabelValues(action, code).Inc()
	if action != "list" && action != "show" {
		h.a.auditAdmin(r, "admin_"+action, sub, code)
	}
	writeError(w, status, code)
}

// reply answers a success as one line of JSON and records it.
func (h *adminAPI) reply(w http.ResponseWriter, r *http.Request, action, sub string, status int, v any) {
	adminCalls.WithLabelValues(action, "ok").Inc()
	if action != "list" && action != "show" {
		h.a.auditAdmin(r, "admin_"+action, sub, "ok")
	}
	b, _ := json.Marshal(v)
	writeJSON(w, status, b)
}

func (h *adminAPI) noContent(w http.ResponseWriter, r *http.Request, action, sub string) {
	adminCalls.WithLabelValues(action, "ok").Inc()
	h.a.auditAdmin(r, "admin_"+action, sub, "ok")
	w.WriteHeader(http.StatusNoContent)
}
