//! Sorted-set RPCs.

use momento_protos::cache_client::*;
use tonic::Request;

use super::{length_of, range, unexpected};
use crate::api::grpc::scs::support::ScsFront;
use crate::backend::collection::{
    Aggregate, CollectionBackend, CollectionOp, CollectionReply as Reply, Order, ScoreBound,
};
use crate::error::ApiError;
use crate::operation::{SourceKeys, Target};

/// Scores and weights must be finite numbers (INVALID_ARGUMENT otherwise).
fn finite(score: f64, what: &'static str) -> Result<f64, ApiError> {
    if score.is_finite() {
        Ok(score)
    } else {
        Err(ApiError::invalid(what))
    }
}

fn bound(score: f64, exclusive: bool) -> Result<ScoreBound, ApiError> {
    let score = finite(score, "a score bound must be a finite number")?;
    Ok(if exclusive {
        ScoreBound::Exclusive(score)
    } else {
        ScoreBound::Inclusive(score)
    })
}

fn order(descending: bool) -> Order {
    if descending {
        Order::Descending
    } else {
        Order::Ascending
    }
}

impl ScsFront {
    pub(in crate::api::grpc::scs) async fn sorted_set_put(
        &self,
        request: Request<SortedSetPutRequest>,
    ) -> Result<SortedSetPutResponse, ApiError> {
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        for e in &r.elements {
            finite(e.score, "a score must be a finite number")?;
        }
        let op = CollectionOp::SortedSetPut {
            elements: &r.elements,
            ttl,
        };
        self.apply(&permit, op).await?;
        Ok(SortedSetPutResponse {})
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_fetch(
        &self,
        request: Request<SortedSetFetchRequest>,
    ) -> Result<SortedSetFetchResponse, ApiError> {
        use sorted_set_fetch_request::by_index::{End, Start};
        use sorted_set_fetch_request::by_score::{Max, Min};
        use sorted_set_fetch_request::{Order as O, Range};
        use sorted_set_fetch_response::found::{Elements, Values, ValuesWithScores};
        use sorted_set_fetch_response::{Found, Missing, SortedSet};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let order = order(r.order == O::Descending as i32);
        let op = match &r.range {
            Some(Range::ByIndex(by)) => CollectionOp::SortedSetFetchByIndex {
                range: range(
                    match by.start {
                        Some(Start::InclusiveStartIndex(i)) => Some(i),
                        _ => None,
                    },
                    match by.end {
                        Some(End::ExclusiveEndIndex(i)) => Some(i),
                        _ => None,
                    },
                ),
                order,
            },
            Some(Range::ByScore(by)) => CollectionOp::SortedSetFetchByScore {
                min: match &by.min {
                    Some(Min::MinScore(s)) => bound(s.score, s.exclusive)?,
                    _ => ScoreBound::Unbounded,
                },
                max: match &by.max {
                    Some(Max::MaxScore(s)) => bound(s.score, s.exclusive)?,
                    _ => ScoreBound::Unbounded,
                },
                offset: by.offset as usize,
                // Negative (the SDKs' "all") or unset: every element.
                count: usize::try_from(by.count).ok().filter(|&c| c > 0),
                order,
            },
            // No range: the whole set, as by index.
            None => CollectionOp::SortedSetFetchByIndex {
                range: range(None, None),
                order,
            },
        };
        let sorted_set = match self.apply(&permit, op).await? {
            Reply::Scored(elements) => SortedSet::Found(Found {
                elements: Some(if r.with_scores {
                    Elements::ValuesWithScores(ValuesWithScores {
                        elements: elements
                            .into_iter()
                            .map(|(value, score)| SortedSetElement {
                                value: value.to_vec(),
                                score,
                            })
                            .collect(),
                    })
                } else {
                    Elements::Values(Values {
                        values: elements.into_iter().map(|(v, _)| v.to_vec()).collect(),
                    })
                }),
            }),
            Reply::Missing => SortedSet::Missing(Missing {}),
            _ => return Err(unexpected()),
        };
        Ok(SortedSetFetchResponse {
            sorted_set: Some(sorted_set),
        })
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_get_score(
        &self,
        request: Request<SortedSetGetScoreRequest>,
    ) -> Result<SortedSetGetScoreResponse, ApiError> {
        use sorted_set_get_score_response::{
            SortedSet, SortedSetFound, SortedSetGetScoreResponsePart as Part, SortedSetMissing,
        };
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let values = &request.get_ref().values;
        let sorted_set = match self
            .apply(&permit, CollectionOp::SortedSetGetScore { values })
            .await?
        {
            Reply::Scores(scores) => SortedSet::Found(SortedSetFound {
                elements: scores
                    .into_iter()
                    .map(|score| match score {
                        Some(score) => Part {
                            result: ECacheResult::Hit as i32,
                            score,
                        },
                        None => Part {
                            result: ECacheResult::Miss as i32,
                            score: 0.0,
                        },
                    })
                    .collect(),
            }),
            Reply::Missing => SortedSet::Missing(SortedSetMissing {}),
            _ => return Err(unexpected()),
        };
        Ok(SortedSetGetScoreResponse {
            sorted_set: Some(sorted_set),
        })
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_get_rank(
        &self,
        request: Request<SortedSetGetRankRequest>,
    ) -> Result<SortedSetGetRankResponse, ApiError> {
        use sorted_set_get_rank_request::Order as O;
        use sorted_set_get_rank_response::{Rank, RankResponsePart};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let op = CollectionOp::SortedSetGetRank {
            value: &r.value,
            order: order(r.order == O::Descending as i32),
        };
        let rank = match self.apply(&permit, op).await? {
            Reply::Rank(Some(rank)) => Rank::ElementRank(RankResponsePart {
                result: ECacheResult::Hit as i32,
                rank,
            }),
            // A missing sorted set answers a miss too, not `missing`:
            // Momento's Python SDK reads only `element_rank` (the Rust and
            // Node SDKs take either as a miss).
            Reply::Rank(None) | Reply::Missing => Rank::ElementRank(RankResponsePart {
                result: ECacheResult::Miss as i32,
                rank: 0,
            }),
            _ => return Err(unexpected()),
        };
        Ok(SortedSetGetRankResponse { rank: Some(rank) })
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_remove(
        &self,
        request: Request<SortedSetRemoveRequest>,
    ) -> Result<SortedSetRemoveResponse, ApiError> {
        use sorted_set_remove_request::RemoveElements;
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let values = match &request.get_ref().remove_elements {
            Some(RemoveElements::Some(some)) => Some(some.values.as_slice()),
            Some(RemoveElements::All(_)) => None,
            None => return Err(ApiError::invalid("which elements to remove is required")),
        };
        self.apply(&permit, CollectionOp::SortedSetRemove { values })
            .await?;
        Ok(SortedSetRemoveResponse {})
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_increment(
        &self,
        request: Request<SortedSetIncrementRequest>,
    ) -> Result<SortedSetIncrementResponse, ApiError> {
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let ttl = self.collection_ttl(r.ttl_milliseconds, r.refresh_ttl)?;
        let op = CollectionOp::SortedSetIncrement {
            value: &r.value,
            amount: finite(r.amount, "the increment must be a finite number")?,
            ttl,
        };
        match self.apply(&permit, op).await? {
            Reply::Score(score) => Ok(SortedSetIncrementResponse { score }),
            _ => Err(unexpected()),
        }
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_length(
        &self,
        request: Request<SortedSetLengthRequest>,
    ) -> Result<SortedSetLengthResponse, ApiError> {
        use sorted_set_length_response::{Found, Missing, SortedSet};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let reply = self.apply(&permit, CollectionOp::SortedSetLength).await?;
        let sorted_set = match length_of(reply)? {
            Some(length) => SortedSet::Found(Found { length }),
            None => SortedSet::Missing(Missing {}),
        };
        Ok(SortedSetLengthResponse {
            sorted_set: Some(sorted_set),
        })
    }

    pub(in crate::api::grpc::scs) async fn sorted_set_length_by_score(
        &self,
        request: Request<SortedSetLengthByScoreRequest>,
    ) -> Result<SortedSetLengthByScoreResponse, ApiError> {
        use sorted_set_length_by_score_request::{Max, Min};
        use sorted_set_length_by_score_response::{Found, Missing, SortedSet};
        let permit = self.collection_permit(&request, |r| &r.set_name)?;
        let r = request.get_ref();
        let min = match r.min {
            Some(Min::InclusiveMin(s)) => bound(s, false)?,
            Some(Min::ExclusiveMin(s)) => bound(s, true)?,
            _ => ScoreBound::Unbounded,
        };
        let max = match r.max {
            Some(Max::InclusiveMax(s)) => bound(s, false)?,
            Some(Max::ExclusiveMax(s)) => bound(s, true)?,
            _ => ScoreBound::Unbounded,
        };
        let op = CollectionOp::SortedSetLengthByScore { min, max };
        let sorted_set = match length_of(self.apply(&permit, op).await?)? {
            Some(length) => SortedSet::Found(Found { length }),
            None => SortedSet::Missing(Missing {}),
        };
        Ok(SortedSetLengthByScoreResponse {
            sorted_set: Some(sorted_set),
        })
    }

    /// RW on the destination, R on every source (the one authorizer's
    /// `ReadWriteFromSources` class).
    pub(in crate::api::grpc::scs) async fn sorted_set_union_store(
        &self,
        request: Request<SortedSetUnionStoreRequest>,
    ) -> Result<SortedSetUnionStoreResponse, ApiError> {
        use sorted_set_union_store_request::AggregateFunction as F;
        let permit = self.permit(&request, |r| Target::Union {
            destination: &r.set_name,
            sources: SourceKeys(&r.sources),
        })?;
        let r = request.get_ref();
        let ttl = self.ttl(r.ttl_milliseconds)?;
        for source in &r.sources {
            finite(f64::from(source.weight), "a weight must be a finite number")?;
        }
        let aggregate = match F::try_from(r.aggregate) {
            Ok(F::Sum) => Aggregate::Sum,
            Ok(F::Min) => Aggregate::Min,
            Ok(F::Max) => Aggregate::Max,
            Err(_) => return Err(ApiError::invalid("unknown aggregate function")),
        };
        let length = self
            .app
            .backend
            .union_store(&permit, aggregate, ttl)
            .await?;
        Ok(SortedSetUnionStoreResponse { length })
    }
}
