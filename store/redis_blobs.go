package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Blobs in Redis. The keys share the hash tag {tls}, so they sit in one
// Cluster slot and each write is one script:
//
//	<prefix>{tls}blob:<name>  the value, after its modification time in
//	                          unix nanoseconds and a colon
//	<prefix>{tls}blobs        a sorted set of every name, all scores 0, for
//	                          listing by prefix (ZRANGE BYLEX)
//	<prefix>{tls}lock:<name>  a lock: its holder's token, with a TTL
//
// They need no command beyond those of the documented ACL rule.

var putBlobScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1`)

var deleteBlobScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`)

var lockScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`)

func (r *Redis) blobKey(name string) string { return r.opts.Prefix + "{tls}blob:" + name }
func (r *Redis) blobsKey() string           { return r.opts.Prefix + "{tls}blobs" }
func (r *Redis) lockKey(name string) string { return r.opts.Prefix + "{tls}lock:" + name }

// PutBlob implements Blobs.
func (r *Redis) PutBlob(ctx context.Context, name string, value []byte) error {
	v := append([]byte(strconv.FormatInt(time.Now().UnixNano(), 10)+":"), value...)
	return putBlobScript.Run(ctx, r.client, []string{r.blobKey(name), r.blobsKey()}, v, name).Err()
}

// GetBlob implements Blobs.
func (r *Redis) GetBlob(ctx context.Context, name string) ([]byte, time.Time, error) {
	b, err := r.client.Get(ctx, r.blobKey(name)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, ErrNoBlob
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	ts, value, ok := bytes.Cut(b, []byte(":"))
	n, err := strconv.ParseInt(string(ts), 10, 64)
	if !ok || err != nil {
		return nil, time.Time{}, fmt.Errorf("store: corrupt blob %q", name)
	}
	return value, time.Unix(0, n), nil
}

// DeleteBlob implements Blobs.
func (r *Redis) DeleteBlob(ctx context.Context, name string) error {
	return deleteBlobScript.Run(ctx, r.client, []string{r.blobKey(name), r.blobsKey()}, name).Err()
}

// BlobNames implements Blobs.
func (r *Redis) BlobNames(ctx context.Context, prefix string) ([]string, error) {
	names, err := r.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: r.blobsKey(), ByLex: true, Start: "[" + prefix, Stop: "[" + prefix + "\xff",
	}).Result()
	if err != nil {
		return nil, err
	}
	return names, nil
}

// Lock implements Blobs.
func (r *Redis) Lock(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	n, err := lockScript.Run(ctx, r.client, []string{r.lockKey(name)}, token, ttl.Milliseconds()).Int()
	return n == 1, err
}

// Unlock implements Blobs.
func (r *Redis) Unlock(ctx context.Context, name, token string) error {
	return unlockScript.Run(ctx, r.client, []string{r.lockKey(name)}, token).Err()
}
