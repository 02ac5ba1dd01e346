package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/acmedns/acmedns/store"
)

// codeUsernameMismatch answers a replacement whose username is not the
// account's own.
const codeUsernameMismatch = "username_mismatch"

// replace is PUT /accounts/{subdomain}: the account's password hash,
// allowfrom and TXT values become the request's, in place. The account is
// never deleted: a failure midway leaves it registered, with its old or
// its new hash, and the same call again completes it. The username cannot
// change; another one is 409 username_mismatch and changes nothing.
func (h *adminAPI) replace(w http.ResponseWriter, r *http.Request, sub string) {
	body, result := readBody(w, r)
	if result != "" {
		adminCalls.WithLabelValues("replace", result).Inc()
		return
	}
	rec, code := h.replacement(body, sub)
	if code != "" {
		h.fail(w, r, "replace", sub, http.StatusBadRequest, code)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	old, err := h.store.Record(ctx, sub)
	if err != nil {
		h.storeFailed(w, r, "replace", sub, err)
		return
	}
	if old.Username != rec.Username {
		h.fail(w, r, "replace", sub, http.StatusConflict, codeUsernameMismatch)
		return
	}
	if err := h.bringTo(ctx, old, rec); err != nil {
		h.storeFailed(w, r, "replace", sub, err)
		return
	}
	if rec, err = h.store.Record(ctx, sub); err != nil {
		h.storeFailed(w, r, "replace", sub, err)
		return
	}
	h.reply(w, r, "replace", sub, http.StatusOK, h.accountJSON(rec))
}

// replacement checks a PUT body, which is a POST /accounts body for that
// subdomain with the username and the password hash required.
func (h *adminAPI) replacement(body []byte, sub string) (store.Record, string) {
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return store.Record{}, codeMalformedJSON
	}
	switch {
	case req.Subdomain != "" && strings.ToLower(req.Subdomain) != sub:
		return store.Record{}, codeInvalidSub
	case req.Username == "":
		return store.Record{}, codeInvalidUsername
	case req.PasswordHash == "":
		return store.Record{}, codeInvalidHash
	}
	req.Subdomain = sub
	rec, _, code := h.newRecord(req)
	return rec, code
}

// bringTo changes the account old into rec, one store call per field that
// differs: the hash, the allowfrom, then the TXT values (cleared, then
// added oldest first), unless they are the ones served, none of them
// hidden by txt_expire. A change of the values is told to the Changed hook.
func (h *adminAPI) bringTo(ctx context.Context, old, rec store.Record) error {
	sub := old.Subdomain
	if !bytes.Equal(old.PasswordHash, rec.PasswordHash) {
		if _, err := h.store.SetPassword(ctx, sub, rec.PasswordHash); err != nil {
			return err
		}
	}
	if !slices.Equal(old.AllowFrom, rec.AllowFrom) {
		if _, err := h.store.SetAllowFrom(ctx, sub, rec.AllowFrom); err != nil {
			return err
		}
	}
	if live := h.live(old.TXT); len(live) == len(old.TXT) && slices.Equal(texts(live), texts(rec.TXT)) {
		return nil
	}
	err := h.store.ClearTXT(ctx, sub)
	for i := len(rec.TXT) - 1; i >= 0 && err == nil; i-- {
		err = h.store.AddTXT(ctx, sub, rec.TXT[i].Text, h.cfg.TXTLimit, h.cfg.TXTExpire)
	}
	h.changed(err)
	return err
}

// texts are the texts of values, in their order.
func texts(values []store.Value) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v.Text
	}
	return out
}
