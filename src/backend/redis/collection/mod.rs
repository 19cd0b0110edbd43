//! Collections on Redis, as native types (HASH, SET, LIST, ZSET) under the
//! item's key. Reads that need nothing but Redis's own answer are one
//! command (WRONGTYPE is mapped to FAILED_PRECONDITION by `link`); the rest
//! are one Lua script each ([`scripts`]), so type checks, size bounds, TTL
//! rules and truncation happen in one atomic round trip. UnionStore reads
//! each source with its own command (in a cluster the sources may live in
//! other slots), combines them here, and replaces the destination in one
//! script.

mod scripts;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;

use super::{RedisBackend, ms};
use crate::backend::collection::{
    Aggregate, CollectionBackend, CollectionOp, CollectionReply as Reply, Difference, End,
    IndexRange, ItemType, Order, Union, length, redis_score,
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

/// WITHSCORES pairs.
fn scored(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Reply, BackendError> {
    pairs
        .into_iter()
        .map(|(v, s)| Ok((Bytes::from(v), score(&s)?)))
        .collect::<Result<_, _>>()
        .map(Reply::Scored)
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
        use CollectionOp as O;
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let link = &self.inner.link;
        let max = self.inner.limits.max_collection_bytes;
        let kind = redis_type(op.item_type());
        // A script's invocation: the key, the type, then `args`.
        let run = |script: &'static redis::Script| {
            let mut invocation = script.key(&key);
            invocation.arg(kind);
            invocation
        };
        // The common head of a write: its TTL, refresh flag and size bound.
        let write = |script: &'static redis::Script,
                     ttl: crate::backend::collection::CollectionTtl| {
            let mut invocation = run(script);
            invocation.arg(ms(ttl.ttl)).arg(flag(ttl.refresh)).arg(max);
            invocation
        };
        let key = &key;
        let missing_if_empty =
            |empty: bool, reply: Reply| if empty { Reply::Missing } else { reply };
        Ok(match *op {
            O::DictionaryFetch => {
                let all: HashMap<Vec<u8>, Vec<u8>> = link
                    .run(
                        "dictionary_fetch",
                        |mut c| async move { c.hgetall(key).await },
                    )
                    .await?;
                let pairs: Vec<_> = all
                    .into_iter()
                    .map(|(f, v)| (Bytes::from(f), Bytes::from(v)))
                    .collect();
                missing_if_empty(pairs.is_empty(), Reply::Pairs(pairs))
            }
            O::DictionaryGet { fields } => {
                let mut s = run(&scripts::DICTIONARY_GET);
                fields.iter().for_each(|f| {
                    s.arg(f.as_slice());
                });
                let got: Option<Vec<Option<Vec<u8>>>> = link.eval("dictionary_get", &s).await?;
                match got {
                    None => Reply::Missing,
                    Some(values) => {
                        Reply::Fields(values.into_iter().map(|v| v.map(Bytes::from)).collect())
                    }
                }
            }
            O::DictionarySet { items, ttl } => {
                let mut s = write(&scripts::DICTIONARY_SET, ttl);
                for pair in items {
                    s.arg(pair.field.as_slice()).arg(pair.value.as_slice());
                }
                let _: i64 = link.eval("dictionary_set", &s).await?;
                Reply::Done
            }
            O::DictionaryIncrement { field, amount, ttl } => {
                let mut s = write(&scripts::DICTIONARY_INCREMENT, ttl);
                s.arg(field).arg(amount);
                let value: String = link.eval("dictionary_increment", &s).await?;
                Reply::Integer(value.parse().map_err(|_| {
                    BackendError::FailedPrecondition("the dictionary field is not an integer")
                })?)
            }
            O::DictionaryDelete { fields } => {
                let mut s = run(&scripts::DICTIONARY_DELETE);
                match fields {
                    None => {
                        s.arg("a");
                    }
                    Some(fields) => {
                        s.arg("s");
                        fields.iter().for_each(|f| {
                            s.arg(f.as_slice());
                        });
                    }
                }
                let found: i64 = link.eval("dictionary_delete", &s).await?;
                if found == 1 {
                    Reply::Done
                } else {
                    Reply::Missing
                }
            }
            O::DictionaryLength => {
                let n: i64 = link
                    .run(
                        "dictionary_length",
                        |mut c| async move { c.hlen(key).await },
                    )
                    .await?;
                missing_if_empty(n == 0, Reply::Length(count(n)))
            }
            O::SetFetch => {
                let all: Vec<Vec<u8>> = link
                    .run("set_fetch", |mut c| async move { c.smembers(key).await })
                    .await?;
                missing_if_empty(all.is_empty(), Reply::Values(bytes(all)))
            }
            O::SetSample { limit } => {
                let mut s = run(&scripts::SET_SAMPLE);
                s.arg(limit);
                let got: Option<Vec<Vec<u8>>> = link.eval("set_sample", &s).await?;
                got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
            }
            O::SetPop { count } => {
                let mut s = run(&scripts::SET_POP);
                s.arg(count);
                let got: Option<Vec<Vec<u8>>> = link.eval("set_pop", &s).await?;
                got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
            }
            O::SetContains { elements } => {
                let mut s = run(&scripts::SET_CONTAINS);
                elements.iter().for_each(|e| {
                    s.arg(e.as_slice());
                });
                let got: Option<Vec<i64>> = link.eval("set_contains", &s).await?;
                got.map_or(Reply::Missing, |v| {
                    Reply::Contains(v.into_iter().map(|n| n == 1).collect())
                })
            }
            O::SetUnion { elements, ttl } => {
                let mut s = write(&scripts::SET_UNION, ttl);
                elements.iter().for_each(|e| {
                    s.arg(e.as_slice());
                });
                let _: i64 = link.eval("set_union", &s).await?;
                Reply::Done
            }
            O::SetDifference { elements, form } => {
                let mut s = run(&scripts::SET_DIFFERENCE);
                s.arg(match form {
                    Difference::Minuend => "m",
                    Difference::Subtrahend => "s",
                    Difference::Identity => "i",
                })
                .arg(max);
                elements.iter().for_each(|e| {
                    s.arg(e.as_slice());
                });
                let found: i64 = link.eval("set_difference", &s).await?;
                if found == 1 {
                    Reply::Done
                } else {
                    Reply::Missing
                }
            }
            O::SetLength => {
                let n: i64 = link
                    .run("set_length", |mut c| async move { c.scard(key).await })
                    .await?;
                missing_if_empty(n == 0, Reply::Length(count(n)))
            }
            O::ListPush {
                end,
                values,
                truncate_to,
                ttl,
            } => {
                let mut s = write(&scripts::LIST_PUSH, ttl);
                s.arg(if end == End::Front { "f" } else { "b" })
                    .arg(truncate_to);
                values.iter().for_each(|v| {
                    s.arg(v.as_slice());
                });
                let n: i64 = link.eval("list_push", &s).await?;
                Reply::Length(count(n))
            }
            O::ListPop { end } => {
                let mut s = run(&scripts::LIST_POP);
                s.arg(if end == End::Front { "f" } else { "b" });
                let got: Option<(Vec<u8>, i64)> = link.eval("list_pop", &s).await?;
                got.map_or(Reply::Missing, |(value, n)| Reply::Popped {
                    value: Bytes::from(value),
                    length: count(n),
                })
            }
            O::ListFetch { range } => {
                let (start, end) = ends(range);
                let mut s = run(&scripts::LIST_FETCH);
                s.arg(start).arg(end);
                let got: Option<Vec<Vec<u8>>> = link.eval("list_fetch", &s).await?;
                got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
            }
            O::ListLength => {
                let n: i64 = link
                    .run("list_length", |mut c| async move { c.llen(key).await })
                    .await?;
                missing_if_empty(n == 0, Reply::Length(count(n)))
            }
            O::ListRemove { value } => {
                let mut s = run(&scripts::LIST_REMOVE);
                s.arg(value);
                let n: Option<i64> = link.eval("list_remove", &s).await?;
                n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
            }
            O::ListErase { ranges } => {
                let mut s = run(&scripts::LIST_ERASE);
                match ranges {
                    None => {
                        s.arg("a");
                    }
                    Some(ranges) => {
                        s.arg("r");
                        for r in ranges {
                            s.arg(r.begin_index).arg(r.count);
                        }
                    }
                }
                let n: Option<i64> = link.eval("list_erase", &s).await?;
                n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
            }
            O::ListRetain { range, ttl } => {
                let (start, end) = ends(range);
                let mut s = run(&scripts::LIST_RETAIN);
                s.arg(ms(ttl.ttl))
                    .arg(flag(ttl.refresh))
                    .arg(start)
                    .arg(end);
                let n: Option<i64> = link.eval("list_retain", &s).await?;
                n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
            }
            O::SortedSetPut { elements, ttl } => {
                let mut s = write(&scripts::SORTED_SET_PUT, ttl);
                for e in elements {
                    s.arg(e.value.as_slice()).arg(redis_score(e.score));
                }
                let _: i64 = link.eval("sorted_set_put", &s).await?;
                Reply::Done
            }
            O::SortedSetFetchByIndex { range, order } => {
                let (start, end) = ends(range);
                let mut s = run(&scripts::SORTED_SET_FETCH_BY_INDEX);
                s.arg(start).arg(end).arg(flag(order == Order::Descending));
                let got: Option<Vec<(Vec<u8>, Vec<u8>)>> =
                    link.eval("sorted_set_fetch", &s).await?;
                got.map_or(Ok(Reply::Missing), scored)?
            }
            O::SortedSetFetchByScore {
                min,
                max,
                offset,
                count,
                order,
            } => {
                let mut s = run(&scripts::SORTED_SET_FETCH_BY_SCORE);
                s.arg(min.redis_min())
                    .arg(max.redis_max())
                    .arg(flag(order == Order::Descending))
                    .arg(offset)
                    .arg(count.map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX)));
                let got: Option<Vec<(Vec<u8>, Vec<u8>)>> =
                    link.eval("sorted_set_fetch", &s).await?;
                got.map_or(Ok(Reply::Missing), scored)?
            }
            O::SortedSetGetScore { values } => {
                let mut s = run(&scripts::SORTED_SET_SCORES);
                values.iter().for_each(|v| {
                    s.arg(v.as_slice());
                });
                let got: Option<Vec<Option<Vec<u8>>>> =
                    link.eval("sorted_set_get_score", &s).await?;
                match got {
                    None => Reply::Missing,
                    Some(scores) => Reply::Scores(
                        scores
                            .into_iter()
                            .map(|s| s.map(|s| score(&s)).transpose())
                            .collect::<Result<_, _>>()?,
                    ),
                }
            }
            O::SortedSetGetRank { value, order } => {
                let mut s = run(&scripts::SORTED_SET_RANK);
                s.arg(value).arg(flag(order == Order::Descending));
                let got: Option<Vec<u64>> = link.eval("sorted_set_get_rank", &s).await?;
                got.map_or(Reply::Missing, |r| Reply::Rank(r.first().copied()))
            }
            O::SortedSetRemove { values } => {
                let mut s = run(&scripts::SORTED_SET_REMOVE);
                match values {
                    None => {
                        s.arg("a");
                    }
                    Some(values) => {
                        s.arg("s");
                        values.iter().for_each(|v| {
                            s.arg(v.as_slice());
                        });
                    }
                }
                let found: i64 = link.eval("sorted_set_remove", &s).await?;
                if found == 1 {
                    Reply::Done
                } else {
                    Reply::Missing
                }
            }
            O::SortedSetIncrement { value, amount, ttl } => {
                let mut s = write(&scripts::SORTED_SET_INCREMENT, ttl);
                s.arg(value).arg(redis_score(amount));
                let got: Vec<u8> = link.eval("sorted_set_increment", &s).await?;
                Reply::Score(score(&got)?)
            }
            O::SortedSetLength => {
                let n: i64 = link
                    .run(
                        "sorted_set_length",
                        |mut c| async move { c.zcard(key).await },
                    )
                    .await?;
                missing_if_empty(n == 0, Reply::Length(count(n)))
            }
            O::SortedSetLengthByScore { min, max } => {
                let mut s = run(&scripts::SORTED_SET_COUNT);
                s.arg(min.redis_min()).arg(max.redis_max());
                let n: Option<i64> = link.eval("sorted_set_length_by_score", &s).await?;
                n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
            }
        })
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
