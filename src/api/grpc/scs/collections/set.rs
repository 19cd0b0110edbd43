//! Set RPCs.

use momento_protos::cache_client::*;
use tonic::Request;

use super::{length_of, unexpected};
use crate::api::grpc::scs::support::ScsFront;
use crate::backend::collection::{CollectionOp, CollectionReply as Reply, Difference};
use crate::error::ApiError;

/// Elements of a Values reply, or `None` for a missing set.
fn values(reply: Reply) -> Result<Option<Vec<Vec<u8>>>, ApiError> {
    match reply {
        Reply::Values(values) => Ok(Some(values.into_iter().map(|v| v.to_vec()).collect())),
        Reply::Missing => Ok(None),
        _ => Err(unexpected()),
    }
}

/// A count asked for (sample, pop) as a bound on what is built: never more
/// than the request cap, whatever the client sent.
fn count(asked: u64, cap: usize) -> usize {
    usize::try_from(asked).unwrap_or(usize::MAX).min(cap)
}

impl ScsFront {
    pub(in crate::api::grpc::scs) async fn set_fetch(
        &self,
        request: Request<SetFetchRequest>,
    ) -> Result<SetFetchResponse, ApiError> {
        use set_fetch_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let set = match values(self.apply(&permit, CollectionOp::SetFetch).await?)? {
            Some(elements) => Set::Found(Found { elements }),
            None => Set::Missing(Missing {}),
        };
        Ok(SetFetchResponse { set: Some(set) })
    }

    pub(in crate::api::grpc::scs) async fn set_sample(
        &self,
        request: Request<SetSampleRequest>,
    ) -> Result<SetSampleResponse, ApiError> {
        use set_sample_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let limit = count(
            request.get_ref().limit,
            self.app.limits.max_keys_per_request,
        );
        let set = match values(
            self.apply(&permit, CollectionOp::SetSample { limit })
                .await?,
        )? {
            Some(elements) => Set::Found(Found { elements }),
            None => Set::Missing(Missing {}),
        };
        Ok(SetSampleResponse { set: Some(set) })
    }

    pub(in crate::api::grpc::scs) async fn set_union(
        &self,
        request: Request<SetUnionRequest>,
    ) -> Result<SetUnionResponse, ApiError> {
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        let op = CollectionOp::SetUnion {
            elements: &r.elements,
            ttl,
        };
        self.apply(&permit, op).await?;
        Ok(SetUnionResponse {})
    }

    pub(in crate::api::grpc::scs) async fn set_difference(
        &self,
        request: Request<SetDifferenceRequest>,
    ) -> Result<SetDifferenceResponse, ApiError> {
        use set_difference_request::Difference as D;
        use set_difference_request::subtrahend::SubtrahendSet as S;
        use set_difference_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let (elements, form) = match &request.get_ref().difference {
            Some(D::Minuend(m)) => (m.elements.as_slice(), Difference::Minuend),
            Some(D::Subtrahend(s)) => match &s.subtrahend_set {
                Some(S::Set(set)) => (set.elements.as_slice(), Difference::Subtrahend),
                Some(S::Identity(_)) => (&[][..], Difference::Identity),
                None => return Err(ApiError::invalid("a subtrahend set is required")),
            },
            None => return Err(ApiError::invalid("a minuend or subtrahend is required")),
        };
        let op = CollectionOp::SetDifference { elements, form };
        let set = match self.apply(&permit, op).await? {
            Reply::Done => Set::Found(Found {}),
            Reply::Missing => Set::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(SetDifferenceResponse { set: Some(set) })
    }

    pub(in crate::api::grpc::scs) async fn set_contains(
        &self,
        request: Request<SetContainsRequest>,
    ) -> Result<SetContainsResponse, ApiError> {
        use set_contains_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let elements = &request.get_ref().elements;
        let set = match self
            .apply(&permit, CollectionOp::SetContains { elements })
            .await?
        {
            Reply::Contains(contains) => Set::Found(Found { contains }),
            Reply::Missing => Set::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(SetContainsResponse { set: Some(set) })
    }

    pub(in crate::api::grpc::scs) async fn set_length(
        &self,
        request: Request<SetLengthRequest>,
    ) -> Result<SetLengthResponse, ApiError> {
        use set_length_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let set = match length_of(self.apply(&permit, CollectionOp::SetLength).await?)? {
            Some(length) => Set::Found(Found { length }),
            None => Set::Missing(Missing {}),
        };
        Ok(SetLengthResponse { set: Some(set) })
    }

    pub(in crate::api::grpc::scs) async fn set_pop(
        &self,
        request: Request<SetPopRequest>,
    ) -> Result<SetPopResponse, ApiError> {
        use set_pop_response::{Found, Missing, Set};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let count = count(
            u64::from(request.get_ref().count),
            self.app.limits.max_keys_per_request,
        );
        let set = match values(self.apply(&permit, CollectionOp::SetPop { count }).await?)? {
            Some(elements) => Set::Found(Found { elements }),
            None => Set::Missing(Missing {}),
        };
        Ok(SetPopResponse { set: Some(set) })
    }
}
