//! The memory backend's collections: plain Rust structures, with their size
//! tracked as they change, and one function that applies a [`CollectionOp`].

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use bytes::Bytes;
use rand::seq::IteratorRandom;

use crate::backend::BackendError;
use crate::backend::collection::{
    CollectionOp, CollectionReply as Reply, Difference, End, ItemType, Order, ScoreBound,
    element_size, erased_ranges, is_erased, length, pair_size, scored_size, stored_score,
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
    /// Sets a value's score; returns the change in size.
    fn put(&mut self, value: Bytes, score: f64) -> isize {
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

/// One collection's data.
#[derive(Clone, Debug)]
pub(in crate::backend::memory) enum Data {
    Dictionary(HashMap<Bytes, Bytes>),
    Set(HashSet<Bytes>),
    List(VecDeque<Bytes>),
    SortedSet(SortedSet),
}

/// A collection and its size (SPEC 10's terms: field + value bytes, element
/// bytes, value bytes + 8 per score).
#[derive(Clone, Debug)]
pub(in crate::backend::memory) struct Collection {
    pub(in crate::backend::memory) data: Data,
    pub(in crate::backend::memory) bytes: usize,
}

impl Collection {
    pub(in crate::backend::memory) fn new(kind: ItemType) -> Option<Collection> {
        let data = match kind {
            ItemType::Dictionary => Data::Dictionary(HashMap::new()),
            ItemType::Set => Data::Set(HashSet::new()),
            ItemType::List => Data::List(VecDeque::new()),
            ItemType::SortedSet => Data::SortedSet(SortedSet::default()),
            ItemType::Scalar => return None,
        };
        Some(Collection { data, bytes: 0 })
    }

    /// A sorted set built by UnionStore.
    pub(in crate::backend::memory) fn sorted(
        pairs: impl IntoIterator<Item = (Bytes, f64)>,
    ) -> Collection {
        let mut set = SortedSet::default();
        let mut bytes = 0isize;
        for (value, score) in pairs {
            bytes += set.put(value, score);
        }
        Collection {
            data: Data::SortedSet(set),
            bytes: bytes as usize,
        }
    }

    pub(in crate::backend::memory) fn item_type(&self) -> ItemType {
        match self.data {
            Data::Dictionary(_) => ItemType::Dictionary,
            Data::Set(_) => ItemType::Set,
            Data::List(_) => ItemType::List,
            Data::SortedSet(_) => ItemType::SortedSet,
        }
    }

    /// How many elements (fields) it holds.
    pub(in crate::backend::memory) fn len(&self) -> usize {
        match &self.data {
            Data::Dictionary(d) => d.len(),
            Data::Set(s) => s.len(),
            Data::List(l) => l.len(),
            Data::SortedSet(z) => z.scores.len(),
        }
    }

    /// What it weighs against the cache's byte bound: its size plus what
    /// each element costs in memory beyond its bytes (handles, allocations,
    /// hash and tree nodes; a sorted-set element is held twice).
    pub(in crate::backend::memory) fn weight(&self) -> usize {
        let per_element = match self.data {
            Data::SortedSet(_) => 160,
            _ => 80,
        };
        self.bytes
            .saturating_add(self.len().saturating_mul(per_element))
    }

    pub(in crate::backend::memory) fn is_empty(&self) -> bool {
        match &self.data {
            Data::Dictionary(d) => d.is_empty(),
            Data::Set(s) => s.is_empty(),
            Data::List(l) => l.is_empty(),
            Data::SortedSet(z) => z.scores.is_empty(),
        }
    }

    /// Applies `op` to this collection, which is of the op's type, or was
    /// just made for it. Refuses (changing nothing) a non-integer increment;
    /// the caller checks the size afterwards.
    pub(in crate::backend::memory) fn apply(
        &mut self,
        op: &CollectionOp<'_>,
    ) -> Result<Reply, BackendError> {
        let mut grown = 0isize;
        let reply = match (&mut self.data, *op) {
            (Data::Dictionary(d), op) => dictionary(d, op, &mut grown)?,
            (Data::Set(s), op) => set(s, op, &mut grown)?,
            (Data::List(l), op) => list(l, op, &mut grown)?,
            (Data::SortedSet(z), op) => sorted_set(z, op, &mut grown)?,
        };
        self.bytes = if self.is_empty() {
            0
        } else {
            self.bytes.saturating_add_signed(grown)
        };
        Ok(reply)
    }
}

fn owned(bytes: &[u8]) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

fn dictionary(
    d: &mut HashMap<Bytes, Bytes>,
    op: CollectionOp<'_>,
    grown: &mut isize,
) -> Result<Reply, BackendError> {
    let entry_size = |f: &[u8], v: &[u8]| pair_size(f.len(), v.len()) as isize;
    Ok(match op {
        CollectionOp::DictionaryFetch => {
            Reply::Pairs(d.iter().map(|(f, v)| (f.clone(), v.clone())).collect())
        }
        CollectionOp::DictionaryGet { fields } => Reply::Fields(
            fields
                .iter()
                .map(|f| d.get(f.as_slice()).cloned())
                .collect(),
        ),
        CollectionOp::DictionarySet { items, .. } => {
            for pair in items {
                let (f, v) = (owned(&pair.field), owned(&pair.value));
                *grown += entry_size(&f, &v);
                if let Some(old) = d.insert(f, v) {
                    *grown -= entry_size(&pair.field, &old);
                }
            }
            Reply::Done
        }
        CollectionOp::DictionaryIncrement { field, amount, .. } => {
            let current = match d.get(field) {
                None => 0,
                Some(v) => parse_integer(v).ok_or(BackendError::FailedPrecondition(
                    "the dictionary field is not an integer",
                ))?,
            };
            let next = current
                .checked_add(amount)
                .ok_or(BackendError::FailedPrecondition("the increment overflows"))?;
            let text = Bytes::from(next.to_string());
            *grown += entry_size(field, &text);
            if let Some(old) = d.insert(owned(field), text) {
                *grown -= entry_size(field, &old);
            }
            Reply::Integer(next)
        }
        CollectionOp::DictionaryDelete { fields } => {
            match fields {
                Some(fields) => {
                    for f in fields {
                        if let Some(old) = d.remove(f.as_slice()) {
                            *grown -= entry_size(f, &old);
                        }
                    }
                }
                None => d.clear(),
            }
            Reply::Done
        }
        CollectionOp::DictionaryLength => Reply::Length(length(d.len())),
        _ => return Err(wrong_type()),
    })
}

/// Redis's integer syntax (no `+`, no leading zeros, no spaces), so both
/// backends accept the same values.
pub(in crate::backend::memory) fn parse_integer(v: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(v).ok()?;
    text.parse::<i64>().ok().filter(|n| n.to_string() == text)
}

fn set(
    s: &mut HashSet<Bytes>,
    op: CollectionOp<'_>,
    grown: &mut isize,
) -> Result<Reply, BackendError> {
    let mut rng = rand::thread_rng();
    Ok(match op {
        CollectionOp::SetFetch => Reply::Values(s.iter().cloned().collect()),
        CollectionOp::SetSample { limit } => Reply::Values(
            s.iter()
                .cloned()
                .choose_multiple(&mut rng, limit.min(s.len())),
        ),
        CollectionOp::SetUnion { elements, .. } => {
            for e in elements {
                if s.insert(owned(e)) {
                    *grown += element_size(e.len()) as isize;
                }
            }
            Reply::Done
        }
        CollectionOp::SetDifference { elements, form } => {
            match form {
                Difference::Subtrahend => {
                    for e in elements {
                        if s.remove(e.as_slice()) {
                            *grown -= element_size(e.len()) as isize;
                        }
                    }
                }
                Difference::Identity => s.clear(),
                Difference::Minuend => {
                    let next: HashSet<Bytes> = elements
                        .iter()
                        .filter(|e| !s.contains(e.as_slice()))
                        .map(|e| owned(e))
                        .collect();
                    let before: usize = s.iter().map(|e| element_size(e.len())).sum();
                    let after: usize = next.iter().map(|e| element_size(e.len())).sum();
                    *grown += after as isize - before as isize;
                    *s = next;
                }
            }
            Reply::Done
        }
        CollectionOp::SetContains { elements } => {
            Reply::Contains(elements.iter().map(|e| s.contains(e.as_slice())).collect())
        }
        CollectionOp::SetLength => Reply::Length(length(s.len())),
        CollectionOp::SetPop { count } => {
            let popped: Vec<Bytes> = s
                .iter()
                .cloned()
                .choose_multiple(&mut rng, count.min(s.len()));
            for e in &popped {
                s.remove(e);
                *grown -= element_size(e.len()) as isize;
            }
            Reply::Values(popped)
        }
        _ => return Err(wrong_type()),
    })
}

/// A push's exact growth in size: what it adds less what its truncation
/// drops (counted without changing the list).
pub(in crate::backend::memory) fn push_growth(
    l: &VecDeque<Bytes>,
    end: End,
    values: &[Vec<u8>],
    truncate_to: u32,
) -> isize {
    let added: usize = values.iter().map(|v| element_size(v.len())).sum();
    let total = l.len() + values.len();
    let limit = truncate_to as usize;
    let dropped = if limit > 0 && total > limit {
        total - limit
    } else {
        0
    };
    let size = |v: &[u8]| element_size(v.len());
    // The list after the push, values and old elements in order; the
    // truncation drops from the end opposite to the push.
    let dropped_bytes: usize = match end {
        End::Front => values
            .iter()
            .map(|v| size(v))
            .chain(l.iter().map(|v| size(v)))
            .rev()
            .take(dropped)
            .sum(),
        End::Back => l
            .iter()
            .map(|v| size(v))
            .chain(values.iter().map(|v| size(v)))
            .take(dropped)
            .sum(),
    };
    added as isize - dropped_bytes as isize
}

fn list(
    l: &mut VecDeque<Bytes>,
    op: CollectionOp<'_>,
    grown: &mut isize,
) -> Result<Reply, BackendError> {
    let size = |v: &Bytes| element_size(v.len()) as isize;
    Ok(match op {
        CollectionOp::ListPush {
            end,
            values,
            truncate_to,
            ..
        } => {
            match end {
                // Concatenating at the front keeps the values' order.
                End::Front => values.iter().rev().for_each(|v| l.push_front(owned(v))),
                End::Back => values.iter().for_each(|v| l.push_back(owned(v))),
            }
            *grown += values
                .iter()
                .map(|v| element_size(v.len()) as isize)
                .sum::<isize>();
            let limit = truncate_to as usize;
            while limit > 0 && l.len() > limit {
                let dropped = match end {
                    End::Front => l.pop_back(),
                    End::Back => l.pop_front(),
                };
                *grown -= dropped.as_ref().map_or(0, size);
            }
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListPop { end } => {
            let popped = match end {
                End::Front => l.pop_front(),
                End::Back => l.pop_back(),
            };
            match popped {
                Some(value) => {
                    *grown -= size(&value);
                    Reply::Popped {
                        value,
                        length: length(l.len()),
                    }
                }
                None => Reply::Missing,
            }
        }
        CollectionOp::ListFetch { range } => {
            Reply::Values(l.range(range.resolve(l.len())).cloned().collect())
        }
        CollectionOp::ListLength => Reply::Length(length(l.len())),
        CollectionOp::ListRemove { value } => {
            l.retain(|v| {
                let keep = v.as_ref() != value;
                if !keep {
                    *grown -= size(v);
                }
                keep
            });
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListErase { ranges } => {
            match ranges {
                None => l.clear(),
                Some(ranges) => {
                    // One pass, whatever the ranges (sorted once).
                    let spans = erased_ranges(ranges, l.len());
                    let (mut i, mut cursor) = (0usize, 0usize);
                    l.retain(|v| {
                        let erased = is_erased(&spans, &mut cursor, i);
                        i += 1;
                        if erased {
                            *grown -= size(v);
                        }
                        !erased
                    });
                }
            }
            Reply::Length(length(l.len()))
        }
        CollectionOp::ListRetain { range, .. } => {
            let keep = range.resolve(l.len());
            let kept: VecDeque<Bytes> = l.range(keep).cloned().collect();
            *grown += kept.iter().map(size).sum::<isize>() - l.iter().map(size).sum::<isize>();
            *l = kept;
            Reply::Length(length(l.len()))
        }
        _ => return Err(wrong_type()),
    })
}

fn sorted_set(
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
