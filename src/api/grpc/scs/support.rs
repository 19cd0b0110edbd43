//! What the `cache_client.Scs` methods share: authorization of the request's
//! keys in the `cache` metadata's cache, value checks, and response builders.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use momento_protos::cache_client::*;
use tonic::codegen::tokio_stream::Stream;
use tonic::{Request, Status};

use super::super::{cache_name, caller, classified, kind};
use crate::app::App;
use crate::backend::{CacheBackend, Condition, ItemInfo};
use crate::error::ApiError;
use crate::operation::{Keys, Operation, Target};
use crate::scope::Permit;

pub struct ScsFront {
    pub app: Arc<App>,
}

pub(super) type Streamed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

impl ScsFront {
    /// Authorizes the verified caller for `target` in the `cache` metadata's
    /// cache, as the kind the path was classified as. The permit borrows the
    /// cache and keys from the request: it is what the backend acts on.
    pub(super) fn permit<'r, T>(
        &self,
        request: &'r Request<T>,
        keys: impl FnOnce(&'r T) -> Target<'r>,
    ) -> Result<Permit<'r>, ApiError> {
        let kind = kind(classified(request))?;
        let cache = cache_name(request)?;
        let verified = caller(request)?;
        let op = Operation {
            kind,
            cache,
            target: keys(request.get_ref()),
        };
        // Counted before anything is looked at: the cap bounds the work of
        // authorizing a batch as well as the backend's.
        let max = self.app.limits.max_keys_per_request;
        if op.target.key_count() > max {
            return Err(ApiError::invalid(format!(
                "a request may name at most {max} keys (server.max_keys_per_request)"
            )));
        }
        let permit = verified.scope.authorize(&op)?;
        // Validation after authorization: only an authorized caller learns more.
        if op.target.has_empty_key() {
            return Err(ApiError::invalid("a cache key must not be empty"));
        }
        Ok(permit)
    }

    /// [`permit`](Self::permit) for a scalar request's one `cache_key`.
    pub(super) fn keyed<'r, T: Keyed>(
        &self,
        request: &'r Request<T>,
    ) -> Result<Permit<'r>, ApiError> {
        self.permit(request, |r| one(r.cache_key()))
    }

    /// GetWithHash, ItemGetTtl, ItemGetType: authorize, then read the item.
    pub(super) async fn item<T: Keyed + Sync>(
        &self,
        request: &Request<T>,
    ) -> Result<Option<ItemInfo>, ApiError> {
        let permit = self.keyed(request)?;
        Ok(self.app.backend.item(&permit).await?)
    }

    /// A value to store: its TTL and size checked, its bytes owned.
    pub(super) fn value(
        &self,
        ttl_milliseconds: u64,
        body: &[u8],
    ) -> Result<(Duration, bytes::Bytes), ApiError> {
        let ttl = self.ttl(ttl_milliseconds)?;
        self.check_value(body)?;
        Ok((ttl, bytes::Bytes::copy_from_slice(body)))
    }

    pub(super) fn ttl(&self, milliseconds: u64) -> Result<Duration, ApiError> {
        const MAX_TTL_MS: u64 = crate::api::MAX_TTL_SECONDS * 1000;
        match milliseconds {
            0 => Err(ApiError::invalid("ttl_milliseconds must be greater than 0")),
            ms if ms > MAX_TTL_MS => Err(ApiError::invalid("ttl_milliseconds is over ten years")),
            ms => Ok(Duration::from_millis(ms)),
        }
    }

    /// SetIf, SetIfHash and SetIfNotExists: authorize the key, then check the
    /// condition (a malformed one is reported only to an authorized caller)
    /// and the value, then one atomic backend call. Returns whether it stored.
    pub(super) async fn conditional_set<T: Stores + Sync>(
        &self,
        request: &Request<T>,
        condition: Result<Condition, ApiError>,
    ) -> Result<bool, ApiError> {
        let permit = self.keyed(request)?;
        let condition = condition?;
        let r = request.get_ref();
        let (ttl, value) = self.value(r.ttl_milliseconds(), r.cache_body())?;
        Ok(self
            .app
            .backend
            .set_if(&permit, value, ttl, &condition)
            .await?)
    }

    pub(super) fn check_value(&self, value: &[u8]) -> Result<(), ApiError> {
        let max = self.app.limits.max_value_bytes;
        if value.len() > max {
            return Err(ApiError::too_large(max));
        }
        Ok(())
    }
}

pub(super) fn one(key: &[u8]) -> Target<'_> {
    Target::Keys(Keys::One(key))
}

/// The scalar requests, which all name their item by `cache_key`.
pub(super) trait Keyed {
    fn cache_key(&self) -> &[u8];
}

macro_rules! keyed {
    ($($request:ty),+) => {
        $(impl Keyed for $request {
            fn cache_key(&self) -> &[u8] {
                &self.cache_key
            }
        })+
    };
}

keyed!(
    GetRequest,
    GetWithHashRequest,
    SetRequest,
    SetIfRequest,
    SetIfHashRequest,
    SetIfNotExistsRequest,
    DeleteRequest,
    IncrementRequest,
    UpdateTtlRequest,
    ItemGetTtlRequest,
    ItemGetTypeRequest
);

/// The conditional set requests: a value and its TTL besides the key.
pub(super) trait Stores: Keyed {
    fn cache_body(&self) -> &[u8];
    fn ttl_milliseconds(&self) -> u64;
}

macro_rules! stores {
    ($($request:ty),+) => {
        $(impl Stores for $request {
            fn cache_body(&self) -> &[u8] {
                &self.cache_body
            }
            fn ttl_milliseconds(&self) -> u64 {
                self.ttl_milliseconds
            }
        })+
    };
}

stores!(SetIfRequest, SetIfHashRequest, SetIfNotExistsRequest);

/// A Get's answer: a hit with the value, or a miss.
pub(super) fn get_response(value: Option<bytes::Bytes>) -> GetResponse {
    match value {
        Some(body) => GetResponse {
            result: ECacheResult::Hit as i32,
            cache_body: body.to_vec(),
            message: String::new(),
        },
        None => GetResponse {
            result: ECacheResult::Miss as i32,
            ..Default::default()
        },
    }
}

pub(super) fn set_ok() -> SetResponse {
    SetResponse {
        result: ECacheResult::Ok as i32,
        message: String::new(),
    }
}
