//! The collection RPCs of `cache_client.Scs` (SPEC 10): each authorizes its
//! collection name (the scoped key) as the kind its path was classified as,
//! then validates, then makes one [`CollectionOp`] for the backend.

mod dictionary;
mod list;
mod set;
mod sorted_set;

use tonic::Request;

use super::support::{ScsFront, one};
use crate::backend::collection::{
    CollectionBackend, CollectionOp, CollectionReply, CollectionTtl, IndexRange,
};
use crate::error::{ApiError, ErrorCode, Limit};
use crate::scope::Permit;

impl ScsFront {
    /// Authorizes the request's collection name in the `cache` metadata's cache.
    fn collection_permit<'r, T>(
        &self,
        request: &'r Request<T>,
        name: impl FnOnce(&'r T) -> &'r [u8],
    ) -> Result<Permit<'r>, ApiError> {
        self.permit(request, |r| one(name(r)))
    }

    fn collection_ttl(&self, milliseconds: u64, refresh: bool) -> Result<CollectionTtl, ApiError> {
        Ok(CollectionTtl {
            ttl: self.ttl(milliseconds)?,
            refresh,
        })
    }

    /// Checks the op's elements (how many, how large), then applies it.
    async fn apply(
        &self,
        permit: &Permit<'_>,
        op: CollectionOp<'_>,
    ) -> Result<CollectionReply, ApiError> {
        let (count, largest) = op.elements();
        let max = self.app.limits.max_keys_per_request;
        if count > max {
            return Err(ApiError::invalid(format!(
                "a request may name at most {max} elements (server.max_keys_per_request)"
            )));
        }
        let max_bytes = self.app.limits.max_value_bytes;
        if largest > max_bytes {
            return Err(ApiError {
                limit: Some(Limit::ElementSize),
                ..ApiError::new(
                    ErrorCode::LimitExceededError,
                    format!("the element size is larger than the limit of {max_bytes} bytes"),
                )
            });
        }
        let reply = self.app.backend.collection(permit, &op).await?;
        // A collection is kept within the bound as its fetch would encode
        // it, so only one stored under a larger bound (the setting lowered
        // since, on Redis) can answer more: refused whole rather than sent
        // past what an SDK accepts; a range of it can still be fetched.
        if answer_size(&reply) > max_bytes {
            return Err(ApiError::too_large(max_bytes));
        }
        Ok(reply)
    }
}

/// What a fetch's elements take in its answer (the sizes of SPEC 10).
fn answer_size(reply: &CollectionReply) -> usize {
    use crate::backend::collection::{element_size, pair_size, scored_size};
    match reply {
        CollectionReply::Values(v) => v.iter().map(|e| element_size(e.len())).sum(),
        CollectionReply::Pairs(p) => p.iter().map(|(f, v)| pair_size(f.len(), v.len())).sum(),
        CollectionReply::Scored(s) => s.iter().map(|(v, _)| scored_size(v.len())).sum(),
        _ => 0,
    }
}

/// A backend answer of another shape than the op's: a backend bug, refused.
fn unexpected() -> ApiError {
    ApiError::new(
        ErrorCode::InternalServerError,
        "the backend answered out of shape",
    )
}

/// A length reply (or `Missing`, for the RPCs whose result has one).
fn length_of(reply: CollectionReply) -> Result<Option<u32>, ApiError> {
    match reply {
        CollectionReply::Length(n) => Ok(Some(n)),
        CollectionReply::Missing => Ok(None),
        _ => Err(unexpected()),
    }
}

/// A list range from the protocol's optional start and end.
fn range(start: Option<i32>, end: Option<i32>) -> IndexRange {
    IndexRange { start, end }
}
