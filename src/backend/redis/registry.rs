//! The cache registry: a Redis hash of cache name -> generation, and this
//! gateway's view of it (see `keys` for what a generation is). The view is
//! re-read by the background task, which also probes Redis's health.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::AsyncCommands;

use super::keys::{CacheKeys, Entry, Generation};
use super::{Inner, PROBE_EVERY, RedisBackend, link, scripts};
use crate::backend::BackendError;
use crate::scope::Permit;

impl RedisBackend {
    pub async fn create_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
        let inner = &self.inner;
        let entry = Entry::new(inner.declared.iter().any(|d| d == name));
        let created: bool = inner
            .link
            .run("registry", |mut c| async move {
                c.hset_nx(inner.ns.registry(), name, entry.to_hex()).await
            })
            .await?;
        if !created {
            return Err(BackendError::CacheExists);
        }
        inner.changed();
        inner.learn(name, entry);
        Ok(())
    }

    pub async fn delete_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
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
        inner.changed();
        inner.registry.remove(name);
        if removed == 0 {
            return Err(BackendError::CacheNotFound);
        }
        Ok(())
    }

    /// Empties a cache: a new generation (the old items expire with their TTLs).
    pub async fn flush_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
        let inner = &self.inner;
        let generation = Generation::random();
        let flushed: Option<Vec<u8>> = inner
            .link
            .eval(
                "registry",
                scripts::REGENERATE
                    .key(inner.ns.registry())
                    .arg(name)
                    .arg(generation.to_hex()),
            )
            .await?;
        inner.changed();
        let Some(entry) = flushed.as_deref().and_then(Entry::parse) else {
            inner.registry.remove(name);
            return Err(BackendError::CacheNotFound);
        };
        inner.learn(name, entry);
        Ok(())
    }

    pub async fn list_caches(&self, _: &Permit<'_>) -> Result<Vec<String>, BackendError> {
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
    /// Marks a registry change made through this gateway.
    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    fn change_count(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Puts a cache's registry entry into this gateway's view.
    fn learn(&self, cache: &str, entry: Entry) -> Arc<CacheKeys> {
        // The read guard must be gone before inserting (same shard lock).
        match self.view(cache) {
            Some(known) if known.entry == entry => known,
            _ => {
                let keys = Arc::new(self.ns.cache(entry, cache));
                self.registry.insert(cache.into(), Arc::clone(&keys));
                keys
            }
        }
    }

    /// The cache's keys in this gateway's view (no Redis round trip).
    pub(super) fn view(&self, cache: &str) -> Option<Arc<CacheKeys>> {
        self.registry.get(cache).map(|keys| Arc::clone(&keys))
    }

    /// The keys of a cache as it is now; `CacheNotFound` if it does not exist.
    pub(super) async fn keys(&self, cache: &str) -> Result<Arc<CacheKeys>, BackendError> {
        if let Some(keys) = self.view(cache) {
            return Ok(keys);
        }
        let registry = self.ns.registry();
        if self.declared.iter().any(|d| d == cache) {
            // Declared caches exist from the start, whoever registers them first.
            self.register_declared().await?;
        }
        let before = self.change_count();
        let found: Option<Vec<u8>> = self
            .link
            .run(
                "registry",
                |mut c| async move { c.hget(registry, cache).await },
            )
            .await?;
        let raced = self.change_count() != before;
        if raced && let Some(keys) = self.view(cache) {
            // A change through this gateway raced the read: the view has it.
            return Ok(keys);
        }
        let entry = found
            .as_deref()
            .and_then(Entry::parse)
            .ok_or(BackendError::CacheNotFound)?;
        if raced {
            // Serve this request from the read, but keep it out of the view.
            return Ok(Arc::new(self.ns.cache(entry, cache)));
        }
        Ok(self.learn(cache, entry))
    }

    /// Whether the cache, with the topics of `keys`, still exists in this
    /// gateway's view (no Redis round trip). Declared caches always do.
    pub(super) fn still_has(&self, cache: &str, keys: &CacheKeys) -> bool {
        match self.view(cache) {
            Some(now) => now.same_topics(keys),
            None => self.declared.iter().any(|d| d == cache),
        }
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
                    pipe.hset_nx(&registry, name, Entry::new(true).to_hex())
                        .ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await
    }

    pub(super) async fn item_key(&self, cache: &str, key: &[u8]) -> Result<Vec<u8>, BackendError> {
        Ok(self.keys(cache).await?.item(key))
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
        let before = self.change_count();
        let Ok(current) = self.read_registry().await else {
            return;
        };
        if self.change_count() != before {
            return; // Raced a change through this gateway: the next refresh applies.
        }
        let current: std::collections::HashMap<String, Entry> = current
            .into_iter()
            .filter_map(|(name, entry)| Some((name, Entry::parse(&entry)?)))
            .collect();
        self.registry
            .retain(|name, _| current.contains_key(&**name));
        for (name, entry) in current {
            self.learn(&name, entry);
        }
    }
}

/// The background task: a health probe every `PROBE_EVERY`, the registry
/// re-read every `registry_refresh`. Holds only a weak reference.
pub(super) async fn maintain(inner: Weak<Inner>, registry_refresh: Duration) {
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
