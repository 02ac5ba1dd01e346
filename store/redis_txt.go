package store

import (
	"context"
	"time"
)

// AddTXT implements Store; the change is journaled (see Redis).
func (r *Redis) AddTXT(ctx context.Context, subdomain, value string, keep int, maxAge time.Duration) error {
	if err := checkAdd(subdomain, value, keep); err != nil {
		return err
	}
	t := now()
	oldest := unixArg(expiry(t, maxAge))
	changed, err := r.journaled(ctx, addTXTScript, ChangeTXT, subdomain, value, keep, unixArg(t), oldest, r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if err != nil {
		return err
	}
	if changed == nil {
		return ErrNotFound
	}
	return nil
}

// ClearTXT implements Store; the change is journaled (see Redis).
func (r *Redis) ClearTXT(ctx context.Context, subdomain string) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	changed, err := r.journaled(ctx, clearScript, ChangeTXT, subdomain, unixArg(now()), r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if err != nil {
		return err
	}
	if changed == nil {
		return ErrNotFound
	}
	return nil
}

// invalidateOwn drops a subdomain this replica just wrote (or tried to), so
// that it reads its own writes without waiting for its own invalidation.
func (r *Redis) invalidateOwn(subdomain string) { r.cache.invalidate(subdomain) }
