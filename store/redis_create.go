package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// claimTries bounds how often a create retries a stale claim that
	// changed under it.
	claimTries = 3
	// claimPending is how long a taken-over claim stays pending at most: a
	// create that stalls longer between its takeover and its confirmation
	// loses the claim.
	claimPending = 30 * time.Second
	// claimWait bounds how long a create waits for another create's pending
	// takeover of its claim to be resolved.
	claimWait = 5 * time.Second
)

// userClaim is a create's hold on a username (see Redis).
type userClaim struct {
	key, user, sub string
	owned          bool   // this create set the claim
	prev           string // the stale holder it took the claim over from, if any
}

// Register implements Store.
func (r *Redis) Register(ctx context.Context, a Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	return r.create(ctx, Record{Account: a})
}

// Create implements Store.
func (r *Redis) Create(ctx context.Context, rec Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	return r.create(ctx, rec)
}

// create claims the username, adds the subdomain to the sorted set of
// accounts, creates the record (journaling it), and then confirms the
// claim.
func (r *Redis) create(ctx context.Context, rec Record) error {
	rec = newRecord(rec, now())
	args, err := createArgs(rec)
	if err != nil {
		return err
	}
	claim, err := r.claimUser(ctx, rec.Username, rec.Subdomain)
	if err != nil {
		return err // a claim it may have set is stale, and taken over later
	}
	if _, err := r.write(ctx, listAddScript, r.accountsKey(), rec.Subdomain); err != nil {
		return err
	}
	args = append(args, r.channel, rec.Subdomain)
	created, err := r.journaled(ctx, createScript, ChangeCreated, rec.Subdomain, args...)
	r.index.add(rec.Subdomain) // it may be registered now, whatever err says
	r.invalidateOwn(rec.Subdomain)
	if err != nil {
		return err
	}
	if created == nil {
		r.release(ctx, claim)
		return ErrExists
	}
	return r.confirmClaim(ctx, claim)
}

// createArgs are the fields createScript stores, in its order.
func createArgs(rec Record) ([]any, error) {
	allow, err := encodeAllow(rec.AllowFrom)
	if err != nil {
		return nil, err
	}
	t, s, sum := encodeValues(rec.TXT)
	return []any{rec.Username, rec.PasswordHash, allow, t, s, sum, unixArg(rec.Created), unixArg(rec.Updated)}, nil
}

// claimUser claims user for sub: it sets the claim if there is none, takes
// over a stale one (pending until confirmClaim), and fails with
// ErrUsernameTaken if a live account or a pending takeover holds it. A
// pending claim that names sub already (a concurrent create of the same
// account) is used as it is, but not owned.
func (r *Redis) claimUser(ctx context.Context, user, sub string) (userClaim, error) {
	c := userClaim{key: r.userKey(user), user: user, sub: sub}
	for range claimTries {
		holder, pending, err := r.tryClaim(ctx, c.key, sub)
		switch {
		case err != nil:
			return c, err
		case holder == "":
			c.owned = true
			return c, nil
		case pending && holder == sub:
			return c, nil
		case pending:
			return c, ErrUsernameTaken
		}
		live, err := r.holds(ctx, holder, user)
		switch {
		case err != nil:
			return c, err
		case live && holder == sub:
			return c, ErrExists
		case live:
			return c, ErrUsernameTaken
		}
		n, err := r.write(ctx, takeoverScript, c.key, holder, sub, claimPending.Milliseconds())
		if err != nil {
			return c, err
		}
		if n == 1 {
			c.owned, c.prev = true, holder
			return c, nil
		}
	}
	return c, ErrUsernameTaken
}

// tryClaim runs claimScript: the claim's former holder ("" if it set it)
// and whether that holder's claim is a pending takeover.
func (r *Redis) tryClaim(ctx context.Context, key, sub string) (holder string, pending bool, err error) {
	res, err := r.run(ctx, claimScript, []string{key}, sub)
	if err != nil {
		return "", false, err
	}
	reply, ok := res.([]any)
	if !ok || len(reply) != 2 {
		return "", false, fmt.Errorf("store: unexpected claim reply %v", res)
	}
	holder, _ = reply[0].(string)
	ttl, _ := reply[1].(int64)
	return holder, ttl >= 0, nil
}

// holds reports whether the record of sub exists with the username user.
func (r *Redis) holds(ctx context.Context, sub, user string) (bool, error) {
	u, err := r.client.HGet(ctx, r.Key(sub), fieldUser).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil && u == user, err
}
