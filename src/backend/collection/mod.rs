//! Collections (SPEC 10): dictionaries, sets, lists and sorted sets, as every
//! backend sees them. A front turns a collection RPC into one
//! [`CollectionOp`] (borrowing the request's elements), the backend applies
//! it to the collection its permit names, atomically, and answers one
//! [`CollectionReply`]. The rules both backends share (ranges, score bounds,
//! sizes) are in [`rules`], so the two cannot drift apart.

mod rules;

use std::time::Duration;

use bytes::Bytes;
use momento_protos::cache_client::{DictionaryFieldValuePair, ListRange, SortedSetElement};

pub use rules::*;

use crate::operation::Class;

/// One collection operation, borrowing its elements from the request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CollectionOp<'a> {
    DictionaryFetch,
    DictionaryGet {
        fields: &'a [Vec<u8>],
    },
    DictionarySet {
        items: &'a [DictionaryFieldValuePair],
        ttl: CollectionTtl,
    },
    DictionaryIncrement {
        field: &'a [u8],
        amount: i64,
        ttl: CollectionTtl,
    },
    /// `None`: every field (the dictionary is deleted).
    DictionaryDelete {
        fields: Option<&'a [Vec<u8>]>,
    },
    DictionaryLength,
    SetFetch,
    SetSample {
        limit: usize,
    },
    SetUnion {
        elements: &'a [Vec<u8>],
        ttl: CollectionTtl,
    },
    SetDifference {
        elements: &'a [Vec<u8>],
        form: Difference,
    },
    SetContains {
        elements: &'a [Vec<u8>],
    },
    SetLength,
    SetPop {
        count: usize,
    },
    /// Push or concatenate; `truncate_to` (0: none) drops from the other end.
    ListPush {
        end: End,
        values: &'a [Vec<u8>],
        truncate_to: u32,
        ttl: CollectionTtl,
    },
    ListPop {
        end: End,
    },
    ListFetch {
        range: IndexRange,
    },
    ListLength,
    ListRemove {
        value: &'a [u8],
    },
    /// `None`: every element (the list is deleted).
    ListErase {
        ranges: Option<&'a [ListRange]>,
    },
    ListRetain {
        range: IndexRange,
        ttl: CollectionTtl,
    },
    SortedSetPut {
        elements: &'a [SortedSetElement],
        ttl: CollectionTtl,
    },
    SortedSetFetchByIndex {
        range: IndexRange,
        order: Order,
    },
    /// `count` None: every element from `offset`.
    SortedSetFetchByScore {
        min: ScoreBound,
        max: ScoreBound,
        offset: usize,
        count: Option<usize>,
        order: Order,
    },
    SortedSetGetScore {
        values: &'a [Vec<u8>],
    },
    SortedSetGetRank {
        value: &'a [u8],
        order: Order,
    },
    /// `None`: every element (the sorted set is deleted).
    SortedSetRemove {
        values: Option<&'a [Vec<u8>]>,
    },
    SortedSetIncrement {
        value: &'a [u8],
        amount: f64,
        ttl: CollectionTtl,
    },
    SortedSetLength,
    SortedSetLengthByScore {
        min: ScoreBound,
        max: ScoreBound,
    },
}

impl CollectionOp<'_> {
    /// The type of collection it acts on.
    pub fn item_type(&self) -> ItemType {
        use CollectionOp::*;
        match self {
            DictionaryFetch
            | DictionaryGet { .. }
            | DictionarySet { .. }
            | DictionaryIncrement { .. }
            | DictionaryDelete { .. }
            | DictionaryLength => ItemType::Dictionary,
            SetFetch
            | SetSample { .. }
            | SetUnion { .. }
            | SetDifference { .. }
            | SetContains { .. }
            | SetLength
            | SetPop { .. } => ItemType::Set,
            ListPush { .. }
            | ListPop { .. }
            | ListFetch { .. }
            | ListLength
            | ListRemove { .. }
            | ListErase { .. }
            | ListRetain { .. } => ItemType::List,
            SortedSetPut { .. }
            | SortedSetFetchByIndex { .. }
            | SortedSetFetchByScore { .. }
            | SortedSetGetScore { .. }
            | SortedSetGetRank { .. }
            | SortedSetRemove { .. }
            | SortedSetIncrement { .. }
            | SortedSetLength
            | SortedSetLengthByScore { .. } => ItemType::SortedSet,
        }
    }

    /// The access it needs: the class of the table rows it comes from (the
    /// front-facing backend refuses a permit of another class).
    pub fn class(&self) -> Class {
        use CollectionOp::*;
        match self {
            DictionaryFetch
            | DictionaryGet { .. }
            | DictionaryLength
            | SetFetch
            | SetSample { .. }
            | SetContains { .. }
            | SetLength
            | ListFetch { .. }
            | ListLength
            | SortedSetFetchByIndex { .. }
            | SortedSetFetchByScore { .. }
            | SortedSetGetScore { .. }
            | SortedSetGetRank { .. }
            | SortedSetLength
            | SortedSetLengthByScore { .. } => Class::Read,
            DictionarySet { .. }
            | DictionaryDelete { .. }
            | SetUnion { .. }
            | SetDifference { .. }
            | SortedSetPut { .. }
            | SortedSetRemove { .. } => Class::Write,
            DictionaryIncrement { .. }
            | SetPop { .. }
            | ListPush { .. }
            | ListPop { .. }
            | ListRemove { .. }
            | ListErase { .. }
            | ListRetain { .. }
            | SortedSetIncrement { .. } => Class::ReadWrite,
        }
    }

    /// The TTL of a write that may create or extend the collection.
    pub fn ttl(&self) -> Option<CollectionTtl> {
        use CollectionOp::*;
        match *self {
            DictionarySet { ttl, .. }
            | DictionaryIncrement { ttl, .. }
            | SetUnion { ttl, .. }
            | ListPush { ttl, .. }
            | ListRetain { ttl, .. }
            | SortedSetPut { ttl, .. }
            | SortedSetIncrement { ttl, .. } => Some(ttl),
            _ => None,
        }
    }

    /// Whether it makes the collection when it is missing (the other writes
    /// answer `Missing` and create nothing).
    pub fn creates(&self) -> bool {
        !matches!(self, CollectionOp::ListRetain { .. }) && self.ttl().is_some()
    }

    /// How many elements (fields, values) it names, and the largest one's
    /// size in bytes (a dictionary field and its value count as one).
    pub fn elements(&self) -> (usize, usize) {
        use CollectionOp::*;
        fn of(sizes: impl Iterator<Item = usize>) -> (usize, usize) {
            sizes.fold((0, 0), |(n, m), s| (n + 1, m.max(s)))
        }
        let lens = |v: &[Vec<u8>]| of(v.iter().map(Vec::len));
        match *self {
            DictionaryGet { fields } => lens(fields),
            DictionarySet { items, .. } => of(items.iter().map(|p| p.field.len() + p.value.len())),
            DictionaryIncrement { field, .. } => (1, field.len()),
            DictionaryDelete { fields } => fields.map_or((0, 0), lens),
            SetUnion { elements, .. }
            | SetDifference { elements, .. }
            | SetContains { elements } => lens(elements),
            ListPush { values, .. } => lens(values),
            ListRemove { value } => (1, value.len()),
            ListErase { ranges } => (ranges.map_or(0, <[_]>::len), 0),
            SortedSetPut { elements, .. } => of(elements.iter().map(|e| e.value.len())),
            SortedSetGetScore { values } => lens(values),
            SortedSetRemove { values } => values.map_or((0, 0), lens),
            SortedSetGetRank { value, .. } | SortedSetIncrement { value, .. } => (1, value.len()),
            _ => (0, 0),
        }
    }

    /// At most how many bytes it can add to a collection (in [`rules`]'
    /// sizes): a write within the bound by this much needs no exact check.
    pub fn max_growth(&self) -> usize {
        use CollectionOp::*;
        let elements = |v: &[Vec<u8>]| v.iter().map(|e| element_size(e.len())).sum();
        match self {
            DictionarySet { items, .. } => items
                .iter()
                .map(|p| pair_size(p.field.len(), p.value.len()))
                .sum(),
            // An i64 is at most 20 characters.
            DictionaryIncrement { field, .. } => pair_size(field.len(), 20),
            SetUnion { elements: e, .. } => elements(e),
            SetDifference {
                elements: e,
                form: Difference::Minuend,
            } => elements(e),
            ListPush { values, .. } => elements(values),
            SortedSetPut { elements, .. } => {
                elements.iter().map(|e| scored_size(e.value.len())).sum()
            }
            SortedSetIncrement { value, .. } => scored_size(value.len()),
            _ => 0,
        }
    }
}

/// What a collection operation answers.
#[derive(Clone, Debug, PartialEq)]
pub enum CollectionReply {
    /// The collection does not exist.
    Missing,
    /// A write that answers nothing, or SetDifference on an existing set.
    Done,
    Length(u32),
    Values(Vec<Bytes>),
    Pairs(Vec<(Bytes, Bytes)>),
    /// DictionaryGet: each field's value, in the order asked.
    Fields(Vec<Option<Bytes>>),
    Contains(Vec<bool>),
    Integer(i64),
    Popped {
        value: Bytes,
        length: u32,
    },
    Scored(Vec<(Bytes, f64)>),
    Scores(Vec<Option<f64>>),
    Rank(Option<u64>),
    Score(f64),
}

/// Collection operations, on whichever backend.
pub trait CollectionBackend: Send + Sync {
    /// Applies `op` to the collection the permit names, atomically.
    fn collection(
        &self,
        permit: &crate::scope::Permit<'_>,
        op: &CollectionOp<'_>,
    ) -> impl std::future::Future<Output = Result<CollectionReply, super::BackendError>> + Send;

    /// SortedSetUnionStore: the permit's destination becomes the union of its
    /// (weighted) sources, with `ttl`; returns its length. The destination is
    /// not an implicit source.
    fn union_store(
        &self,
        permit: &crate::scope::Permit<'_>,
        aggregate: Aggregate,
        ttl: Duration,
    ) -> impl std::future::Future<Output = Result<u32, super::BackendError>> + Send;

    /// An item's type and remaining time to live (ItemGetType, ItemGetTtl).
    fn describe(
        &self,
        permit: &crate::scope::Permit<'_>,
    ) -> impl std::future::Future<Output = Result<Option<(ItemType, Duration)>, super::BackendError>>
    + Send;
}
