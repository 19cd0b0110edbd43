//! The reference model: what each name holds, and what each step answers,
//! written from SPEC 10 without the backends' code.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use scopegate::backend::collection::{
    CollectionReply as Reply, Difference, End, IndexRange, Order, ScoreBound,
};

use super::MAX_BYTES;
use super::steps::Step;

/// The reference model: what each name holds.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Held {
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
pub(super) enum Answer {
    Reply(Reply),
    WrongType,
    TooLarge,
    NotInteger,
}

/// A collection's size: what each element takes in a fetch's answer, as a
/// protobuf field (tag, varint length, bytes), empty and zero ones included.
pub(super) fn size(held: &Held) -> usize {
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

pub(super) fn is_empty(held: &Held) -> bool {
    match held {
        Held::Scalar(_) => false,
        Held::Dictionary(d) => d.is_empty(),
        Held::Set(s) => s.is_empty(),
        Held::List(l) => l.is_empty(),
        Held::SortedSet(z) => z.is_empty(),
    }
}

/// Python-style slicing of `len` elements.
pub(super) fn slice(r: IndexRange, len: usize) -> (usize, usize) {
    let len = len as i64;
    let at = |i: i32| (if i < 0 { len + i as i64 } else { i as i64 }).clamp(0, len) as usize;
    let a = r.start.map_or(0, at);
    let b = r.end.map_or(len as usize, at);
    (a, b.max(a))
}

pub(super) fn in_range(min: ScoreBound, max: ScoreBound, s: f64) -> bool {
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

pub(super) fn b(v: &[u8]) -> Bytes {
    Bytes::copy_from_slice(v)
}

pub(super) fn strict_integer(v: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(v).ok()?;
    t.parse::<i64>().ok().filter(|n| n.to_string() == t)
}

pub(super) fn zsort(z: &mut [(Vec<u8>, f64)]) {
    z.sort_by(|x, y| x.1.total_cmp(&y.1).then_with(|| x.0.cmp(&y.0)));
}

/// Applies a step to the model. `popped` is what the backend's SetPop took
/// (the one random choice), checked to be a choice the model allows.
pub(super) fn model(
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
