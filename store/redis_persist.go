package store

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// persistLua defines, for the persistent records' scripts, issuerOf, the
// issuer (as PersistIssuer gives it) of a token, and recordOldest, the
// oldest time of the dns-01 values t with their times s and checksum h
// (counted as in addTXTScript), '0' if none.
const persistLua = `
local function issuerOf(tok)
  local i = string.match(string.sub(tok, 2), '^[^;]*')
  i = string.gsub(i, '%c', ' ')
  return string.lower(string.match(i, '^%s*(.-)%s*$'))
end
local function recordOldest(t, s, h)
  if not s or h ~= ` + "string.sub(redis.sha1hex(t), 1, 16)" + ` then return '0' end
  local nv, ns = 0, 0
  for _ in string.gmatch(t, '[^ ]+') do nv = nv + 1 end
  for _ in string.gmatch(s, '[^ ]+') do ns = ns + 1 end
  if nv ~= ns then return '0' end
  return oldestOf(s)
end
`

// persistSetScript puts the token ARGV[1], of the issuer ARGV[2], in place
// of the persistent record of that issuer, or after the others if there
// are fewer than ARGV[3]; sets the update time to ARGV[4], publishes ARGV[6]
// on ARGV[5] and journals the change. It returns 0 when there is no record,
// -1 when there are ARGV[3] others, and {oldest} when the token is there
// already.
var persistSetScript = redis.NewScript(journaledLua + persistLua + `
local cur = redis.call('HMGET', KEYS[1], 't', 's', 'h', 'q')
if not cur[1] then return 0 end
local q = cur[4] or ''
local out, replaced = {}, false
for v in string.gmatch(q, '[^ ]+') do
  if issuerOf(v) == ARGV[2] then v, replaced = ARGV[1], true end
  out[#out + 1] = v
end
if not replaced then
  if #out >= tonumber(ARGV[3]) then return -1 end
  out[#out + 1] = ARGV[1]
end
local nq, oldest = table.concat(out, ' '), recordOldest(cur[1], cur[2], cur[3])
if nq == q then return reindexOwn(oldest) end
redis.call('HSET', KEYS[1], 'q', nq, 'm', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return journalOwn('t', withq(cur[1], q), withq(cur[1], nq), oldest)
`)

// persistRemoveScript removes the persistent record of the issuer ARGV[1],
// sets the update time to ARGV[2], publishes ARGV[4] on ARGV[3] and
// journals the change. It returns 0 when there is no record and {oldest}
// when it holds no record of that issuer.
var persistRemoveScript = redis.NewScript(journaledLua + persistLua + `
local cur = redis.call('HMGET', KEYS[1], 't', 's', 'h', 'q')
if not cur[1] then return 0 end
local q = cur[4] or ''
local out = {}
for v in string.gmatch(q, '[^ ]+') do
  if issuerOf(v) ~= ARGV[1] then out[#out + 1] = v end
end
local nq, oldest = table.concat(out, ' '), recordOldest(cur[1], cur[2], cur[3])
if nq == q then return reindexOwn(oldest) end
redis.call('HSET', KEYS[1], 'q', nq, 'm', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return journalOwn('t', withq(cur[1], q), withq(cur[1], nq), oldest)
`)

// SetPersist implements Persister; the change is journaled (see Redis),
// and storing the record already stored changes nothing.
func (r *Redis) SetPersist(ctx context.Context, subdomain, record string) error {
	if err := checkPersist(subdomain, record); err != nil {
		return err
	}
	max := strconv.Itoa(MaxPersist)
	reply, err := r.journaled(ctx, persistSetScript, ChangeTXT, subdomain,
		persistToken(record), PersistIssuer(record), max, unixArg(now()), r.channel, subdomain)
	r.invalidateOwn(subdomain)
	switch {
	case errors.Is(err, errRefused):
		return ErrTooManyPersist
	case err != nil:
		return err
	case reply == nil:
		return ErrNotFound
	}
	return nil
}

// RemovePersist implements Persister; the change is journaled (see Redis).
func (r *Redis) RemovePersist(ctx context.Context, subdomain, issuer string) (bool, error) {
	if !ValidSubdomain(subdomain) {
		return false, ErrNotFound
	}
	reply, err := r.journaled(ctx, persistRemoveScript, ChangeTXT, subdomain,
		PersistIssuer(issuer), unixArg(now()), r.channel, subdomain)
	r.invalidateOwn(subdomain)
	if reply == nil && err == nil {
		return false, ErrNotFound
	}
	return len(reply) >= 3, err
}
