//! The rules of SPEC 10 that both backends share: TTLs, types, ranges,
//! score bounds, unions, sizes.

use std::time::Duration;

use bytes::Bytes;

/// A collection write's time to live: `refresh` resets it on this write;
/// otherwise it is set only when the write creates the collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollectionTtl {
    pub ttl: Duration,
    pub refresh: bool,
}

/// What an item is (ItemGetType).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemType {
    Scalar,
    Dictionary,
    Set,
    List,
    SortedSet,
}

/// The refusal of an operation on an item of another type.
pub fn wrong_type() -> crate::backend::BackendError {
    crate::backend::BackendError::FailedPrecondition(
        "the item holds another type than this operation needs",
    )
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Front,
    Back,
}

/// A list or sorted-set index range: start inclusive, end exclusive, either
/// negative from the end, either open; clamped to the collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexRange {
    pub start: Option<i32>,
    pub end: Option<i32>,
}

impl IndexRange {
    /// The half-open range `[start, end)` of a collection of `len` elements
    /// (empty when start >= end).
    pub fn resolve(&self, len: usize) -> std::ops::Range<usize> {
        let at = |i: i32| -> usize {
            if i < 0 {
                len.saturating_sub(i.unsigned_abs() as usize)
            } else {
                (i as usize).min(len)
            }
        };
        let start = self.start.map_or(0, at);
        let end = self.end.map_or(len, at);
        start..end.max(start)
    }
}

/// Sort order of a sorted-set fetch or rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// One end of a score range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScoreBound {
    Unbounded,
    Inclusive(f64),
    Exclusive(f64),
}

impl ScoreBound {
    /// Whether `score` is on the right side of this bound as a minimum.
    pub fn admits_above(&self, score: f64) -> bool {
        match *self {
            ScoreBound::Unbounded => true,
            ScoreBound::Inclusive(min) => score >= min,
            ScoreBound::Exclusive(min) => score > min,
        }
    }

    /// Whether `score` is on the right side of this bound as a maximum.
    pub fn admits_below(&self, score: f64) -> bool {
        match *self {
            ScoreBound::Unbounded => true,
            ScoreBound::Inclusive(max) => score <= max,
            ScoreBound::Exclusive(max) => score < max,
        }
    }

    /// Redis's form of this bound as a minimum (`-inf`, `1.5`, `(1.5`).
    pub fn redis_min(&self) -> String {
        self.redis("-inf")
    }

    /// Redis's form of this bound as a maximum.
    pub fn redis_max(&self) -> String {
        self.redis("+inf")
    }

    fn redis(&self, open: &str) -> String {
        match *self {
            ScoreBound::Unbounded => open.to_owned(),
            ScoreBound::Inclusive(s) => redis_score(s),
            ScoreBound::Exclusive(s) => format!("({}", redis_score(s)),
        }
    }
}

/// A score as Redis reads it back exactly (Rust's shortest round-trip form;
/// -0.0 is sent as 0, see [`stored_score`]).
pub fn redis_score(score: f64) -> String {
    let score = stored_score(score);
    if score == f64::INFINITY {
        "+inf".into()
    } else if score == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{score:?}")
    }
}

/// SetDifference's three forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difference {
    /// The stored set becomes `request - stored`.
    Minuend,
    /// The stored set becomes `stored - request`.
    Subtrahend,
    /// `stored - stored`: the set is deleted.
    Identity,
}

/// How SortedSetUnionStore combines a value's weighted scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Combines two weighted scores; a NaN (inf + -inf) counts as 0, as in Redis.
    pub fn combine(self, a: f64, b: f64) -> f64 {
        let c = match self {
            Aggregate::Sum => a + b,
            Aggregate::Min => a.min(b),
            Aggregate::Max => a.max(b),
        };
        if c.is_nan() { 0.0 } else { c }
    }
}

/// A source's score times its weight; a zero weight gives 0 even for an
/// infinite score (Redis's rule, so both backends agree).
pub fn weighted(score: f64, weight: f64) -> f64 {
    if weight == 0.0 { 0.0 } else { score * weight }
}

/// A score as stored: -0.0 becomes 0.0 (Redis orders the two as equal, so
/// both backends store one zero).
pub fn stored_score(score: f64) -> f64 {
    score + 0.0
}

/// SortedSetUnionStore's union, built source by source: each source's
/// (value, score) pairs with its weight, combined by the aggregate. Its size
/// is kept as it grows, so a union past the bound is refused as soon as it
/// passes it, not after every source was read. Both backends build it here.
pub struct Union {
    aggregate: Aggregate,
    max_bytes: usize,
    bytes: usize,
    scores: std::collections::HashMap<Bytes, f64>,
}

impl Union {
    pub fn new(aggregate: Aggregate, max_bytes: usize) -> Union {
        Union {
            aggregate,
            max_bytes,
            bytes: 0,
            scores: std::collections::HashMap::new(),
        }
    }

    /// Adds one source.
    pub fn add<'v>(
        &mut self,
        weight: f64,
        pairs: impl IntoIterator<Item = (&'v Bytes, f64)>,
    ) -> Result<(), crate::backend::BackendError> {
        for (value, score) in pairs {
            let w = stored_score(weighted(score, weight));
            match self.scores.get_mut(value) {
                Some(s) => *s = stored_score(self.aggregate.combine(*s, w)),
                None => {
                    self.bytes += scored_size(value.len());
                    if self.bytes > self.max_bytes {
                        return Err(crate::backend::BackendError::ItemTooLarge);
                    }
                    self.scores.insert(value.clone(), w);
                }
            }
        }
        Ok(())
    }

    /// The union's values and scores.
    pub fn into_scores(self) -> std::collections::HashMap<Bytes, f64> {
        self.scores
    }
}

/// The half-open index ranges ListErase removes from a list of `len`
/// elements: `(begin, count)` pairs clipped to the list, sorted by start
/// (a list is then erased in one pass, whatever the ranges).
pub fn erased_ranges(
    ranges: &[momento_protos::cache_client::ListRange],
    len: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut spans: Vec<std::ops::Range<usize>> = ranges
        .iter()
        .map(|r| {
            let begin = (r.begin_index as usize).min(len);
            begin..begin.saturating_add(r.count as usize).min(len)
        })
        .filter(|r| !r.is_empty())
        .collect();
    spans.sort_unstable_by_key(|r| r.start);
    spans
}

/// Whether index `i` is erased, walking `spans` (from [`erased_ranges`])
/// with `cursor` for increasing `i`.
pub fn is_erased(spans: &[std::ops::Range<usize>], cursor: &mut usize, i: usize) -> bool {
    while spans.get(*cursor).is_some_and(|r| r.end <= i) {
        *cursor += 1;
    }
    spans.get(*cursor).is_some_and(|r| r.start <= i)
}

// Sizes. An element counts for what it takes in a fetch's answer (its
// protobuf encoding: tag, length and bytes), so a collection within
// `max_value_bytes` is fetched whole in one message within an SDK's default
// receive cap (the Python SDK's is 5,243,000 bytes: 120 over the default
// bound, and a fetch's envelope is a few bytes).

/// Bytes of a protobuf varint.
pub const fn varint_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// A length-delimited field of `len` bytes.
const fn field_size(len: usize) -> usize {
    1 + varint_len(len) + len
}

/// A list or set element of `len` bytes.
pub const fn element_size(len: usize) -> usize {
    field_size(len)
}

/// A dictionary field and its value.
pub const fn pair_size(field: usize, value: usize) -> usize {
    field_size(field_size(field) + field_size(value))
}

/// A sorted-set value of `len` bytes and its score (a fixed 64-bit field).
pub const fn scored_size(len: usize) -> usize {
    field_size(field_size(len) + 9)
}

/// A length in a reply (collections are far smaller than 2^32 elements).
pub fn length(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_start_inclusive_end_exclusive_negative_from_the_end_and_clamped() {
        let r = |start, end| IndexRange { start, end }.resolve(5);
        assert_eq!(r(None, None), 0..5);
        assert_eq!(r(Some(1), Some(3)), 1..3);
        assert_eq!(r(Some(-2), None), 3..5);
        assert_eq!(r(None, Some(-1)), 0..4);
        assert_eq!(r(Some(-10), Some(10)), 0..5);
        assert_eq!(r(Some(4), Some(2)), 4..4);
        assert_eq!(r(Some(7), None), 5..5);
        assert_eq!(IndexRange::default().resolve(0), 0..0);
    }

    #[test]
    fn sizes_are_the_encoded_sizes_of_a_fetch() {
        use momento_protos::cache_client::{DictionaryFieldValuePair, SortedSetElement};
        use prost::Message;
        // Exact for non-empty elements; protobuf omits an empty value or a
        // zero score, so for those the size is an upper bound.
        for len in [1, 127, 128, 16_383, 16_384, 3_000_000] {
            let v = vec![7u8; len];
            let list = momento_protos::cache_client::list_fetch_response::Found {
                values: vec![v.clone()],
            };
            assert_eq!(list.encoded_len(), element_size(len), "{len}");
            let pair = DictionaryFieldValuePair {
                field: b"f".to_vec(),
                value: v.clone(),
            };
            let found = momento_protos::cache_client::dictionary_fetch_response::Found {
                items: vec![pair],
            };
            assert_eq!(found.encoded_len(), pair_size(1, len), "{len}");
            let e = SortedSetElement {
                value: v,
                score: 1.5,
            };
            let found =
                momento_protos::cache_client::sorted_set_fetch_response::found::ValuesWithScores {
                    elements: vec![e],
                };
            assert_eq!(found.encoded_len(), scored_size(len), "{len}");
        }
        assert!(
            dictionary_fetch_response_len(b"", b"") <= pair_size(0, 0),
            "an upper bound for empty ones"
        );
    }

    fn dictionary_fetch_response_len(field: &[u8], value: &[u8]) -> usize {
        use prost::Message;
        momento_protos::cache_client::dictionary_fetch_response::Found {
            items: vec![momento_protos::cache_client::DictionaryFieldValuePair {
                field: field.to_vec(),
                value: value.to_vec(),
            }],
        }
        .encoded_len()
    }

    #[test]
    fn erased_ranges_walk_overlapping_and_nested_ranges_in_one_pass() {
        use momento_protos::cache_client::ListRange;
        let cases: &[&[(u32, u32)]] = &[
            &[(0, 10), (2, 1)],
            &[(0, 3), (1, 1), (2, 6)],
            &[(5, 0), (7, 100), (3, 2)],
            &[(u32::MAX, u32::MAX), (0, 1)],
            &[],
        ];
        for ranges in cases {
            let ranges: Vec<ListRange> = ranges
                .iter()
                .map(|&(begin_index, count)| ListRange { begin_index, count })
                .collect();
            let spans = erased_ranges(&ranges, 12);
            let mut cursor = 0;
            for i in 0..12 {
                let naive = ranges.iter().any(|r| {
                    let b = r.begin_index as usize;
                    i >= b && i < b.saturating_add(r.count as usize)
                });
                assert_eq!(
                    is_erased(&spans, &mut cursor, i),
                    naive,
                    "{ranges:?} at {i}"
                );
            }
        }
    }

    #[test]
    fn score_bounds() {
        assert!(ScoreBound::Inclusive(1.0).admits_above(1.0));
        assert!(!ScoreBound::Exclusive(1.0).admits_above(1.0));
        assert!(ScoreBound::Exclusive(1.0).admits_below(0.5));
        assert!(!ScoreBound::Exclusive(1.0).admits_below(1.0));
        assert!(ScoreBound::Unbounded.admits_below(f64::INFINITY));
        assert_eq!(ScoreBound::Exclusive(1.5).redis_min(), "(1.5");
        assert_eq!(ScoreBound::Unbounded.redis_max(), "+inf");
        assert_eq!(redis_score(0.1).parse::<f64>().unwrap(), 0.1);
        assert_eq!(weighted(f64::INFINITY, 0.0), 0.0);
        assert_eq!(Aggregate::Max.combine(1.0, 2.0), 2.0);
    }
}
