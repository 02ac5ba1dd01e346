package store

import (
	"context"
	"fmt"
	"time"
)

// rollbackTimeout bounds the deletion of a record whose create lost its
// username, which runs even when the create's context is done.
const rollbackTimeout = 5 * time.Second

// confirmClaim keeps a created record only if the holder its claim was taken
// over from is not live after all (its create was in flight when it looked
// stale) and the claim still names it, and then makes the claim permanent.
// Otherwise it deletes the record again and fails with ErrUsernameTaken.
func (r *Redis) confirmClaim(ctx context.Context, c userClaim) error {
	if c.prev != "" && c.prev != c.sub {
		live, err := r.holds(ctx, c.prev, c.user)
		if err != nil {
			return fmt.Errorf("store: confirming the username claim: %w", err)
		}
		if live {
			return r.rollback(ctx, c)
		}
	}
	kept, err := r.keepClaim(ctx, c)
	if err != nil {
		return fmt.Errorf("store: confirming the username claim: %w", err)
	}
	if !kept {
		return r.rollback(ctx, c)
	}
	return nil
}

// keepClaim makes the claim permanent if it names c.sub. While another
// create's takeover of it is pending, which ends with the claim given back
// (that create found this record live) or kept, it waits for the outcome,
// at most claimWait.
func (r *Redis) keepClaim(ctx context.Context, c userClaim) (bool, error) {
	deadline := time.Now().Add(claimWait)
	for {
		n, err := r.write(ctx, persistScript, c.key, c.sub)
		if err != nil || n == 1 {
			return n == 1, err
		}
		ttl, err := r.client.PTTL(ctx, c.key).Result()
		if err != nil || ttl < 0 || time.Now().After(deadline) {
			return false, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// rollback deletes the record of a create that lost its username, and gives
// a claim it took over back to the former holder.
func (r *Redis) rollback(ctx context.Context, c userClaim) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := r.remove(ctx, c.sub, c.former()); err != nil {
		return err
	}
	return ErrUsernameTaken
}

// release undoes the claim of a create that found its subdomain taken. If
// the account that has the subdomain has the username too (a concurrent
// create of the same account won), the claim names it: it is made
// permanent. Otherwise a claim this create set goes back to the holder it
// took it over from, or away. It is best effort: a claim left is stale.
func (r *Redis) release(ctx context.Context, c userClaim) {
	if !c.owned {
		return
	}
	same, err := r.holds(ctx, c.sub, c.user)
	switch {
	case err != nil:
	case same:
		r.write(ctx, persistScript, c.key, c.sub)
	default:
		r.write(ctx, releaseScript, c.key, c.sub, c.former())
	}
}

// former is what c's claim goes back to: the holder it was taken over from,
// or nobody ("") when that was the same subdomain or there was none.
func (c userClaim) former() string {
	if c.prev == c.sub {
		return ""
	}
	return c.prev
}
