//! A model-based test of collections: seeded random sequences of collection
//! (and scalar) operations on a few names, applied to the memory backend and
//! to the Redis backend, and to a plain reference model written here from
//! SPEC 10. Every answer and the final state of every name must agree with
//! the model. A failure names its seed and step.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use momento_protos::cache_client::{DictionaryFieldValuePair, ListRange, SortedSetElement};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scopegate::backend::collection::{
    CollectionBackend, CollectionOp, CollectionReply as Reply, CollectionTtl, Difference, End,
    IndexRange, Order, ScoreBound,
};
use scopegate::backend::{BackendError, CacheBackend, Limits};
use scopegate::{Operation, OperationKind};

use super::{CACHE, SUPERUSER, TTL};

/// Small enough that sequences reach it.
const MAX_BYTES: usize = 160;
const NAMES: [&[u8]; 3] = [b"a", b"b", b"c"];
const ELEMENTS: [&[u8]; 6] = [b"", b"x", b"yy", b"zzz", b"1", b"-3"];
// -0.0 is stored as 0.0 on both backends (Redis orders the two as equal).
const SCORES: [f64; 7] = [-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0];

#[derive(Clone, Debug)]
enum Step {
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

fn pick<T: Clone>(rng: &mut StdRng, from: &[T]) -> T {
    from[rng.gen_range(0..from.len())].clone()
}

fn elements(rng: &mut StdRng) -> Vec<Vec<u8>> {
    (0..rng.gen_range(0..4))
        .map(|_| pick(rng, &ELEMENTS).to_vec())
        .collect()
}

fn index(rng: &mut StdRng) -> Option<i32> {
    rng.gen_bool(0.7).then(|| rng.gen_range(-5..6))
}

fn range(rng: &mut StdRng) -> IndexRange {
    IndexRange {
        start: index(rng),
        end: index(rng),
    }
}

fn order(rng: &mut StdRng) -> Order {
    if rng.gen_bool(0.5) {
        Order::Ascending
    } else {
        Order::Descending
    }
}

fn bound(rng: &mut StdRng) -> ScoreBound {
    match rng.gen_range(0..3) {
        0 => ScoreBound::Unbounded,
        1 => ScoreBound::Inclusive(pick(rng, &SCORES)),
        _ => ScoreBound::Exclusive(pick(rng, &SCORES)),
    }
}

fn step(rng: &mut StdRng) -> Step {
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

const KEEP: CollectionTtl = CollectionTtl {
    ttl: TTL,
    refresh: false,
};

impl Step {
    /// The backend op of a collection step.
    fn op(&self) -> Option<CollectionOp<'_>> {
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

/// The reference model: what each name holds.
#[derive(Clone, Debug, PartialEq)]
enum Held {
    Scalar(Vec<u8>),
    Dictionary(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    List(Vec<Vec<u8>>),
    /// Sorted by (score, value).
    SortedSet(Vec<(Vec<u8>, f64)>),
}

/// What the model says an operation answers: a normalized reply, or the
/// kind of refusal.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    Reply(Reply),
    WrongType,
    TooLarge,
    NotInteger,
}

/// A collection's size: what each element takes in a fetch's answer, as a
/// protobuf field (tag, varint length, bytes), empty and zero ones included.
fn size(held: &Held) -> usize {
    fn varint(mut n: usize) -> usize {
        let mut bytes = 1;
        while n >= 0x80 {
            n >>= 7;
            bytes += 1;
        }
        bytes
    }
    let field = |len: usize| 1 + varint(len) + len;
    match held {
        Held::Scalar(v) => v.len(),
        Held::Dictionary(d) => d
            .iter()
            .map(|(f, v)| field(field(f.len()) + field(v.len())))
            .sum(),
        Held::Set(s) => s.iter().map(|e| field(e.len())).sum(),
        Held::List(l) => l.iter().map(|e| field(e.len())).sum(),
        Held::SortedSet(z) => z.iter().map(|(v, _)| field(field(v.len()) + 9)).sum(),
    }
}

fn is_empty(held: &Held) -> bool {
    match held {
        Held::Scalar(_) => false,
        Held::Dictionary(d) => d.is_empty(),
        Held::Set(s) => s.is_empty(),
        Held::List(l) => l.is_empty(),
        Held::SortedSet(z) => z.is_empty(),
    }
}

/// Python-style slicing of `len` elements.
fn slice(r: IndexRange, len: usize) -> (usize, usize) {
    let len = len as i64;
    let at = |i: i32| (if i < 0 { len + i as i64 } else { i as i64 }).clamp(0, len) as usize;
    let a = r.start.map_or(0, at);
    let b = r.end.map_or(len as usize, at);
    (a, b.max(a))
}

fn in_range(min: ScoreBound, max: ScoreBound, s: f64) -> bool {
    let lo = match min {
        ScoreBound::Unbounded => true,
        ScoreBound::Inclusive(m) => s >= m,
        ScoreBound::Exclusive(m) => s > m,
    };
    let hi = match max {
        ScoreBound::Unbounded => true,
        ScoreBound::Inclusive(m) => s <= m,
        ScoreBound::Exclusive(m) => s < m,
    };
    lo && hi
}

fn b(v: &[u8]) -> Bytes {
    Bytes::copy_from_slice(v)
}

fn strict_integer(v: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(v).ok()?;
    t.parse::<i64>().ok().filter(|n| n.to_string() == t)
}

fn zsort(z: &mut [(Vec<u8>, f64)]) {
    z.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
}

/// Applies a step to the model. `popped` is what the backend's SetPop took
/// (the one random choice), checked to be a choice the model allows.
fn model(
    state: &mut BTreeMap<Vec<u8>, Held>,
    name: &[u8],
    step: &Step,
    popped: Option<&Reply>,
) -> Answer {
    let current = state.get(name).cloned();
    let ok = Answer::Reply;
    // Reads and writes of a collection on a missing name, or on another type.
    macro_rules! of {
        ($variant:ident, $missing:expr) => {
            match current {
                None => None,
                Some(Held::$variant(x)) => Some(x),
                Some(_) => return Answer::WrongType,
            }
        };
    }
    let mut next: Option<Held> = current.clone();
    let answer = match step {
        Step::Scalar(v) => {
            next = Some(Held::Scalar(v.clone()));
            ok(Reply::Done)
        }
        Step::Get => match &current {
            None => ok(Reply::Missing),
            Some(Held::Scalar(v)) => ok(Reply::Values(vec![b(v)])),
            Some(_) => Answer::WrongType,
        },
        Step::DictionaryFetch => match of!(Dictionary, ()) {
            None => ok(Reply::Missing),
            Some(d) => ok(Reply::Pairs(d.iter().map(|(f, v)| (b(f), b(v))).collect())),
        },
        Step::DictionaryGet(fields) => match of!(Dictionary, ()) {
            None => ok(Reply::Missing),
            Some(d) => ok(Reply::Fields(
                fields.iter().map(|f| d.get(f).map(|v| b(v))).collect(),
            )),
        },
        Step::DictionarySet(items) => {
            let mut d = of!(Dictionary, ()).unwrap_or_default();
            for p in items {
                d.insert(p.field.clone(), p.value.clone());
            }
            next = Some(Held::Dictionary(d));
            ok(Reply::Done)
        }
        Step::DictionaryIncrement(f, n) => {
            let mut d = of!(Dictionary, ()).unwrap_or_default();
            let Some(current) = d.get(f).map_or(Some(0), |v| strict_integer(v)) else {
                return Answer::NotInteger;
            };
            let value = current + n;
            d.insert(f.clone(), value.to_string().into_bytes());
            next = Some(Held::Dictionary(d));
            ok(Reply::Integer(value))
        }
        Step::DictionaryDelete(fields) => match of!(Dictionary, ()) {
            None => ok(Reply::Missing),
            Some(mut d) => {
                match fields {
                    None => d.clear(),
                    Some(fields) => fields.iter().for_each(|f| {
                        d.remove(f);
                    }),
                }
                next = Some(Held::Dictionary(d));
                ok(Reply::Done)
            }
        },
        Step::DictionaryLength => match of!(Dictionary, ()) {
            None => ok(Reply::Missing),
            Some(d) => ok(Reply::Length(d.len() as u32)),
        },
        Step::SetFetch => match of!(Set, ()) {
            None => ok(Reply::Missing),
            Some(s) => ok(Reply::Values(s.iter().map(|v| b(v)).collect())),
        },
        Step::SetUnion(e) => {
            let mut s = of!(Set, ()).unwrap_or_default();
            s.extend(e.iter().cloned());
            next = Some(Held::Set(s));
            ok(Reply::Done)
        }
        Step::SetDifference(e, form) => match of!(Set, ()) {
            None => ok(Reply::Missing),
            Some(s) => {
                let request: BTreeSet<Vec<u8>> = e.iter().cloned().collect();
                let left = match form {
                    Difference::Minuend => request.difference(&s).cloned().collect(),
                    Difference::Subtrahend => s.difference(&request).cloned().collect(),
                    Difference::Identity => BTreeSet::new(),
                };
                next = Some(Held::Set(left));
                ok(Reply::Done)
            }
        },
        Step::SetContains(e) => match of!(Set, ()) {
            None => ok(Reply::Missing),
            Some(s) => ok(Reply::Contains(e.iter().map(|v| s.contains(v)).collect())),
        },
        Step::SetLength => match of!(Set, ()) {
            None => ok(Reply::Missing),
            Some(s) => ok(Reply::Length(s.len() as u32)),
        },
        Step::SetPop(n) => match of!(Set, ()) {
            None => ok(Reply::Missing),
            Some(mut s) => {
                let Some(Reply::Values(taken)) = popped else {
                    return ok(Reply::Values(vec![]));
                };
                assert_eq!(
                    taken.len(),
                    (*n).min(s.len()),
                    "SetPop takes min(count, length)"
                );
                for v in taken {
                    assert!(
                        s.remove(v.as_ref()),
                        "SetPop took an element the set did not hold"
                    );
                }
                next = Some(Held::Set(s));
                ok(Reply::Values(taken.clone()))
            }
        },
        Step::ListPush(end, values, truncate) => {
            let mut l = of!(List, ()).unwrap_or_default();
            match end {
                End::Front => l.splice(0..0, values.iter().cloned()).for_each(drop),
                End::Back => l.extend(values.iter().cloned()),
            }
            let t = *truncate as usize;
            if t > 0 && l.len() > t {
                match end {
                    End::Front => l.truncate(t),
                    End::Back => {
                        l.drain(..l.len() - t);
                    }
                }
            }
            let n = l.len() as u32;
            next = Some(Held::List(l));
            ok(Reply::Length(n))
        }
        Step::ListPop(end) => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(mut l) => {
                let v = match end {
                    End::Front => l.remove(0),
                    End::Back => l.pop().unwrap(),
                };
                let n = l.len() as u32;
                next = Some(Held::List(l));
                ok(Reply::Popped {
                    value: b(&v),
                    length: n,
                })
            }
        },
        Step::ListFetch(r) => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(l) => {
                let (a, z) = slice(*r, l.len());
                ok(Reply::Values(l[a..z].iter().map(|v| b(v)).collect()))
            }
        },
        Step::ListLength => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(l) => ok(Reply::Length(l.len() as u32)),
        },
        Step::ListRemove(v) => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(mut l) => {
                l.retain(|x| x != v);
                let n = l.len() as u32;
                next = Some(Held::List(l));
                ok(Reply::Length(n))
            }
        },
        Step::ListErase(ranges) => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(l) => {
                let kept: Vec<Vec<u8>> = match ranges {
                    None => vec![],
                    Some(ranges) => l
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| {
                            !ranges.iter().any(|r| {
                                let a = r.begin_index as usize;
                                *i >= a && *i < a + r.count as usize
                            })
                        })
                        .map(|(_, v)| v)
                        .collect(),
                };
                let n = kept.len() as u32;
                next = Some(Held::List(kept));
                ok(Reply::Length(n))
            }
        },
        Step::ListRetain(r) => match of!(List, ()) {
            None => ok(Reply::Missing),
            Some(l) => {
                let (a, z) = slice(*r, l.len());
                let kept = l[a..z].to_vec();
                let n = kept.len() as u32;
                next = Some(Held::List(kept));
                ok(Reply::Length(n))
            }
        },
        Step::SortedSetPut(elements) => {
            let mut z = of!(SortedSet, ()).unwrap_or_default();
            for e in elements {
                z.retain(|(v, _)| *v != e.value);
                z.push((e.value.clone(), e.score + 0.0));
            }
            zsort(&mut z);
            next = Some(Held::SortedSet(z));
            ok(Reply::Done)
        }
        Step::SortedSetFetchByIndex(r, o) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(mut z) => {
                if *o == Order::Descending {
                    z.reverse();
                }
                let (a, e) = slice(*r, z.len());
                ok(Reply::Scored(
                    z[a..e].iter().map(|(v, s)| (b(v), *s)).collect(),
                ))
            }
        },
        Step::SortedSetFetchByScore(min, max, offset, count, o) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(mut z) => {
                if *o == Order::Descending {
                    z.reverse();
                }
                ok(Reply::Scored(
                    z.iter()
                        .filter(|(_, s)| in_range(*min, *max, *s))
                        .skip(*offset)
                        .take(count.unwrap_or(usize::MAX))
                        .map(|(v, s)| (b(v), *s))
                        .collect(),
                ))
            }
        },
        Step::SortedSetGetScore(values) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(z) => ok(Reply::Scores(
                values
                    .iter()
                    .map(|v| z.iter().find(|(x, _)| x == v).map(|(_, s)| *s))
                    .collect(),
            )),
        },
        Step::SortedSetGetRank(v, o) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(mut z) => {
                if *o == Order::Descending {
                    z.reverse();
                }
                ok(Reply::Rank(
                    z.iter().position(|(x, _)| x == v).map(|i| i as u64),
                ))
            }
        },
        Step::SortedSetRemove(values) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(mut z) => {
                match values {
                    None => z.clear(),
                    Some(values) => z.retain(|(v, _)| !values.contains(v)),
                }
                next = Some(Held::SortedSet(z));
                ok(Reply::Done)
            }
        },
        Step::SortedSetIncrement(v, n) => {
            let mut z = of!(SortedSet, ()).unwrap_or_default();
            let score = z.iter().find(|(x, _)| x == v).map_or(0.0, |(_, s)| *s) + n;
            z.retain(|(x, _)| x != v);
            z.push((v.clone(), score));
            zsort(&mut z);
            next = Some(Held::SortedSet(z));
            ok(Reply::Score(score))
        }
        Step::SortedSetLength => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(z) => ok(Reply::Length(z.len() as u32)),
        },
        Step::SortedSetLengthByScore(min, max) => match of!(SortedSet, ()) {
            None => ok(Reply::Missing),
            Some(z) => ok(Reply::Length(
                z.iter().filter(|(_, s)| in_range(*min, *max, *s)).count() as u32,
            )),
        },
    };
    // A write that would carry a collection past the bound changes nothing.
    if let Some(held) = &next
        && !matches!(held, Held::Scalar(_))
        && size(held) > MAX_BYTES
    {
        return Answer::TooLarge;
    }
    match next {
        Some(held) if is_empty(&held) => {
            state.remove(name);
        }
        Some(held) => {
            state.insert(name.to_vec(), held);
        }
        None => {}
    }
    answer
}

/// Replies compared without the order Redis and Rust's hash maps choose.
fn normalized(step: &Step, reply: Reply) -> Reply {
    match (step, reply) {
        (_, Reply::Pairs(mut p)) => {
            p.sort();
            Reply::Pairs(p)
        }
        (Step::SetFetch | Step::SetPop(_), Reply::Values(mut v)) => {
            v.sort();
            Reply::Values(v)
        }
        (_, r) => r,
    }
}

async fn run<B: CollectionBackend + CacheBackend>(backend: &B, seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = BTreeMap::new();
    for i in 0..steps {
        let name = pick(&mut rng, &NAMES);
        let step = step(&mut rng);
        let got: Result<Reply, BackendError> = match (&step, step.op()) {
            (Step::Scalar(v), _) => {
                let permit = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Set, CACHE, name))
                    .unwrap();
                backend
                    .set(&permit, b(v), super::TTL)
                    .await
                    .map(|()| Reply::Done)
            }
            (Step::Get, _) => {
                let permit = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Get, CACHE, name))
                    .unwrap();
                backend
                    .get(&permit)
                    .await
                    .map(|v| v.map_or(Reply::Missing, |v| Reply::Values(vec![v])))
            }
            (_, Some(op)) => {
                // Any kind of the op's class authorizes it (the backend reads
                // only the permit's target).
                let kind = match op.class() {
                    scopegate::operation::Class::Read => OperationKind::DictionaryGet,
                    scopegate::operation::Class::Write => OperationKind::DictionarySet,
                    _ => OperationKind::DictionaryIncrement,
                };
                let permit = SUPERUSER
                    .authorize(&Operation::key(kind, CACHE, name))
                    .unwrap();
                backend.collection(&permit, &op).await
            }
            _ => unreachable!(),
        };
        let got = match got {
            Ok(reply) => Answer::Reply(normalized(&step, reply)),
            Err(BackendError::ItemTooLarge) => Answer::TooLarge,
            Err(BackendError::FailedPrecondition(m)) if m.contains("integer") => Answer::NotInteger,
            Err(BackendError::FailedPrecondition(_)) => Answer::WrongType,
            Err(e) => panic!("seed {seed} step {i} {step:?}: {e}"),
        };
        let popped = match &got {
            Answer::Reply(r) => Some(r),
            _ => None,
        };
        let want = model(&mut state, name, &step, popped);
        let want = match want {
            Answer::Reply(r) => Answer::Reply(normalized(&step, r)),
            other => other,
        };
        assert_eq!(
            got,
            want,
            "seed {seed} step {i}: {step:?} on {:?}",
            String::from_utf8_lossy(name)
        );
    }
    // The final state of every name, read back whole.
    for name in NAMES {
        let want = state.get(name);
        let permit = SUPERUSER
            .authorize(&Operation::key(OperationKind::DictionaryGet, CACHE, name))
            .unwrap();
        let all = IndexRange::default();
        let read = |op, step: Step| async move {
            backend
                .collection(&permit, &op)
                .await
                .map(|r| normalized(&step, r))
        };
        let got = match want {
            None => {
                let get = SUPERUSER
                    .authorize(&Operation::key(OperationKind::Get, CACHE, name))
                    .unwrap();
                assert_eq!(
                    backend.get(&get).await,
                    Ok(None),
                    "seed {seed}: {name:?} should be gone"
                );
                continue;
            }
            Some(Held::Scalar(_)) => continue,
            Some(Held::Dictionary(_)) => {
                read(CollectionOp::DictionaryFetch, Step::DictionaryFetch).await
            }
            Some(Held::Set(_)) => read(CollectionOp::SetFetch, Step::SetFetch).await,
            Some(Held::List(_)) => {
                read(CollectionOp::ListFetch { range: all }, Step::ListLength).await
            }
            Some(Held::SortedSet(_)) => {
                let op = CollectionOp::SortedSetFetchByIndex {
                    range: all,
                    order: Order::Ascending,
                };
                read(op, Step::SortedSetLength).await
            }
        };
        let expected = match want.unwrap() {
            Held::Dictionary(d) => {
                let mut p: Vec<_> = d.iter().map(|(f, v)| (b(f), b(v))).collect();
                p.sort();
                Reply::Pairs(p)
            }
            Held::Set(s) => Reply::Values(s.iter().map(|v| b(v)).collect()),
            Held::List(l) => Reply::Values(l.iter().map(|v| b(v)).collect()),
            Held::SortedSet(z) => Reply::Scored(z.iter().map(|(v, s)| (b(v), *s)).collect()),
            Held::Scalar(_) => unreachable!(),
        };
        assert_eq!(got, Ok(expected), "seed {seed}: final state of {name:?}");
    }
}

fn limits() -> Limits {
    Limits {
        max_collection_bytes: MAX_BYTES,
        ..Limits::default()
    }
}

const SEEDS: u64 = 40;
const STEPS: usize = 150;

#[tokio::test]
async fn random_collection_sequences_agree_with_the_model_on_memory() {
    for seed in 0..SEEDS {
        let backend = scopegate::backend::memory::MemoryBackend::new(limits(), &[CACHE.into()]);
        run(&backend, seed, STEPS).await;
    }
}

#[tokio::test]
async fn random_collection_sequences_agree_with_the_model_on_redis() {
    let redis = super::support::redis::RedisServer::start();
    for seed in 0..SEEDS {
        let backend = super::backend_with_limits(&redis, &format!("model{seed}"), limits());
        run(&backend, seed, STEPS).await;
    }
}
