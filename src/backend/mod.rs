//! Backends: where permitted operations go.
//!
//! Every method takes a [`Permit`], which only the authorizer can make, so no
//! front can reach a backend without authorization, and nothing else: the
//! cache, key and topic are read from the permit, so a backend acts on
//! exactly what was authorized. Backends do no permission checks of their own.

pub mod collection;
pub mod memory;
pub mod redis;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::operation::{Class, OperationKind};
use crate::scope::Permit;

/// The configured backend: the fronts call this, and it hands each call to
/// the memory or the Redis backend.
pub enum Backend {
    Memory(memory::MemoryBackend),
    Redis(redis::RedisBackend),
}

/// A subscription of either backend.
pub enum Subscription {
    Memory(memory::MemorySubscription),
    Redis(redis::RedisSubscription),
}

/// Calls the same method on whichever backend this is.
/// The Redis arm is boxed: its futures are large, and the caller's future
/// (every request's, memory hits included) would otherwise carry their size;
/// a Redis call costs a round trip, next to which one allocation is noise.
macro_rules! each {
    ($self:expr, $b:ident => $call:expr) => {
        match $self {
            Backend::Memory($b) => $call,
            Backend::Redis($b) => Box::pin(async move { $call }).await,
        }
    };
}

impl Backend {
    /// The memory backend, or Redis when `redis` is set (connecting in the
    /// background: call within a tokio runtime).
    pub fn new(
        limits: Limits,
        redis: Option<&redis::RedisConfig>,
        caches: &[String],
        metrics: crate::metrics::BackendMetrics,
    ) -> Result<Backend, String> {
        Ok(match redis {
            None => Backend::Memory(memory::MemoryBackend::new(limits, caches)),
            Some(config) => {
                Backend::Redis(redis::RedisBackend::new(config, limits, caches, metrics)?)
            }
        })
    }

    /// The backend as one that answers reads without waiting, if it is
    /// one: the memory backend (Redis waits for its server).
    pub fn immediate(&self) -> Option<Immediate<'_>> {
        match self {
            Backend::Memory(memory) => Some(Immediate(memory)),
            Backend::Redis(_) => None,
        }
    }

    /// Whether the backend can serve: always for memory; for Redis, whether
    /// it answered the last health probe.
    pub fn is_up(&self) -> bool {
        match self {
            Backend::Memory(_) => true,
            Backend::Redis(redis) => redis.is_up(),
        }
    }

    /// Creates a cache (control plane).
    pub async fn create_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        needs_kind(permit, OperationKind::CreateCache)?;
        match self {
            Backend::Memory(b) => b.create_cache(permit),
            Backend::Redis(b) => b.create_cache(permit).await,
        }
    }

    /// Deletes a cache; caches declared in the config cannot be deleted.
    pub async fn delete_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        needs_kind(permit, OperationKind::DeleteCache)?;
        match self {
            Backend::Memory(b) => b.delete_cache(permit),
            Backend::Redis(b) => b.delete_cache(permit).await,
        }
    }

    /// Removes every item of a cache.
    pub async fn flush_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        needs_kind(permit, OperationKind::FlushCache)?;
        match self {
            Backend::Memory(b) => b.flush_cache(permit),
            Backend::Redis(b) => b.flush_cache(permit).await,
        }
    }

    /// Names of the caches, sorted.
    pub async fn list_caches(&self, permit: &Permit<'_>) -> Result<Vec<String>, BackendError> {
        needs_kind(permit, OperationKind::ListCaches)?;
        match self {
            Backend::Memory(b) => Ok(b.list_caches(permit)),
            Backend::Redis(b) => b.list_caches(permit).await,
        }
    }
}

impl CacheBackend for Backend {
    async fn get(&self, permit: &Permit<'_>) -> Result<Option<Bytes>, BackendError> {
        needs_class(permit, Class::Read)?;
        each!(self, b => b.get(permit).await)
    }

    async fn set(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        needs_class(permit, Class::Write)?;
        each!(self, b => b.set(permit, value, ttl).await)
    }

    async fn delete(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        needs_class(permit, Class::Write)?;
        each!(self, b => b.delete(permit).await)
    }

    async fn exists(&self, permit: &Permit<'_>) -> Result<bool, BackendError> {
        needs_class(permit, Class::Read)?;
        each!(self, b => b.exists(permit).await)
    }

    async fn item(&self, permit: &Permit<'_>) -> Result<Option<ItemInfo>, BackendError> {
        needs_class(permit, Class::Read)?;
        each!(self, b => b.item(permit).await)
    }

    async fn set_if(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> Result<bool, BackendError> {
        needs_class(permit, Class::ReadWrite)?;
        each!(self, b => b.set_if(permit, value, ttl, condition).await)
    }

    async fn increment(
        &self,
        permit: &Permit<'_>,
        amount: i64,
        ttl: Duration,
    ) -> Result<i64, BackendError> {
        needs_class(permit, Class::ReadWrite)?;
        each!(self, b => b.increment(permit, amount, ttl).await)
    }

    async fn update_ttl(
        &self,
        permit: &Permit<'_>,
        update: TtlUpdate,
    ) -> Result<TtlOutcome, BackendError> {
        needs_class(permit, Class::ReadWrite)?;
        each!(self, b => b.update_ttl(permit, update).await)
    }
}

impl collection::CollectionBackend for Backend {
    async fn collection(
        &self,
        permit: &Permit<'_>,
        op: &collection::CollectionOp<'_>,
    ) -> Result<collection::CollectionReply, BackendError> {
        needs_class(permit, op.class())?;
        each!(self, b => b.collection(permit, op).await)
    }

    async fn union_store(
        &self,
        permit: &Permit<'_>,
        aggregate: collection::Aggregate,
        ttl: Duration,
    ) -> Result<u32, BackendError> {
        needs_kind(permit, OperationKind::SortedSetUnionStore)?;
        each!(self, b => b.union_store(permit, aggregate, ttl).await)
    }

    async fn describe(
        &self,
        permit: &Permit<'_>,
    ) -> Result<Option<(collection::ItemType, Duration)>, BackendError> {
        needs_class(permit, Class::Read)?;
        each!(self, b => b.describe(permit).await)
    }
}

impl TopicBackend for Backend {
    type Subscription = Subscription;

    async fn publish(
        &self,
        permit: &Permit<'_>,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        needs_class(permit, Class::Publish)?;
        each!(self, b => b.publish(permit, value, publisher_id).await)
    }

    async fn subscribe(
        &self,
        permit: &Permit<'_>,
        resume: Option<Resume>,
    ) -> Result<Subscription, BackendError> {
        needs_class(permit, Class::Subscribe)?;
        Ok(match self {
            Backend::Memory(b) => Subscription::Memory(b.subscribe(permit, resume).await?),
            Backend::Redis(b) => Subscription::Redis(b.subscribe(permit, resume).await?),
        })
    }
}

impl TopicSubscription for Subscription {
    async fn next(&mut self, max: usize) -> Result<Vec<TopicEvent>, BackendError> {
        match self {
            Subscription::Memory(s) => s.next(max).await,
            Subscription::Redis(s) => s.next(max).await,
        }
    }
}

/// A backend that answers reads without waiting ([`Backend::immediate`]).
pub struct Immediate<'a>(&'a memory::MemoryBackend);

impl Immediate<'_> {
    /// [`CacheBackend::get`], answered at once, as of `at` (the request's
    /// start: its clock read serves the item's expiry check too).
    pub fn get(
        &self,
        permit: &Permit<'_>,
        at: std::time::Instant,
    ) -> Result<Option<Bytes>, BackendError> {
        needs_class(permit, Class::Read)?;
        self.0.get_at(permit, at)
    }
}

/// The front-facing [`Backend`] takes only a permit of the class its call
/// needs (a read permit never writes; only a DeleteCache permit deletes a
/// cache): a front that passed the wrong permit fails closed here, in one
/// place, whatever its scope allowed.
fn needs_class(permit: &Permit<'_>, class: Class) -> Result<(), BackendError> {
    if permit.kind().class() == class {
        Ok(())
    } else {
        Err(BackendError::WrongPermit)
    }
}

fn needs_kind(permit: &Permit<'_>, kind: OperationKind) -> Result<(), BackendError> {
    if permit.kind() == kind {
        Ok(())
    } else {
        Err(BackendError::WrongPermit)
    }
}

/// The cache and the one key a single-key permit names. Any other permit is
/// a front's mistake (a batch permit must be split with `each_key`): refused.
pub(crate) fn item_of<'a>(permit: &Permit<'a>) -> Result<(&'a str, &'a [u8]), BackendError> {
    match permit.key() {
        Some(key) => Ok((permit.cache(), key)),
        None => Err(BackendError::WrongPermit),
    }
}

/// The cache and topic a topic permit names.
pub(crate) fn topic_of<'a>(permit: &Permit<'a>) -> Result<(&'a str, &'a str), BackendError> {
    match permit.topic() {
        Some(topic) => Ok((permit.cache(), topic)),
        None => Err(BackendError::WrongPermit),
    }
}

/// Why a backend call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("cache not found")]
    CacheNotFound,
    #[error("cache already exists")]
    CacheExists,
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    /// A limit on subscriptions (SDKs name it by the `err` metadata).
    #[error("limit exceeded: {0}")]
    SubscribersExceeded(&'static str),
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("backend timed out")]
    Timeout,
    /// The item is not in a state the operation can act on (a non-integer
    /// incremented, a collection of another type).
    #[error("{0}")]
    FailedPrecondition(&'static str),
    /// A collection would grow past `max_collection_bytes`; nothing was written.
    #[error("the collection would be larger than the item size limit")]
    ItemTooLarge,
    /// The permit does not name one item (or one topic) for a call that acts
    /// on one: a bug in a front, refused rather than guessed at.
    #[error("operation refused")]
    WrongPermit,
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

/// When an idle subscription owes its subscriber a heartbeat. The clock lives
/// in the subscription, not in one call of `next`, so a caller that drops
/// `next` often (to re-check a credential) still gets a heartbeat every
/// `every` of silence.
#[derive(Debug)]
pub struct IdleClock {
    every: Duration,
    due: tokio::time::Instant,
}

impl IdleClock {
    pub fn new(every: Duration) -> Self {
        IdleClock {
            every,
            due: crate::clock::deadline(every),
        }
    }

    /// When the next heartbeat is due.
    pub fn due(&self) -> tokio::time::Instant {
        self.due
    }

    /// Something was delivered (or the stream was quiet for a reason other
    /// than idleness): the silence starts again now.
    pub fn restart(&mut self) {
        self.due = crate::clock::deadline(self.every);
    }
}

/// The `[backend]` limits, one set for both backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Memory: bytes of keys and values one cache holds before it evicts
    /// (TinyLFU). Redis evicts by its own `maxmemory` policy.
    pub max_bytes_per_cache: u64,
    /// Messages each topic keeps for subscribers that resume (on Redis: the
    /// stream's approximate `MAXLEN`).
    pub topic_replay: usize,
    /// Memory: bytes of message values each topic keeps; the oldest go first.
    pub topic_replay_bytes: usize,
    /// Memory: topics one cache may hold at once.
    pub max_topics_per_cache: usize,
    /// An idle subscription yields a heartbeat this often.
    pub heartbeat: Duration,
    /// The most bytes one collection may hold (SPEC 10): the app sets it to
    /// `server.max_value_bytes`.
    pub max_collection_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes_per_cache: 256 * 1024 * 1024,
            topic_replay: 1024,
            topic_replay_bytes: 16 * 1024 * 1024,
            max_topics_per_cache: 10_000,
            heartbeat: Duration::from_secs(5),
            max_collection_bytes: 5 * 1024 * 1024,
        }
    }
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

/// Topics: publish, and subscriptions that yield [`TopicEvent`]s.
pub trait TopicBackend: Send + Sync {
    type Subscription: TopicSubscription;

    /// Publishes and returns the message's sequence number.
    fn publish(
        &self,
        permit: &Permit<'_>,
        value: TopicValue,
        publisher_id: &str,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;

    fn subscribe(
        &self,
        permit: &Permit<'_>,
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
