package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Redis is the shared store: every CoreDNS replica that points at the same
// Redis (and key prefix) serves the same registrations.
//
// A registration is one hash, <prefix>sub:<subdomain>, with the fields
// u (username), p (bcrypt hash), a (allowfrom as a JSON array) and t (the TXT
// values, newest first, separated by spaces). Writes run as Lua scripts on
// that one key, so they are atomic on a standalone server, behind Sentinel and
// in a Cluster alike.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis wraps a go-redis client; keys are prefixed with prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

var registerScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'p', ARGV[2], 'a', ARGV[3], 't', '')
return 1
`)

var addTXTScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 't')
if not cur then return 0 end
local keep = tonumber(ARGV[2])
local out = ARGV[1]
local n = 1
for v in string.gmatch(cur, '[^ ]+') do
  if n >= keep then break end
  out = out .. ' ' .. v
  n = n + 1
end
redis.call('HSET', KEYS[1], 't', out)
return 1
`)

// Key returns the Redis key of a subdomain's registration.
func (r *Redis) Key(subdomain string) string { return r.prefix + "sub:" + subdomain }

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
	n, err := registerScript.Run(ctx, r.client, []string{r.Key(a.Subdomain)}, a.Username, a.PasswordHash, allowJSON).Int()
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
	n, err := addTXTScript.Run(ctx, r.client, []string{r.Key(subdomain)}, value, keep).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// TXT implements Store.
func (r *Redis) TXT(ctx context.Context, subdomain string) ([]string, error) {
	if !ValidSubdomain(subdomain) {
		return nil, ErrNotFound
	}
	s, err := r.client.HGet(ctx, r.Key(subdomain), "t").Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return splitValues(s), nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }
