//! The Lua scripts of collection operations. Each touches one key (so it
//! runs atomically on one node, in a cluster too) and starts with the same
//! prelude: ARGV[1] is the Redis type the op needs (`*`: any); another type
//! is refused with WRONGTYPE before anything is read or written. A write that would
//! carry the collection past its size bound is refused (SGTOOLARGE) before
//! anything is written; sizes are those of `collection::rules` (what each
//! element takes in a fetch's answer), the same as the memory backend's.
//! Integers and scores never pass through Lua numbers: they go back as the
//! strings Redis made.

use std::sync::LazyLock;

use redis::Script;

/// What every script starts with: the key, the type check, `existed`.
const PRELUDE: &str = r"
local k = KEYS[1]
local t = redis.call('TYPE', k)['ok']
if t ~= 'none' and ARGV[1] ~= '*' and t ~= ARGV[1] then
  return redis.error_reply('WRONGTYPE the item holds another type than this operation needs')
end
local existed = t ~= 'none'
";

/// The helpers, each (name, code), defined only in the scripts that use
/// them (a `local function` is made anew on every run, so a read does not
/// pay for the writes' helpers). Later ones use earlier ones only.
const HELPERS: &[(&str, &str)] = &[
    (
        "too_large",
        r"
local function too_large()
  return redis.error_reply('SGTOOLARGE the collection would be larger than the item size limit')
end",
    ),
    // A write's TTL: set when the write made the collection, or when it refreshes.
    (
        "ttl_after",
        r"
local function ttl_after(ms, refresh)
  if redis.call('EXISTS', k) == 1 and ((not existed) or refresh == '1') then
    redis.call('PEXPIRE', k, ms)
  end
end",
    ),
    // A start-inclusive, end-exclusive range ('' = open), negative from the
    // end, clamped: returns the zero-based [a, b).
    (
        "range",
        r"
local function range(len, s, e)
  local function at(i)
    i = tonumber(i)
    if i < 0 then i = len + i end
    if i < 0 then i = 0 end
    if i > len then i = len end
    return i
  end
  local a, b = 0, len
  if s ~= '' then a = at(s) end
  if e ~= '' then b = at(e) end
  if b < a then b = a end
  return a, b
end",
    ),
    // Sizes: what an element takes in a fetch's answer (rules.rs).
    (
        "vl",
        r"
local function vl(n)
  if n < 128 then return 1 elseif n < 16384 then return 2
  elseif n < 2097152 then return 3 elseif n < 268435456 then return 4 end
  return 5
end",
    ),
    ("fs", "\nlocal function fs(n) return 1 + vl(n) + n end"),
    ("esize", "\nlocal function esize(e) return fs(#e) end"),
    (
        "psize",
        "\nlocal function psize(f, v) return fs(fs(#f) + fs(#v)) end",
    ),
    (
        "zsize",
        "\nlocal function zsize(v) return fs(fs(#v) + 9) end",
    ),
    (
        "sum_elements",
        r"
local function sum_elements(list)
  local n = 0
  for i = 1, #list do n = n + esize(list[i]) end
  return n
end",
    ),
    (
        "sum_pairs",
        r"
local function sum_pairs(flat)
  local n = 0
  for i = 1, #flat, 2 do n = n + psize(flat[i], flat[i + 1]) end
  return n
end",
    ),
    (
        "sum_scored",
        r"
local function sum_scored(values)
  local n = 0
  for i = 1, #values do n = n + zsize(values[i]) end
  return n
end",
    ),
    // A fetch's elements as one string of netstrings (`<len>:<bytes>`, value
    // then score): one bulk reply for the gateway to read instead of two per
    // element (its parse of a reply costs per element).
    (
        "packed",
        r"
local function packed(flat)
  local out = {}
  for i = 1, #flat do
    local v = flat[i]
    out[3 * i - 2], out[3 * i - 1], out[3 * i] = #v, ':', v
  end
  return table.concat(out)
end",
    ),
];

fn script(body: &str) -> Script {
    Script::new(&source(body))
}

/// PRELUDE, the helpers `body` uses (and those they use), then `body`.
fn source(body: &str) -> String {
    let mut needed = vec![false; HELPERS.len()];
    for i in (0..HELPERS.len()).rev() {
        let name = HELPERS[i].0;
        let used_by_later = HELPERS[i + 1..]
            .iter()
            .zip(&needed[i + 1..])
            .any(|((_, code), &on)| on && uses(code, name));
        needed[i] = uses(body, name) || used_by_later;
    }
    let helpers: String = HELPERS
        .iter()
        .zip(&needed)
        .filter(|(_, on)| **on)
        .map(|((_, code), _)| *code)
        .collect();
    format!("{PRELUDE}{helpers}\n{body}")
}

/// Whether Lua `code` calls `name` (a whole word followed by `(`).
fn uses(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
    })
}

macro_rules! scripts {
    ($($(#[$doc:meta])* $name:ident = $body:literal;)+) => {
        $($(#[$doc])* pub(super) static $name: LazyLock<Script> = LazyLock::new(|| script($body));)+
    };
}

scripts! {
    /// ARGV[2..]: fields. False for a missing dictionary, else each value or false.
    DICTIONARY_GET = r"
if not existed then return false end
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('HGET', k, ARGV[i]) end
return out
";
    /// ARGV: type, ttl, refresh, max bytes, then field, value pairs (the last wins).
    DICTIONARY_SET = r"
local size = 0
if existed then size = sum_pairs(redis.call('HGETALL', k)) end
local new, order = {}, {}
for i = 5, #ARGV, 2 do
  if new[ARGV[i]] == nil then order[#order + 1] = ARGV[i] end
  new[ARGV[i]] = ARGV[i + 1]
end
for _, f in ipairs(order) do
  local old = redis.call('HGET', k, f)
  if old then size = size - psize(f, old) end
  size = size + psize(f, new[f])
end
if size > tonumber(ARGV[4]) then return too_large() end
for _, f in ipairs(order) do redis.call('HSET', k, f, new[f]) end
ttl_after(ARGV[2], ARGV[3])
return 1
";
    /// ARGV: type, ttl, refresh, max bytes, field, amount. Returns the new
    /// value as a string.
    DICTIONARY_INCREMENT = r"
local f = ARGV[5]
local old = redis.call('HGET', k, f)
local r = redis.pcall('HINCRBY', k, f, ARGV[6])
if type(r) == 'table' and r.err then
  if string.find(r.err, 'overflow') then
    return redis.error_reply('SGOVERFLOW the increment overflows')
  end
  if string.find(r.err, '^ERR') then
    return redis.error_reply('SGNOTINT the dictionary field is not an integer')
  end
  return redis.error_reply(r.err)
end
if sum_pairs(redis.call('HGETALL', k)) > tonumber(ARGV[4]) then
  if old then redis.call('HSET', k, f, old) else redis.call('HDEL', k, f) end
  return too_large()
end
ttl_after(ARGV[2], ARGV[3])
return redis.call('HGET', k, f)
";
    /// ARGV: type, mode (a: all, s: some), fields. 0 for a missing dictionary.
    DICTIONARY_DELETE = r"
if not existed then return 0 end
if ARGV[2] == 'a' then redis.call('UNLINK', k) return 1 end
for i = 3, #ARGV do redis.call('HDEL', k, ARGV[i]) end
return 1
";
    /// ARGV[2]: how many. False for a missing set.
    SET_SAMPLE = r"
if not existed then return false end
return redis.call('SRANDMEMBER', k, ARGV[2])
";
    /// ARGV[2]: how many. False for a missing set.
    SET_POP = r"
if not existed then return false end
return redis.call('SPOP', k, ARGV[2])
";
    /// ARGV[2..]: elements. False for a missing set, else 1 or 0 for each.
    SET_CONTAINS = r"
if not existed then return false end
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('SISMEMBER', k, ARGV[i]) end
return out
";
    /// ARGV: type, ttl, refresh, max bytes, elements.
    SET_UNION = r"
local size = 0
if existed then size = sum_elements(redis.call('SMEMBERS', k)) end
local seen = {}
for i = 5, #ARGV do
  local e = ARGV[i]
  if not seen[e] and redis.call('SISMEMBER', k, e) == 0 then size = size + esize(e) end
  seen[e] = true
end
if size > tonumber(ARGV[4]) then return too_large() end
for i = 5, #ARGV do redis.call('SADD', k, ARGV[i]) end
ttl_after(ARGV[2], ARGV[3])
return 1
";
    /// ARGV: type, form (m: request - stored, s: stored - request, i: all),
    /// max bytes, elements. 0 for a missing set, else 1.
    SET_DIFFERENCE = r"
if not existed then return 0 end
local form = ARGV[2]
if form == 'i' then redis.call('UNLINK', k) return 1 end
if form == 's' then
  for i = 4, #ARGV do redis.call('SREM', k, ARGV[i]) end
  return 1
end
local keep, seen, size = {}, {}, 0
for i = 4, #ARGV do
  local e = ARGV[i]
  if not seen[e] and redis.call('SISMEMBER', k, e) == 0 then
    keep[#keep + 1] = e
    size = size + esize(e)
  end
  seen[e] = true
end
if size > tonumber(ARGV[3]) then return too_large() end
local ttl = redis.call('PTTL', k)
redis.call('UNLINK', k)
for _, e in ipairs(keep) do redis.call('SADD', k, e) end
if #keep > 0 and ttl > 0 then redis.call('PEXPIRE', k, ttl) end
return 1
";
    /// ARGV: type, start, end ('' = open). False for a missing list.
    LIST_FETCH = r"
if not existed then return false end
local a, b = range(redis.call('LLEN', k), ARGV[2], ARGV[3])
if b <= a then return {} end
return redis.call('LRANGE', k, a, b - 1)
";
    /// ARGV: type, ttl, refresh, max bytes, end (f/b), truncate to (0 =
    /// none), values. Returns the new length.
    LIST_PUSH = r"
local front, limit = ARGV[5] == 'f', tonumber(ARGV[6])
local old = {}
if existed then old = redis.call('LRANGE', k, 0, -1) end
-- The list after the write and its truncation, to size it before writing.
local all = {}
if front then
  for i = 7, #ARGV do all[#all + 1] = ARGV[i] end
  for i = 1, #old do all[#all + 1] = old[i] end
else
  for i = 1, #old do all[#all + 1] = old[i] end
  for i = 7, #ARGV do all[#all + 1] = ARGV[i] end
end
local first, last = 1, #all
if limit > 0 and #all > limit then
  if front then last = limit else first = #all - limit + 1 end
end
local size = 0
for i = first, last do size = size + esize(all[i]) end
if size > tonumber(ARGV[4]) then return too_large() end
if front then
  for i = #ARGV, 7, -1 do redis.call('LPUSH', k, ARGV[i]) end
  if limit > 0 then redis.call('LTRIM', k, 0, limit - 1) end
else
  for i = 7, #ARGV do redis.call('RPUSH', k, ARGV[i]) end
  if limit > 0 then redis.call('LTRIM', k, -limit, -1) end
end
ttl_after(ARGV[2], ARGV[3])
return redis.call('LLEN', k)
";
    /// ARGV: type, end (f/b). False for a missing list, else {value, length}.
    LIST_POP = r"
if not existed then return false end
local v
if ARGV[2] == 'f' then v = redis.call('LPOP', k) else v = redis.call('RPOP', k) end
return {v, redis.call('LLEN', k)}
";
    /// ARGV: type, value. False for a missing list, else the new length.
    LIST_REMOVE = r"
if not existed then return false end
redis.call('LREM', k, 0, ARGV[2])
return redis.call('LLEN', k)
";
    /// ARGV: type, mode (a: all, r: ranges), then begin, count pairs. False
    /// for a missing list, else the new length.
    LIST_ERASE = r"
if not existed then return false end
if ARGV[2] == 'a' then redis.call('UNLINK', k) return 0 end
local all = redis.call('LRANGE', k, 0, -1)
local n = #all
-- The ranges clipped to the list and sorted by start, then one pass.
local spans = {}
for j = 3, #ARGV, 2 do
  local a = tonumber(ARGV[j])
  local b = math.min(a + tonumber(ARGV[j + 1]), n)
  if a < b then spans[#spans + 1] = {a, b} end
end
table.sort(spans, function(x, y) return x[1] < y[1] end)
local keep, s = {}, 1
for i = 0, n - 1 do
  while spans[s] and spans[s][2] <= i do s = s + 1 end
  if not (spans[s] and spans[s][1] <= i) then keep[#keep + 1] = all[i + 1] end
end
if #keep == #all then return #all end
local ttl = redis.call('PTTL', k)
redis.call('UNLINK', k)
for _, v in ipairs(keep) do redis.call('RPUSH', k, v) end
if #keep > 0 and ttl > 0 then redis.call('PEXPIRE', k, ttl) end
return #keep
";
    /// ARGV: type, ttl, refresh, start, end. False for a missing list, else
    /// the new length.
    LIST_RETAIN = r"
if not existed then return false end
local a, b = range(redis.call('LLEN', k), ARGV[4], ARGV[5])
if b <= a then redis.call('UNLINK', k) return 0 end
redis.call('LTRIM', k, a, b - 1)
ttl_after(ARGV[2], ARGV[3])
return redis.call('LLEN', k)
";
    /// ARGV: type, start, end, rev (1/0). False for a missing sorted set,
    /// else value, score pairs, `packed`.
    SORTED_SET_FETCH_BY_INDEX = r"
if not existed then return false end
local a, b = range(redis.call('ZCARD', k), ARGV[2], ARGV[3])
if b <= a then return '' end
if ARGV[4] == '1' then
  return packed(redis.call('ZRANGE', k, a, b - 1, 'REV', 'WITHSCORES'))
end
return packed(redis.call('ZRANGE', k, a, b - 1, 'WITHSCORES'))
";
    /// ARGV: type, min, max (Redis's forms), rev (1/0), offset, count (-1:
    /// all). False for a missing sorted set, else value, score pairs, `packed`.
    SORTED_SET_FETCH_BY_SCORE = r"
if not existed then return false end
if ARGV[4] == '1' then
  return packed(redis.call('ZRANGE', k, ARGV[3], ARGV[2], 'BYSCORE', 'REV', 'LIMIT', ARGV[5], ARGV[6], 'WITHSCORES'))
end
return packed(redis.call('ZRANGE', k, ARGV[2], ARGV[3], 'BYSCORE', 'LIMIT', ARGV[5], ARGV[6], 'WITHSCORES'))
";
    /// ARGV[2..]: values. False for a missing sorted set, else each score or false.
    SORTED_SET_SCORES = r"
if not existed then return false end
local out = {}
for i = 2, #ARGV do out[#out + 1] = redis.call('ZSCORE', k, ARGV[i]) end
return out
";
    /// ARGV: type, value, rev (1/0). False for a missing sorted set, else
    /// {rank} or {} for a value not in it.
    SORTED_SET_RANK = r"
if not existed then return false end
local r
if ARGV[3] == '1' then r = redis.call('ZREVRANK', k, ARGV[2]) else r = redis.call('ZRANK', k, ARGV[2]) end
if not r then return {} end
return {r}
";
    /// ARGV: type, min, max. False for a missing sorted set, else the count.
    SORTED_SET_COUNT = r"
if not existed then return false end
return redis.call('ZCOUNT', k, ARGV[2], ARGV[3])
";
    /// ARGV: type, ttl, refresh, max bytes, then value, score pairs (the last wins).
    SORTED_SET_PUT = r"
local size = 0
if existed then size = sum_scored(redis.call('ZRANGE', k, 0, -1)) end
local seen = {}
for i = 5, #ARGV, 2 do
  local v = ARGV[i]
  if not seen[v] and not redis.call('ZSCORE', k, v) then size = size + zsize(v) end
  seen[v] = true
end
if size > tonumber(ARGV[4]) then return too_large() end
for i = 5, #ARGV, 2 do redis.call('ZADD', k, ARGV[i + 1], ARGV[i]) end
ttl_after(ARGV[2], ARGV[3])
return 1
";
    /// ARGV: type, mode (a: all, s: some), values. 0 for a missing sorted set.
    SORTED_SET_REMOVE = r"
if not existed then return 0 end
if ARGV[2] == 'a' then redis.call('UNLINK', k) return 1 end
for i = 3, #ARGV do redis.call('ZREM', k, ARGV[i]) end
return 1
";
    /// ARGV: type, ttl, refresh, max bytes, value, amount. Returns the new score.
    SORTED_SET_INCREMENT = r"
local v = ARGV[5]
if not redis.call('ZSCORE', k, v) then
  local size = 0
  if existed then size = sum_scored(redis.call('ZRANGE', k, 0, -1)) end
  if size + zsize(v) > tonumber(ARGV[4]) then return too_large() end
end
local r = redis.pcall('ZINCRBY', k, ARGV[6], v)
if type(r) == 'table' and r.err then
  if string.find(r.err, 'NaN') then
    return redis.error_reply('SGNAN the resulting score is not a number')
  end
  return redis.error_reply(r.err)
end
ttl_after(ARGV[2], ARGV[3])
return r
";
    /// UnionStore's write: ARGV: `*`, ttl, then value, score pairs. The
    /// destination is replaced whatever it held. Returns its length.
    SORTED_SET_REPLACE = r"
redis.call('UNLINK', k)
for i = 3, #ARGV, 2 do redis.call('ZADD', k, ARGV[i + 1], ARGV[i]) end
if #ARGV > 2 then redis.call('PEXPIRE', k, ARGV[2]) end
return redis.call('ZCARD', k)
";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_defines_the_helpers_it_uses_and_only_those() {
        let push = source("if size > 1 then return too_large() end size = size + esize(v)");
        for helper in ["too_large", "esize", "fs", "vl"] {
            assert!(
                push.contains(&format!("local function {helper}(")),
                "{helper}"
            );
        }
        for helper in ["ttl_after", "range", "psize", "sum_pairs", "packed"] {
            assert!(
                !push.contains(&format!("local function {helper}(")),
                "{helper}"
            );
        }
        let read = source("if not existed then return false end");
        assert!(!read.contains("local function"), "{read}");
        assert!(uses("x = sum_scored(y)", "sum_scored"));
        assert!(!uses("x = my_esize(y)", "esize"));
        assert!(!uses("-- esize", "esize"));
    }
}
