package acmedns

import (
	"context"
	"fmt"
	"strings"
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
// each DNS query's bound applies to its Redis call.
func (r *RedisConfig) options() *redis.UniversalOptions {
	return &redis.UniversalOptions{
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
	}
}

// key identifies the backend, so that blocks and reloads naming the same
// Redis share one client.
func (r *RedisConfig) key() string {
	return fmt.Sprintf("redis|%s|%s|%s|%s|%s|%s|%d|%s|%s|%s|%s|%d|%d|%d|%s",
		strings.Join(r.Addrs, ","), r.MasterName, r.Username, r.Password, r.SentinelUsername, r.SentinelPassword, r.DB, r.Prefix,
		r.DialTimeout, r.ReadTimeout, r.WriteTimeout, r.PoolSize, r.CacheSize, r.WaitReplicas, r.WaitTimeout)
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

// redisLogger sends go-redis's own messages (one per failed dial, many while
// Redis is down) to the debug log; failures reach operators as SERVFAIL, 503
// and the store_errors metric instead.
type redisLogger struct{}

func (redisLogger) Printf(_ context.Context, format string, v ...any) { log.Debugf(format, v...) }

func init() { redis.SetLogger(redisLogger{}) }
