package store

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// List implements Store. It reads the sorted set of accounts strictly after
// after ("(" is an exclusive bound; "(" alone, everything), a page of members
// at a time, and their records in one pipeline (split by
// node in a Cluster); a member whose record is gone is skipped. A page ends
// where limit records are found or the set does.
func (r *Redis) List(ctx context.Context, after string, limit int) ([]Record, string, error) {
	if err := checkLimit(limit); err != nil {
		return nil, "", err
	}
	recs := make([]Record, 0, min(limit, 1024))
	for {
		want := limit - len(recs)
		members, err := r.client.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: r.accountsKey(), Start: "(" + after, Stop: "+", ByLex: true, Count: int64(want + 1),
		}).Result()
		if err != nil {
			return nil, "", err
		}
		found, err := r.records(ctx, members)
		if err != nil {
			return nil, "", err
		}
		if len(found) > want { // a live record beyond this page
			recs = append(recs, found[:want]...)
			return recs, recs[len(recs)-1].Subdomain, nil
		}
		recs = append(recs, found...)
		if len(members) <= want { // the end of the set
			return recs, "", nil
		}
		after = members[len(members)-1]
	}
}

// records reads the records of subdomains in one pipeline, in their order,
// leaving out those that do not exist.
func (r *Redis) records(ctx context.Context, subdomains []string) ([]Record, error) {
	if len(subdomains) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(subdomains))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sub := range subdomains {
			cmds[i] = p.HMGet(ctx, r.Key(sub), recordFields...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	recs := make([]Record, 0, len(subdomains))
	for i, sub := range subdomains {
		rec, err := decodeRecord(sub, cmds[i].Val())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
