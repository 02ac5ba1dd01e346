package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/acmedns/acmedns/store"

	"github.com/prometheus/client_golang/prometheus"
)

// The two calls that carry an account's credentials: /update and
// /unregister.

func (h *api) update(w http.ResponseWriter, r *http.Request) {
	req, client, ok := h.credentialed(w, r, "update", updates)
	if !ok {
		return
	}
	if !validToken(req.TXT, 43) {
		updates.WithLabelValues("bad_txt").Inc()
		writeError(w, http.StatusBadRequest, codeBadTXT)
		return
	}
	// The store call's time starts now, after any wait for bcrypt.
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.store.AddTXT(ctx, req.Subdomain, req.TXT, h.cfg.TXTLimit, h.cfg.TXTExpire)
	h.changed(err)
	if err != nil {
		h.storeError("update", err)
		updates.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	updates.WithLabelValues("ok").Inc()
	h.audit(client, "update", req.Subdomain, "ok")
	writeJSON(w, http.StatusOK, []byte(`{"txt": "`+req.TXT+`"}`))
}

// unregister deletes the caller's own registration, authenticated exactly
// as an update.
func (h *api) unregister(w http.ResponseWriter, r *http.Request) {
	req, client, ok := h.credentialed(w, r, "unregister", unregistrations)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	err := h.store.Delete(ctx, req.Subdomain)
	h.changed(err)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.storeError("unregister", err)
		unregistrations.WithLabelValues("unavailable").Inc()
		writeError(w, http.StatusServiceUnavailable, codeUnavailable)
		return
	}
	unregistrations.WithLabelValues("ok").Inc()
	h.audit(client, "unregister", req.Subdomain, "ok")
	// The subdomain is a valid label (its account was found): no escaping.
	writeJSON(w, http.StatusOK, []byte(`{"unregistered": "`+req.Subdomain+`"}`))
}

// credentialed reads and authenticates a request that carries an
// account's credentials. When it returns false it has answered, counted
// the result in results and, for a refused authentication, audited action.
func (h *api) credentialed(w http.ResponseWriter, r *http.Request, action string, results *prometheus.CounterVec) (updateRequest, netip.Addr, bool) {
	client := clientIP(r, h.cfg.TrustedProxies)
	body, result := readBody(w, r)
	if result != "" {
		results.WithLabelValues(result).Inc()
		return updateRequest{}, client, false
	}
	req, err := h.authenticate(w, r, client, body)
	if err != nil {
		result := h.refuse(w, r, err, "account")
		if result == "forbidden" {
			h.audit(client, action, req.Subdomain, result)
		}
		results.WithLabelValues(result).Inc()
		return req, client, false
	}
	return req, client, true
}
