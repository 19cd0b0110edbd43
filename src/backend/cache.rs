//! Scalar cache operations: the trait both backends implement, and the
//! conditions and TTL updates its calls take.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

use super::BackendError;
use crate::scope::Permit;

/// A stored item as conditional operations see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemInfo {
    pub value: Bytes,
    pub remaining: Duration,
}

/// When a conditional set stores its value (SetIf, SetIfHash, SetIfNotExists).
/// Values compare byte for byte; hashes are [`value_hash`]es.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Always,
    Absent,
    Present,
    /// Present and equal.
    Equal(Vec<u8>),
    /// Absent, or present and not equal.
    NotEqual(Vec<u8>),
    PresentAndNotEqual(Vec<u8>),
    AbsentOrEqual(Vec<u8>),
    PresentAndHashEqual(Vec<u8>),
    PresentAndNotHashEqual(Vec<u8>),
    AbsentOrHashEqual(Vec<u8>),
    AbsentOrNotHashEqual(Vec<u8>),
}

impl Condition {
    /// Whether the condition holds for the current value (`None`: absent).
    /// Every backend decides with this one function.
    pub fn holds(&self, current: Option<&[u8]>) -> bool {
        let hash = |v: &[u8]| value_hash(v);
        match (self, current) {
            (Condition::Always, _) => true,
            (Condition::Absent, current) => current.is_none(),
            (Condition::Present, current) => current.is_some(),
            (Condition::Equal(v), Some(c)) => c == v.as_slice(),
            (Condition::NotEqual(v), c) => c != Some(v.as_slice()),
            (Condition::PresentAndNotEqual(v), Some(c)) => c != v.as_slice(),
            (Condition::AbsentOrEqual(v), c) => c.is_none_or(|c| c == v.as_slice()),
            (Condition::PresentAndHashEqual(h), Some(c)) => hash(c).as_slice() == h.as_slice(),
            (Condition::PresentAndNotHashEqual(h), Some(c)) => hash(c).as_slice() != h.as_slice(),
            (Condition::AbsentOrHashEqual(h), c) => {
                c.is_none_or(|c| hash(c).as_slice() == h.as_slice())
            }
            (Condition::AbsentOrNotHashEqual(h), c) => {
                c.is_none_or(|c| hash(c).as_slice() != h.as_slice())
            }
            (Condition::Equal(_), None)
            | (Condition::PresentAndNotEqual(_), None)
            | (Condition::PresentAndHashEqual(_), None)
            | (Condition::PresentAndNotHashEqual(_), None) => false,
        }
    }
}

/// The hash GetWithHash returns and SetIfHash compares: SHA-256 of the value
/// (opaque to clients, the same on every backend).
pub fn value_hash(value: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(value).into()
}

/// How UpdateTtl changes an item's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlUpdate {
    /// Only if longer than what remains.
    IncreaseTo(Duration),
    /// Only if shorter than what remains.
    DecreaseTo(Duration),
    Overwrite(Duration),
}

/// What UpdateTtl did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlOutcome {
    Set,
    NotSet,
    Missing,
}

/// Scalar cache operations.
pub trait CacheBackend: Send + Sync {
    fn get(
        &self,
        permit: &Permit<'_>,
    ) -> impl Future<Output = Result<Option<Bytes>, BackendError>> + Send;

    fn set(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn delete(&self, permit: &Permit<'_>) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Whether an item exists (without fetching its value).
    fn exists(
        &self,
        permit: &Permit<'_>,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// The value and remaining time to live of an item.
    fn item(
        &self,
        permit: &Permit<'_>,
    ) -> impl Future<Output = Result<Option<ItemInfo>, BackendError>> + Send;

    /// Stores `value` if `condition` holds, atomically; returns whether it stored.
    fn set_if(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Adds `amount` to the decimal integer stored at `key` (absent: 0), atomically,
    /// and gives the item `ttl`. A value that is not an integer, or an overflow, is
    /// `FailedPrecondition`.
    fn increment(
        &self,
        permit: &Permit<'_>,
        amount: i64,
        ttl: Duration,
    ) -> impl Future<Output = Result<i64, BackendError>> + Send;

    fn update_ttl(
        &self,
        permit: &Permit<'_>,
        update: TtlUpdate,
    ) -> impl Future<Output = Result<TtlOutcome, BackendError>> + Send;
}
