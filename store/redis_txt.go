package store

import (
	"context"
	"time"
)

// AddTXT implements Store.
func (r *Redis) AddTXT(ctx context.Context, subdomain, value string, keep int, maxAge time.Duration) error {
	if err := checkAdd(subdomain, value, keep); err != nil {
		return err
	}
	t := now()
	oldest := unixArg(expiry(t, maxAge))
	n, err := r.write(ctx, addTXTScript, r.Key(subdomain), value, keep, unixArg(t), oldest, r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ClearTXT implements Store.
func (r *Redis) ClearTXT(ctx context.Context, subdomain string) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	n, err := r.write(ctx, clearScript, r.Key(subdomain), unixArg(now()), r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// invalidateOwn drops a subdomain this replica just wrote (or tried to), so
// that it reads its own writes without waiting for its own invalidation.
func (r *Redis) invalidateOwn(subdomain string) { r.cache.invalidate(subdomain) }
