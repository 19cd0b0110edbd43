//! `control_client.ScsControl`: caches for superusers. Signing keys and
//! indexes are authorized (superuser only, like the rest) and then answer
//! UNIMPLEMENTED.

use std::sync::Arc;

use momento_protos::control_client::scs_control_server::ScsControl;
use momento_protos::control_client::*;
use tonic::Request;

use super::{authorized_not_served, caller, classified, kind, rpcs};
use crate::app::App;
use crate::error::ApiError;
use crate::operation::Operation;
use crate::scope::Permit;

pub struct ControlFront {
    pub app: Arc<App>,
}

impl ControlFront {
    /// The caller's permit for this request's classified kind, naming the
    /// cache it acts on (empty for listing and the unserved RPCs).
    fn permit<'r, T>(
        &self,
        request: &'r Request<T>,
        cache: &'r str,
    ) -> Result<Permit<'r>, ApiError> {
        let op = Operation::on_cache(kind(classified(request))?, cache);
        Ok(caller(request)?.scope.authorize(&op)?)
    }

    /// [`permit`](Self::permit) for a request naming one cache, whose name
    /// is validated after authorization: only a superuser learns more.
    fn cache_permit<'r, T: NamesCache>(
        &self,
        request: &'r Request<T>,
    ) -> Result<Permit<'r>, ApiError> {
        let permit = self.permit(request, request.get_ref().cache_name())?;
        cache_name(permit.cache())?;
        Ok(permit)
    }
}

/// The requests that name one cache.
trait NamesCache {
    fn cache_name(&self) -> &str;
}

macro_rules! names_cache {
    ($($request:ty),+) => {
        $(impl NamesCache for $request {
            fn cache_name(&self) -> &str {
                &self.cache_name
            }
        })+
    };
}

names_cache!(CreateCacheRequest, DeleteCacheRequest, FlushCacheRequest);

/// A cache name the control plane accepts: what `[[caches]]` accepts.
fn cache_name(name: &str) -> Result<&str, ApiError> {
    if !crate::config::is_cache_name(name) {
        return Err(ApiError::invalid(
            "a cache name is 1 to 255 characters, none of them control characters",
        ));
    }
    Ok(name)
}

/// The handlers: authorize -> backend -> convert; [`rpcs!`](super::rpcs) makes
/// each the tonic method of the same name.
impl ControlFront {
    async fn create_cache(
        &self,
        request: Request<CreateCacheRequest>,
    ) -> Result<CreateCacheResponse, ApiError> {
        self.app
            .backend
            .create_cache(&self.cache_permit(&request)?)
            .await?;
        Ok(CreateCacheResponse {})
    }

    async fn delete_cache(
        &self,
        request: Request<DeleteCacheRequest>,
    ) -> Result<DeleteCacheResponse, ApiError> {
        self.app
            .backend
            .delete_cache(&self.cache_permit(&request)?)
            .await?;
        Ok(DeleteCacheResponse {})
    }

    async fn list_caches(
        &self,
        request: Request<ListCachesRequest>,
    ) -> Result<ListCachesResponse, ApiError> {
        let permit = self.permit(&request, "")?;
        let cache = self
            .app
            .backend
            .list_caches(&permit)
            .await?
            .into_iter()
            .map(|cache_name| Cache {
                cache_name,
                ..Default::default()
            })
            .collect();
        Ok(ListCachesResponse {
            cache,
            next_token: String::new(),
        })
    }

    async fn flush_cache(
        &self,
        request: Request<FlushCacheRequest>,
    ) -> Result<FlushCacheResponse, ApiError> {
        self.app
            .backend
            .flush_cache(&self.cache_permit(&request)?)
            .await?;
        Ok(FlushCacheResponse {})
    }
}

#[tonic::async_trait]
impl ScsControl for ControlFront {
    rpcs! {
        create_cache(CreateCacheRequest) -> CreateCacheResponse;
        delete_cache(DeleteCacheRequest) -> DeleteCacheResponse;
        list_caches(ListCachesRequest) -> ListCachesResponse;
        flush_cache(FlushCacheRequest) -> FlushCacheResponse;
    }

    authorized_not_served! {
        global:
        create_signing_key(CreateSigningKeyRequest) -> CreateSigningKeyResponse;
        revoke_signing_key(RevokeSigningKeyRequest) -> RevokeSigningKeyResponse;
        list_signing_keys(ListSigningKeysRequest) -> ListSigningKeysResponse;
        create_index(CreateIndexRequest) -> CreateIndexResponse;
        delete_index(DeleteIndexRequest) -> DeleteIndexResponse;
        list_indexes(ListIndexesRequest) -> ListIndexesResponse;
    }
}
