//! The steps of a sequence, their seeded generator, and each one's backend op.

use momento_protos::cache_client::{DictionaryFieldValuePair, ListRange, SortedSetElement};
use rand::Rng;
use rand::rngs::StdRng;
use scopegate::backend::collection::{
    CollectionOp, CollectionTtl, Difference, End, IndexRange, Order, ScoreBound,
};

use super::{ELEMENTS, SCORES};
use crate::TTL;

#[derive(Clone, Debug)]
pub(super) enum Step {
    Scalar(Vec<u8>),
    Get,
    DictionaryFetch,
    DictionaryGet(Vec<Vec<u8>>),
    DictionarySet(Vec<DictionaryFieldValuePair>),
    DictionaryIncrement(Vec<u8>, i64),
    DictionaryDelete(Option<Vec<Vec<u8>>>),
    DictionaryLength,
    SetFetch,
    SetUnion(Vec<Vec<u8>>),
    SetDifference(Vec<Vec<u8>>, Difference),
    SetContains(Vec<Vec<u8>>),
    SetLength,
    SetPop(usize),
    ListPush(End, Vec<Vec<u8>>, u32),
    ListPop(End),
    ListFetch(IndexRange),
    ListLength,
    ListRemove(Vec<u8>),
    ListErase(Option<Vec<ListRange>>),
    ListRetain(IndexRange),
    SortedSetPut(Vec<SortedSetElement>),
    SortedSetFetchByIndex(IndexRange, Order),
    SortedSetFetchByScore(ScoreBound, ScoreBound, usize, Option<usize>, Order),
    SortedSetGetScore(Vec<Vec<u8>>),
    SortedSetGetRank(Vec<u8>, Order),
    SortedSetRemove(Option<Vec<Vec<u8>>>),
    SortedSetIncrement(Vec<u8>, f64),
    SortedSetLength,
    SortedSetLengthByScore(ScoreBound, ScoreBound),
}

pub(super) fn pick<T: Clone>(rng: &mut StdRng, from: &[T]) -> T {
    from[rng.gen_range(0..from.len())].clone()
}

pub(super) fn elements(rng: &mut StdRng) -> Vec<Vec<u8>> {
    (0..rng.gen_range(0..4))
        .map(|_| pick(rng, &ELEMENTS).to_vec())
        .collect()
}

pub(super) fn index(rng: &mut StdRng) -> Option<i32> {
    rng.gen_bool(0.7).then(|| rng.gen_range(-5..6))
}

pub(super) fn range(rng: &mut StdRng) -> IndexRange {
    IndexRange {
        start: index(rng),
        end: index(rng),
    }
}

pub(super) fn order(rng: &mut StdRng) -> Order {
    if rng.gen_bool(0.5) {
        Order::Ascending
    } else {
        Order::Descending
    }
}

pub(super) fn bound(rng: &mut StdRng) -> ScoreBound {
    match rng.gen_range(0..3) {
        0 => ScoreBound::Unbounded,
        1 => ScoreBound::Inclusive(pick(rng, &SCORES)),
        _ => ScoreBound::Exclusive(pick(rng, &SCORES)),
    }
}

pub(super) fn step(rng: &mut StdRng) -> Step {
    let e = |rng: &mut StdRng| pick(rng, &ELEMENTS).to_vec();
    match rng.gen_range(0..30) {
        0 => Step::Scalar(e(rng)),
        1 => Step::Get,
        2 => Step::DictionaryFetch,
        3 => Step::DictionaryGet(elements(rng)),
        4 | 5 => Step::DictionarySet(
            (0..rng.gen_range(0..4))
                .map(|_| DictionaryFieldValuePair {
                    field: e(rng),
                    value: e(rng),
                })
                .collect(),
        ),
        6 => Step::DictionaryIncrement(e(rng), pick(rng, &[-2, 1, 5])),
        7 => Step::DictionaryDelete(rng.gen_bool(0.8).then(|| elements(rng))),
        8 => Step::DictionaryLength,
        9 => Step::SetFetch,
        10 | 11 => Step::SetUnion(elements(rng)),
        12 => Step::SetDifference(
            elements(rng),
            pick(
                rng,
                &[
                    Difference::Minuend,
                    Difference::Subtrahend,
                    Difference::Subtrahend,
                    Difference::Identity,
                ],
            ),
        ),
        13 => Step::SetContains(elements(rng)),
        14 => Step::SetLength,
        15 => Step::SetPop(rng.gen_range(0..3)),
        16 | 17 => Step::ListPush(
            if rng.gen_bool(0.5) {
                End::Front
            } else {
                End::Back
            },
            elements(rng),
            pick(rng, &[0, 0, 2, 4]),
        ),
        18 => Step::ListPop(if rng.gen_bool(0.5) {
            End::Front
        } else {
            End::Back
        }),
        19 => Step::ListFetch(range(rng)),
        20 => Step::ListLength,
        21 => Step::ListRemove(e(rng)),
        22 => Step::ListErase(rng.gen_bool(0.8).then(|| {
            (0..rng.gen_range(1..3))
                .map(|_| ListRange {
                    begin_index: rng.gen_range(0..5),
                    count: rng.gen_range(0..3),
                })
                .collect()
        })),
        23 => Step::ListRetain(range(rng)),
        24 | 25 => Step::SortedSetPut(
            (0..rng.gen_range(0..4))
                .map(|_| SortedSetElement {
                    value: e(rng),
                    score: pick(rng, &SCORES),
                })
                .collect(),
        ),
        26 => match rng.gen_range(0..3) {
            0 => Step::SortedSetFetchByIndex(range(rng), order(rng)),
            1 => Step::SortedSetFetchByScore(
                bound(rng),
                bound(rng),
                rng.gen_range(0..3),
                pick(rng, &[None, Some(1), Some(2)]),
                order(rng),
            ),
            _ => Step::SortedSetGetScore(elements(rng)),
        },
        27 => match rng.gen_range(0..3) {
            0 => Step::SortedSetGetRank(e(rng), order(rng)),
            1 => Step::SortedSetLength,
            _ => Step::SortedSetLengthByScore(bound(rng), bound(rng)),
        },
        28 => Step::SortedSetRemove(rng.gen_bool(0.8).then(|| elements(rng))),
        _ => Step::SortedSetIncrement(e(rng), pick(rng, &[-1.0, 0.5, 3.0])),
    }
}

pub(super) const KEEP: CollectionTtl = CollectionTtl {
    ttl: TTL,
    refresh: false,
};

impl Step {
    /// The backend op of a collection step.
    pub(super) fn op(&self) -> Option<CollectionOp<'_>> {
        use CollectionOp as O;
        Some(match self {
            Step::Scalar(_) | Step::Get => return None,
            Step::DictionaryFetch => O::DictionaryFetch,
            Step::DictionaryGet(f) => O::DictionaryGet { fields: f },
            Step::DictionarySet(items) => O::DictionarySet { items, ttl: KEEP },
            Step::DictionaryIncrement(f, n) => O::DictionaryIncrement {
                field: f,
                amount: *n,
                ttl: KEEP,
            },
            Step::DictionaryDelete(f) => O::DictionaryDelete {
                fields: f.as_deref(),
            },
            Step::DictionaryLength => O::DictionaryLength,
            Step::SetFetch => O::SetFetch,
            Step::SetUnion(e) => O::SetUnion {
                elements: e,
                ttl: KEEP,
            },
            Step::SetDifference(e, form) => O::SetDifference {
                elements: e,
                form: *form,
            },
            Step::SetContains(e) => O::SetContains { elements: e },
            Step::SetLength => O::SetLength,
            Step::SetPop(n) => O::SetPop { count: *n },
            Step::ListPush(end, v, t) => O::ListPush {
                end: *end,
                values: v,
                truncate_to: *t,
                ttl: KEEP,
            },
            Step::ListPop(end) => O::ListPop { end: *end },
            Step::ListFetch(r) => O::ListFetch { range: *r },
            Step::ListLength => O::ListLength,
            Step::ListRemove(v) => O::ListRemove { value: v },
            Step::ListErase(r) => O::ListErase {
                ranges: r.as_deref(),
            },
            Step::ListRetain(r) => O::ListRetain {
                range: *r,
                ttl: KEEP,
            },
            Step::SortedSetPut(e) => O::SortedSetPut {
                elements: e,
                ttl: KEEP,
            },
            Step::SortedSetFetchByIndex(r, o) => O::SortedSetFetchByIndex {
                range: *r,
                order: *o,
            },
            Step::SortedSetFetchByScore(min, max, offset, count, order) => {
                O::SortedSetFetchByScore {
                    min: *min,
                    max: *max,
                    offset: *offset,
                    count: *count,
                    order: *order,
                }
            }
            Step::SortedSetGetScore(v) => O::SortedSetGetScore { values: v },
            Step::SortedSetGetRank(v, o) => O::SortedSetGetRank {
                value: v,
                order: *o,
            },
            Step::SortedSetRemove(v) => O::SortedSetRemove {
                values: v.as_deref(),
            },
            Step::SortedSetIncrement(v, n) => O::SortedSetIncrement {
                value: v,
                amount: *n,
                ttl: KEEP,
            },
            Step::SortedSetLength => O::SortedSetLength,
            Step::SortedSetLengthByScore(min, max) => O::SortedSetLengthByScore {
                min: *min,
                max: *max,
            },
        })
    }
}
