package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// errForbiddenUpdate is every authentication failure, whatever its cause.
var errForbiddenUpdate = errors.New("forbidden")

// rateLimited is a client over its budget; retryAfter says when a token is back.
type rateLimited struct{ retryAfter time.Duration }

// Error implements error.
func (e *rateLimited) Error() string { return "rate limited" }

// authenticate checks an update's credentials, source address and
// subdomain. It returns errForbiddenUpdate for bad credentials, a
// *rateLimited when the client has spent its failure budget and the request
// would need bcrypt (or failed), errBusy or errGone from bcrypt admission,
// and any other error is the store's.
//
// Failed authentications spend the client's failure budget; a success gives
// back what its bcrypt compare took, so a working client is never limited by
// its own traffic. A verified-credential cache hit needs no budget at all.
func (h *api) authenticate(r *http.Request, client netip.Addr, body []byte) (updateRequest, error) {
	user, err := uuid.Parse(r.Header.Get("X-Api-User"))
	key := r.Header.Get("X-Api-Key")
	req, ok := decodeUpdate(body)
	if err != nil || !validToken(key, 40) {
		return req, h.failed(client)
	}
	if !ok {
		return req, h.spendCompare(r.Context(), client, key)
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	acct, err := h.store.Account(ctx, req.Subdomain)
	cancel()
	if errors.Is(err, store.ErrNotFound) || err == nil && acct.Username != user.String() {
		return req, h.spendCompare(r.Context(), client, key)
	}
	if err != nil {
		return req, err
	}
	if h.auth.verified(acct.Username, key, acct.PasswordHash) {
		if !h.allowed(acct, client) {
			return req, h.failed(client)
		}
		authentications.WithLabelValues("cached").Inc()
		return req, nil
	}
	if err := h.compare(r.Context(), client, acct.PasswordHash, key); err != nil {
		return req, err
	}
	h.auth.remember(acct.Username, key, acct.PasswordHash)
	if !h.allowed(acct, client) {
		return req, h.failed(client)
	}
	h.failureLimit.refund(client)
	authentications.WithLabelValues("bcrypt").Inc()
	return req, nil
}

// allowed reports whether client may update acct.
func (h *api) allowed(acct store.Account, client netip.Addr) bool {
	return len(acct.AllowFrom) == 0 || allowedFrom(acct.AllowFrom, client)
}

// failed counts a failed authentication that spent no bcrypt: a token of
// the client's budget, or 429 when none is left.
func (h *api) failed(client netip.Addr) error {
	authentications.WithLabelValues("failed").Inc()
	if ok, retry := h.failureLimit.take(client); !ok {
		return &rateLimited{retry}
	}
	return errForbiddenUpdate
}

// compare checks key against hash with bcrypt, within the client's failure
// budget and the process's bcrypt admission. It returns nil on a match and
// leaves the budget token spent: a caller that succeeds refunds it.
func (h *api) compare(ctx context.Context, client netip.Addr, hash []byte, key string) error {
	if ok, retry := h.failureLimit.take(client); !ok {
		authentications.WithLabelValues("failed").Inc()
		return &rateLimited{retry}
	}
	var mismatch error
	if err := h.gate.run(ctx, client, func() { mismatch = bcrypt.CompareHashAndPassword(hash, []byte(key)) }); err != nil {
		h.failureLimit.refund(client) // nothing was tried
		return err
	}
	if mismatch != nil {
		authentications.WithLabelValues("failed").Inc()
		return errForbiddenUpdate
	}
	return nil
}

// spendCompare compares key against a hash no key matches, so that an
// unknown user or subdomain costs as much time as a wrong key, and fails.
func (h *api) spendCompare(ctx context.Context, client netip.Addr, key string) error {
	if err := h.compare(ctx, client, dummyHash(), key); err != nil {
		return err
	}
	return errForbiddenUpdate // unreachable: no key matches the dummy hash
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

type updateRequest struct {
	Subdomain string `json:"subdomain"`
	TXT       string `json:"txt"`
}

// decodeUpdate reads {"subdomain": ..., "txt": ...}: keys in any case, bytes
// after the JSON value ignored, the subdomain lower-cased. A field of the
// wrong type (a number for txt, say) keeps the fields that could be read,
// as acme-dns does: the update then fails on what is missing, bad_txt for
// txt once the credentials check out.
func decodeUpdate(body []byte) (updateRequest, bool) {
	var req updateRequest
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&req)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
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
