package acmedns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// RedisConfig is the redis option and its block. It maps onto go-redis's
// UniversalOptions: one address is a standalone server, several are a
// Cluster, and a master name makes them Sentinels.
type RedisConfig struct {
	Addrs            []string
	Username         string
	Password         string
	SentinelUsername string
	SentinelPassword string
	MasterName       string
	DB               int
	Prefix           string
	DialTimeout      time.Duration
	ReadTimeout      time.Duration
	WriteTimeout     time.Duration
	PoolSize         int
	CacheSize        int           // entries of the in-process TXT cache; 0: off
	WaitReplicas     int           // WAIT for this many replicas before acknowledging
	WaitTimeout      time.Duration // how long WAIT may take
	TLS              *RedisTLS     // nil: plain text
}

// Defaults of the redis block.
const (
	// DefaultRedisPrefix is prepended to every key acmedns writes.
	DefaultRedisPrefix = "acmedns:"
	// DefaultCacheSize bounds the in-process TXT cache: at most this many
	// subdomains, each under 1 KiB (a 36-byte label and txt_limit values of
	// 43 bytes), so about 5 MiB at most.
	DefaultCacheSize = 10000
	// DefaultWaitTimeout bounds WAIT; it stays below the read timeout.
	DefaultWaitTimeout = 200 * time.Millisecond
)

func defaultRedisConfig(addrs []string) *RedisConfig {
	return &RedisConfig{
		Addrs:        addrs,
		Prefix:       DefaultRedisPrefix,
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		CacheSize:    DefaultCacheSize,
		WaitTimeout:  DefaultWaitTimeout,
	}
}

// options returns the go-redis options. Context deadlines are honoured, so
// each DNS query's bound applies to its Redis call. With tls, it reads the
// TLS files; if they cannot be read, every connection fails with that error.
func (r *RedisConfig) options() *redis.UniversalOptions {
	o := &redis.UniversalOptions{
		Addrs:                 r.Addrs,
		Username:              r.Username,
		Password:              r.Password,
		SentinelUsername:      r.SentinelUsername,
		SentinelPassword:      r.SentinelPassword,
		MasterName:            r.MasterName,
		DB:                    r.DB,
		DialTimeout:           r.DialTimeout,
		ReadTimeout:           r.ReadTimeout,
		WriteTimeout:          r.WriteTimeout,
		PoolSize:              r.PoolSize,
		MaxRetries:            1,
		ContextTimeoutEnabled: true,
		OnConnect:             new(evictionCheck).onConnect,
	}
	if r.TLS != nil {
		conf, err := r.TLS.config(r.Addrs)
		if err != nil {
			o.Dialer = failDialer(err)
		} else {
			o.TLSConfig = conf
		}
	}
	return o
}

// key identifies the backend, so that blocks and reloads naming the same
// Redis, with the same TLS settings, share one client.
func (r *RedisConfig) key() string {
	tls := "plain"
	if r.TLS != nil {
		tls = fmt.Sprintf("tls:%q:%q:%q:%q", r.TLS.CA, r.TLS.Cert, r.TLS.Key, r.TLS.ServerName)
	}
	return fmt.Sprintf("redis|%s|%s|%s|%s|%s|%s|%d|%s|%s|%s|%s|%d|%d|%d|%s|%s",
		strings.Join(r.Addrs, ","), r.MasterName, r.Username, r.Password, r.SentinelUsername, r.SentinelPassword, r.DB, r.Prefix,
		r.DialTimeout, r.ReadTimeout, r.WriteTimeout, r.PoolSize, r.CacheSize, r.WaitReplicas, r.WaitTimeout, tls)
}

// storeOptions returns the store's options.
func (r *RedisConfig) storeOptions() store.RedisOptions {
	return store.RedisOptions{
		Prefix:       r.Prefix,
		CacheSize:    r.CacheSize,
		WaitReplicas: r.WaitReplicas,
		WaitTimeout:  r.WaitTimeout,
		CacheResult:  countCacheLookup,
	}
}

// evictionCheck reads maxmemory-policy on each new connection, the
// invalidation subscription's included, so at start and at each of its
// reconnections. acmedns's keys have no TTL: a policy that may evict keys
// without one (allkeys-*) would silently lose registrations. It warns once
// per store, and says once, at info level, when Redis refuses CONFIG (as
// managed services often do). It never fails the connection.
type evictionCheck struct {
	warned   atomic.Bool
	noConfig atomic.Bool
}

func (e *evictionCheck) onConnect(ctx context.Context, cn *redis.Conn) error {
	if e.warned.Load() || e.noConfig.Load() {
		return nil
	}
	got, err := cn.ConfigGet(ctx, "maxmemory-policy").Result()
	var redisErr redis.Error
	switch {
	case errors.As(err, &redisErr):
		if e.noConfig.CompareAndSwap(false, true) {
			log.Infof("cannot check Redis's maxmemory-policy (CONFIG GET refused: %v): make sure it is noeviction or a volatile-* policy", err)
		}
	case err != nil: // the connection itself fails, and says why
	case evicts(got["maxmemory-policy"]):
		if e.warned.CompareAndSwap(false, true) {
			log.Warningf("Redis's maxmemory-policy is %s, which may evict acmedns's keys (they have no TTL) and so lose registrations: use noeviction or a volatile-* policy", got["maxmemory-policy"])
		}
	}
	return nil
}

// evicts reports whether a maxmemory-policy may evict keys without a TTL.
func evicts(policy string) bool { return strings.HasPrefix(policy, "allkeys-") }

// redisLogger sends go-redis's own messages (one per failed dial, many while
// Redis is down) to the debug log; failures reach operators as SERVFAIL, 503
// and the store_errors metric instead.
type redisLogger struct{}

// Printf implements go-redis's logging interface.
func (redisLogger) Printf(_ context.Context, format string, v ...any) { log.Debugf(format, v...) }

// quietRedis installs redisLogger. go-redis has one logger for the whole
// process, and no way to read it back (so none to restore): it is set when
// acmedns first opens a Redis store, not when the package is imported, so a
// binary that never configures acmedns with Redis keeps go-redis's default.
var quietRedis = sync.OnceFunc(func() { redis.SetLogger(redisLogger{}) })
