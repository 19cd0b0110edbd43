//! The memory backend's collections: plain Rust structures, with their size
//! tracked as they change, and one function that applies a [`CollectionOp`]
//! (dictionaries and sets here, lists and sorted sets in their own files).

mod list;
mod sorted_set;

use list::list;
pub(in crate::backend::memory) use list::push_growth;
pub(in crate::backend::memory) use sorted_set::SortedSet;
use sorted_set::sorted_set;

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;
use rand::seq::IteratorRandom;

use crate::backend::BackendError;
use crate::backend::collection::{
    CollectionOp, CollectionReply as Reply, Difference, ItemType, element_size, length, pair_size,
    wrong_type,
};

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
            Data::SortedSet(z) => z.len(),
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
            Data::SortedSet(z) => z.len() == 0,
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

pub(super) fn owned(bytes: &[u8]) -> Bytes {
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
