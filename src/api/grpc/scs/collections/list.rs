//! List RPCs.

use momento_protos::cache_client::*;
use tonic::Request;

use super::{length_of, range, unexpected};
use crate::api::grpc::scs::support::ScsFront;
use crate::backend::collection::{CollectionOp, CollectionReply as Reply, End};
use crate::error::ApiError;

/// The four list writes that add (push and concatenate, at either end).
trait ListAdd {
    const END: End;
    fn list_name(&self) -> &[u8];
    fn values(&self) -> &[Vec<u8>];
    /// The size to truncate the other end to (0: none).
    fn truncate_to(&self) -> u32;
    fn ttl(&self) -> (u64, bool);
}

macro_rules! list_add {
    ($($request:ty: $end:ident, |$r:ident| $values:expr, $truncate:ident;)+) => {
        $(impl ListAdd for $request {
            const END: End = End::$end;
            fn list_name(&self) -> &[u8] {
                &self.list_name
            }
            fn values(&self) -> &[Vec<u8>] {
                let $r = self;
                $values
            }
            fn truncate_to(&self) -> u32 {
                self.$truncate
            }
            fn ttl(&self) -> (u64, bool) {
                (self.ttl_milliseconds, self.refresh_ttl)
            }
        })+
    };
}

list_add! {
    ListPushFrontRequest: Front, |r| std::slice::from_ref(&r.value), truncate_back_to_size;
    ListPushBackRequest: Back, |r| std::slice::from_ref(&r.value), truncate_front_to_size;
    ListConcatenateFrontRequest: Front, |r| &r.values, truncate_back_to_size;
    ListConcatenateBackRequest: Back, |r| &r.values, truncate_front_to_size;
}

impl ScsFront {
    /// Push and Concatenate: the list's length after the write.
    async fn add<T: ListAdd + Sync>(&self, request: &Request<T>) -> Result<u32, ApiError> {
        let permit = self.collection_permit(request, |r| r.list_name())?;
        let r = request.get_ref();
        let (milliseconds, refresh) = r.ttl();
        let op = CollectionOp::ListPush {
            end: T::END,
            values: r.values(),
            truncate_to: r.truncate_to(),
            ttl: self.collection_ttl(milliseconds, refresh)?,
        };
        length_of(self.apply(&permit, op).await?)?.ok_or_else(unexpected)
    }

    pub(in crate::api::grpc::scs) async fn list_push_front(
        &self,
        request: Request<ListPushFrontRequest>,
    ) -> Result<ListPushFrontResponse, ApiError> {
        let list_length = self.add(&request).await?;
        Ok(ListPushFrontResponse { list_length })
    }

    pub(in crate::api::grpc::scs) async fn list_push_back(
        &self,
        request: Request<ListPushBackRequest>,
    ) -> Result<ListPushBackResponse, ApiError> {
        let list_length = self.add(&request).await?;
        Ok(ListPushBackResponse { list_length })
    }

    pub(in crate::api::grpc::scs) async fn list_concatenate_front(
        &self,
        request: Request<ListConcatenateFrontRequest>,
    ) -> Result<ListConcatenateFrontResponse, ApiError> {
        let list_length = self.add(&request).await?;
        Ok(ListConcatenateFrontResponse { list_length })
    }

    pub(in crate::api::grpc::scs) async fn list_concatenate_back(
        &self,
        request: Request<ListConcatenateBackRequest>,
    ) -> Result<ListConcatenateBackResponse, ApiError> {
        let list_length = self.add(&request).await?;
        Ok(ListConcatenateBackResponse { list_length })
    }

    pub(in crate::api::grpc::scs) async fn list_pop_front(
        &self,
        request: Request<ListPopFrontRequest>,
    ) -> Result<ListPopFrontResponse, ApiError> {
        use list_pop_front_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let op = CollectionOp::ListPop { end: End::Front };
        let list = match self.apply(&permit, op).await? {
            Reply::Popped { value, length } => List::Found(Found {
                front: value.to_vec(),
                list_length: length,
            }),
            Reply::Missing => List::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(ListPopFrontResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_pop_back(
        &self,
        request: Request<ListPopBackRequest>,
    ) -> Result<ListPopBackResponse, ApiError> {
        use list_pop_back_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let op = CollectionOp::ListPop { end: End::Back };
        let list = match self.apply(&permit, op).await? {
            Reply::Popped { value, length } => List::Found(Found {
                back: value.to_vec(),
                list_length: length,
            }),
            Reply::Missing => List::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(ListPopBackResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_fetch(
        &self,
        request: Request<ListFetchRequest>,
    ) -> Result<ListFetchResponse, ApiError> {
        use list_fetch_request::{EndIndex, StartIndex};
        use list_fetch_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let r = request.get_ref();
        let start = match r.start_index {
            Some(StartIndex::InclusiveStart(i)) => Some(i),
            _ => None,
        };
        let end = match r.end_index {
            Some(EndIndex::ExclusiveEnd(i)) => Some(i),
            _ => None,
        };
        let op = CollectionOp::ListFetch {
            range: range(start, end),
        };
        let list = match self.apply(&permit, op).await? {
            Reply::Values(values) => List::Found(Found {
                values: values.into_iter().map(|v| v.to_vec()).collect(),
            }),
            Reply::Missing => List::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(ListFetchResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_length(
        &self,
        request: Request<ListLengthRequest>,
    ) -> Result<ListLengthResponse, ApiError> {
        use list_length_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let list = match length_of(self.apply(&permit, CollectionOp::ListLength).await?)? {
            Some(length) => List::Found(Found { length }),
            None => List::Missing(Missing {}),
        };
        Ok(ListLengthResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_remove(
        &self,
        request: Request<ListRemoveRequest>,
    ) -> Result<ListRemoveResponse, ApiError> {
        use list_remove_request::Remove;
        use list_remove_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let Some(Remove::AllElementsWithValue(value)) = &request.get_ref().remove else {
            return Err(ApiError::invalid("a value to remove is required"));
        };
        let op = CollectionOp::ListRemove { value };
        let list = match length_of(self.apply(&permit, op).await?)? {
            Some(list_length) => List::Found(Found { list_length }),
            None => List::Missing(Missing {}),
        };
        Ok(ListRemoveResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_erase(
        &self,
        request: Request<ListEraseRequest>,
    ) -> Result<ListEraseResponse, ApiError> {
        use list_erase_request::Erase;
        use list_erase_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let ranges = match &request.get_ref().erase {
            Some(Erase::Some(ranges)) => Some(ranges.ranges.as_slice()),
            Some(Erase::All(_)) => None,
            None => return Err(ApiError::invalid("what to erase is required")),
        };
        let op = CollectionOp::ListErase { ranges };
        let list = match length_of(self.apply(&permit, op).await?)? {
            Some(list_length) => List::Found(Found { list_length }),
            None => List::Missing(Missing {}),
        };
        Ok(ListEraseResponse { list: Some(list) })
    }

    pub(in crate::api::grpc::scs) async fn list_retain(
        &self,
        request: Request<ListRetainRequest>,
    ) -> Result<ListRetainResponse, ApiError> {
        use list_retain_request::{EndIndex, StartIndex};
        use list_retain_response::{Found, List, Missing};
        let permit = self.collection_permit(&request, |r| &r.list_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        let start = match r.start_index {
            Some(StartIndex::InclusiveStart(i)) => Some(i),
            _ => None,
        };
        let end = match r.end_index {
            Some(EndIndex::ExclusiveEnd(i)) => Some(i),
            _ => None,
        };
        let op = CollectionOp::ListRetain {
            range: range(start, end),
            ttl,
        };
        let list = match length_of(self.apply(&permit, op).await?)? {
            Some(list_length) => List::Found(Found { list_length }),
            None => List::Missing(Missing {}),
        };
        Ok(ListRetainResponse { list: Some(list) })
    }
}
