//! Collections on Redis, as native types (HASH, SET, LIST, ZSET) under the
//! item's key. Reads that need nothing but Redis's own answer are one
//! command (WRONGTYPE is mapped to FAILED_PRECONDITION by `link`); the rest
//! are one Lua script each ([`scripts`]), so type checks, size bounds, TTL
//! rules and truncation happen in one atomic round trip. UnionStore reads
//! each source with its own command (in a cluster the sources may live in
//! other slots), combines them here, and replaces the destination in one
//! script.

mod dictionary;
mod list;
mod scripts;
mod set;
mod sorted_set;

use std::time::Duration;

use bytes::Bytes;

use super::{RedisBackend, ms};
use crate::backend::collection::{
    Aggregate, CollectionBackend, CollectionOp, CollectionReply as Reply, IndexRange, ItemType,
    Union, length, redis_score,
};
use crate::backend::{BackendError, item_of};
use crate::operation::Target;
use crate::scope::Permit;

/// Redis's name of each collection type (TYPE's answer).
fn redis_type(kind: ItemType) -> &'static str {
    match kind {
        ItemType::Scalar => "string",
        ItemType::Dictionary => "hash",
        ItemType::Set => "set",
        ItemType::List => "list",
        ItemType::SortedSet => "zset",
    }
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

/// A range's ends as the scripts take them ('' = open).
fn ends(range: IndexRange) -> (String, String) {
    let end = |i: Option<i32>| i.map_or_else(String::new, |i| i.to_string());
    (end(range.start), end(range.end))
}

fn bytes(values: Vec<Vec<u8>>) -> Vec<Bytes> {
    values.into_iter().map(Bytes::from).collect()
}

/// A score Redis wrote (`inf`, `-inf` and decimals all parse).
fn score(text: &[u8]) -> Result<f64, BackendError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| BackendError::Unavailable("the cache backend sent a malformed score".into()))
}

/// A fetch's elements from a script's `packed` netstrings (`<len>:<bytes>`,
/// value then score), sliced from the one reply without copying.
fn unpack_scored(blob: Vec<u8>) -> Result<Reply, BackendError> {
    let blob = Bytes::from(blob);
    let mut at = 0;
    let mut elements = Vec::new();
    while at < blob.len() {
        let value = netstring(&blob, &mut at)?;
        let score = score(&netstring(&blob, &mut at)?)?;
        elements.push((value, score));
    }
    Ok(Reply::Scored(elements))
}

/// The netstring at `*at`, which moves past it.
fn netstring(blob: &Bytes, at: &mut usize) -> Result<Bytes, BackendError> {
    let malformed = || BackendError::Unavailable("the cache backend sent a malformed reply".into());
    let rest = blob.get(*at..).ok_or_else(malformed)?;
    let colon = rest.iter().position(|&b| b == b':').ok_or_else(malformed)?;
    let len: usize = std::str::from_utf8(&rest[..colon])
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(malformed)?;
    let start = *at + colon + 1;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= blob.len())
        .ok_or_else(malformed)?;
    *at = end;
    Ok(blob.slice(start..end))
}

/// A collection of no elements does not exist.
fn missing_if_empty(empty: bool, reply: Reply) -> Reply {
    if empty { Reply::Missing } else { reply }
}

/// One collection call: its key, the Redis type it needs, the size bound.
struct Call<'a> {
    link: &'a super::link::Link,
    key: &'a [u8],
    kind: &'static str,
    max: usize,
}

impl Call<'_> {
    /// A script's invocation: the key, the type, then what the caller adds.
    fn script(&self, script: &'static redis::Script) -> redis::ScriptInvocation<'static> {
        let mut invocation = script.key(self.key);
        invocation.arg(self.kind);
        invocation
    }

    /// A write's: its TTL, refresh flag and size bound after the type.
    fn write(
        &self,
        script: &'static redis::Script,
        ttl: crate::backend::collection::CollectionTtl,
    ) -> redis::ScriptInvocation<'static> {
        let mut invocation = self.script(script);
        invocation
            .arg(ms(ttl.ttl))
            .arg(flag(ttl.refresh))
            .arg(self.max);
        invocation
    }
}

fn count(n: i64) -> u32 {
    length(usize::try_from(n).unwrap_or(0))
}

impl CollectionBackend for RedisBackend {
    async fn collection(
        &self,
        permit: &Permit<'_>,
        op: &CollectionOp<'_>,
    ) -> Result<Reply, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let call = Call {
            link: &self.inner.link,
            key: &key,
            kind: redis_type(op.item_type()),
            max: self.inner.limits.max_collection_bytes,
        };
        match op.item_type() {
            ItemType::Dictionary => dictionary::apply(&call, op).await,
            ItemType::Set => set::apply(&call, op).await,
            ItemType::List => list::apply(&call, op).await,
            ItemType::SortedSet => sorted_set::apply(&call, op).await,
            ItemType::Scalar => Err(BackendError::WrongPermit),
        }
    }

    async fn union_store(
        &self,
        permit: &Permit<'_>,
        aggregate: Aggregate,
        ttl: Duration,
    ) -> Result<u32, BackendError> {
        let Target::Union {
            destination,
            sources,
        } = permit.target()
        else {
            return Err(BackendError::WrongPermit);
        };
        let cache = permit.cache();
        let link = &self.inner.link;
        // Each source with its own command: in a cluster they may live in
        // other slots than the destination and each other.
        // Each folded in as it is read, the size bound checked as the union
        // grows.
        let mut union = Union::new(aggregate, self.inner.limits.max_collection_bytes);
        for source in sources.0 {
            let key = self.inner.item_key(cache, &source.set_name).await?;
            let key = &key;
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = link
                .run("sorted_set_union_store", |mut c| async move {
                    redis::cmd("ZRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query_async(&mut c)
                        .await
                })
                .await?;
            let pairs = pairs
                .into_iter()
                .map(|(v, s)| Ok((Bytes::from(v), score(&s)?)))
                .collect::<Result<Vec<_>, BackendError>>()?;
            union.add(f64::from(source.weight), pairs.iter().map(|(v, s)| (v, *s)))?;
        }
        let union = union.into_scores();
        let key = self.inner.item_key(cache, destination).await?;
        let mut s = scripts::SORTED_SET_REPLACE.key(&key);
        s.arg("*").arg(ms(ttl));
        for (value, score) in &union {
            s.arg(value.as_ref()).arg(redis_score(*score));
        }
        let n: i64 = link.eval("sorted_set_union_store", &s).await?;
        Ok(count(n))
    }

    async fn describe(
        &self,
        permit: &Permit<'_>,
    ) -> Result<Option<(ItemType, Duration)>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let (kind, remaining): (String, i64) = self
            .inner
            .link
            .run("describe", |mut c| async move {
                redis::pipe()
                    .atomic()
                    .cmd("TYPE")
                    .arg(&key)
                    .pttl(&key)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        let kind = match kind.as_str() {
            "none" => return Ok(None),
            "hash" => ItemType::Dictionary,
            "set" => ItemType::Set,
            "list" => ItemType::List,
            "zset" => ItemType::SortedSet,
            _ => ItemType::Scalar,
        };
        Ok(Some((
            kind,
            Duration::from_millis(u64::try_from(remaining).unwrap_or(0)),
        )))
    }
}
