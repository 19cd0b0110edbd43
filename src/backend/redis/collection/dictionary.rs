//! Dictionary RPCs on a Redis HASH.

use std::collections::HashMap;

use bytes::Bytes;
use redis::AsyncCommands;

use super::{Call, count, missing_if_empty, scripts};
use crate::backend::BackendError;
use crate::backend::collection::{CollectionOp as O, CollectionReply as Reply};

pub(super) async fn apply(call: &Call<'_>, op: &O<'_>) -> Result<Reply, BackendError> {
    let key = call.key;
    Ok(match *op {
        O::DictionaryFetch => {
            let all: HashMap<Vec<u8>, Vec<u8>> = call
                .link
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
            let mut s = call.script(&scripts::DICTIONARY_GET);
            fields.iter().for_each(|f| {
                s.arg(f.as_slice());
            });
            let got: Option<Vec<Option<Vec<u8>>>> = call.link.eval("dictionary_get", &s).await?;
            match got {
                None => Reply::Missing,
                Some(values) => {
                    Reply::Fields(values.into_iter().map(|v| v.map(Bytes::from)).collect())
                }
            }
        }
        O::DictionarySet { items, ttl } => {
            let mut s = call.write(&scripts::DICTIONARY_SET, ttl);
            for pair in items {
                s.arg(pair.field.as_slice()).arg(pair.value.as_slice());
            }
            let _: i64 = call.link.eval("dictionary_set", &s).await?;
            Reply::Done
        }
        O::DictionaryIncrement { field, amount, ttl } => {
            let mut s = call.write(&scripts::DICTIONARY_INCREMENT, ttl);
            s.arg(field).arg(amount);
            let value: String = call.link.eval("dictionary_increment", &s).await?;
            Reply::Integer(value.parse().map_err(|_| {
                BackendError::FailedPrecondition("the dictionary field is not an integer")
            })?)
        }
        O::DictionaryDelete { fields } => {
            let mut s = call.script(&scripts::DICTIONARY_DELETE);
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
            let found: i64 = call.link.eval("dictionary_delete", &s).await?;
            if found == 1 {
                Reply::Done
            } else {
                Reply::Missing
            }
        }
        O::DictionaryLength => {
            let n: i64 = call
                .link
                .run(
                    "dictionary_length",
                    |mut c| async move { c.hlen(key).await },
                )
                .await?;
            missing_if_empty(n == 0, Reply::Length(count(n)))
        }
        _ => return Err(crate::backend::collection::wrong_type()),
    })
}
