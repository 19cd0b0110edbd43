//! The Redis backend: items as Redis strings with PX TTLs, a registry of
//! caches, and topics as Redis Streams, shared by every gateway on the same
//! Redis and namespace. Works with one node or a Redis Cluster (every command
//! touches one key, so nothing crosses slots).
//!
//! The cache registry is a Redis hash; each gateway keeps a view of it,
//! re-read every `registry_refresh`. A cache created anywhere is seen at once
//! (a name missing from the view is looked up before NOT_FOUND); a cache
//! deleted or flushed through another gateway is seen within `registry_refresh`.

mod keys;
mod link;
mod scripts;
mod topics;

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use redis::AsyncCommands;

pub use link::check_url;
pub use topics::RedisSubscription;

use super::memory::MemoryLimits;
use super::{
    BackendError, CacheBackend, Condition, ItemInfo, Resume, TopicBackend, TopicValue, TtlOutcome,
    TtlUpdate,
};
use crate::metrics::BackendMetrics;
use crate::scope::Permit;
use keys::{Generation, Namespace};
use link::Link;

/// `[backend] kind = "redis"`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS).
    pub url: String,
    pub cluster: bool,
    /// Cluster seed nodes (URLs); empty: `url`.
    pub nodes: Vec<String>,
    /// Key prefix: gateways with different namespaces never see each other's keys.
    pub namespace: String,
    /// Multiplexed connections (per cluster: per node), used round-robin.
    pub connections: usize,
    /// Every Redis command must answer within this (else DEADLINE_EXCEEDED).
    pub command_timeout: Duration,
    pub connect_timeout: Duration,
    /// How often the cache registry is re-read.
    pub registry_refresh: Duration,
    /// For rediss://: PEM root certificate(s) to trust instead of the system's.
    pub tls_ca: Option<Vec<u8>>,
}

impl RedisConfig {
    /// The defaults of `config.toml`, for `url`.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            cluster: false,
            nodes: Vec::new(),
            namespace: "scopegate".into(),
            connections: 1,
            command_timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(1),
            registry_refresh: Duration::from_secs(1),
            tls_ca: None,
        }
    }
}

/// Never prints the URLs: they may hold a password.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"<redacted>")
            .field("cluster", &self.cluster)
            .field("nodes", &self.nodes.len())
            .field("namespace", &self.namespace)
            .field("connections", &self.connections)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("registry_refresh", &self.registry_refresh)
            .field("tls_ca", &self.tls_ca.is_some())
            .finish()
    }
}

/// How often the health probe pings Redis.
const PROBE_EVERY: Duration = Duration::from_millis(200);
/// A conditional set that keeps losing races gives up after this many reads.
const MAX_CAS_ATTEMPTS: usize = 32;
/// Topic streams nobody publishes to expire after this.
const TOPIC_IDLE: Duration = Duration::from_secs(24 * 3600);

pub(super) struct Inner {
    link: Link,
    ns: Namespace,
    /// This gateway's view of the registry: each cache's item-key prefix
    /// (namespace, generation and name), made once per generation.
    registry: DashMap<Box<str>, Arc<[u8]>>,
    /// Caches declared in the config: they always exist and cannot be deleted.
    declared: Vec<String>,
    limits: MemoryLimits,
    topics: topics::Hubs,
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
        limits: MemoryLimits,
        caches: &[String],
        metrics: BackendMetrics,
    ) -> Result<RedisBackend, String> {
        metrics.up(false);
        let inner = Arc::new(Inner {
            link: Link::new(config, metrics)?,
            ns: Namespace::new(&config.namespace),
            registry: DashMap::new(),
            declared: caches.to_vec(),
            limits,
            topics: topics::Hubs::default(),
        });
        tokio::spawn(maintain(Arc::downgrade(&inner), config.registry_refresh));
        Ok(RedisBackend { inner })
    }

    /// Whether Redis answered the last health probe.
    pub fn is_up(&self) -> bool {
        self.inner.link.is_up()
    }

    /// The `~pattern` that covers every key of this gateway (for Redis ACLs).
    pub fn key_pattern(&self) -> String {
        self.inner.ns.pattern()
    }

    pub async fn create_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        let inner = &self.inner;
        let generation = Generation::random();
        let created: bool = inner
            .link
            .run("registry", |mut c| async move {
                c.hset_nx(inner.ns.registry(), name, generation.to_hex())
                    .await
            })
            .await?;
        if !created {
            return Err(BackendError::CacheExists);
        }
        inner.learn(name, generation);
        Ok(())
    }

    pub async fn delete_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        let inner = &self.inner;
        if inner.declared.iter().any(|d| d == name) {
            return Err(BackendError::FailedPrecondition(
                "caches declared in the config cannot be deleted",
            ));
        }
        let removed: u64 = inner
            .link
            .run("registry", |mut c| async move {
                c.hdel(inner.ns.registry(), name).await
            })
            .await?;
        inner.registry.remove(name);
        if removed == 0 {
            return Err(BackendError::CacheNotFound);
        }
        Ok(())
    }

    /// Empties a cache: a new generation (the old items expire with their TTLs).
    pub async fn flush_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        let inner = &self.inner;
        let generation = Generation::random();
        let flushed: bool = inner
            .link
            .run("registry", |mut c| async move {
                scripts::REGENERATE
                    .key(inner.ns.registry())
                    .arg(name)
                    .arg(generation.to_hex())
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        if !flushed {
            inner.registry.remove(name);
            return Err(BackendError::CacheNotFound);
        }
        inner.learn(name, generation);
        Ok(())
    }

    pub async fn list_caches(&self, _: &Permit) -> Result<Vec<String>, BackendError> {
        self.inner.register_declared().await?;
        let mut names = self
            .inner
            .read_registry()
            .await?
            .into_keys()
            .collect::<Vec<_>>();
        names.sort_unstable();
        Ok(names)
    }
}

impl Inner {
    /// Puts a cache's generation into this gateway's view.
    fn learn(&self, cache: &str, generation: Generation) -> Arc<[u8]> {
        let items: Arc<[u8]> = self.ns.items(generation, cache).into();
        // The read guard must be gone before inserting (same shard lock).
        let known = self.registry.get(cache).map(|known| Arc::clone(&known));
        match known {
            Some(known) if *known == *items => known,
            _ => {
                self.registry.insert(cache.into(), Arc::clone(&items));
                items
            }
        }
    }

    /// The item-key prefix of a cache's current generation; `CacheNotFound`
    /// if it does not exist.
    async fn items(&self, cache: &str) -> Result<Arc<[u8]>, BackendError> {
        if let Some(items) = self.registry.get(cache) {
            return Ok(Arc::clone(&items));
        }
        let registry = self.ns.registry();
        if self.declared.iter().any(|d| d == cache) {
            // Declared caches exist from the start, whoever registers them first.
            self.register_declared().await?;
        }
        let found: Option<Vec<u8>> = self
            .link
            .run(
                "registry",
                |mut c| async move { c.hget(registry, cache).await },
            )
            .await?;
        let generation = found
            .as_deref()
            .and_then(Generation::parse)
            .ok_or(BackendError::CacheNotFound)?;
        Ok(self.learn(cache, generation))
    }

    /// Whether the cache exists in this gateway's view (no Redis round trip).
    fn knows(&self, cache: &str) -> bool {
        self.registry.contains_key(cache) || self.declared.iter().any(|d| d == cache)
    }

    /// Registers the declared caches that are missing (a fresh or restarted
    /// Redis); the ones registered keep their generation.
    async fn register_declared(&self) -> Result<(), BackendError> {
        if self.declared.is_empty() {
            return Ok(());
        }
        let registry = self.ns.registry();
        self.link
            .run("registry", |mut c| async move {
                let mut pipe = redis::pipe();
                for name in &self.declared {
                    pipe.hset_nx(&registry, name, Generation::random().to_hex())
                        .ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await
    }

    async fn item_key(&self, cache: &str, key: &[u8]) -> Result<Vec<u8>, BackendError> {
        Ok(keys::item(&self.items(cache).await?, key))
    }

    async fn read_registry(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<u8>>, BackendError> {
        let registry = self.ns.registry();
        self.link
            .run("registry", |mut c| async move { c.hgetall(registry).await })
            .await
    }

    /// Probes Redis; on success registers the declared caches (once) and
    /// replaces the registry view.
    async fn refresh(&self, refresh_registry: bool) {
        let ping = self
            .link
            .run(link::PROBE, |mut c| async move {
                redis::cmd("PING").query_async::<String>(&mut c).await
            })
            .await;
        let changed = self.link.set_up(ping.is_ok());
        match &ping {
            Ok(_) if changed => tracing::info!("Redis is reachable; ready"),
            Err(e) if changed => tracing::warn!(error = %e, "Redis is unavailable; not ready"),
            _ => {}
        }
        if ping.is_err() || !refresh_registry || self.register_declared().await.is_err() {
            return;
        }
        let Ok(current) = self.read_registry().await else {
            return;
        };
        let current: std::collections::HashMap<String, Generation> = current
            .into_iter()
            .filter_map(|(name, g)| Some((name, Generation::parse(&g)?)))
            .collect();
        self.registry
            .retain(|name, _| current.contains_key(&**name));
        for (name, generation) in current {
            self.learn(&name, generation);
        }
    }
}

/// The background task: a health probe every `PROBE_EVERY`, the registry
/// re-read every `registry_refresh`. Holds only a weak reference.
async fn maintain(inner: Weak<Inner>, registry_refresh: Duration) {
    let mut last_refresh: Option<tokio::time::Instant> = None;
    loop {
        let Some(inner) = inner.upgrade() else { return };
        let due = last_refresh.is_none_or(|at| at.elapsed() >= registry_refresh);
        inner.refresh(due).await;
        if due && inner.link.is_up() {
            last_refresh = Some(tokio::time::Instant::now());
        }
        drop(inner);
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

impl CacheBackend for RedisBackend {
    async fn get(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
    ) -> Result<Option<Bytes>, BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        let value: Option<Vec<u8>> = self
            .inner
            .link
            .run("get", |mut c| async move { c.get(key).await })
            .await?;
        Ok(value.map(Bytes::from))
    }

    async fn set(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run("set", |mut c| async move {
                c.pset_ex::<_, _, ()>(key, value.as_ref(), ms(ttl)).await
            })
            .await
    }

    async fn delete(&self, _: &Permit, cache: &str, key: &[u8]) -> Result<(), BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run(
                "delete",
                |mut c| async move { c.unlink::<_, ()>(key).await },
            )
            .await
    }

    async fn exists(&self, _: &Permit, cache: &str, key: &[u8]) -> Result<bool, BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        self.inner
            .link
            .run("exists", |mut c| async move { c.exists(key).await })
            .await
    }

    async fn item(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
    ) -> Result<Option<ItemInfo>, BackendError> {
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
        _: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> Result<bool, BackendError> {
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
            let mut options =
                redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ttl));
            if let Some(existence) = existence {
                options = options.conditional_set(existence);
            }
            let stored: Option<String> = link
                .run("set_if", |mut c| async move {
                    c.set_options(key, value.as_ref(), options).await
                })
                .await?;
            return Ok(stored.is_some());
        }
        // The rest: read, decide with `Condition::holds`, compare-and-set.
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current: Option<Vec<u8>> = link
                .run("set_if", |mut c| async move { c.get(key).await })
                .await?;
            if !condition.holds(current.as_deref()) {
                return Ok(false);
            }
            let value = &value;
            let stored: bool = link
                .run("set_if", |mut c| async move {
                    let mut script = scripts::COMPARE_AND_SET.key(key);
                    match &current {
                        None => script.arg("0").arg(""),
                        Some(current) => script.arg("1").arg(current.as_slice()),
                    };
                    script
                        .arg(value.as_ref())
                        .arg(ttl)
                        .invoke_async(&mut c)
                        .await
                })
                .await?;
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
        _: &Permit,
        cache: &str,
        key: &[u8],
        amount: i64,
        ttl: Duration,
    ) -> Result<i64, BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        let (ok, reply): (i64, String) = self
            .inner
            .link
            .run("increment", |mut c| async move {
                scripts::INCREMENT
                    .key(key)
                    .arg(amount)
                    .arg(ms(ttl))
                    .invoke_async(&mut c)
                    .await
            })
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
        _: &Permit,
        cache: &str,
        key: &[u8],
        update: TtlUpdate,
    ) -> Result<TtlOutcome, BackendError> {
        let key = self.inner.item_key(cache, key).await?;
        let (mode, ttl) = match update {
            TtlUpdate::IncreaseTo(ttl) => ("i", ttl),
            TtlUpdate::DecreaseTo(ttl) => ("d", ttl),
            TtlUpdate::Overwrite(ttl) => ("o", ttl),
        };
        let outcome: String = self
            .inner
            .link
            .run("update_ttl", |mut c| async move {
                scripts::UPDATE_TTL
                    .key(key)
                    .arg(mode)
                    .arg(ms(ttl))
                    .invoke_async(&mut c)
                    .await
            })
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
        _: &Permit,
        cache: &str,
        topic: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        topics::publish(&self.inner, cache, topic, value, publisher_id).await
    }

    async fn subscribe(
        &self,
        _: &Permit,
        cache: &str,
        topic: &str,
        resume: Option<Resume>,
    ) -> Result<RedisSubscription, BackendError> {
        topics::subscribe(&self.inner, cache, topic, resume).await
    }
}
