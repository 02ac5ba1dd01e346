package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
)

// Admin error codes, beyond the public API's.
const (
	codeExists          = "exists"
	codeInvalidLimit    = "invalid_limit"
	codeInvalidCursor   = "invalid_cursor"
	codeInvalidSub      = "invalid_subdomain"
	codeInvalidUsername = "invalid_username"
	codeInvalidPassword = "invalid_password"
	codeInvalidHash     = "invalid_password_hash"
	codeHashCost        = "password_hash_cost"
	codePasswordAndHash = "password_and_password_hash"
	codeInvalidTXT      = "invalid_txt"
	codeInvalidRecord   = "invalid_record"
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
	Persist    []string   `json:"persist"` // the persistent (dns-persist-01) records
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
		Fulldomain: h.fulldomain(rec.Subdomain),
		AllowFrom:  rec.AllowFrom,
		TXT:        []txtJSON{},
		Persist:    rec.Persist,
		Created:    timeOrNil(rec.Created),
		Updated:    timeOrNil(rec.Updated),
	}
	if out.AllowFrom == nil {
		out.AllowFrom = []string{}
	}
	if out.Persist == nil {
		out.Persist = []string{}
	}
	for _, v := range h.live(rec.TXT) {
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
			h.fail(w, r, "list", "", http.StatusBadRequest, codeInvalidLimit)
			return
		}
		limit = n
	}
	after, err := base64.RawURLEncoding.DecodeString(q.Get("cursor"))
	if err != nil || len(after) > 0 && !store.ValidSubdomain(string(after)) {
		h.fail(w, r, "list", "", http.StatusBadRequest, codeInvalidCursor)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	recs, next, err := h.store.List(ctx, string(after), limit)
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
	rec, err := h.store.Record(ctx, sub)
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
			h.fail(w, r, "create", "", http.StatusBadRequest, codeMalformedJSON)
			return
		}
	}
	rec, password, code := h.newRecord(req)
	if code != "" {
		h.fail(w, r, "create", "", http.StatusBadRequest, code)
		return
	}
	if slices.Contains(h.cfg.Reserved, rec.Subdomain) {
		// The zone serves that name itself: a nameserver, or a name on
		// the way to one. An account there could never be answered.
		h.fail(w, r, "create", rec.Subdomain, http.StatusConflict, codeExists)
		return
	}
	if len(rec.PasswordHash) == 0 {
		hash, err := h.gate.hash(asker{ctx: r.Context(), w: w}, password)
		if err != nil {
			h.busy(w, r, "create", "", err)
			return
		}
		rec.PasswordHash = hash
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.store.Create(ctx, rec)
	h.changed(err)
	if err != nil {
		h.storeFailed(w, r, "create", rec.Subdomain, err)
		return
	}
	reply := createResponse{
		Username:   rec.Username,
		Fulldomain: h.fulldomain(rec.Subdomain),
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
		return rec, "", codeInvalidSub
	}
	rec.Username = uuid.NewString()
	if req.Username != "" {
		u, err := uuid.Parse(req.Username)
		if err != nil {
			return rec, "", codeInvalidUsername
		}
		rec.Username = u.String()
	}
	switch {
	case req.Password != "" && req.PasswordHash != "":
		return rec, "", codePasswordAndHash
	case req.PasswordHash != "":
		if code := hashProblem(req.PasswordHash); code != "" {
			return rec, "", code
		}
		rec.PasswordHash = []byte(req.PasswordHash)
	case req.Password != "":
		if !validToken(req.Password, 40) {
			return rec, "", codeInvalidPassword
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
	texts, code := h.cleanTXT(req.TXT)
	if code != "" {
		return rec, "", code
	}
	for _, v := range texts {
		rec.TXT = append(rec.TXT, store.Value{Text: v, Set: now})
	}
	rec.Created, rec.Updated = now, now
	return rec, password, ""
}

// hashProblem is the error code of a password_hash the admin API cannot
// store, or "": invalid_password_hash when it is not a well-formed bcrypt
// hash, password_hash_cost when its cost is above MaxHashCost.
func hashProblem(hash string) string {
	if !validHash(hash) {
		return codeInvalidHash
	}
	if cost, _ := hashCost([]byte(hash)); cost > MaxHashCost {
		return codeHashCost
	}
	return ""
}

// cleanTXT checks the TXT values of a request, newest first, and returns
// those to store: a value given again (acme-dns keeps two equal rows after
// a retried update) is one value, at the place of its newest copy, and at
// most txt_limit values are kept.
func (h *adminAPI) cleanTXT(values []string) ([]string, string) {
	var out []string
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if !store.ValidValue(v) {
			return nil, codeInvalidTXT
		}
		if !seen[v] && len(out) < h.cfg.TXTLimit {
			out = append(out, v)
		}
		seen[v] = true
	}
	return out, ""
}

func (h *adminAPI) delete(w http.ResponseWriter, r *http.Request, sub string) {
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.store.Delete(ctx, sub)
	h.changed(err)
	if err != nil {
		h.storeFailed(w, r, "delete", sub, err)
		return
	}
	h.noContent(w, r, "delete", sub)
}

func (h *adminAPI) rotate(w http.ResponseWriter, r *http.Request, sub string) {
	password := newPassword()
	hash, err := h.gate.hash(asker{ctx: r.Context(), w: w}, password)
	if err != nil {
		h.busy(w, r, "rotate", sub, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	rec, err := h.store.SetPassword(ctx, sub, hash)
	if err != nil {
		h.storeFailed(w, r, "rotate", sub, err)
		return
	}
	h.reply(w, r, "rotate", sub, http.StatusOK, map[string]string{"username": rec.Username, "password": password})
}

// busy answers a hash the bcrypt gate refused (or whose client left) 503
// busy, with the gate's Retry-After.
func (h *adminAPI) busy(w http.ResponseWriter, r *http.Request, action, sub string, err error) {
	var b *busyError
	if errors.As(err, &b) {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(b.retryAfter)))
	}
	h.fail(w, r, action, sub, http.StatusServiceUnavailable, codeBusy)
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
		h.fail(w, r, "allowfrom", sub, http.StatusBadRequest, codeMalformedJSON)
		return
	}
	allow, code := cleanAllowFrom(*req.AllowFrom)
	if code != "" {
		h.fail(w, r, "allowfrom", sub, http.StatusBadRequest, code)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	rec, err := h.store.SetAllowFrom(ctx, sub, allow)
	if err != nil {
		h.storeFailed(w, r, "allowfrom", sub, err)
		return
	}
	h.reply(w, r, "allowfrom", sub, http.StatusOK, h.accountJSON(rec))
}

func (h *adminAPI) clearTXT(w http.ResponseWriter, r *http.Request, sub string) {
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.store.ClearTXT(ctx, sub)
	h.changed(err)
	if err != nil {
		h.storeFailed(w, r, "clear", sub, err)
		return
	}
	h.noContent(w, r, "clear", sub)
}

// storeFailed answers a store error: 404, 409, 400 for a record the store
// refused (the checks before it should have caught it), or 503.
func (h *adminAPI) storeFailed(w http.ResponseWriter, r *http.Request, action, sub string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, r, action, sub, http.StatusNotFound, codeNotFound)
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrUsernameTaken):
		h.fail(w, r, action, sub, http.StatusConflict, codeExists)
	case errors.Is(err, store.ErrInvalidRecord):
		h.fail(w, r, action, sub, http.StatusBadRequest, codeInvalidRecord)
	default:
		h.storeError("admin_"+action, err)
		h.fail(w, r, action, sub, http.StatusServiceUnavailable, codeUnavailable)
	}
}

// fail answers an error and records it.
func (h *adminAPI) fail(w http.ResponseWriter, r *http.Request, action, sub string, status int, code string) {
	adminCalls.WithLabelValues(action, code).Inc()
	if action != "list" && action != "show" {
		h.auditAdmin(r, "admin_"+action, sub, code)
	}
	writeError(w, status, code)
}

// reply answers a success as one line of JSON and records it.
func (h *adminAPI) reply(w http.ResponseWriter, r *http.Request, action, sub string, status int, v any) {
	adminCalls.WithLabelValues(action, "ok").Inc()
	if action != "list" && action != "show" {
		h.auditAdmin(r, "admin_"+action, sub, "ok")
	}
	b, _ := json.Marshal(v)
	writeJSON(w, status, b)
}

func (h *adminAPI) noContent(w http.ResponseWriter, r *http.Request, action, sub string) {
	adminCalls.WithLabelValues(action, "ok").Inc()
	h.auditAdmin(r, "admin_"+action, sub, "ok")
	w.WriteHeader(http.StatusNoContent)
}
