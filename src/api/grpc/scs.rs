//! `cache_client.Scs`: scalar cache RPCs over the memory backend.
//!
//! Served: every scalar RPC (Get, GetWithHash, Set, SetIf, SetIfHash,
//! SetIfNotExists, Delete, Increment, KeysExist, UpdateTtl, ItemGetTtl,
//! ItemGetType, GetBatch, SetBatch). Collection RPCs are classified and
//! authorized like the rest, then answer UNIMPLEMENTED: authorization always
//! comes first, so the answer never tells a caller anything its scope does
//! not cover.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use momento_protos::cache_client::scs_server::Scs;
use momento_protos::cache_client::*;
use tonic::codegen::tokio_stream::{self, Stream};
use tonic::{Request, Response, Status};

use super::{authorized_not_served, cache_name, caller, observe};
use crate::app::App;
use crate::backend::{CacheBackend, Condition, TtlOutcome, TtlUpdate, value_hash};
use crate::error::{ApiError, ErrorCode};
use crate::operation::{Keys, Operation, OperationKind, SourceKeys, Target};
use crate::scope::Permit;

pub struct ScsFront {
    pub app: Arc<App>,
}

type Streamed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

impl ScsFront {
    /// Authenticates the caller and authorizes `target` in the `cache` metadata's cache.
    fn permit<T>(
        &self,
        request: &Request<T>,
        kind: OperationKind,
        keys: impl FnOnce(&T) -> Target<'_>,
    ) -> Result<(Permit, String), ApiError> {
        let cache = cache_name(request)?;
        let verified = caller(&self.app, request)?;
        let op = Operation {
            kind,
            cache: &cache,
            target: keys(request.get_ref()),
        };
        let permit = verified.scope.authorize(&op)?;
        Ok((permit, cache))
    }

    fn ttl(&self, milliseconds: u64) -> Result<Duration, ApiError> {
        const MAX_TTL_MS: u64 = 10 * 365 * 24 * 3600 * 1000;
        match milliseconds {
            0 => Err(ApiError::invalid("ttl_milliseconds must be greater than 0")),
            ms if ms > MAX_TTL_MS => Err(ApiError::invalid("ttl_milliseconds is over ten years")),
            ms => Ok(Duration::from_millis(ms)),
        }
    }

    /// SetIf, SetIfHash and SetIfNotExists: validate, then one atomic backend call.
    async fn conditional_set(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        value: &[u8],
        ttl_milliseconds: u64,
        condition: &Condition,
    ) -> Result<bool, ApiError> {
        let ttl = self.ttl(ttl_milliseconds)?;
        self.check_value(value)?;
        let value = bytes::Bytes::copy_from_slice(value);
        Ok(self
            .app
            .backend
            .set_if(permit, cache, key, value, ttl, condition)
            .await?)
    }

    fn check_value(&self, value: &[u8]) -> Result<(), ApiError> {
        let max = self.app.limits.max_value_bytes;
        if value.len() > max {
            return Err(ApiError::new(
                ErrorCode::LimitExceededError,
                format!("the value is larger than the limit of {max} bytes"),
            ));
        }
        Ok(())
    }
}

fn not_served() -> ApiError {
    ApiError::new(
        ErrorCode::Unimplemented,
        "this RPC is not available in this build yet",
    )
}

fn one(key: &[u8]) -> Target<'_> {
    Target::Keys(Keys::One(key))
}

#[tonic::async_trait]
impl Scs for ScsFront {
    async fn get(&self, request: Request<GetRequest>) -> Result<Response<GetResponse>, Status> {
        observe(&self.app, OperationKind::Get, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::Get, |r| one(&r.cache_key))?;
            let value = self
                .app
                .backend
                .get(&permit, &cache, &request.get_ref().cache_key)
                .await?;
            Ok(match value {
                Some(body) => GetResponse {
                    result: ECacheResult::Hit as i32,
                    cache_body: body.to_vec(),
                    message: String::new(),
                },
                None => GetResponse {
                    result: ECacheResult::Miss as i32,
                    ..Default::default()
                },
            })
        })
        .await
    }

    async fn set(&self, request: Request<SetRequest>) -> Result<Response<SetResponse>, Status> {
        observe(&self.app, OperationKind::Set, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::Set, |r| one(&r.cache_key))?;
            let r = request.get_ref();
            let ttl = self.ttl(r.ttl_milliseconds)?;
            self.check_value(&r.cache_body)?;
            let value = bytes::Bytes::copy_from_slice(&r.cache_body);
            self.app
                .backend
                .set(&permit, &cache, &r.cache_key, value, ttl)
                .await?;
            Ok(SetResponse {
                result: ECacheResult::Ok as i32,
                message: String::new(),
            })
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        observe(&self.app, OperationKind::Delete, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::Delete, |r| one(&r.cache_key))?;
            self.app
                .backend
                .delete(&permit, &cache, &request.get_ref().cache_key)
                .await?;
            Ok(DeleteResponse {})
        })
        .await
    }

    async fn keys_exist(
        &self,
        request: Request<KeysExistRequest>,
    ) -> Result<Response<KeysExistResponse>, Status> {
        observe(&self.app, OperationKind::KeysExist, async {
            let (permit, cache) = self.permit(&request, OperationKind::KeysExist, |r| {
                Target::Keys(Keys::List(&r.cache_keys))
            })?;
            let mut exists = Vec::with_capacity(request.get_ref().cache_keys.len());
            for key in &request.get_ref().cache_keys {
                exists.push(self.app.backend.get(&permit, &cache, key).await?.is_some());
            }
            Ok(KeysExistResponse { exists })
        })
        .await
    }

    type GetBatchStream = Streamed<GetResponse>;

    /// Items are fetched one at a time as the client reads them (a small
    /// bounded channel): a batch naming one large value many times costs one
    /// value at a time, not all of them at once.
    async fn get_batch(
        &self,
        request: Request<GetBatchRequest>,
    ) -> Result<Response<Self::GetBatchStream>, Status> {
        observe(&self.app, OperationKind::GetBatch, async {
            let (permit, cache) = self.permit(&request, OperationKind::GetBatch, |r| {
                Target::Keys(Keys::Gets(&r.items))
            })?;
            let keys: Vec<Vec<u8>> = request
                .into_inner()
                .items
                .into_iter()
                .map(|i| i.cache_key)
                .collect();
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            let app = Arc::clone(&self.app);
            tokio::spawn(async move {
                for key in keys {
                    let response = match app.backend.get(&permit, &cache, &key).await {
                        Ok(Some(body)) => Ok(GetResponse {
                            result: ECacheResult::Hit as i32,
                            cache_body: body.to_vec(),
                            message: String::new(),
                        }),
                        Ok(None) => Ok(GetResponse {
                            result: ECacheResult::Miss as i32,
                            ..Default::default()
                        }),
                        Err(e) => Err(ApiError::from(e).grpc_status()),
                    };
                    let failed = response.is_err();
                    if tx.send(response).await.is_err() || failed {
                        return;
                    }
                }
            });
            Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)) as Self::GetBatchStream)
        })
        .await
    }

    type SetBatchStream = Streamed<SetResponse>;

    async fn set_batch(
        &self,
        request: Request<SetBatchRequest>,
    ) -> Result<Response<Self::SetBatchStream>, Status> {
        observe(&self.app, OperationKind::SetBatch, async {
            let (permit, cache) = self.permit(&request, OperationKind::SetBatch, |r| {
                Target::Keys(Keys::Sets(&r.items))
            })?;
            // Validate every item before writing any: nothing is half-written.
            let items = &request.get_ref().items;
            let mut ttls = Vec::with_capacity(items.len());
            for item in items {
                ttls.push(self.ttl(item.ttl_milliseconds)?);
                self.check_value(&item.cache_body)?;
            }
            let mut responses = Vec::with_capacity(items.len());
            for (item, ttl) in items.iter().zip(ttls) {
                let value = bytes::Bytes::copy_from_slice(&item.cache_body);
                self.app
                    .backend
                    .set(&permit, &cache, &item.cache_key, value, ttl)
                    .await?;
                responses.push(Ok(SetResponse {
                    result: ECacheResult::Ok as i32,
                    message: String::new(),
                }));
            }
            Ok(Box::pin(tokio_stream::iter(responses)) as Self::SetBatchStream)
        })
        .await
    }

    async fn get_with_hash(
        &self,
        request: Request<GetWithHashRequest>,
    ) -> Result<Response<GetWithHashResponse>, Status> {
        use get_with_hash_response::{Found, Missing, Result as R};
        observe(&self.app, OperationKind::GetWithHash, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::GetWithHash, |r| one(&r.cache_key))?;
            let item = self
                .app
                .backend
                .item(&permit, &cache, &request.get_ref().cache_key)
                .await?;
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
        })
        .await
    }

    async fn set_if(
        &self,
        request: Request<SetIfRequest>,
    ) -> Result<Response<SetIfResponse>, Status> {
        use momento_protos::cache_client::set_if_request::Condition as C;
        use set_if_response::{NotStored, Result as R, Stored};
        observe(&self.app, OperationKind::SetIf, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::SetIf, |r| one(&r.cache_key))?;
            let r = request.get_ref();
            let condition = match r.condition.as_ref() {
                Some(C::Present(_)) => Condition::Present,
                Some(C::Absent(_)) => Condition::Absent,
                Some(C::Equal(v)) => Condition::Equal(v.value_to_check.clone()),
                Some(C::NotEqual(v)) => Condition::NotEqual(v.value_to_check.clone()),
                Some(C::PresentAndNotEqual(v)) => {
                    Condition::PresentAndNotEqual(v.value_to_check.clone())
                }
                Some(C::AbsentOrEqual(v)) => Condition::AbsentOrEqual(v.value_to_check.clone()),
                None => return Err(ApiError::invalid("a condition is required")),
            };
            let stored = self
                .conditional_set(
                    &permit,
                    &cache,
                    &r.cache_key,
                    &r.cache_body,
                    r.ttl_milliseconds,
                    &condition,
                )
                .await?;
            let result = if stored {
                R::Stored(Stored {})
            } else {
                R::NotStored(NotStored {})
            };
            Ok(SetIfResponse {
                result: Some(result),
            })
        })
        .await
    }

    async fn set_if_hash(
        &self,
        request: Request<SetIfHashRequest>,
    ) -> Result<Response<SetIfHashResponse>, Status> {
        use momento_protos::cache_client::set_if_hash_request::Condition as C;
        use set_if_hash_response::{NotStored, Result as R, Stored};
        observe(&self.app, OperationKind::SetIfHash, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::SetIfHash, |r| one(&r.cache_key))?;
            let r = request.get_ref();
            let condition = match r.condition.as_ref() {
                Some(C::PresentAndHashEqual(h)) => {
                    Condition::PresentAndHashEqual(h.hash_to_check.clone())
                }
                Some(C::PresentAndNotHashEqual(h)) => {
                    Condition::PresentAndNotHashEqual(h.hash_to_check.clone())
                }
                Some(C::AbsentOrHashEqual(h)) => {
                    Condition::AbsentOrHashEqual(h.hash_to_check.clone())
                }
                Some(C::AbsentOrNotHashEqual(h)) => {
                    Condition::AbsentOrNotHashEqual(h.hash_to_check.clone())
                }
                Some(C::Unconditional(_)) => Condition::Always,
                None => return Err(ApiError::invalid("a condition is required")),
            };
            let stored = self
                .conditional_set(
                    &permit,
                    &cache,
                    &r.cache_key,
                    &r.cache_body,
                    r.ttl_milliseconds,
                    &condition,
                )
                .await?;
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
        })
        .await
    }

    async fn set_if_not_exists(
        &self,
        request: Request<SetIfNotExistsRequest>,
    ) -> Result<Response<SetIfNotExistsResponse>, Status> {
        use set_if_not_exists_response::{NotStored, Result as R, Stored};
        observe(&self.app, OperationKind::SetIfNotExists, async {
            let (permit, cache) = self.permit(&request, OperationKind::SetIfNotExists, |r| {
                one(&r.cache_key)
            })?;
            let r = request.get_ref();
            let stored = self
                .conditional_set(
                    &permit,
                    &cache,
                    &r.cache_key,
                    &r.cache_body,
                    r.ttl_milliseconds,
                    &Condition::Absent,
                )
                .await?;
            let result = if stored {
                R::Stored(Stored {})
            } else {
                R::NotStored(NotStored {})
            };
            Ok(SetIfNotExistsResponse {
                result: Some(result),
            })
        })
        .await
    }

    async fn increment(
        &self,
        request: Request<IncrementRequest>,
    ) -> Result<Response<IncrementResponse>, Status> {
        observe(&self.app, OperationKind::Increment, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::Increment, |r| one(&r.cache_key))?;
            let r = request.get_ref();
            let ttl = self.ttl(r.ttl_milliseconds)?;
            let value = self
                .app
                .backend
                .increment(&permit, &cache, &r.cache_key, r.amount, ttl)
                .await?;
            Ok(IncrementResponse { value })
        })
        .await
    }

    async fn update_ttl(
        &self,
        request: Request<UpdateTtlRequest>,
    ) -> Result<Response<UpdateTtlResponse>, Status> {
        use momento_protos::cache_client::update_ttl_request::UpdateTtl as U;
        use update_ttl_response::{Missing, NotSet, Result as R, Set};
        observe(&self.app, OperationKind::UpdateTtl, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::UpdateTtl, |r| one(&r.cache_key))?;
            let r = request.get_ref();
            let update = match r.update_ttl {
                Some(U::IncreaseToMilliseconds(ms)) => TtlUpdate::IncreaseTo(self.ttl(ms)?),
                Some(U::DecreaseToMilliseconds(ms)) => TtlUpdate::DecreaseTo(self.ttl(ms)?),
                Some(U::OverwriteToMilliseconds(ms)) => TtlUpdate::Overwrite(self.ttl(ms)?),
                None => return Err(ApiError::invalid("a TTL update is required")),
            };
            let result = match self
                .app
                .backend
                .update_ttl(&permit, &cache, &r.cache_key, update)
                .await?
            {
                TtlOutcome::Set => R::Set(Set {}),
                TtlOutcome::NotSet => R::NotSet(NotSet {}),
                TtlOutcome::Missing => R::Missing(Missing {}),
            };
            Ok(UpdateTtlResponse {
                result: Some(result),
            })
        })
        .await
    }

    async fn item_get_ttl(
        &self,
        request: Request<ItemGetTtlRequest>,
    ) -> Result<Response<ItemGetTtlResponse>, Status> {
        use item_get_ttl_response::{Found, Missing, Result as R};
        observe(&self.app, OperationKind::ItemGetTtl, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::ItemGetTtl, |r| one(&r.cache_key))?;
            let item = self
                .app
                .backend
                .item(&permit, &cache, &request.get_ref().cache_key)
                .await?;
            let result = match item {
                Some(item) => R::Found(Found {
                    remaining_ttl_millis: u64::try_from(item.remaining.as_millis())
                        .unwrap_or(u64::MAX),
                }),
                None => R::Missing(Missing {}),
            };
            Ok(ItemGetTtlResponse {
                result: Some(result),
            })
        })
        .await
    }

    async fn item_get_type(
        &self,
        request: Request<ItemGetTypeRequest>,
    ) -> Result<Response<ItemGetTypeResponse>, Status> {
        use item_get_type_response::{Found, ItemType, Missing, Result as R};
        observe(&self.app, OperationKind::ItemGetType, async {
            let (permit, cache) =
                self.permit(&request, OperationKind::ItemGetType, |r| one(&r.cache_key))?;
            let item = self
                .app
                .backend
                .item(&permit, &cache, &request.get_ref().cache_key)
                .await?;
            // The memory backend stores scalars only, so anything found is one.
            let result = match item {
                Some(_) => R::Found(Found {
                    item_type: ItemType::Scalar as i32,
                }),
                None => R::Missing(Missing {}),
            };
            Ok(ItemGetTypeResponse {
                result: Some(result),
            })
        })
        .await
    }

    async fn sorted_set_union_store(
        &self,
        request: Request<SortedSetUnionStoreRequest>,
    ) -> Result<Response<SortedSetUnionStoreResponse>, Status> {
        observe(&self.app, OperationKind::SortedSetUnionStore, async {
            self.permit(&request, OperationKind::SortedSetUnionStore, |r| {
                Target::Union {
                    destination: &r.set_name,
                    sources: SourceKeys(&r.sources),
                }
            })?;
            Err(not_served())
        })
        .await
    }

    authorized_not_served! {
        keyed:
        dictionary_get(DictionaryGetRequest) -> DictionaryGetResponse = DictionaryGet, dictionary_name;
        dictionary_fetch(DictionaryFetchRequest) -> DictionaryFetchResponse = DictionaryFetch, dictionary_name;
        dictionary_set(DictionarySetRequest) -> DictionarySetResponse = DictionarySet, dictionary_name;
        dictionary_increment(DictionaryIncrementRequest) -> DictionaryIncrementResponse = DictionaryIncrement, dictionary_name;
        dictionary_delete(DictionaryDeleteRequest) -> DictionaryDeleteResponse = DictionaryDelete, dictionary_name;
        dictionary_length(DictionaryLengthRequest) -> DictionaryLengthResponse = DictionaryLength, dictionary_name;
        set_fetch(SetFetchRequest) -> SetFetchResponse = SetFetch, set_name;
        set_sample(SetSampleRequest) -> SetSampleResponse = SetSample, set_name;
        set_union(SetUnionRequest) -> SetUnionResponse = SetUnion, set_name;
        set_difference(SetDifferenceRequest) -> SetDifferenceResponse = SetDifference, set_name;
        set_contains(SetContainsRequest) -> SetContainsResponse = SetContains, set_name;
        set_length(SetLengthRequest) -> SetLengthResponse = SetLength, set_name;
        set_pop(SetPopRequest) -> SetPopResponse = SetPop, set_name;
        list_push_front(ListPushFrontRequest) -> ListPushFrontResponse = ListPushFront, list_name;
        list_push_back(ListPushBackRequest) -> ListPushBackResponse = ListPushBack, list_name;
        list_pop_front(ListPopFrontRequest) -> ListPopFrontResponse = ListPopFront, list_name;
        list_pop_back(ListPopBackRequest) -> ListPopBackResponse = ListPopBack, list_name;
        list_erase(ListEraseRequest) -> ListEraseResponse = ListErase, list_name;
        list_remove(ListRemoveRequest) -> ListRemoveResponse = ListRemove, list_name;
        list_fetch(ListFetchRequest) -> ListFetchResponse = ListFetch, list_name;
        list_length(ListLengthRequest) -> ListLengthResponse = ListLength, list_name;
        list_concatenate_front(ListConcatenateFrontRequest) -> ListConcatenateFrontResponse = ListConcatenateFront, list_name;
        list_concatenate_back(ListConcatenateBackRequest) -> ListConcatenateBackResponse = ListConcatenateBack, list_name;
        list_retain(ListRetainRequest) -> ListRetainResponse = ListRetain, list_name;
        sorted_set_put(SortedSetPutRequest) -> SortedSetPutResponse = SortedSetPut, set_name;
        sorted_set_fetch(SortedSetFetchRequest) -> SortedSetFetchResponse = SortedSetFetch, set_name;
        sorted_set_get_score(SortedSetGetScoreRequest) -> SortedSetGetScoreResponse = SortedSetGetScore, set_name;
        sorted_set_remove(SortedSetRemoveRequest) -> SortedSetRemoveResponse = SortedSetRemove, set_name;
        sorted_set_increment(SortedSetIncrementRequest) -> SortedSetIncrementResponse = SortedSetIncrement, set_name;
        sorted_set_get_rank(SortedSetGetRankRequest) -> SortedSetGetRankResponse = SortedSetGetRank, set_name;
        sorted_set_length(SortedSetLengthRequest) -> SortedSetLengthResponse = SortedSetLength, set_name;
        sorted_set_length_by_score(SortedSetLengthByScoreRequest) -> SortedSetLengthByScoreResponse = SortedSetLengthByScore, set_name;
    }
}
