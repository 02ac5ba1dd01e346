package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every CoreDNS replica that points at the same
// Redis (and key prefix) serves the same registrations.
//
// A registration is one hash, <prefix>sub:<subdomain>, with the fields
// u (username), p (bcrypt hash), a (allowfrom as a JSON array) and t (the TXT
// values, newest first, separated by spaces). Writes run as Lua scripts on
// that one key, so they are atomic on a standalone server, behind Sentinel and
// in a Cluster alike; the same script publishes on <prefix>invalidate, which
// every replica listens to.
//
// A message on <prefix>invalidate is a subdomain, meaning "this subdomain was
// written" (registered or updated), or "-" and a subdomain, meaning "this
// subdomain was deleted" (a label never starts with a hyphen). A replica
// drops the subdomain from its TXT cache either way, and adds it to or
// removes it from its index of registered subdomains.
//
// The index lets a replica answer names that are not registered from
// memory. It is trusted only once a load, a SCAN of <prefix>sub:* (of every
// master in a Cluster) started after the subscription was confirmed, has
// completed: a registration is then either seen by the SCAN or its message
// arrives and is applied. From the moment the subscription may have missed a
// message until the next load completes, lookups go to Redis.
type Redis struct {
	client  redis.UniversalClient
	opts    RedisOptions
	channel string
	cache   *txtCache // nil: no TXT cache
	index   *subIndex

	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// RedisOptions tunes a Redis store.
type RedisOptions struct {
	// Prefix is prepended to every key and to the invalidation channel.
	Prefix string
	// CacheSize bounds the in-process cache of TXT lookups (entries); 0
	// disables it. The index of registered subdomains is kept either way.
	CacheSize int
	// WaitReplicas, when above 0, acknowledges a write only once that many
	// Redis replicas have it (WAIT), waiting at most WaitTimeout, which must
	// be shorter than the client's read timeout.
	WaitReplicas int
	WaitTimeout  time.Duration
	// CacheResult, if set, is told of each TXT lookup whether the cache
	// answered it (for metrics).
	CacheResult func(hit bool)
}

// ErrNotReplicated is returned when a write reached fewer replicas than
// RedisOptions.WaitReplicas in time. The write may still be on the master.
var ErrNotReplicated = errors.New("store: write not acknowledged by enough Redis replicas")

// pubsubHealth is how often a quiet invalidation subscription is pinged.
const pubsubHealth = time.Second

// NewRedis wraps a go-redis client. It subscribes to invalidations and
// loads the index in the background; Close stops that.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	r := &Redis{client: client, opts: opts, channel: opts.Prefix + "invalidate", stop: make(chan struct{}), index: newSubIndex()}
	if opts.CacheSize > 0 {
		r.cache = newTXTCache(opts.CacheSize)
	}
	r.done.Add(1)
	go r.subscribe()
	return r
}

var registerScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'p', ARGV[2], 'a', ARGV[3], 't', '')
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`)

// addTXTScript puts ARGV[1] first, drops an older copy of it (a retried
// update must not evict the other live value) and keeps ARGV[2] values.
var addTXTScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 't')
if not cur then return 0 end
local keep = tonumber(ARGV[2])
local out = ARGV[1]
local n = 1
for v in string.gmatch(cur, '[^ ]+') do
  if n >= keep then break end
  if v ~= ARGV[1] then
    out = out .. ' ' .. v
    n = n + 1
  end
end
redis.call('HSET', KEYS[1], 't', out)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`)

// Key returns the Redis key of a subdomain's registration.
func (r *Redis) Key(subdomain string) string { return r.opts.Prefix + "sub:" + subdomain }

// Register implements Store.
func (r *Redis) Register(ctx context.Context, a Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	allow := a.AllowFrom
	if allow == nil {
		allow = []string{}
	}
	allowJSON, err := json.Marshal(allow)
	if err != nil {
		return err
	}
	n, err := r.write(ctx, registerScript, r.Key(a.Subdomain), a.Username, a.PasswordHash, allowJSON, r.channel, a.Subdomain)
	r.index.add(a.Subdomain) // it may be registered now, whatever err says
	r.invalidateOwn(a.Subdomain)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrExists
	}
	return nil
}

// Account implements Store.
func (r *Redis) Account(ctx context.Context, subdomain string) (Account, error) {
	if !ValidSubdomain(subdomain) {
		return Account{}, ErrNotFound
	}
	vals, err := r.client.HMGet(ctx, r.Key(subdomain), "u", "p", "a").Result()
	if err != nil {
		return Account{}, err
	}
	user, ok1 := vals[0].(string)
	pass, ok2 := vals[1].(string)
	allow, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return Account{}, ErrNotFound
	}
	a := Account{Username: user, PasswordHash: []byte(pass), Subdomain: subdomain}
	if err := json.Unmarshal([]byte(allow), &a.AllowFrom); err != nil {
		return Account{}, fmt.Errorf("store: corrupt allowfrom for %q: %w", subdomain, err)
	}
	return a, nil
}

// AddTXT implements Store.
func (r *Redis) AddTXT(ctx context.Context, subdomain, value string, keep int) error {
	if err := checkAdd(subdomain, value, keep); err != nil {
		return err
	}
	n, err := r.write(ctx, addTXTScript, r.Key(subdomain), value, keep, r.channel, subdomain)
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

// write runs a write script on key. With WaitReplicas it sends the script
// and WAIT on one connection to the key's master (WAIT counts the writes of
// its own connection) and fails unless enough replicas acknowledged.
func (r *Redis) write(ctx context.Context, s *redis.Script, key string, args ...any) (int64, error) {
	if r.opts.WaitReplicas <= 0 {
		return s.Run(ctx, r.client, []string{key}, args...).Int64()
	}
	var node redis.Cmdable = r.client
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		master, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return 0, err
		}
		node = master
	}
	var res *redis.Cmd
	var acked *redis.Cmd
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = s.Eval(ctx, p, []string{key}, args...)
		acked = p.Do(ctx, "WAIT", r.opts.WaitReplicas, r.opts.WaitTimeout.Milliseconds())
		return nil
	})
	if err != nil {
		return 0, err
	}
	n, err := res.Int64()
	if err != nil {
		return 0, err
	}
	if replicas, err := acked.Int64(); err != nil || replicas < int64(r.opts.WaitReplicas) {
		return n, ErrNotReplicated
	}
	return n, nil
}

// TXT implements Store. A lookup is answered from memory when the cache is
// trusted and has it, or when the index is trusted and lacks it.
func (r *Redis) TXT(ctx context.Context, subdomain string) ([]string, error) {
	if values, hit, err := r.CachedTXT(subdomain); hit {
		return values, err
	}
	return r.FetchTXT(ctx, subdomain)
}

// CachedTXT answers a lookup from memory alone: from the TXT cache, or
// ErrNotFound from the index for a name it knows is not registered. hit is
// false when memory cannot answer, and then the caller goes on with
// FetchTXT. It needs no context: it never waits.
func (r *Redis) CachedTXT(subdomain string) (values []string, hit bool, err error) {
	return answer(r.cache, r.index, subdomain, r.opts.CacheResult)
}

// FetchTXT reads a lookup from Redis, and caches it when that is safe.
func (r *Redis) FetchTXT(ctx context.Context, subdomain string) ([]string, error) {
	if !ValidSubdomain(subdomain) {
		return nil, ErrNotFound
	}
	token := r.cache.begin()
	s, err := r.client.HGet(ctx, r.Key(subdomain), "t").Result()
	if errors.Is(err, redis.Nil) {
		r.cache.put(token, subdomain, nil)
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	values := splitValues(s)
	r.cache.put(token, subdomain, values)
	return values, nil
}

// CacheTrusted reports whether lookups may be answered from the cache; it is
// false without a cache.
func (r *Redis) CacheTrusted() bool { return r.cache != nil && r.cache.trusted.Load() }

// IndexLen implements Indexed.
func (r *Redis) IndexLen() int { return r.index.len() }

// IndexTrusted implements Indexed: it is false from the moment the
// invalidation subscription may have missed a message until a load started
// after it was confirmed again has completed.
func (r *Redis) IndexTrusted() bool { return r.index.isTrusted() }

// IndexLoads implements Indexed.
func (r *Redis) IndexLoads() uint64 { return r.index.loadCount() }

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close implements Store. It may be called more than once.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		close(r.stop)
		r.done.Wait()
		r.closeErr = r.client.Close()
	})
	return r.closeErr
}
