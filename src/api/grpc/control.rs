//! `control_client.ScsControl`: caches for superusers. Signing keys and
//! indexes are authorized (superuser only, like the rest) and then answer
//! UNIMPLEMENTED.

use std::sync::Arc;

use momento_protos::control_client::scs_control_server::ScsControl;
use momento_protos::control_client::*;
use tonic::{Request, Response, Status};

use super::{authorized_not_served, caller, classified, kind, observe};
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
}

/// A cache name the control plane accepts: what `[[caches]]` accepts.
fn cache_name(name: &str) -> Result<&str, ApiError> {
    if !crate::config::is_cache_name(name) {
        return Err(ApiError::invalid(
            "a cache name is 1 to 255 characters, none of them control characters",
        ));
    }
    Ok(name)
}

#[tonic::async_trait]
impl ScsControl for ControlFront {
    async fn create_cache(
        &self,
        request: Request<CreateCacheRequest>,
    ) -> Result<Response<CreateCacheResponse>, Status> {
        observe(&self.app, classified(&request), async {
            let permit = self.permit(&request, &request.get_ref().cache_name)?;
            // Validated after authorization: only a superuser learns more.
            cache_name(permit.cache())?;
            self.app.backend.create_cache(&permit).await?;
            Ok(CreateCacheResponse {})
        })
        .await
    }

    async fn delete_cache(
        &self,
        request: Request<DeleteCacheRequest>,
    ) -> Result<Response<DeleteCacheResponse>, Status> {
        observe(&self.app, classified(&request), async {
            let permit = self.permit(&request, &request.get_ref().cache_name)?;
            // Validated after authorization: only a superuser learns more.
            cache_name(permit.cache())?;
            self.app.backend.delete_cache(&permit).await?;
            Ok(DeleteCacheResponse {})
        })
        .await
    }

    async fn list_caches(
        &self,
        request: Request<ListCachesRequest>,
    ) -> Result<Response<ListCachesResponse>, Status> {
        observe(&self.app, classified(&request), async {
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
        })
        .await
    }

    async fn flush_cache(
        &self,
        request: Request<FlushCacheRequest>,
    ) -> Result<Response<FlushCacheResponse>, Status> {
        observe(&self.app, classified(&request), async {
            let permit = self.permit(&request, &request.get_ref().cache_name)?;
            // Validated after authorization: only a superuser learns more.
            cache_name(permit.cache())?;
            self.app.backend.flush_cache(&permit).await?;
            Ok(FlushCacheResponse {})
        })
        .await
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
