//! Backends: where permitted operations go.
//!
//! Every method takes a [`Permit`], which only the authorizer can make, so no
//! front can reach a backend without authorization. Backends do no permission
//! checks of their own.

pub mod memory;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::scope::Permit;

/// The backend of this build. (The Redis backend will turn this into an enum.)
pub type Backend = memory::MemoryBackend;

/// Why a backend call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("cache not found")]
    CacheNotFound,
    #[error("cache already exists")]
    CacheExists,
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("backend timed out")]
    Timeout,
    /// The item is not in a state the operation can act on (a non-integer incremented).
    #[error("{0}")]
    FailedPrecondition(&'static str),
}

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

/// A topic message's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicValue {
    Text(String),
    Binary(Bytes),
}

impl TopicValue {
    pub fn len(&self) -> usize {
        match self {
            TopicValue::Text(t) => t.len(),
            TopicValue::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A published message, as every subscriber sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct TopicMessage {
    pub sequence: u64,
    pub page: u64,
    pub value: TopicValue,
    /// The publisher's `token_id` (empty for API keys).
    pub publisher_id: Arc<str>,
}

/// What a subscription yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicEvent {
    Item(Arc<TopicMessage>),
    /// Messages were skipped: the resume point is gone, or the topic was reset.
    Discontinuity {
        last_sequence: u64,
        new_sequence: u64,
        new_page: u64,
    },
    /// Nothing was published for a while; the stream is healthy.
    Heartbeat,
}

/// Where a subscriber wants to resume: the first sequence number it wants, in a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    pub sequence: u64,
    /// 0 when the subscriber does not know the page.
    pub page: u64,
}

/// Scalar cache operations.
pub trait CacheBackend: Send + Sync {
    fn get(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<Bytes>, BackendError>> + Send;

    fn set(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn delete(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The value and remaining time to live of an item.
    fn item(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<ItemInfo>, BackendError>> + Send;

    /// Stores `value` if `condition` holds, atomically; returns whether it stored.
    fn set_if(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Adds `amount` to the decimal integer stored at `key` (absent: 0), atomically,
    /// and gives the item `ttl`. A value that is not an integer, or an overflow, is
    /// `FailedPrecondition`.
    fn increment(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        amount: i64,
        ttl: Duration,
    ) -> impl Future<Output = Result<i64, BackendError>> + Send;

    fn update_ttl(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        update: TtlUpdate,
    ) -> impl Future<Output = Result<TtlOutcome, BackendError>> + Send;
}

/// Topics: publish, and subscriptions that yield [`TopicEvent`]s.
pub trait TopicBackend: Send + Sync {
    type Subscription: TopicSubscription;

    /// Publishes and returns the message's sequence number.
    fn publish(
        &self,
        permit: &Permit,
        cache: &str,
        topic: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;

    fn subscribe(
        &self,
        permit: &Permit,
        cache: &str,
        topic: &str,
        resume: Option<Resume>,
    ) -> impl Future<Output = Result<Self::Subscription, BackendError>> + Send;
}

/// An open subscription.
pub trait TopicSubscription: Send {
    /// Waits for the next events (at most `max`). Yields a heartbeat after an idle
    /// interval. Cancel-safe: dropping the future loses no event.
    fn next(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<TopicEvent>, BackendError>> + Send;
}
