package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint of each SCAN of a load.
const scanCount = 1000

// errNoScan is the load error of a client whose nodes cannot all be
// scanned; its index is never trusted.
var errNoScan = errors.New("store: cannot scan every node of this Redis client")

// reload distrusts the index and loads it again in the background, retrying
// until it completes. The returned func abandons the load; so does a later
// reload, a distrust of the index, and Close.
func (r *Redis) reload(ctx context.Context) (stop func()) {
	hint := r.index.len()
	b := r.index.startBuild(hint + hint/8)
	ctx, cancel := context.WithCancel(ctx)
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		r.load(ctx, b)
	}()
	return cancel
}

// load scans the registrations into b and installs them, starting over
// after a failed scan until ctx is done.
func (r *Redis) load(ctx context.Context, b *indexBuild) {
	wait := 100 * time.Millisecond
	for {
		err := r.scan(ctx, b)
		if err == nil {
			r.index.finishBuild(b)
			return
		}
		if errors.Is(err, errNoScan) {
			return
		}
		b.reset()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// scan inserts into b every subdomain with a registration key: from each
// master of a Cluster, or from the one server of a plain or Sentinel client.
// It adds each batch it finds to the sorted set of accounts too, so that
// List has the accounts an earlier release wrote.
func (r *Redis) scan(ctx context.Context, b *indexBuild) error {
	prefix := r.Key("")
	match := escapeGlob(prefix) + "*"
	node := func(ctx context.Context, c *redis.Client) error {
		return scanNode(ctx, c, match, func(keys []string) {
			subs := make([]string, 0, len(keys))
			for _, k := range keys {
				if sub := strings.TrimPrefix(k, prefix); ValidSubdomain(sub) {
					b.insert(sub)
					subs = append(subs, sub)
				}
			}
			r.backfill(ctx, subs)
		})
	}
	switch c := r.client.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, node)
	case *redis.Client:
		return node(ctx, c)
	default:
		return errNoScan
	}
}

// scanNode SCANs one server for the keys matching match, a page of
// scanCount keys at a time, and passes each page to found.
func scanNode(ctx context.Context, c *redis.Client, match string, found func(keys []string)) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return err
		}
		found(keys)
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// backfill adds subdomains to the sorted set of accounts, in one ZADD. It is
// best effort: an index load does not fail for it (Redis may refuse writes
// and still serve lookups), and the next load adds what it missed. A member
// it adds for a record deleted since the SCAN saw it is skipped by List.
func (r *Redis) backfill(ctx context.Context, subdomains []string) {
	if len(subdomains) == 0 {
		return
	}
	members := make([]redis.Z, len(subdomains))
	for i, sub := range subdomains {
		members[i] = redis.Z{Member: sub}
	}
	r.client.ZAdd(ctx, r.accountsKey(), members...)
}

// escapeGlob quotes the characters of s that a SCAN MATCH pattern treats
// specially.
func escapeGlob(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}
