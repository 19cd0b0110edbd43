//! `cache_client.Scs`: every RPC of the cache service, scalar ones here and
//! the collections' in [`collections`]. Each authorizes its keys as the kind
//! its path was classified as, then validates, then calls the backend.

mod collections;
mod support;

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use momento_protos::cache_client::scs_server::Scs;
use momento_protos::cache_client::*;
use tonic::Request;
use tonic::codegen::tokio_stream;

pub use support::ScsFront;
use support::{Streamed, get_response, set_ok};

use super::body::GrpcBody;
use super::{cache_name, caller, classified, kind, rpcs};
use crate::api::ResponseBody;
use crate::backend::collection::{CollectionBackend, ItemType as Type};
use crate::backend::{CacheBackend, Condition, TtlOutcome, TtlUpdate, value_hash};
use crate::error::{ApiError, ErrorCode};
use crate::operation::{Keys, Operation, OperationKind, Target};

/// How many GetBatch items are fetched ahead of the client's reading.
const LOOKAHEAD: usize = 4;

/// The handlers: authorize (the request's target, as the kind its path was
/// classified as) -> backend -> convert. [`rpcs!`] makes each the tonic
/// method of the same name.
impl ScsFront {
    async fn get(&self, request: Request<GetRequest>) -> Result<GetResponse, ApiError> {
        let permit = self.keyed(&request)?;
        let value = self.app.backend.get(&permit).await?;
        Ok(get_response(value))
    }

    async fn set(&self, request: Request<SetRequest>) -> Result<SetResponse, ApiError> {
        let permit = self.keyed(&request)?;
        let r = request.get_ref();
        let (ttl, value) = self.value(r.ttl_milliseconds, &r.cache_body)?;
        self.app.backend.set(&permit, value, ttl).await?;
        Ok(set_ok())
    }

    async fn delete(&self, request: Request<DeleteRequest>) -> Result<DeleteResponse, ApiError> {
        let permit = self.keyed(&request)?;
        self.app.backend.delete(&permit).await?;
        Ok(DeleteResponse {})
    }

    async fn keys_exist(
        &self,
        request: Request<KeysExistRequest>,
    ) -> Result<KeysExistResponse, ApiError> {
        let permit = self.permit(&request, |r| Target::Keys(Keys::List(&r.cache_keys)))?;
        let count = permit.key_count();
        if count == 0 {
            return Ok(KeysExistResponse { exists: Vec::new() });
        }
        // The first key alone: it finds the cache (on Redis, a registry read
        // for a cache not yet known), so a missing cache costs one lookup,
        // not one per key in flight.
        let mut exists = Vec::with_capacity(count);
        exists.push(self.app.backend.exists(&permit.nth_key(0)).await?);
        // Then many lookups in flight at once (pipelined on Redis), answered
        // in order, each on its key's share of the batch's permit. (By
        // index: a closure taking a `Permit<'_>` trips the `Send` check of
        // higher-ranked lifetimes.)
        let rest: Vec<bool> = futures_util::stream::iter(1..count)
            .map(|i| {
                let key = permit.nth_key(i);
                async move { self.app.backend.exists(&key).await }
            })
            .buffered(64)
            .try_collect()
            .await?;
        exists.extend(rest);
        Ok(KeysExistResponse { exists })
    }

    /// Items are fetched a few at a time as the client reads them (a small
    /// bounded channel, [`LOOKAHEAD`] gets ahead): a batch naming one large
    /// value many times costs a handful of values at a time, not all of them. The batch must finish within
    /// `request_timeout` like any request: a client that stops reading frees
    /// the task then, and finds DEADLINE_EXCEEDED after what it was sent (a
    /// slot is always kept for that last word), as it does on shutdown.
    async fn get_batch(
        &self,
        request: Request<GetBatchRequest>,
    ) -> Result<Streamed<GetResponse>, ApiError> {
        // Refused here, before the stream opens, if the scope falls short.
        self.permit(&request, |r| Target::Keys(Keys::Gets(&r.items)))?;
        let verified = caller(&request)?;
        let kind = kind(classified(&request))?;
        let cache = cache_name(&request)?.to_owned();
        let keys: Vec<Vec<u8>> = request
            .into_inner()
            .items
            .into_iter()
            .map(|i| i.cache_key)
            .collect();
        // Items take at most 4 slots; the fifth is the last word's.
        let (tx, rx) = tokio::sync::mpsc::channel(5);
        let app = Arc::clone(&self.app);
        tokio::spawn(async move {
            // The task owns the keys, so it holds its own permit for
            // them: the same (pure) authorization as above, of the same
            // operation. Should it ever differ, the stream fails closed.
            let op = Operation::keys(kind, &cache, Keys::List(&keys));
            let permit = match verified.scope.authorize(&op) {
                Ok(permit) => permit,
                Err(denial) => {
                    let _ = tx.try_send(Err(ApiError::from(denial).grpc_status()));
                    return;
                }
            };
            let deadline = crate::clock::deadline(app.limits.request_timeout);
            // Up to LOOKAHEAD gets in flight at once: on Redis they share
            // the multiplexed connections, pipelined, instead of waiting
            // for one round trip after another.
            let mut gets = futures_util::stream::iter(0..permit.key_count())
                .map(|i| {
                    let (app, key) = (&app, permit.nth_key(i));
                    async move { app.backend.get(&key).await }
                })
                .buffered(LOOKAHEAD);
            loop {
                let room = tokio::select! {
                    biased;
                    () = app.drained() => Err(ApiError::new(
                        ErrorCode::ServerUnavailable,
                        "the server is shutting down",
                    )),
                    room = tokio::time::timeout_at(deadline, tx.reserve_many(2)) => match room {
                        Ok(Ok(room)) => Ok(room),
                        Ok(Err(_)) => return, // The client has gone.
                        Err(_) => Err(ApiError::new(ErrorCode::TimeoutError, "request timed out")),
                    },
                };
                let mut room = match room {
                    Ok(room) => room,
                    Err(last_word) => {
                        let _ = tx.try_send(Err(last_word.grpc_status()));
                        return;
                    }
                };
                let Some(got) = gets.next().await else {
                    return;
                };
                let response = match got {
                    Ok(value) => Ok(get_response(value)),
                    Err(e) => Err(ApiError::from(e).grpc_status()),
                };
                let failed = response.is_err();
                if let Some(slot) = room.next() {
                    slot.send(response);
                }
                if failed {
                    return;
                }
            }
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)) as Streamed<GetResponse>)
    }

    async fn set_batch(
        &self,
        request: Request<SetBatchRequest>,
    ) -> Result<Streamed<SetResponse>, ApiError> {
        let permit = self.permit(&request, |r| Target::Keys(Keys::Sets(&r.items)))?;
        // Validate every item before writing any: nothing is half-written.
        let items = &request.get_ref().items;
        let values = items
            .iter()
            .map(|item| self.value(item.ttl_milliseconds, &item.cache_body))
            .collect::<Result<Vec<_>, _>>()?;
        let mut responses = Vec::with_capacity(items.len());
        for (key, (ttl, value)) in permit.each_key().zip(values) {
            self.app.backend.set(&key, value, ttl).await?;
            responses.push(Ok(set_ok()));
        }
        Ok(Box::pin(tokio_stream::iter(responses)) as Streamed<SetResponse>)
    }

    async fn get_with_hash(
        &self,
        request: Request<GetWithHashRequest>,
    ) -> Result<GetWithHashResponse, ApiError> {
        use get_with_hash_response::{Found, Missing, Result as R};
        let item = self.item(&request).await?;
        let result = match item {
            Some(item) => R::Found(Found {
                hash: value_hash(&item.value).to_vec(),
                value: item.value.to_vec(),
            }),
            None => R::Missing(Missing {}),
        };
        Ok(GetWithHashResponse {
            result: Some(result),
        })
    }

    async fn set_if(&self, request: Request<SetIfRequest>) -> Result<SetIfResponse, ApiError> {
        use momento_protos::cache_client::set_if_request::Condition as C;
        use set_if_response::{NotStored, Result as R, Stored};
        let r = request.get_ref();
        let condition = match r.condition.as_ref() {
            Some(C::Present(_)) => Ok(Condition::Present),
            Some(C::Absent(_)) => Ok(Condition::Absent),
            Some(C::Equal(v)) => Ok(Condition::Equal(v.value_to_check.clone())),
            Some(C::NotEqual(v)) => Ok(Condition::NotEqual(v.value_to_check.clone())),
            Some(C::PresentAndNotEqual(v)) => {
                Ok(Condition::PresentAndNotEqual(v.value_to_check.clone()))
            }
            Some(C::AbsentOrEqual(v)) => Ok(Condition::AbsentOrEqual(v.value_to_check.clone())),
            None => Err(ApiError::invalid("a condition is required")),
        };
        let stored = self.conditional_set(&request, condition).await?;
        let result = if stored {
            R::Stored(Stored {})
        } else {
            R::NotStored(NotStored {})
        };
        Ok(SetIfResponse {
            result: Some(result),
        })
    }

    async fn set_if_hash(
        &self,
        request: Request<SetIfHashRequest>,
    ) -> Result<SetIfHashResponse, ApiError> {
        use momento_protos::cache_client::set_if_hash_request::Condition as C;
        use set_if_hash_response::{NotStored, Result as R, Stored};
        let r = request.get_ref();
        let condition = match r.condition.as_ref() {
            Some(C::PresentAndHashEqual(h)) => {
                Ok(Condition::PresentAndHashEqual(h.hash_to_check.clone()))
            }
            Some(C::PresentAndNotHashEqual(h)) => {
                Ok(Condition::PresentAndNotHashEqual(h.hash_to_check.clone()))
            }
            Some(C::AbsentOrHashEqual(h)) => {
                Ok(Condition::AbsentOrHashEqual(h.hash_to_check.clone()))
            }
            Some(C::AbsentOrNotHashEqual(h)) => {
                Ok(Condition::AbsentOrNotHashEqual(h.hash_to_check.clone()))
            }
            Some(C::Unconditional(_)) => Ok(Condition::Always),
            None => Err(ApiError::invalid("a condition is required")),
        };
        let stored = self.conditional_set(&request, condition).await?;
        let result = if stored {
            R::Stored(Stored {
                new_hash: value_hash(&r.cache_body).to_vec(),
            })
        } else {
            R::NotStored(NotStored {})
        };
        Ok(SetIfHashResponse {
            result: Some(result),
        })
    }

    async fn set_if_not_exists(
        &self,
        request: Request<SetIfNotExistsRequest>,
    ) -> Result<SetIfNotExistsResponse, ApiError> {
        use set_if_not_exists_response::{NotStored, Result as R, Stored};
        let stored = self
            .conditional_set(&request, Ok(Condition::Absent))
            .await?;
        let result = if stored {
            R::Stored(Stored {})
        } else {
            R::NotStored(NotStored {})
        };
        Ok(SetIfNotExistsResponse {
            result: Some(result),
        })
    }

    async fn increment(
        &self,
        request: Request<IncrementRequest>,
    ) -> Result<IncrementResponse, ApiError> {
        let permit = self.keyed(&request)?;
        let r = request.get_ref();
        let ttl = self.ttl(r.ttl_milliseconds)?;
        let value = self.app.backend.increment(&permit, r.amount, ttl).await?;
        Ok(IncrementResponse { value })
    }

    async fn update_ttl(
        &self,
        request: Request<UpdateTtlRequest>,
    ) -> Result<UpdateTtlResponse, ApiError> {
        use momento_protos::cache_client::update_ttl_request::UpdateTtl as U;
        use update_ttl_response::{Missing, NotSet, Result as R, Set};
        let permit = self.keyed(&request)?;
        let r = request.get_ref();
        let update = match r.update_ttl {
            Some(U::IncreaseToMilliseconds(ms)) => TtlUpdate::IncreaseTo(self.ttl(ms)?),
            Some(U::DecreaseToMilliseconds(ms)) => TtlUpdate::DecreaseTo(self.ttl(ms)?),
            Some(U::OverwriteToMilliseconds(ms)) => TtlUpdate::Overwrite(self.ttl(ms)?),
            None => return Err(ApiError::invalid("a TTL update is required")),
        };
        let result = match self.app.backend.update_ttl(&permit, update).await? {
            TtlOutcome::Set => R::Set(Set {}),
            TtlOutcome::NotSet => R::NotSet(NotSet {}),
            TtlOutcome::Missing => R::Missing(Missing {}),
        };
        Ok(UpdateTtlResponse {
            result: Some(result),
        })
    }

    async fn item_get_ttl(
        &self,
        request: Request<ItemGetTtlRequest>,
    ) -> Result<ItemGetTtlResponse, ApiError> {
        use item_get_ttl_response::{Found, Missing, Result as R};
        let permit = self.keyed(&request)?;
        let result = match self.app.backend.describe(&permit).await? {
            Some((_, remaining)) => R::Found(Found {
                remaining_ttl_millis: u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX),
            }),
            None => R::Missing(Missing {}),
        };
        Ok(ItemGetTtlResponse {
            result: Some(result),
        })
    }

    async fn item_get_type(
        &self,
        request: Request<ItemGetTypeRequest>,
    ) -> Result<ItemGetTypeResponse, ApiError> {
        use item_get_type_response::{Found, ItemType, Missing, Result as R};
        let permit = self.keyed(&request)?;
        let result = match self.app.backend.describe(&permit).await? {
            Some((found, _)) => R::Found(Found {
                item_type: match found {
                    Type::Scalar => ItemType::Scalar,
                    Type::Dictionary => ItemType::Dictionary,
                    Type::Set => ItemType::Set,
                    Type::List => ItemType::List,
                    Type::SortedSet => ItemType::SortedSet,
                } as i32,
            }),
            None => R::Missing(Missing {}),
        };
        Ok(ItemGetTypeResponse {
            result: Some(result),
        })
    }
}

/// The service's RPCs, listed once. The unary ones, by the kind their path is
/// classified as, are served by [`unary`](super::unary); the streams by
/// tonic. Every one is also a tonic method (the trait wants them all), which
/// runs the same handler.
macro_rules! scs_service {
    (
        unary { $($kind:ident => $method:ident($request:ty) -> $response:ty;)+ }
        streams { $($smethod:ident($srequest:ty) -> $sresponse:ty;)+ }
    ) => {
        #[tonic::async_trait]
        impl Scs for ScsFront {
            type GetBatchStream = Streamed<GetResponse>;
            type SetBatchStream = Streamed<SetResponse>;

            rpcs! {
                $($method($request) -> $response;)+
                $($smethod($srequest) -> $sresponse;)+
            }
        }

        impl ScsFront {
            /// Serves a unary RPC of the service, classified as `kind`; a
            /// stream's request is given back, for tonic.
            pub(in crate::api::grpc) async fn unary<B>(
                &self,
                kind: OperationKind,
                req: http::Request<GrpcBody<B>>,
            ) -> Result<http::Response<ResponseBody>, http::Request<GrpcBody<B>>>
            where
                B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
                B::Error: std::fmt::Display,
            {
                Ok(match kind {
                    $(OperationKind::$kind => {
                        super::unary::serve(&self.app, kind, req, |r| self.$method(r)).await
                    })+
                    _ => return Err(req),
                })
            }
        }

        /// Each unary kind with the handler that serves it, for the test
        /// that pairs them with the classification table.
        #[cfg(test)]
        const UNARY: &[(OperationKind, &str)] = &[$((OperationKind::$kind, stringify!($method)),)+];
    };
}

/// Every unary row of the dispatch is served by the handler named after its
/// RPC: the path of the table row its kind was classified from is
/// `/cache_client.Scs/` and the handler's name in CamelCase. (Authorization
/// takes the classified kind; this keeps the handler the same RPC.)
#[cfg(test)]
#[test]
fn each_unary_kind_is_served_by_the_handler_of_its_rpc() {
    for (kind, method) in UNARY {
        let rpc: String = method
            .split('_')
            .map(|word| word[..1].to_uppercase() + &word[1..])
            .collect();
        let path = format!("/cache_client.Scs/{rpc}");
        assert_eq!(
            OperationKind::from_grpc_path(&path),
            Some(*kind),
            "{method}"
        );
    }
    // Every Scs row is either served here or one of the two streams.
    let streams = [OperationKind::GetBatch, OperationKind::SetBatch];
    let scs_rows = OperationKind::ALL
        .iter()
        .filter(|k| matches!(k.service(), crate::operation::Service::Scs))
        .count();
    assert_eq!(UNARY.len() + streams.len(), scs_rows);
}

scs_service! {
    unary {
        Get => get(GetRequest) -> GetResponse;
        Set => set(SetRequest) -> SetResponse;
        Delete => delete(DeleteRequest) -> DeleteResponse;
        KeysExist => keys_exist(KeysExistRequest) -> KeysExistResponse;
        GetWithHash => get_with_hash(GetWithHashRequest) -> GetWithHashResponse;
        SetIf => set_if(SetIfRequest) -> SetIfResponse;
        SetIfHash => set_if_hash(SetIfHashRequest) -> SetIfHashResponse;
        SetIfNotExists => set_if_not_exists(SetIfNotExistsRequest) -> SetIfNotExistsResponse;
        Increment => increment(IncrementRequest) -> IncrementResponse;
        UpdateTtl => update_ttl(UpdateTtlRequest) -> UpdateTtlResponse;
        ItemGetTtl => item_get_ttl(ItemGetTtlRequest) -> ItemGetTtlResponse;
        ItemGetType => item_get_type(ItemGetTypeRequest) -> ItemGetTypeResponse;
        SortedSetUnionStore => sorted_set_union_store(SortedSetUnionStoreRequest) -> SortedSetUnionStoreResponse;
        DictionaryGet => dictionary_get(DictionaryGetRequest) -> DictionaryGetResponse;
        DictionaryFetch => dictionary_fetch(DictionaryFetchRequest) -> DictionaryFetchResponse;
        DictionarySet => dictionary_set(DictionarySetRequest) -> DictionarySetResponse;
        DictionaryIncrement => dictionary_increment(DictionaryIncrementRequest) -> DictionaryIncrementResponse;
        DictionaryDelete => dictionary_delete(DictionaryDeleteRequest) -> DictionaryDeleteResponse;
        DictionaryLength => dictionary_length(DictionaryLengthRequest) -> DictionaryLengthResponse;
        SetFetch => set_fetch(SetFetchRequest) -> SetFetchResponse;
        SetSample => set_sample(SetSampleRequest) -> SetSampleResponse;
        SetUnion => set_union(SetUnionRequest) -> SetUnionResponse;
        SetDifference => set_difference(SetDifferenceRequest) -> SetDifferenceResponse;
        SetContains => set_contains(SetContainsRequest) -> SetContainsResponse;
        SetLength => set_length(SetLengthRequest) -> SetLengthResponse;
        SetPop => set_pop(SetPopRequest) -> SetPopResponse;
        ListPushFront => list_push_front(ListPushFrontRequest) -> ListPushFrontResponse;
        ListPushBack => list_push_back(ListPushBackRequest) -> ListPushBackResponse;
        ListPopFront => list_pop_front(ListPopFrontRequest) -> ListPopFrontResponse;
        ListPopBack => list_pop_back(ListPopBackRequest) -> ListPopBackResponse;
        ListErase => list_erase(ListEraseRequest) -> ListEraseResponse;
        ListRemove => list_remove(ListRemoveRequest) -> ListRemoveResponse;
        ListFetch => list_fetch(ListFetchRequest) -> ListFetchResponse;
        ListLength => list_length(ListLengthRequest) -> ListLengthResponse;
        ListConcatenateFront => list_concatenate_front(ListConcatenateFrontRequest) -> ListConcatenateFrontResponse;
        ListConcatenateBack => list_concatenate_back(ListConcatenateBackRequest) -> ListConcatenateBackResponse;
        ListRetain => list_retain(ListRetainRequest) -> ListRetainResponse;
        SortedSetPut => sorted_set_put(SortedSetPutRequest) -> SortedSetPutResponse;
        SortedSetFetch => sorted_set_fetch(SortedSetFetchRequest) -> SortedSetFetchResponse;
        SortedSetGetScore => sorted_set_get_score(SortedSetGetScoreRequest) -> SortedSetGetScoreResponse;
        SortedSetRemove => sorted_set_remove(SortedSetRemoveRequest) -> SortedSetRemoveResponse;
        SortedSetIncrement => sorted_set_increment(SortedSetIncrementRequest) -> SortedSetIncrementResponse;
        SortedSetGetRank => sorted_set_get_rank(SortedSetGetRankRequest) -> SortedSetGetRankResponse;
        SortedSetLength => sorted_set_length(SortedSetLengthRequest) -> SortedSetLengthResponse;
        SortedSetLengthByScore => sorted_set_length_by_score(SortedSetLengthByScoreRequest) -> SortedSetLengthByScoreResponse;
    }
    streams {
        get_batch(GetBatchRequest) -> Self::GetBatchStream;
        set_batch(SetBatchRequest) -> Self::SetBatchStream;
    }
}
