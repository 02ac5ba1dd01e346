package store

import "github.com/redis/go-redis/v9"

// The write scripts. Each touches one key (KEYS[1]), so it is atomic in a
// Cluster too; those on a registration's hash publish its invalidation.

// recordLua returns the record's fields in the order of recordFields.
const recordLua = `redis.call('HMGET', KEYS[1], 'u', 'p', 'a', 't', 's', 'h', 'c', 'm')`

// sumLua computes the h field of the t value x, as txtSum does.
const sumLua = `string.sub(redis.sha1hex(x), 1, 16)`

// createScript creates a record from ARGV[1..8] (u p a t s h c m) unless
// the hash exists, and publishes ARGV[10] on ARGV[9].
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'p', ARGV[2], 'a', ARGV[3], 't', ARGV[4],
  's', ARGV[5], 'h', ARGV[6], 'c', ARGV[7], 'm', ARGV[8])
redis.call('PUBLISH', ARGV[9], ARGV[10])
return 1
`)

// addTXTScript puts ARGV[1], set at ARGV[3], first, drops an older copy of
// it (a retried update must not evict the other live value) and the values
// set before ARGV[4] (0: none; unknown times are kept), keeps ARGV[2]
// values, and publishes ARGV[6] on ARGV[5]. The times s count only if h is
// the checksum of t and they are as many as the values.
var addTXTScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 't', 's', 'h')
if not cur[1] then return 0 end
local function sum(x) return ` + sumLua + ` end
local vals, times = {}, {}
for v in string.gmatch(cur[1], '[^ ]+') do vals[#vals + 1] = v end
if cur[2] and cur[3] == sum(cur[1]) then
  for s in string.gmatch(cur[2], '[^ ]+') do times[#times + 1] = s end
end
if #times ~= #vals then times = {} end
local keep, oldest = tonumber(ARGV[2]), tonumber(ARGV[4])
local outv, outs = {ARGV[1]}, {ARGV[3]}
for i, v in ipairs(vals) do
  if #outv >= keep then break end
  local s = times[i] or '0'
  local set = tonumber(s) or 0
  if v ~= ARGV[1] and (set <= 0 or set >= oldest) then
    outv[#outv + 1] = v
    outs[#outs + 1] = s
  end
end
local t = table.concat(outv, ' ')
redis.call('HSET', KEYS[1], 't', t, 's', table.concat(outs, ' '), 'h', sum(t), 'm', ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

// setFieldScript sets field ARGV[1] to ARGV[2] and the update time to
// ARGV[3], publishes ARGV[5] on ARGV[4] and returns the record; 0 when there
// is none.
var setFieldScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'm', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return ` + recordLua + `
`)

// clearScript removes every TXT value, sets the update time to ARGV[1] and
// publishes ARGV[3] on ARGV[2]; 0 when there is no record.
var clearScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local x = ''
redis.call('HSET', KEYS[1], 't', x, 's', x, 'h', ` + sumLua + `, 'm', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`)

// deleteScript deletes the record, publishes ARGV[2] (the deletion
// payload) on ARGV[1] and returns {username}; 0 when there is none.
var deleteScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local u = redis.call('HGET', KEYS[1], 'u') or ''
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return {u}
`)

// claimScript sets the username claim KEYS[1] to the subdomain ARGV[1]
// unless it exists, and returns the subdomain it held before (empty if
// none) and its PTTL (-1: permanent; more: a takeover pending).
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {v, redis.call('PTTL', KEYS[1])} end
redis.call('SET', KEYS[1], ARGV[1])
return {'', -1}
`)

// takeoverScript sets the claim to ARGV[2], pending for ARGV[3] ms, if it
// still names ARGV[1] for good.
var takeoverScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// persistScript makes the claim permanent if it names ARGV[1].
var persistScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PERSIST', KEYS[1])
return 1
`)

// releaseScript, if the claim still names ARGV[1], gives it back to ARGV[2]
// for good or, when that is empty, deletes it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
`)

// listAddScript adds the subdomain ARGV[1] to the sorted set of accounts.
var listAddScript = redis.NewScript(`return redis.call('ZADD', KEYS[1], 0, ARGV[1])`)

// listRemoveScript removes the subdomain ARGV[1] from it.
var listRemoveScript = redis.NewScript(`return redis.call('ZREM', KEYS[1], ARGV[1])`)
