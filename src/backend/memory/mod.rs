//! The embedded memory backend: one bounded moka store per cache, with per-item
//! TTL, and the cache's topics beside it.

mod topics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;

pub use topics::MemorySubscription;
use topics::Topics;

use moka::ops::compute::Op;

use super::{
    BackendError, CacheBackend, Condition, ItemInfo, Limits, Resume, TopicBackend, TopicValue,
    TtlOutcome, TtlUpdate,
};
use crate::scope::Permit;

#[derive(Clone)]
struct Item {
    value: Bytes,
    ttl: Duration,
    expires_at: Instant,
}

impl Item {
    fn new(value: Bytes, ttl: Duration) -> Self {
        Item {
            value,
            ttl,
            expires_at: crate::clock::std_deadline(ttl),
        }
    }
}

/// Each item lives for its own TTL.
struct ItemExpiry;

impl moka::Expiry<Box<[u8]>, Item> for ItemExpiry {
    fn expire_after_create(&self, _: &Box<[u8]>, item: &Item, _: Instant) -> Option<Duration> {
        Some(item.ttl)
    }

    fn expire_after_update(
        &self,
        _: &Box<[u8]>,
        item: &Item,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(item.ttl)
    }
}

/// Bytes an entry holds, plus a fixed overhead per entry.
fn weigh(key: &[u8], item: &Item) -> u32 {
    u32::try_from(key.len() + item.value.len() + 64).unwrap_or(u32::MAX)
}

/// One cache: its items and its topics.
struct Store {
    items: moka::sync::Cache<Box<[u8]>, Item>,
    topics: Topics,
}

impl Store {
    fn new(limits: &Limits) -> Self {
        let items = moka::sync::Cache::<Box<[u8]>, Item>::builder()
            .max_capacity(limits.max_bytes_per_cache)
            .weigher(|key, item| weigh(key, item))
            .expire_after(ItemExpiry)
            .build();
        Store {
            items,
            topics: Topics::new(limits),
        }
    }
}

/// The memory backend.
pub struct MemoryBackend {
    caches: DashMap<Box<str>, Arc<Store>>,
    /// Caches declared in the config: they always exist (SPEC 9).
    declared: Vec<String>,
    limits: Limits,
}

impl MemoryBackend {
    /// A backend holding `caches`.
    pub fn new(limits: Limits, caches: &[String]) -> Self {
        let backend = MemoryBackend {
            caches: DashMap::new(),
            declared: caches.to_vec(),
            limits,
        };
        for name in caches {
            backend
                .caches
                .insert(name.as_str().into(), Arc::new(Store::new(&backend.limits)));
        }
        backend
    }

    fn store(&self, cache: &str) -> Result<Arc<Store>, BackendError> {
        self.caches
            .get(cache)
            .map(|s| Arc::clone(&s))
            .ok_or(BackendError::CacheNotFound)
    }

    /// Creates a cache (control plane).
    pub fn create_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        match self.caches.entry(name.into()) {
            dashmap::Entry::Occupied(_) => Err(BackendError::CacheExists),
            dashmap::Entry::Vacant(slot) => {
                slot.insert(Arc::new(Store::new(&self.limits)));
                Ok(())
            }
        }
    }

    /// Deletes a cache and closes its topics' subscriptions. Caches declared
    /// in the config cannot be deleted.
    pub fn delete_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        if self.declared.iter().any(|d| d == name) {
            return Err(BackendError::FailedPrecondition(
                "caches declared in the config cannot be deleted",
            ));
        }
        self.caches
            .remove(name)
            .map(|_| ())
            .ok_or(BackendError::CacheNotFound)
    }

    /// Removes every item of a cache (its topics are left alone).
    pub fn flush_cache(&self, _: &Permit, name: &str) -> Result<(), BackendError> {
        self.store(name)?.items.invalidate_all();
        Ok(())
    }

    /// Names of the caches, sorted.
    pub fn list_caches(&self, _: &Permit) -> Vec<String> {
        let mut names: Vec<String> = self.caches.iter().map(|e| e.key().to_string()).collect();
        names.sort_unstable();
        names
    }
}

impl CacheBackend for MemoryBackend {
    async fn get(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
    ) -> Result<Option<Bytes>, BackendError> {
        Ok(self.store(cache)?.items.get(key).map(|item| item.value))
    }

    async fn set(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        self.store(cache)?
            .items
            .insert(key.into(), Item::new(value, ttl));
        Ok(())
    }

    async fn delete(&self, _: &Permit, cache: &str, key: &[u8]) -> Result<(), BackendError> {
        self.store(cache)?.items.invalidate(key);
        Ok(())
    }

    async fn exists(&self, _: &Permit, cache: &str, key: &[u8]) -> Result<bool, BackendError> {
        Ok(self.store(cache)?.items.contains_key(key))
    }

    async fn item(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
    ) -> Result<Option<ItemInfo>, BackendError> {
        let now = Instant::now();
        Ok(self.store(cache)?.items.get(key).map(|item| ItemInfo {
            remaining: item.expires_at.saturating_duration_since(now),
            value: item.value,
        }))
    }

    // The read-modify-write operations below run in moka's `and_compute_with`,
    // which serializes calls on one key: each is atomic.

    async fn set_if(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> Result<bool, BackendError> {
        let mut stored = false;
        self.store(cache)?
            .items
            .entry(key.into())
            .and_compute_with(|entry| {
                if condition.holds(entry.as_ref().map(|e| e.value().value.as_ref())) {
                    stored = true;
                    Op::Put(Item::new(value, ttl))
                } else {
                    Op::Nop
                }
            });
        Ok(stored)
    }

    async fn increment(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
        amount: i64,
        ttl: Duration,
    ) -> Result<i64, BackendError> {
        let mut result = Err(BackendError::FailedPrecondition(
            "the value is not an integer",
        ));
        self.store(cache)?
            .items
            .entry(key.into())
            .and_compute_with(|entry| {
                let current = match entry {
                    None => Some(0),
                    // Redis's integer syntax (no `+`, no leading zeros), so
                    // both backends accept the same values.
                    Some(e) => std::str::from_utf8(&e.value().value)
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok().filter(|n| n.to_string() == t)),
                };
                let Some(current) = current else {
                    return Op::Nop;
                };
                match current.checked_add(amount) {
                    Some(next) => {
                        result = Ok(next);
                        Op::Put(Item::new(Bytes::from(next.to_string()), ttl))
                    }
                    None => {
                        result = Err(BackendError::FailedPrecondition("the increment overflows"));
                        Op::Nop
                    }
                }
            });
        result
    }

    async fn update_ttl(
        &self,
        _: &Permit,
        cache: &str,
        key: &[u8],
        update: TtlUpdate,
    ) -> Result<TtlOutcome, BackendError> {
        let mut outcome = TtlOutcome::Missing;
        let now = Instant::now();
        self.store(cache)?
            .items
            .entry(key.into())
            .and_compute_with(|entry| {
                let Some(entry) = entry else { return Op::Nop };
                let item = entry.into_value();
                let remaining = item.expires_at.saturating_duration_since(now);
                let ttl = match update {
                    TtlUpdate::IncreaseTo(ttl) if ttl > remaining => ttl,
                    TtlUpdate::DecreaseTo(ttl) if ttl < remaining => ttl,
                    TtlUpdate::Overwrite(ttl) => ttl,
                    _ => {
                        outcome = TtlOutcome::NotSet;
                        return Op::Nop;
                    }
                };
                outcome = TtlOutcome::Set;
                Op::Put(Item::new(item.value, ttl))
            });
        Ok(outcome)
    }
}

impl TopicBackend for MemoryBackend {
    type Subscription = MemorySubscription;

    async fn publish(
        &self,
        _: &Permit,
        cache: &str,
        topic: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        self.store(cache)?
            .topics
            .publish(topic, value, publisher_id)
    }

    async fn subscribe(
        &self,
        _: &Permit,
        cache: &str,
        topic: &str,
        resume: Option<Resume>,
    ) -> Result<MemorySubscription, BackendError> {
        self.store(cache)?.topics.subscribe(topic, resume)
    }
}
