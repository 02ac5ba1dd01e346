package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// persistBackend is where persist sets, removes and lists the records of
// one account: the public API with the account's credentials, or the
// admin API.
type persistBackend struct {
	client     *adminClient
	admin      bool
	sub        string
	fulldomain string
	records    []string // admin: the records GET /accounts/SUB showed
	source     string   // for people, without the path of the URL
	red        redactor
}

// openBackend finds the account and a client for it. On failure it prints
// the error and returns the exit code.
func openBackend(ctx context.Context, f persistFlags, stderr io.Writer) (*persistBackend, int) {
	domain := baseDomain(f.domain)
	if f.adminFlags.url != "" {
		return openAdmin(ctx, f, domain, stderr)
	}
	cred, err := lookupStorage(f.storage, domain)
	if err != nil {
		fmt.Fprintf(stderr, "acmedns persist: %s\n", inert(err.Error()))
		return nil, exitRuntime
	}
	base := strings.TrimSuffix(f.api, "/")
	if base == "" {
		base = strings.TrimSuffix(cred.ServerURL, "/")
	}
	if base == "" {
		fmt.Fprintf(stderr, "acmedns persist: the account of %s in %s has no server_url: give --api URL\n", domain, inert(f.storage))
		return nil, exitRuntime
	}
	red := newRedactor(base)
	return &persistBackend{
		client: newUserClient(base, cred.Username, cred.Password),
		sub:    cred.SubDomain, fulldomain: cred.FullDomain, red: red,
		source: "the public API " + red.url(base) + " (the credentials of " + domain + " in " + inert(f.storage) + ")",
	}, exitOK
}

// openAdmin reads the account on the admin API: its fulldomain and
// records.
func openAdmin(ctx context.Context, f persistFlags, domain string, stderr io.Writer) (*persistBackend, int) {
	sub := f.sub
	if sub == "" {
		cred, err := lookupStorage(f.storage, domain)
		if err != nil {
			fmt.Fprintf(stderr, "acmedns persist: %s (or give --subdomain SUB)\n", inert(err.Error()))
			return nil, exitRuntime
		}
		sub = cred.SubDomain
	}
	b := &persistBackend{client: newAdminClient(f.adminFlags.url, f.adminFlags.token, 1), admin: true, sub: sub, source: "the admin API"}
	a, err := b.client.get(ctx, sub)
	if err != nil {
		b.client.close()
		msg, code := b.explain(err, "GET /accounts/"+sub)
		fmt.Fprintf(stderr, "acmedns persist: %s\n", msg)
		return nil, code
	}
	b.fulldomain, b.records = a.Fulldomain, a.Persist
	return b, exitOK
}

// set publishes record and returns it as the server stored it: /persist
// answers {"record": ...}, the admin API the account, where the stored
// record is the one of the same issuer.
func (b *persistBackend) set(ctx context.Context, record string) (string, error) {
	if b.admin {
		var a account
		err := b.client.do(ctx, http.MethodPut, "/accounts/"+url.PathEscape(b.sub)+"/persist", map[string]string{"record": record}, &a)
		if err != nil {
			return "", err
		}
		return storedRecord(a.Persist, record), nil
	}
	var out struct {
		Record string `json:"record"`
	}
	err := b.client.do(ctx, http.MethodPost, "/persist", map[string]string{"subdomain": b.sub, "record": record}, &out)
	if out.Record == "" {
		out.Record = record
	}
	return out.Record, err
}

// storedRecord is the record of records with the issuer of sent, or sent
// itself when none has it.
func storedRecord(records []string, sent string) string {
	want, err := parseIssueValue(sent)
	if err != nil {
		return sent
	}
	for _, r := range records {
		if v, err := parseIssueValue(r); err == nil && v.Issuer == want.Issuer {
			return r
		}
	}
	return sent
}

// remove deletes the record of issuer; removing one that is not there is
// no error.
func (b *persistBackend) remove(ctx context.Context, issuer string) error {
	if b.admin {
		return b.client.do(ctx, http.MethodDelete, "/accounts/"+url.PathEscape(b.sub)+"/persist/"+url.PathEscape(issuer), nil, nil)
	}
	return b.client.do(ctx, http.MethodPost, "/unpersist", map[string]string{"subdomain": b.sub, "issuer": issuer}, nil)
}

// explain turns an error of call into a message for people and an exit
// code: 1 when the server refused the data (400) or the account does not
// exist (admin 404), 3 when the server could not be used.
func (b *persistBackend) explain(err error, call string) (string, int) {
	var e *apiError
	if !errors.As(err, &e) {
		return fmt.Sprintf("%s: %s", call, b.red.text(transportError(err))), exitRuntime
	}
	code := b.red.text(e.Code)
	switch {
	case e.Status == http.StatusBadRequest && e.Code == "bad_record":
		return fmt.Sprintf("%s: the server refused the record as invalid (bad_record)", call), exitFailed
	case e.Status == http.StatusBadRequest && e.Code == "too_many_records":
		return fmt.Sprintf("%s: the account already has as many records as the server allows (too_many_records): remove one (acmedns persist remove --issuer CA) first", call), exitFailed
	case e.Status == http.StatusBadRequest:
		return fmt.Sprintf("%s: the server refused the request: HTTP 400 %s", call, code), exitFailed
	case e.Status == http.StatusNotFound && b.admin && strings.HasPrefix(call, "GET "):
		return fmt.Sprintf("%s: the account %s does not exist (HTTP 404 %s)", call, inert(b.sub), code), exitFailed
	case e.Status == http.StatusNotFound:
		hint := "the URL is wrong"
		if !b.admin {
			hint = "the URL is wrong (give --api with the public API's base URL)"
		}
		return fmt.Sprintf("%s: HTTP 404 %s: the server does not serve this call (an acmedns without dns-persist-01 support?) or %s", call, code, hint), exitRuntime
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		what := "the account's credentials or this client's address (allowfrom)"
		if b.admin {
			what = "the admin token"
		}
		return fmt.Sprintf("%s: HTTP %d %s: the server refused %s", call, e.Status, code, what), exitRuntime
	}
	return fmt.Sprintf("%s: HTTP %d %s", call, e.Status, code), exitRuntime
}
