package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every CoreDNS replica that points at the same
// Redis (and key prefix) serves the same registrations.
//
// A registration is one hash, <prefix>sub:<subdomain>, with the fields
//
//	u  username
//	p  bcrypt hash of the password
//	a  allowfrom, a JSON array
//	t  the TXT values, newest first, separated by spaces
//	s  the times the values were set, unix seconds separated by spaces,
//	   parallel to t; 0 for unknown
//	h  the first 16 hex digits of the SHA-1 of t, which s belongs to
//	c  created, unix seconds
//	m  updated (any change), unix seconds
//	q  the persistent records (see Persister), each in its stored form
//	   (persistToken), separated by spaces; absent for none
//
// Writes run as Lua scripts on that one key (and, but in a Cluster, the
// zone's journal: below), so they are atomic on a standalone server, behind
// Sentinel and in a Cluster alike; the same script publishes on
// <prefix>invalidate, which every replica listens to.
//
// An earlier release wrote u, p, a and t alone; such a record reads with
// unknown times, and its next write by this release adds s, h and m (c stays
// unknown). Where h does not match t, or s has not as many entries as t (an
// earlier release's replica rewrote t alone during a rolling upgrade), every
// time of the record is unknown: the values may have moved under their times.
//
// Beside the hashes, each its own key (and Cluster slot):
//
//	<prefix>user:<username>  the subdomain that holds the username
//	<prefix>accounts         a sorted set of every subdomain, all scores 0
//
// A username is claimed (SET if absent) before its record is created, and
// released (deleted if it still names the subdomain) after the record is
// deleted, or when the create fails. A claim that names a subdomain whose
// record is gone or has another username is stale, left by a failed create
// or delete: a create takes it over, pending (with a TTL of claimPending)
// until it has created its record, found the former holder still not live
// (it may have been a create in flight), and made the claim permanent. A
// pending claim is never taken over. A record whose claim turns out to name
// another account, or whose former holder is live, is deleted again and its
// create fails with ErrUsernameTaken (a create whose claim is pending
// elsewhere waits for the outcome first): of racing creates at most one
// keeps a username. Accounts written by an earlier release have no claim,
// and uniqueness is not enforced against them; nor against an account whose
// create stalled for longer than claimPending after taking over a stale
// claim, whose claim then expires.
//
// List reads the sorted set (ZRANGE BYLEX) page by page, and the records of
// a page in one pipeline. A subdomain is added to it before its record is
// created and removed after its record is deleted, so a live account is
// always a member; a member whose record is gone is skipped. Accounts
// written by an earlier release are added by every index load, which ZADDs
// each batch it scans, so they are listed once a replica of this release
// has loaded its index (one that an earlier release's replica registers
// later, during a rolling upgrade, once a replica of this release loads it
// again, at its next start or reconnection). ZRANGE BYLEX with LIMIT needs
// Redis 6.2.
//
// The zone's serial, journal (see Journal) and expiry index are three keys
// whose hash tag puts them in one Cluster slot:
//
//	<prefix>{zone}serial   the change counter, a decimal string; its low 32
//	                       bits are the serial. Set, when absent, to the
//	                       current Unix time by the first journaled write
//	                       (which moves it on from there), Serial or Changes
//	<prefix>{zone}journal  a list of the newest RedisOptions.JournalSize
//	                       changes, oldest first, each in encodeChange's form
//	                       (counter, kind, subdomain, old and new t,
//	                       tab-separated): RPUSH, then LTRIM to the bound
//	<prefix>{zone}expiry   a sorted set of the subdomains that have a value
//	                       of known set time, each scored by the unix
//	                       seconds of its oldest such value
//
// Register, Create, AddTXT, ClearTXT and Delete move the counter on by one
// and append their change when they change a record; SetPassword and
// SetAllowFrom do not. On a standalone server or behind Sentinel the record's
// own script does so, given the two keys beside the record's, so the record,
// the counter and the journal change at once. A Cluster's script cannot
// reach keys of other slots: there the record's script returns the TXT values
// before and after, and a second script, on the two zone keys, journals them
// before the write returns. If either step fails the write returns its error
// (the record may have changed), and the replica moves the counter on alone:
// the gap it leaves makes Changes report that it cannot tell what changed (ok
// false), so secondaries fetch the whole zone. Only a change whose replica
// cannot do that either (the zone's slot unreachable, or the process ended,
// between the two steps) is missing from the journal unnoticed, the serial
// unmoved until the next change. Nor, in a Cluster, is the journal's order
// the records' for two writes to one subdomain that race between their two
// steps. Changes reads the counter and the journal's tail in one script.
//
// Create, AddTXT, ClearTXT and Delete move the record's member of the expiry
// index (ZADD with the new oldest time, ZREM when none is left or the record
// is gone) in the same step as the journal: in the record's own script, or
// in a Cluster in the journal step, which is given the new oldest time.
// ExpireTXT reads the members scored before the cutoff (ZRANGE BYSCORE) and
// runs a script on each record that drops its values still expired (times
// that do not count, as above, are unknown: nothing is dropped), journals
// the drop if there was one, and moves or removes the member from what is
// left; a record with nothing to drop is only reindexed, so replicas that
// sweep at once journal each drop once. A record written by an earlier
// release has no member and is swept only after its next write by this
// release; so is, in a Cluster, one whose journal step failed, or whose
// member two racing writes left out of order (a member scored too early
// costs a sweep only a reindexing).
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
	// serial is the zone's serial as last read, forgotten at every
	// message of the invalidation channel.
	serial serialMemo

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
	// JournalSize bounds the journal of changes (see Journal): it keeps
	// the newest JournalSize; 0 means DefaultJournalSize.
	JournalSize int
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

// Key returns the Redis key of a subdomain's registration.
func (r *Redis) Key(subdomain string) string { return r.opts.Prefix + "sub:" + subdomain }

// userKey is the key of a username's claim.
func (r *Redis) userKey(username string) string { return r.opts.Prefix + "user:" + username }

// accountsKey is the key of the sorted set of every subdomain.
func (r *Redis) accountsKey() string { return r.opts.Prefix + "accounts" }

// Account implements Store.
func (r *Redis) Account(ctx context.Context, subdomain string) (Account, error) {
	if !ValidSubdomain(subdomain) {
		return Account{}, ErrNotFound
	}
	vals, err := r.client.HMGet(ctx, r.Key(subdomain), fieldUser, fieldPass, fieldAllow).Result()
	if err != nil {
		return Account{}, err
	}
	return decodeAccount(subdomain, vals)
}

// TXT implements Store. A lookup is answered from memory when the cache is
// trusted and has it, or when the index is trusted and lacks it.
func (r *Redis) TXT(ctx context.Context, subdomain string) ([]Value, error) {
	if values, hit, err := r.CachedTXT(subdomain); hit {
		return values, err
	}
	return r.FetchTXT(ctx, subdomain)
}

// CachedTXT answers a lookup from memory alone: from the TXT cache, or
// ErrNotFound from the index for a name it knows is not registered. hit is
// false when memory cannot answer, and then the caller goes on with
// FetchTXT. It needs no context: it never waits.
func (r *Redis) CachedTXT(subdomain string) (values []Value, hit bool, err error) {
	return answer(r.cache, r.index, subdomain, r.opts.CacheResult)
}

// FetchTXT reads a lookup from Redis, and caches it when that is safe.
func (r *Redis) FetchTXT(ctx context.Context, subdomain string) ([]Value, error) {
	if !ValidSubdomain(subdomain) {
		return nil, ErrNotFound
	}
	token := r.cache.begin()
	fields, err := r.client.HMGet(ctx, r.Key(subdomain), fieldTXT, fieldSet, fieldSum, fieldPersist).Result()
	if err != nil {
		return nil, err
	}
	t, ok := fields[0].(string)
	if !ok {
		r.cache.put(token, subdomain, nil)
		return nil, ErrNotFound
	}
	values := append(decodeValues(t, fields[1], fields[2]), decodePersist(fields[3])...)
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
