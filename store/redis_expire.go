package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ExpireTXT implements Expirer. It reads the subdomains due from the expiry
// index (ZRANGE BYSCORE, at most limit and one more to tell whether more are
// left) and runs expireScript on each record in turn, which drops what is
// still expired and journals the drop (see Redis): of replicas sweeping at
// once, only the one whose script dropped a value journals it.
func (r *Redis) ExpireTXT(ctx context.Context, maxAge time.Duration, limit int) (int, bool, error) {
	if err := checkExpire(maxAge, limit); err != nil {
		return 0, false, err
	}
	t := now()
	cutoff := unixSeconds(t.Add(-maxAge))
	due, err := r.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key:     r.expiryKey(),
		Start:   "-inf",
		Stop:    "(" + strconv.FormatInt(cutoff, 10),
		ByScore: true,
		Count:   int64(limit) + 1,
	}).Result()
	if err != nil {
		return 0, false, err
	}
	more := len(due) > limit
	changed := 0
	for _, sub := range due[:min(len(due), limit)] {
		reply, err := r.journaled(ctx, expireScript, ChangeTXT, sub, cutoff, unixArg(t), r.channel, sub)
		r.invalidateOwn(sub)
		if len(reply) >= 3 {
			changed++
		}
		if err != nil {
			return changed, true, err
		}
	}
	return changed, more, nil
}
