//! Sorted-set RPCs on a Redis ZSET.

use redis::AsyncCommands;

use super::{Call, count, ends, flag, missing_if_empty, score, scripts, unpack_scored};
use crate::backend::BackendError;
use crate::backend::collection::{CollectionOp as O, CollectionReply as Reply, Order, redis_score};

pub(super) async fn apply(call: &Call<'_>, op: &O<'_>) -> Result<Reply, BackendError> {
    let key = call.key;
    Ok(match *op {
        O::SortedSetPut { elements, ttl } => {
            let mut s = call.write(&scripts::SORTED_SET_PUT, ttl);
            for e in elements {
                s.arg(e.value.as_slice()).arg(redis_score(e.score));
            }
            let _: i64 = call.link.eval("sorted_set_put", &s).await?;
            Reply::Done
        }
        O::SortedSetFetchByIndex { range, order } => {
            let (start, end) = ends(range);
            let mut s = call.script(&scripts::SORTED_SET_FETCH_BY_INDEX);
            s.arg(start).arg(end).arg(flag(order == Order::Descending));
            let got: Option<Vec<u8>> = call.link.eval("sorted_set_fetch", &s).await?;
            got.map_or(Ok(Reply::Missing), unpack_scored)?
        }
        O::SortedSetFetchByScore {
            min,
            max,
            offset,
            count,
            order,
        } => {
            let mut s = call.script(&scripts::SORTED_SET_FETCH_BY_SCORE);
            s.arg(min.redis_min())
                .arg(max.redis_max())
                .arg(flag(order == Order::Descending))
                .arg(offset)
                .arg(count.map_or(-1, |c| i64::try_from(c).unwrap_or(i64::MAX)));
            let got: Option<Vec<u8>> = call.link.eval("sorted_set_fetch", &s).await?;
            got.map_or(Ok(Reply::Missing), unpack_scored)?
        }
        O::SortedSetGetScore { values } => {
            let mut s = call.script(&scripts::SORTED_SET_SCORES);
            values.iter().for_each(|v| {
                s.arg(v.as_slice());
            });
            let got: Option<Vec<Option<Vec<u8>>>> =
                call.link.eval("sorted_set_get_score", &s).await?;
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
            let mut s = call.script(&scripts::SORTED_SET_RANK);
            s.arg(value).arg(flag(order == Order::Descending));
            let got: Option<Vec<u64>> = call.link.eval("sorted_set_get_rank", &s).await?;
            got.map_or(Reply::Missing, |r| Reply::Rank(r.first().copied()))
        }
        O::SortedSetRemove { values } => {
            let mut s = call.script(&scripts::SORTED_SET_REMOVE);
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
            let found: i64 = call.link.eval("sorted_set_remove", &s).await?;
            if found == 1 {
                Reply::Done
            } else {
                Reply::Missing
            }
        }
        O::SortedSetIncrement { value, amount, ttl } => {
            let mut s = call.write(&scripts::SORTED_SET_INCREMENT, ttl);
            s.arg(value).arg(redis_score(amount));
            let got: Vec<u8> = call.link.eval("sorted_set_increment", &s).await?;
            Reply::Score(score(&got)?)
        }
        O::SortedSetLength => {
            let n: i64 = call
                .link
                .run(
                    "sorted_set_length",
                    |mut c| async move { c.zcard(key).await },
                )
                .await?;
            missing_if_empty(n == 0, Reply::Length(count(n)))
        }
        O::SortedSetLengthByScore { min, max } => {
            let mut s = call.script(&scripts::SORTED_SET_COUNT);
            s.arg(min.redis_min()).arg(max.redis_max());
            let n: Option<i64> = call.link.eval("sorted_set_length_by_score", &s).await?;
            n.map_or(Reply::Missing, |n| Reply::Length(count(n)))
        }
        _ => return Err(crate::backend::collection::wrong_type()),
    })
}
