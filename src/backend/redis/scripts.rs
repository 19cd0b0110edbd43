//! The Lua scripts of the read-modify-write operations. Each touches one key,
//! so each runs atomically on one node, in a cluster too. Integers never pass
//! through Lua numbers (doubles): INCRBY's result is read back as a string.

use std::sync::LazyLock;

use redis::Script;

/// Compare-and-set: stores ARGV[3] with TTL ARGV[4] ms if the item is still
/// absent (ARGV[1] = "0") or still holds exactly ARGV[2] (ARGV[1] = "1").
/// Returns 1 if it stored. Conditional sets read, decide with
/// `Condition::holds` (the one decision function of every backend), then
/// commit with this; a lost race reads again.
pub(super) static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
",
    )
});

/// INCRBY ARGV[1], then TTL ARGV[2] ms. Returns {1, value as a string}, or
/// {0, INCRBY's refusal} (not an integer, overflow) with the item untouched.
/// Any other error (OOM, ...) is raised, for the one error mapping in `link`.
pub(super) static INCREMENT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local r = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(r) == 'table' and r.err then
  if string.find(r.err, '^ERR') then return {0, r.err} end
  return redis.error_reply(r.err)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, redis.call('GET', KEYS[1])}
",
    )
});

/// UpdateTtl: ARGV[1] is "i" (increase to), "d" (decrease to) or "o"
/// (overwrite), ARGV[2] the TTL in ms. Returns "missing", "set" or "not_set".
/// A key without expiry counts as an infinite TTL.
pub(super) static UPDATE_TTL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local remaining = redis.call('PTTL', KEYS[1])
if remaining == -2 then return 'missing' end
local ttl = tonumber(ARGV[2])
local mode = ARGV[1]
if mode == 'o'
  or (mode == 'i' and remaining ~= -1 and ttl > remaining)
  or (mode == 'd' and (remaining == -1 or ttl < remaining)) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 'set'
end
return 'not_set'
",
    )
});

/// FlushCache: cache ARGV[1], if registered, keeps its incarnation (the
/// entry's first 16 hex digits) and gets generation ARGV[2]. Returns the new
/// entry, or false if the cache is not registered.
pub(super) static REGENERATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return false end
entry = string.sub(entry, 1, 16) .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], entry)
return entry
",
    )
});

/// Publish to a topic stream. Stream IDs are `<page>-<n>`: the page is fixed
/// when the stream is created (ARGV[1], the clock in ms) and `<page>-*` lets
/// Redis number messages 0, 1, 2, ... within it (the sequence number is n+1).
/// A stream that is lost and made again gets a later page, so subscribers
/// resuming from the old one see a discontinuity. Fields: k (t = text,
/// b = binary), v (value), p (publisher id). Trimmed to ARGV[2] messages;
/// expires ARGV[6] ms after the last publish. Returns the ID.
pub(super) static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local page = ARGV[1]
if #last > 0 then page = string.match(last[1][1], '^(%d+)-') end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[2], page .. '-*',
  'k', ARGV[3], 'v', ARGV[4], 'p', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return id
",
    )
});
