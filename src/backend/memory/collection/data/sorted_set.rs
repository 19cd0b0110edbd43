//! Sorted sets: scores by value, and values in (score, value bytes) order.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;

use super::owned;
use crate::backend::BackendError;
use crate::backend::collection::{
    CollectionOp, CollectionReply as Reply, Order, ScoreBound, length, scored_size, stored_score,
    wrong_type,
};

/// A score with a total order (NaN never gets in: fronts refuse it).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Elements by value and in (score, value bytes) order.
#[derive(Clone, Debug, Default)]
pub(in crate::backend::memory) struct SortedSet {
    scores: HashMap<Bytes, f64>,
    order: BTreeSet<(Score, Bytes)>,
}

impl SortedSet {
    pub(super) fn len(&self) -> usize {
        self.scores.len()
    }

    /// Sets a value's score; returns the change in size.
    pub(super) fn put(&mut self, value: Bytes, score: f64) -> isize {
        let score = stored_score(score);
        let grown = match self.scores.insert(value.clone(), score) {
            Some(old) => {
                self.order.remove(&(Score(old), value.clone()));
                0
            }
            None => scored_size(value.len()) as isize,
        };
        self.order.insert((Score(score), value));
        grown
    }

    fn remove(&mut self, value: &[u8]) -> isize {
        match self.scores.remove_entry(value) {
            Some((value, score)) => {
                self.order.remove(&(Score(score), value.clone()));
                -(scored_size(value.len()) as isize)
            }
            None => 0,
        }
    }

    /// Elements in the order asked.
    fn ordered(&self, order: Order) -> Box<dyn Iterator<Item = (&Bytes, f64)> + '_> {
        fn each((s, v): &(Score, Bytes)) -> (&Bytes, f64) {
            (v, s.0)
        }
        match order {
            Order::Ascending => Box::new(self.order.iter().map(each)),
            Order::Descending => Box::new(self.order.iter().rev().map(each)),
        }
    }

    /// The elements, as (value, score) pairs, for UnionStore's sources.
    pub(in crate::backend::memory) fn pairs(&self) -> impl Iterator<Item = (&Bytes, f64)> {
        self.ordered(Order::Ascending)
    }
}

pub(super) fn sorted_set(
    z: &mut SortedSet,
    op: CollectionOp<'_>,
    grown: &mut isize,
) -> Result<Reply, BackendError> {
    let in_bounds =
        |min: ScoreBound, max: ScoreBound, s: f64| min.admits_above(s) && max.admits_below(s);
    Ok(match op {
        CollectionOp::SortedSetPut { elements, .. } => {
            for e in elements {
                *grown += z.put(owned(&e.value), e.score);
            }
            Reply::Done
        }
        CollectionOp::SortedSetFetchByIndex { range, order } => {
            let r = range.resolve(z.scores.len());
            Reply::Scored(
                z.ordered(order)
                    .skip(r.start)
                    .take(r.len())
                    .map(|(v, s)| (v.clone(), s))
                    .collect(),
            )
        }
        CollectionOp::SortedSetFetchByScore {
            min,
            max,
            offset,
            count,
            order,
        } => Reply::Scored(
            z.ordered(order)
                .filter(|&(_, s)| in_bounds(min, max, s))
                .skip(offset)
                .take(count.unwrap_or(usize::MAX))
                .map(|(v, s)| (v.clone(), s))
                .collect(),
        ),
        CollectionOp::SortedSetGetScore { values } => Reply::Scores(
            values
                .iter()
                .map(|v| z.scores.get(v.as_slice()).copied())
                .collect(),
        ),
        CollectionOp::SortedSetGetRank { value, order } => Reply::Rank(
            z.ordered(order)
                .position(|(v, _)| v.as_ref() == value)
                .map(|i| i as u64),
        ),
        CollectionOp::SortedSetRemove { values } => {
            match values {
                Some(values) => {
                    for v in values {
                        *grown += z.remove(v);
                    }
                }
                None => *z = SortedSet::default(),
            }
            Reply::Done
        }
        CollectionOp::SortedSetIncrement { value, amount, .. } => {
            let next = stored_score(z.scores.get(value).copied().unwrap_or(0.0) + amount);
            if next.is_nan() {
                return Err(BackendError::FailedPrecondition(
                    "the resulting score is not a number",
                ));
            }
            *grown += z.put(owned(value), next);
            Reply::Score(next)
        }
        CollectionOp::SortedSetLength => Reply::Length(length(z.scores.len())),
        CollectionOp::SortedSetLengthByScore { min, max } => Reply::Length(length(
            z.scores
                .values()
                .filter(|&&s| in_bounds(min, max, s))
                .count(),
        )),
        _ => return Err(wrong_type()),
    })
}
