//! Backends: where permitted operations go.
//!
//! Every method takes a [`Permit`], which only the authorizer can make, so no
//! front can reach a backend without authorization, and nothing else: the
//! cache, key and topic are read from the permit, so a backend acts on
//! exactly what was authorized. Backends do no permission checks of their own.

mod cache;
pub mod collection;
pub mod memory;
pub mod redis;
mod topic;

pub use cache::{CacheBackend, Condition, ItemInfo, TtlOutcome, TtlUpdate, value_hash};
pub use topic::{
    IdleClock, Resume, TopicBackend, TopicEvent, TopicMessage, TopicSubscription, TopicValue,
};

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
