//! List RPCs on a Redis LIST.

use bytes::Bytes;
use redis::AsyncCommands;

use super::{Call, bytes, count, ends, flag, missing_if_empty, scripts};
use crate::backend::BackendError;
use crate::backend::collection::{CollectionOp as O, CollectionReply as Reply, End};
use crate::backend::redis::ms;

pub(super) async fn apply(call: &Call<'_>, op: &O<'_>) -> Result<Reply, BackendError> {
    let key = call.key;
    Ok(match *op {
        O::ListPush {
            end,
            values,
            truncate_to,
            ttl,
        } => {
            let mut s = call.write(&scripts::LIST_PUSH, ttl);
            s.arg(if end == End::Front { "f" } else { "b" })
                .arg(truncate_to);
            values.iter().for_each(|v| {
                s.arg(v.as_slice());
            });
            let n: i64 = call.link.eval("list_push", &s).await?;
            Reply::Length(count(n))
        }
        O::ListPop { end } => {
            let mut s = call.script(&scripts::LIST_POP);
            s.arg(if end == End::Front { "f" } else { "b" });
            let got: Option<(Vec<u8>, i64)> = call.link.eval("list_pop", &s).await?;
            got.map_or(Reply::Missing, |(value, n)| Reply::Popped {
                value: Bytes::from(value),
                length: count(n),
            })
        }
        O::ListFetch { range } => {
            let (start, end) = ends(range);
            let mut s = call.script(&scripts::LIST_FETCH);
            s.arg(start).arg(end);
            let got: Option<Vec<Vec<u8>>> = call.link.eval("list_fetch", &s).await?;
            got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
        }
        O::ListLength => {
            let n: i64 = call
                .link
                .run("list_length", |mut c| async move { c.llen(key).await })
                .await?;
            missing_if_empty(n == 0, Reply::Length(count(n)))
        }
        O::ListRemove { value } => {
            let mut s = call.script(&scripts::LIST_REMOVE);
            s.arg(value);
            let n: Option<i64> = call.link.eval("list_remove", &s).await?;
            n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
        }
        O::ListErase { ranges } => {
            let mut s = call.script(&scripts::LIST_ERASE);
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
            let n: Option<i64> = call.link.eval("list_erase", &s).await?;
            n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
        }
        O::ListRetain { range, ttl } => {
            let (start, end) = ends(range);
            let mut s = call.script(&scripts::LIST_RETAIN);
            s.arg(ms(ttl.ttl))
                .arg(flag(ttl.refresh))
                .arg(start)
                .arg(end);
            let n: Option<i64> = call.link.eval("list_retain", &s).await?;
            n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
        }
        _ => return Err(crate::backend::collection::wrong_type()),
    })
}
