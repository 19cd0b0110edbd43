//! Set RPCs on a Redis SET.

use redis::AsyncCommands;

use super::{Call, bytes, count, missing_if_empty, scripts};
use crate::backend::BackendError;
use crate::backend::collection::{CollectionOp as O, CollectionReply as Reply, Difference};

pub(super) async fn apply(call: &Call<'_>, op: &O<'_>) -> Result<Reply, BackendError> {
    let key = call.key;
    Ok(match *op {
        O::SetFetch => {
            let all: Vec<Vec<u8>> = call
                .link
                .run("set_fetch", |mut c| async move { c.smembers(key).await })
                .await?;
            missing_if_empty(all.is_empty(), Reply::Values(bytes(all)))
        }
        O::SetSample { limit } => {
            let mut s = call.script(&scripts::SET_SAMPLE);
            s.arg(limit);
            let got: Option<Vec<Vec<u8>>> = call.link.eval("set_sample", &s).await?;
            got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
        }
        O::SetPop { count } => {
            let mut s = call.script(&scripts::SET_POP);
            s.arg(count);
            let got: Option<Vec<Vec<u8>>> = call.link.eval("set_pop", &s).await?;
            got.map_or(Reply::Missing, |v| Reply::Values(bytes(v)))
        }
        O::SetContains { elements } => {
            let mut s = call.script(&scripts::SET_CONTAINS);
            elements.iter().for_each(|e| {
                s.arg(e.as_slice());
            });
            let got: Option<Vec<i64>> = call.link.eval("set_contains", &s).await?;
            got.map_or(Reply::Missing, |v| {
                Reply::Contains(v.into_iter().map(|n| n == 1).collect())
            })
        }
        O::SetUnion { elements, ttl } => {
            let mut s = call.write(&scripts::SET_UNION, ttl);
            elements.iter().for_each(|e| {
                s.arg(e.as_slice());
            });
            let _: i64 = call.link.eval("set_union", &s).await?;
            Reply::Done
        }
        O::SetDifference { elements, form } => {
            let mut s = call.script(&scripts::SET_DIFFERENCE);
            s.arg(match form {
                Difference::Minuend => "m",
                Difference::Subtrahend => "s",
                Difference::Identity => "i",
            })
            .arg(call.max);
            elements.iter().for_each(|e| {
                s.arg(e.as_slice());
            });
            let found: i64 = call.link.eval("set_difference", &s).await?;
            if found == 1 {
                Reply::Done
            } else {
                Reply::Missing
            }
        }
        O::SetLength => {
            let n: i64 = call
                .link
                .run("set_length", |mut c| async move { c.scard(key).await })
                .await?;
            missing_if_empty(n == 0, Reply::Length(count(n)))
        }
        _ => return Err(crate::backend::collection::wrong_type()),
    })
}
