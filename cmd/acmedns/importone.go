package main

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// kind is what happened to one account.
type kind int

// The outcomes of one account.
const (
	imported kind = iota
	replaced
	unchanged
	conflict
	skipped
	failed
	notTried // not attempted: the import stopped after a failure
)

// outcome is the result for one account.
type outcome struct {
	Kind      kind
	Subdomain string
	Username  string
	Reason    string
}

// importer imports entries into one acmedns.
type importer struct {
	client    *adminClient
	dryRun    bool
	overwrite bool
}

// one imports e and says what happened.
func (im *importer) one(ctx context.Context, e entry) outcome {
	out := outcome{Subdomain: e.Subdomain, Username: e.Username}
	if ctx.Err() != nil {
		out.Kind = notTried
		return out
	}
	if im.dryRun {
		return im.compare(ctx, e, out)
	}
	err := im.retry(ctx, func() error { return im.client.do(ctx, http.MethodPost, "/accounts", e, nil) })
	switch {
	case err == nil:
		out.Kind = imported
	case isCode(err, http.StatusConflict, ""):
		return im.compare(ctx, e, out)
	case isRuntime(err):
		out.Kind, out.Reason = failed, err.Error()
	default:
		out.Kind, out.Reason = skipped, "refused by acmedns: "+err.Error()
	}
	return out
}

// compare reads the existing account and decides: unchanged, a conflict,
// or (with --overwrite) replaced. In a dry run a missing account is one
// that would be imported.
func (im *importer) compare(ctx context.Context, e entry, out outcome) outcome {
	var a account
	err := im.retry(ctx, func() (err error) { a, err = im.client.get(ctx, e.Subdomain); return err })
	switch {
	case isCode(err, http.StatusNotFound, "") && im.dryRun:
		out.Kind = imported
		return out
	case isCode(err, http.StatusNotFound, ""):
		out.Kind, out.Reason = conflict, "the username "+e.Username+" belongs to another account in acmedns"
		return out
	case err != nil:
		out.Kind, out.Reason = failed, err.Error()
		return out
	}
	diffs := differences(e, a)
	switch {
	case len(diffs) == 0:
		out.Kind = unchanged
	case im.overwrite && !im.dryRun:
		return im.replace(ctx, e, out)
	case im.overwrite:
		out.Kind, out.Reason = replaced, strings.Join(diffs, "; ")
	default:
		out.Kind, out.Reason = conflict, strings.Join(diffs, "; ")
	}
	return out
}

// replace deletes the existing account and creates it from e.
func (im *importer) replace(ctx context.Context, e entry, out outcome) outcome {
	err := im.retry(ctx, func() error { return im.client.delete(ctx, e.Subdomain) })
	if err != nil && !isCode(err, http.StatusNotFound, "") {
		out.Kind, out.Reason = failed, err.Error()
		return out
	}
	err = im.retry(ctx, func() error { return im.client.do(ctx, http.MethodPost, "/accounts", e, nil) })
	switch {
	case err == nil:
		out.Kind = replaced
	case isCode(err, http.StatusConflict, ""):
		out.Kind, out.Reason = conflict, "the username "+e.Username+" belongs to another account in acmedns"
	case isRuntime(err):
		out.Kind, out.Reason = failed, err.Error()
	default:
		out.Kind, out.Reason = skipped, "refused by acmedns: "+err.Error()
	}
	return out
}

// retry runs call up to 4 times while it fails for a passing reason (the
// server unreachable or busy), backing off between tries.
func (im *importer) retry(ctx context.Context, call func() error) error {
	var err error
	for try := 0; ; try++ {
		if err = call(); err == nil || !isRuntime(err) || isCode(err, http.StatusUnauthorized, "") || try == 3 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(100<<try) * time.Millisecond):
		}
	}
}
