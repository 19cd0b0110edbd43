//! Dictionary RPCs.

use momento_protos::cache_client::*;
use tonic::Request;

use super::{length_of, unexpected};
use crate::api::grpc::scs::support::ScsFront;
use crate::backend::collection::{CollectionOp, CollectionReply as Reply};
use crate::error::ApiError;

impl ScsFront {
    pub(in crate::api::grpc::scs) async fn dictionary_fetch(
        &self,
        request: Request<DictionaryFetchRequest>,
    ) -> Result<DictionaryFetchResponse, ApiError> {
        use dictionary_fetch_response::{Dictionary, Found, Missing};
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let dictionary = match self.apply(&permit, CollectionOp::DictionaryFetch).await? {
            Reply::Pairs(pairs) => Dictionary::Found(Found {
                items: pairs
                    .into_iter()
                    .map(|(field, value)| DictionaryFieldValuePair {
                        field: field.to_vec(),
                        value: value.to_vec(),
                    })
                    .collect(),
            }),
            Reply::Missing => Dictionary::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(DictionaryFetchResponse {
            dictionary: Some(dictionary),
        })
    }

    pub(in crate::api::grpc::scs) async fn dictionary_get(
        &self,
        request: Request<DictionaryGetRequest>,
    ) -> Result<DictionaryGetResponse, ApiError> {
        use dictionary_get_response::{Dictionary, DictionaryGetResponsePart, Found, Missing};
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let fields = &request.get_ref().fields;
        let dictionary = match self
            .apply(&permit, CollectionOp::DictionaryGet { fields })
            .await?
        {
            Reply::Fields(values) => Dictionary::Found(Found {
                items: values
                    .into_iter()
                    .map(|value| match value {
                        Some(value) => DictionaryGetResponsePart {
                            result: ECacheResult::Hit as i32,
                            cache_body: value.to_vec(),
                        },
                        None => DictionaryGetResponsePart {
                            result: ECacheResult::Miss as i32,
                            cache_body: Vec::new(),
                        },
                    })
                    .collect(),
            }),
            Reply::Missing => Dictionary::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(DictionaryGetResponse {
            dictionary: Some(dictionary),
        })
    }

    pub(in crate::api::grpc::scs) async fn dictionary_set(
        &self,
        request: Request<DictionarySetRequest>,
    ) -> Result<DictionarySetResponse, ApiError> {
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        let op = CollectionOp::DictionarySet {
            items: &r.items,
            ttl,
        };
        self.apply(&permit, op).await?;
        Ok(DictionarySetResponse {})
    }

    pub(in crate::api::grpc::scs) async fn dictionary_increment(
        &self,
        request: Request<DictionaryIncrementRequest>,
    ) -> Result<DictionaryIncrementResponse, ApiError> {
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        if r.field.is_empty() {
            return Err(ApiError::invalid("a dictionary field must not be empty"));
        }
        let op = CollectionOp::DictionaryIncrement {
            field: &r.field,
            amount: r.amount,
            ttl,
        };
        match self.apply(&permit, op).await? {
            Reply::Integer(value) => Ok(DictionaryIncrementResponse { value }),
            _ => Err(unexpected()),
        }
    }

    pub(in crate::api::grpc::scs) async fn dictionary_delete(
        &self,
        request: Request<DictionaryDeleteRequest>,
    ) -> Result<DictionaryDeleteResponse, ApiError> {
        use dictionary_delete_request::Delete;
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let fields = match &request.get_ref().delete {
            Some(Delete::Some(some)) => Some(some.fields.as_slice()),
            Some(Delete::All(_)) => None,
            None => return Err(ApiError::invalid("which fields to delete is required")),
        };
        self.apply(&permit, CollectionOp::DictionaryDelete { fields })
            .await?;
        Ok(DictionaryDeleteResponse {})
    }

    pub(in crate::api::grpc::scs) async fn dictionary_length(
        &self,
        request: Request<DictionaryLengthRequest>,
    ) -> Result<DictionaryLengthResponse, ApiError> {
        use dictionary_length_response::{Dictionary, Found, Missing};
        let permit = self.collection_permit(&request, |r| &r.dictionary_name)?;
        let reply = self.apply(&permit, CollectionOp::DictionaryLength).await?;
        let dictionary = match length_of(reply)? {
            Some(length) => Dictionary::Found(Found { length }),
            None => Dictionary::Missing(Missing {}),
        };
        Ok(DictionaryLengthResponse {
            dictionary: Some(dictionary),
        })
    }
}
