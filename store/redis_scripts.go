package store

import "github.com/redis/go-redis/v9"

// The write scripts. Each touches one key (KEYS[1]), so it is atomic in a
// Cluster too; those on a registration's hash publish its invalidation.
// Those that change the zone (journaledLua) also take, but in a Cluster, the
// zone's serial, journal and expiry index as KEYS[2], KEYS[3] and KEYS[4],
// and the subdomain, the counter's initial value and the journal's bound as
// their last three ARGV, and journal the change and move the record's expiry
// entry in the same call (see Redis).

// recordLua returns the record's fields in the order of recordFields.
const recordLua = `redis.call('HMGET', KEYS[1], 'u', 'p', 'a', 't', 's', 'h', 'c', 'm', 'q')`

// sumLua computes the h field of the t value x, as txtSum does.
const sumLua = `string.sub(redis.sha1hex(x), 1, 16)`

// journalLua defines the journal step. advance moves the counter at key s
// on by one, from init when it is absent, and returns it; journal also
// appends the change (kind, subdomain, old and new t) as encodeChange forms
// it to the list at key j and keeps its newest bound entries. The counter
// moves first: a journal step cut short leaves a gap, never a change under
// a counter nobody sees. reindex sets the score of sub in the expiry index
// at key z to oldest, the unix seconds of its oldest timed value, or
// removes it when oldest is 0 (no timed value, or no record).
const journalLua = `
local function reindex(z, sub, oldest)
  if tonumber(oldest) > 0 then redis.call('ZADD', z, oldest, sub) else redis.call('ZREM', z, sub) end
end
local function advance(s, init)
  local c = string.format('%d', tonumber(redis.call('GET', s) or init) + 1)
  redis.call('SET', s, c)
  return c
end
local function journal(s, j, init, bound, kind, sub, old, new)
  local c = advance(s, init)
  redis.call('RPUSH', j, c .. '\t' .. kind .. '\t' .. sub .. '\t' .. old .. '\t' .. new)
  redis.call('LTRIM', j, -tonumber(bound), -1)
  return c
end
`

// journaledLua is journalLua and, for a script that changes the zone,
// journalOwn: it journals the change and moves the record's expiry entry to
// oldest (a decimal string) in the script's own call when it was given the
// zone's keys, and returns {old, new, oldest} for the caller to do so
// otherwise (in a Cluster). reindexOwn moves the entry alone, for a script
// that changed nothing, and returns {oldest}. oldestOf is the oldest
// positive time of the s field x, '0' if none. withq is the journal's
// form of the values of the t field t and the q field q: the dns-01 values,
// then the persistent records' tokens.
const journaledLua = journalLua + `
local function withq(t, q)
  if not q or q == '' then return t end
  if t == '' then return q end
  return t .. ' ' .. q
end
local function journalOwn(kind, old, new, oldest)
  local n = #ARGV
  if #KEYS == 4 then
    journal(KEYS[2], KEYS[3], ARGV[n - 1], ARGV[n], kind, ARGV[n - 2], old, new)
    reindex(KEYS[4], ARGV[n - 2], oldest)
  end
  return {old, new, oldest}
end
local function reindexOwn(oldest)
  if #KEYS == 4 then reindex(KEYS[4], ARGV[#ARGV - 2], oldest) end
  return {oldest}
end
local function oldestOf(x)
  local o = 0
  for s in string.gmatch(x, '[^ ]+') do
    local n = tonumber(s) or 0
    if n > 0 and (o == 0 or n < o) then o = n end
  end
  return string.format('%d', o)
end
`

// createScript creates a record from ARGV[1..8] (u p a t s h c m) unless
// the hash exists, publishes ARGV[10] on ARGV[9] and journals the creation;
// 0 when the hash exists.
var createScript = redis.NewScript(journaledLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'p', ARGV[2], 'a', ARGV[3], 't', ARGV[4],
  's', ARGV[5], 'h', ARGV[6], 'c', ARGV[7], 'm', ARGV[8])
redis.call('PUBLISH', ARGV[9], ARGV[10])
return journalOwn('c', '', ARGV[4], oldestOf(ARGV[5]))
`)

// addTXTScript puts ARGV[1], set at ARGV[3], first, drops an older copy of
// it (a retried update must not evict the other live value) and the values
// set before ARGV[4] (0: none; unknown times are kept), keeps ARGV[2]
// values, publishes ARGV[6] on ARGV[5] and journals the change; 0 when there
// is no record. The times s count only if h is the checksum of t and they
// are as many as the values.
var addTXTScript = redis.NewScript(journaledLua + `
local cur = redis.call('HMGET', KEYS[1], 't', 's', 'h', 'q')
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
local t, s = table.concat(outv, ' '), table.concat(outs, ' ')
redis.call('HSET', KEYS[1], 't', t, 's', s, 'h', sum(t), 'm', ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return journalOwn('t', withq(cur[1], cur[4]), withq(t, cur[4]), oldestOf(s))
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

// clearScript removes every dns-01 value (not the persistent records), sets the update time to ARGV[1],
// publishes ARGV[3] on ARGV[2] and journals the change; 0 when there is no
// record.
var clearScript = redis.NewScript(journaledLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = redis.call('HMGET', KEYS[1], 't', 'q')
local x = ''
redis.call('HSET', KEYS[1], 't', x, 's', x, 'h', ` + sumLua + `, 'm', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return journalOwn('t', withq(cur[1] or '', cur[2]), withq(x, cur[2]), '0')
`)

// deleteScript deletes the record, publishes ARGV[2] (the deletion
// payload) on ARGV[1], journals the deletion and returns {old t, empty,
// '0', username}; 0 when there is none.
var deleteScript = redis.NewScript(journaledLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = redis.call('HMGET', KEYS[1], 'u', 't', 'q')
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
local out = journalOwn('d', withq(cur[2] or '', cur[3]), '', '0')
out[4] = cur[1] or ''
return out
`)

// journalScript is a Cluster's journal step, run on the zone's serial
// (KEYS[1]), journal (KEYS[2]) and expiry index (KEYS[3]) once a record
// script has made the change of kind ARGV[1] to subdomain ARGV[2] from t
// ARGV[3] to ARGV[4]; ARGV[5] is the counter's initial value, ARGV[6] the
// journal's bound and ARGV[7] the record's new oldest time. It returns the
// new counter.
var journalScript = redis.NewScript(journalLua + `
local c = journal(KEYS[1], KEYS[2], ARGV[5], ARGV[6], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
reindex(KEYS[3], ARGV[2], ARGV[7])
return c
`)

// reindexScript is a Cluster's second step after a record script that
// changed nothing but the record's expiry entry: it sets the score of the
// subdomain ARGV[1] in the expiry index KEYS[1] to ARGV[2] (0: removes it).
var reindexScript = redis.NewScript(journalLua + `
reindex(KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// expireScript drops from the record the values set before ARGV[1] (unix
// seconds; unknown times are kept, and the times s count only as in
// addTXTScript), sets the update time to ARGV[2], publishes ARGV[4] on
// ARGV[3] and journals the change if it dropped any; else it replies
// {oldest}, after moving the expiry entry to it ('0' when there is no
// record).
var expireScript = redis.NewScript(journaledLua + `
local cur = redis.call('HMGET', KEYS[1], 't', 's', 'h', 'q')
if not cur[1] then return reindexOwn('0') end
local function sum(x) return ` + sumLua + ` end
local vals, times = {}, {}
for v in string.gmatch(cur[1], '[^ ]+') do vals[#vals + 1] = v end
if cur[2] and cur[3] == sum(cur[1]) then
  for s in string.gmatch(cur[2], '[^ ]+') do times[#times + 1] = s end
end
if #times ~= #vals then times = {} end
local cutoff = tonumber(ARGV[1])
local outv, outs = {}, {}
for i, v in ipairs(vals) do
  local s = times[i] or '0'
  local set = tonumber(s) or 0
  if set <= 0 or set >= cutoff then
    outv[#outv + 1] = v
    outs[#outs + 1] = s
  end
end
local t, s = table.concat(outv, ' '), table.concat(outs, ' ')
if #outv == #vals then return reindexOwn(oldestOf(s)) end
redis.call('HSET', KEYS[1], 't', t, 's', s, 'h', sum(t), 'm', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return journalOwn('t', withq(cur[1], cur[4]), withq(t, cur[4]), oldestOf(s))
`)

// gapScript moves the counter KEYS[1] on by one (from ARGV[1] when it is
// absent) without a journal entry, after a Cluster's journal step failed:
// Changes then answers that it cannot tell what changed.
var gapScript = redis.NewScript(journalLua + `
return advance(KEYS[1], ARGV[1])
`)

// serialScript sets the counter KEYS[1] to ARGV[1] unless it exists, and
// returns it.
var serialScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`)

// changesScript reads, at once, the counter KEYS[1] and the entries of the
// journal KEYS[2] after the serial ARGV[1]: {counter, {entries}}, or
// {counter} alone when ARGV[1] is current, not older than it (RFC 1982),
// older than the journal's oldest entry or more than ARGV[2] entries behind,
// or {} when there is no counter.
var changesScript = redis.NewScript(`
local c = redis.call('GET', KEYS[1])
if not c then return {} end
local d = (tonumber(c) - tonumber(ARGV[1])) % 4294967296
if d == 0 or d >= 2147483648 or d > tonumber(ARGV[2]) or d > redis.call('LLEN', KEYS[2]) then return {c} end
return {c, redis.call('LRANGE', KEYS[2], -d, -1)}
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
