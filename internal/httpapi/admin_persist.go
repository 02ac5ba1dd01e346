package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/acmedns/acmedns/store"
)

// setPersist is PUT /accounts/{subdomain}/persist with {"record": ...}: the
// record, checked as /persist checks it, replaces the one of its issuer.
// It answers the account.
func (h *adminAPI) setPersist(w http.ResponseWriter, r *http.Request, sub string) {
	body, result := readBody(w, r)
	if result != "" {
		adminCalls.WithLabelValues("persist", result).Inc()
		return
	}
	var req struct {
		Record string `json:"record"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		h.fail(w, r, "persist", sub, http.StatusBadRequest, codeMalformedJSON)
		return
	}
	record, err := parseIssueValue(req.Record)
	if err != nil {
		h.fail(w, r, "persist", sub, http.StatusBadRequest, codeBadRecord)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err = h.store.SetPersist(ctx, sub, record)
	if errors.Is(err, store.ErrTooManyPersist) {
		h.fail(w, r, "persist", sub, http.StatusBadRequest, codeTooManyRecords)
		return
	}
	h.changed(err)
	var rec store.Record
	if err == nil {
		rec, err = h.store.Record(ctx, sub)
	}
	if err != nil {
		h.storeFailed(w, r, "persist", sub, err)
		return
	}
	h.reply(w, r, "persist", sub, http.StatusOK, h.accountJSON(rec))
}

// unpersist is DELETE /accounts/{subdomain}/persist/{issuer}: 204, whether
// the account held a record of that issuer or not.
func (h *adminAPI) unpersist(w http.ResponseWriter, r *http.Request, sub, issuer string) {
	issuer, ok := parseIssuer(issuer)
	if !ok {
		h.fail(w, r, "unpersist", sub, http.StatusBadRequest, codeBadIssuer)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	_, err := h.store.RemovePersist(ctx, sub, issuer)
	h.changed(err)
	if err != nil {
		h.storeFailed(w, r, "unpersist", sub, err)
		return
	}
	h.noContent(w, r, "unpersist", sub)
}
