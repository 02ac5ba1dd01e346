package main

import (
	"context"
	"net/http"
	"net/url"
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

// action is the write an import decided on for one account.
type action int

// The writes of an import.
const (
	writeNothing action = iota
	writeCreate         // POST /accounts
	writeReplace        // PUT /accounts/{subdomain}, in place
)

// importer imports entries into one acmedns.
type importer struct {
	client    *adminClient
	dryRun    bool
	overwrite bool
	owners    owners // usernames of acmedns, read before the import
}

// one imports e and says what happened. The dry run takes the same
// decision and stops before the write.
func (im *importer) one(ctx context.Context, e entry) outcome {
	out := outcome{Subdomain: e.Subdomain, Username: e.Username}
	if ctx.Err() != nil {
		out.Kind = notTried
		return out
	}
	act, out := im.plan(ctx, e, out)
	if act == writeNothing || im.dryRun {
		return out
	}
	return im.write(ctx, e, act, out)
}

// plan reads the account of e's subdomain and decides. A missing account
// is created unless its username belongs to another account; an existing
// one is unchanged, a conflict, or (with --overwrite, and only under the
// same username) replaced in place. Nothing is ever deleted, so what an
// import decides for one account cannot change what it decides for
// another, and the dry run predicts the run.
func (im *importer) plan(ctx context.Context, e entry, out outcome) (action, outcome) {
	var a account
	err := im.retry(ctx, func() (err error) { a, err = im.client.get(ctx, e.Subdomain); return err })
	switch {
	case isCode(err, http.StatusNotFound, ""):
		if owner, ok := im.owners.elsewhere(e.Username, e.Subdomain); ok {
			out.Kind, out.Reason = conflict, "the username "+e.Username+" belongs to the account "+owner+" in acmedns"
			return writeNothing, out
		}
		out.Kind = imported
		return writeCreate, out
	case err != nil:
		out.Kind, out.Reason = failed, err.Error()
		return writeNothing, out
	}
	return im.planExisting(e, a, out)
}

// planExisting decides for an account acmedns has.
func (im *importer) planExisting(e entry, a account, out outcome) (action, outcome) {
	diffs := differences(e, a)
	switch {
	case len(diffs) == 0:
		out.Kind = unchanged
		return writeNothing, out
	case im.overwrite && !strings.EqualFold(a.Username, e.Username):
		diffs = append(diffs, "--overwrite replaces an account only under its own username: delete it first to import it")
	case im.overwrite:
		out.Kind, out.Reason = replaced, strings.Join(diffs, "; ")
		return writeReplace, out
	}
	out.Kind, out.Reason = conflict, strings.Join(diffs, "; ")
	return writeNothing, out
}

// write carries out the plan. A create that finds the subdomain or the
// username taken since the plan is planned again from the account as it
// is now.
func (im *importer) write(ctx context.Context, e entry, act action, out outcome) outcome {
	var err error
	if act == writeCreate {
		err = im.retry(ctx, func() error { return im.client.do(ctx, http.MethodPost, "/accounts", e, nil) })
	} else {
		path := "/accounts/" + url.PathEscape(e.Subdomain)
		err = im.retry(ctx, func() error { return im.client.do(ctx, http.MethodPut, path, e, nil) })
	}
	switch {
	case err == nil:
		return out
	case act == writeCreate && isCode(err, http.StatusConflict, ""):
		return im.replan(ctx, e, out)
	case isCode(err, http.StatusConflict, ""), isCode(err, http.StatusNotFound, ""):
		out.Kind, out.Reason = conflict, "the account changed in acmedns during the import ("+err.Error()+"): run again"
	case isRuntime(err):
		out.Kind, out.Reason = failed, err.Error()
	default:
		out.Kind, out.Reason = skipped, "refused by acmedns: "+err.Error()
	}
	return out
}

// replan decides again for an account whose create was refused as taken:
// its subdomain exists now, or its username belongs to another account.
func (im *importer) replan(ctx context.Context, e entry, out outcome) outcome {
	var a account
	err := im.retry(ctx, func() (err error) { a, err = im.client.get(ctx, e.Subdomain); return err })
	switch {
	case isCode(err, http.StatusNotFound, ""):
		out.Kind, out.Reason = conflict, "the username "+e.Username+" belongs to another account in acmedns"
		return out
	case err != nil:
		out.Kind, out.Reason = failed, err.Error()
		return out
	}
	act, out := im.planExisting(e, a, out)
	if act == writeNothing {
		return out
	}
	return im.write(ctx, e, act, out)
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
