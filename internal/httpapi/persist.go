package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/acmedns/acmedns/store"

	"github.com/prometheus/client_golang/prometheus"
)

// The two calls that manage an account's persistent (dns-persist-01)
// records, /persist and /unpersist, authenticated exactly as /update.

// Error codes of /persist.
const (
	codeBadRecord      = "bad_record"
	codeTooManyRecords = "too_many_records"
	codeBadIssuer      = "bad_issuer"
)

// persistResults and unpersistResults are persist_total's children of
// each action, curried once.
var (
	persistResults   = persists.MustCurryWith(prometheus.Labels{"action": "persist"})
	unpersistResults = persists.MustCurryWith(prometheus.Labels{"action": "unpersist"})
)

// persist stores the caller's record {"record": ...}, in place of its
// issuer's earlier one, and answers it as stored.
func (h *api) persist(w http.ResponseWriter, r *http.Request) {
	results := persistResults
	req, client, ok := h.credentialed(w, r, "persist", results)
	if !ok {
		return
	}
	record, err := parseIssueValue(req.Record)
	if err != nil {
		results.WithLabelValues(codeBadRecord).Inc()
		writeError(w, http.StatusBadRequest, codeBadRecord)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err = h.store.SetPersist(ctx, req.Subdomain, record)
	if errors.Is(err, store.ErrTooManyPersist) {
		results.WithLabelValues(codeTooManyRecords).Inc()
		writeError(w, http.StatusBadRequest, codeTooManyRecords)
		return
	}
	h.changed(err)
	if err != nil {
		h.storeError("persist", err)
		results.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	results.WithLabelValues("ok").Inc()
	h.audit(client, "persist", req.Subdomain, "ok")
	writeJSON(w, http.StatusOK, recordJSON(record))
}

// unpersist removes the caller's record of {"issuer": ...}. Removing a
// record that is not there succeeds too: the call is idempotent.
func (h *api) unpersist(w http.ResponseWriter, r *http.Request) {
	results := unpersistResults
	req, client, ok := h.credentialed(w, r, "unpersist", results)
	if !ok {
		return
	}
	issuer, ok := parseIssuer(req.Issuer)
	if !ok {
		results.WithLabelValues(codeBadIssuer).Inc()
		writeError(w, http.StatusBadRequest, codeBadIssuer)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	_, err := h.store.RemovePersist(ctx, req.Subdomain, issuer)
	h.changed(err)
	if err != nil {
		h.storeError("unpersist", err)
		results.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	results.WithLabelValues("ok").Inc()
	h.audit(client, "unpersist", req.Subdomain, "ok")
	// A valid issuer-domain-name needs no escaping.
	writeJSON(w, http.StatusOK, []byte(`{"unpersisted": "`+issuer+`"}`))
}

// parseIssuer reads the issuer-domain-name of /unpersist, lower-cased.
func parseIssuer(s string) (string, bool) {
	issuer := strings.ToLower(strings.Trim(s, " \t"))
	return issuer, validIssuer(issuer)
}

// recordJSON is the one-line reply {"record": record}, the record's
// characters as they are (no HTML escaping of '&', '<' or '>').
func recordJSON(record string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]string{"record": record})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
