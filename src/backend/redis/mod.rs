//! The Redis backend: items as Redis strings with PX TTLs, a registry of
//! caches, and topics as Redis Streams, shared by every gateway on the same
//! Redis and namespace. Works with one node or a Redis Cluster (every command
//! touches one key, so nothing crosses slots).
//!
//! The cache registry is a Redis hash; each gateway keeps a view of it,
//! re-read every `registry_refresh`. A cache created anywhere is seen at once
//! (a name missing from the view is looked up before NOT_FOUND); a cache
//! deleted or flushed through another gateway is seen within `registry_refresh`.

mod collection;
mod config;
mod gather;
mod keys;
mod link;
mod registry;
mod scripts;
mod shared;
mod topics;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use redis::AsyncCommands;

pub use config::RedisConfig;
pub use link::check_url;
pub use topics::RedisSubscription;

use super::Limits;
use super::{
    BackendError, CacheBackend, Condition, ItemInfo, Resume, TopicBackend, TopicValue, TtlOutcome,
    TtlUpdate, item_of, topic_of,
};
use crate::metrics::BackendMetrics;
use crate::scope::Permit;
use keys::Namespace;
use link::Link;

/// How often the health probe pings Redis.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// A conditional set that keeps losing races gives up after this many reads.
const MAX_CAS_ATTEMPTS: usize = 32;
/// Topic streams nobody publishes to expire after this.
const TOPIC_IDLE: Duration = Duration::from_secs(24 * 3600);

pub(super) struct Inner {
    link: Link,
    ns: Namespace,
    /// This gateway's view of the registry: each cache's key prefixes
    /// (namespace, incarnation or generation, and name), made once.
    registry: DashMap<Box<str>, Arc<keys::CacheKeys>>,
    /// Counts this gateway's own registry changes, so that a registry read
    /// that raced one does not put the old state back into the view.
    changes: std::sync::atomic::AtomicU64,
    /// Caches declared in the config: they always exist and cannot be deleted.
    declared: Vec<String>,
    limits: Limits,
    topics: topics::Hubs,
    max_topic_readers: usize,
}

/// The Redis backend. Cheap to share; its background task (health probe and
/// registry refresh) ends when the backend is dropped.
pub struct RedisBackend {
    inner: Arc<Inner>,
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl RedisBackend {
    /// Sets up the backend; connects in the background. Must run in a tokio runtime.
    pub fn new(
        config: &RedisConfig,
        limits: Limits,
        caches: &[String],
        metrics: BackendMetrics,
    ) -> Result<RedisBackend, String> {
        metrics.up(false);
        let inner = Arc::new(Inner {
            link: Link::new(config, metrics)?,
            ns: Namespace::new(&config.namespace),
            registry: DashMap::new(),
            changes: Default::default(),
            declared: caches.to_vec(),
            limits,
            topics: topics::Hubs::default(),
            max_topic_readers: config.max_topic_readers,
        });
        tokio::spawn(registry::maintain(
            Arc::downgrade(&inner),
            config.registry_refresh,
        ));
        Ok(RedisBackend { inner })
    }

    /// Whether Redis answered the last health probe.
    pub fn is_up(&self) -> bool {
        self.inner.link.is_up()
    }
}

impl CacheBackend for RedisBackend {
    async fn get(&self, permit: &Permit<'_>) -> Result<Option<Bytes>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let value = self.inner.link.get(key).await?;
        Ok(value.map(Bytes::from))
    }

    async fn set(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run("set", |mut c| async move {
                c.pset_ex::<_, _, ()>(key, value.as_ref(), ms(ttl)).await
            })
            .await
    }

    async fn delete(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run(
                "delete",
                |mut c| async move { c.unlink::<_, ()>(key).await },
            )
            .await
    }

    async fn exists(&self, permit: &Permit<'_>) -> Result<bool, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run("exists", |mut c| async move { c.exists(key).await })
            .await
    }

    async fn item(&self, permit: &Permit<'_>) -> Result<Option<ItemInfo>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let (value, remaining): (Option<Vec<u8>>, i64) = self
            .inner
            .link
            .run("item", |mut c| async move {
                redis::pipe()
                    .atomic()
                    .get(&key)
                    .pttl(&key)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(value.map(|value| ItemInfo {
            value: Bytes::from(value),
            // -1 (no expiry) cannot happen for items scopegate wrote.
            remaining: Duration::from_millis(u64::try_from(remaining).unwrap_or(0)),
        }))
    }

    async fn set_if(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> Result<bool, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let link = &self.inner.link;
        let (key, ttl) = (&key, ms(ttl));
        // Conditions Redis decides natively.
        let native = match condition {
            Condition::Always => Some(None),
            Condition::Absent => Some(Some(redis::ExistenceCheck::NX)),
            Condition::Present => Some(Some(redis::ExistenceCheck::XX)),
            _ => None,
        };
        if let Some(existence) = native {
            // With GET, Redis answers the old value and refuses (WRONGTYPE,
            // writing nothing) a key that holds a collection.
            let mut options = redis::SetOptions::default()
                .with_expiration(redis::SetExpiry::PX(ttl))
                .get(true);
            if let Some(existence) = existence {
                options = options.conditional_set(existence);
            }
            let old: Option<Vec<u8>> = link
                .run("set_if", |mut c| async move {
                    c.set_options(key, value.as_ref(), options).await
                })
                .await?;
            return Ok(match condition {
                Condition::Absent => old.is_none(),
                Condition::Present => old.is_some(),
                _ => true,
            });
        }
        // The rest: read, decide with `Condition::holds`, compare-and-set.
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current: Option<Vec<u8>> = link
                .run("set_if", |mut c| async move { c.get(key).await })
                .await?;
            if !condition.holds(current.as_deref()) {
                return Ok(false);
            }
            let mut script = scripts::COMPARE_AND_SET.key(key);
            match &current {
                None => script.arg("0").arg(""),
                Some(current) => script.arg("1").arg(current.as_slice()),
            };
            script.arg(value.as_ref()).arg(ttl);
            let stored: bool = link.eval("set_if", &script).await?;
            if stored {
                return Ok(true);
            }
        }
        Err(BackendError::Unavailable(
            "the item changed too often to set it conditionally".into(),
        ))
    }

    async fn increment(
        &self,
        permit: &Permit<'_>,
        amount: i64,
        ttl: Duration,
    ) -> Result<i64, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let (ok, reply): (i64, String) = self
            .inner
            .link
            .eval(
                "increment",
                scripts::INCREMENT.key(key).arg(amount).arg(ms(ttl)),
            )
            .await?;
        match (ok, reply.parse::<i64>()) {
            (1, Ok(value)) => Ok(value),
            _ if reply.contains("overflow") => {
                Err(BackendError::FailedPrecondition("the increment overflows"))
            }
            _ => Err(BackendError::FailedPrecondition(
                "the value is not an integer",
            )),
        }
    }

    async fn update_ttl(
        &self,
        permit: &Permit<'_>,
        update: TtlUpdate,
    ) -> Result<TtlOutcome, BackendError> {
        let (cache, key) = item_of(permit)?;
        let key = self.inner.item_key(cache, key).await?;
        let (mode, ttl) = match update {
            TtlUpdate::IncreaseTo(ttl) => ("i", ttl),
            TtlUpdate::DecreaseTo(ttl) => ("d", ttl),
            TtlUpdate::Overwrite(ttl) => ("o", ttl),
        };
        let outcome: String = self
            .inner
            .link
            .eval(
                "update_ttl",
                scripts::UPDATE_TTL.key(key).arg(mode).arg(ms(ttl)),
            )
            .await?;
        Ok(match outcome.as_str() {
            "set" => TtlOutcome::Set,
            "not_set" => TtlOutcome::NotSet,
            _ => TtlOutcome::Missing,
        })
    }
}

impl TopicBackend for RedisBackend {
    type Subscription = RedisSubscription;

    async fn publish(
        &self,
        permit: &Permit<'_>,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        let (cache, topic) = topic_of(permit)?;
        topics::publish(&self.inner, cache, topic, value, publisher_id).await
    }

    async fn subscribe(
        &self,
        permit: &Permit<'_>,
        resume: Option<Resume>,
    ) -> Result<RedisSubscription, BackendError> {
        let (cache, topic) = topic_of(permit)?;
        topics::subscribe(&self.inner, cache, topic, resume).await
    }
}
