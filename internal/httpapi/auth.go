package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// errForbiddenUpdate is every authentication failure, whatever its cause,
// but one:
var errForbiddenUpdate = errors.New("forbidden")

// errHashCost: the account's stored hash has a cost above MaxHashCost (it
// was stored before acmedns bounded it), so it is never compared.
var errHashCost = errors.New("stored password hash too costly")

// rateLimited is a client over its budget; retryAfter says when a token is back.
type rateLimited struct{ retryAfter time.Duration }

// Error implements error.
func (e *rateLimited) Error() string { return "rate limited" }

// authenticate checks an update's credentials, source address and
// subdomain. It returns errForbiddenUpdate for bad credentials, a
// *rateLimited when the client has spent its failure budget, a *busyError
// or errGone from bcrypt admission, and any other error is the store's.
//
// Only credentials naming a real account run bcrypt. Failed
// authentications spend the client's failure budget; a compare holds one
// token while it runs and a success gives it back, so a working client is
// never limited by its own traffic, however many of its updates come at
// once. A verified-credential cache hit needs no budget at all.
func (h *api) authenticate(w http.ResponseWriter, r *http.Request, client netip.Addr, body []byte) (updateRequest, error) {
	k := asker{ctx: r.Context(), client: client, w: w}
	user, err := uuid.Parse(r.Header.Get("X-Api-User"))
	key := r.Header.Get("X-Api-Key")
	req, ok := decodeUpdate(body)
	if err != nil || !validToken(key, 40) {
		return req, h.failed(client)
	}
	if !ok {
		return req, h.unknown(k)
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	acct, err := h.store.Account(ctx, req.Subdomain)
	cancel()
	if errors.Is(err, store.ErrNotFound) || err == nil && acct.Username != user.String() {
		return req, h.unknown(k)
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
	if cost, ok := hashCost(acct.PasswordHash); !ok {
		return req, h.unknown(k) // no key can match
	} else if cost > MaxHashCost {
		return req, h.costly(client, acct.Subdomain, cost)
	}
	if err := h.compare(k, acct.PasswordHash, key); err != nil {
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

// costly refuses to compare against a stored hash above MaxHashCost, and
// logs which account needs a new password. It spends a token of the
// client's budget, so the log line cannot be repeated faster than that.
func (h *api) costly(client netip.Addr, subdomain string, cost int) error {
	if err := h.failed(client); !errors.Is(err, errForbiddenUpdate) {
		return err
	}
	log.Warningf("account %s: its stored password hash has bcrypt cost %d, above the %d acmedns compares; "+
		"refused without a compare: give it a new password (admin API rotate)", subdomain, cost, MaxHashCost)
	return errHashCost
}

// unknown fails credentials that name no account without running bcrypt:
// a token of the client's budget, then the time a compare would have taken
// (a sleep, no slot), so that the answer's timing does not tell.
func (h *api) unknown(k asker) error {
	if err := h.failed(k.client); !errors.Is(err, errForbiddenUpdate) {
		return err
	}
	if err := h.gate.mimic(k); err != nil {
		h.failureLimit.refund(k.client) // refused as a compare would be: nothing was tried
		return err
	}
	return errForbiddenUpdate
}

// compare checks key against hash with bcrypt, within the client's failure
// budget and the process's bcrypt admission. The budget is checked before
// the request waits for a slot and a token is spent when the compare
// starts; it returns nil on a match with the token spent: a caller that
// succeeds refunds it.
func (h *api) compare(k asker, hash []byte, key string) error {
	if ok, retry := h.failureLimit.has(k.client); !ok {
		authentications.WithLabelValues("failed").Inc()
		return &rateLimited{retry}
	}
	err := h.gate.run(k, "compare", func() error {
		if ok, retry := h.failureLimit.take(k.client); !ok {
			return &rateLimited{retry}
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(key)) != nil {
			return errForbiddenUpdate
		}
		return nil
	})
	var limited *rateLimited
	if errors.Is(err, errForbiddenUpdate) || errors.As(err, &limited) {
		authentications.WithLabelValues("failed").Inc()
	}
	return err
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
	Record    string `json:"record"` // of /persist
	Issuer    string `json:"issuer"` // of /unpersist
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
