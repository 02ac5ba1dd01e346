package store

import (
	"cmp"
	"context"
	"fmt"
)

// Record implements Store.
func (r *Redis) Record(ctx context.Context, subdomain string) (Record, error) {
	if !ValidSubdomain(subdomain) {
		return Record{}, ErrNotFound
	}
	vals, err := r.client.HMGet(ctx, r.Key(subdomain), recordFields...).Result()
	if err != nil {
		return Record{}, err
	}
	return decodeRecord(subdomain, vals)
}

// Delete implements Store. This replica answers ErrNotFound for subdomain
// at once, and the others as soon as the deletion's message reaches them.
func (r *Redis) Delete(ctx context.Context, subdomain string) error {
	if !ValidSubdomain(subdomain) {
		return ErrNotFound
	}
	found, err := r.remove(ctx, subdomain, "")
	if err == nil && !found {
		return ErrNotFound
	}
	return err
}

// remove deletes the record of subdomain (journaling the deletion), then its
// member of the sorted set of accounts, then releases its username's claim
// to prev ("": to nobody) if the claim still names it. It reports whether
// there was a record.
func (r *Redis) remove(ctx context.Context, subdomain, prev string) (bool, error) {
	mark := r.index.addMark()
	reply, err := r.journaled(ctx, deleteScript, ChangeDeleted, subdomain, r.channel, deletedMark+subdomain)
	r.invalidateOwn(subdomain)
	if len(reply) != 4 {
		return false, err
	}
	r.index.removeOwn(subdomain, mark)
	// Also after ErrNotReplicated, or a failed journal step: the master
	// deleted the record.
	_, lerr := r.write(ctx, listRemoveScript, r.accountsKey(), subdomain)
	var cerr error
	if user, _ := reply[3].(string); user != "" {
		_, cerr = r.write(ctx, releaseScript, r.userKey(user), subdomain, prev)
	}
	return true, cmp.Or(err, lerr, cerr)
}

// SetPassword implements Store.
func (r *Redis) SetPassword(ctx context.Context, subdomain string, hash []byte) (Record, error) {
	if len(hash) == 0 {
		return Record{}, fmt.Errorf("store: empty password hash")
	}
	return r.setField(ctx, subdomain, fieldPass, string(hash))
}

// SetAllowFrom implements Store.
func (r *Redis) SetAllowFrom(ctx context.Context, subdomain string, allow []string) (Record, error) {
	value, err := encodeAllow(allow)
	if err != nil {
		return Record{}, err
	}
	return r.setField(ctx, subdomain, fieldAllow, value)
}

// setField sets one field of an account and returns the updated record.
func (r *Redis) setField(ctx context.Context, subdomain, field, value string) (Record, error) {
	if !ValidSubdomain(subdomain) {
		return Record{}, ErrNotFound
	}
	res, err := r.run(ctx, setFieldScript, []string{r.Key(subdomain)}, field, value, unixArg(now()), r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if res == nil {
		return Record{}, err
	}
	vals, ok := res.([]any)
	if !ok {
		return Record{}, ErrNotFound
	}
	rec, derr := decodeRecord(subdomain, vals)
	if derr != nil {
		return Record{}, derr
	}
	return rec, err
}
