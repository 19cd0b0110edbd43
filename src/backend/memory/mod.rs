//! The embedded memory backend: one bounded store per cache (`items`), with
//! per-item TTL, and the cache's topics beside it.

mod collection;
mod items;
mod topics;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dashmap::DashMap;

use collection::Collection;
use items::{Items, Op};
pub use topics::MemorySubscription;
use topics::Topics;

use super::collection::{ItemType, wrong_type};
use super::{
    BackendError, CacheBackend, Condition, ItemInfo, Limits, Resume, TopicBackend, TopicValue,
    TtlOutcome, TtlUpdate, item_of, topic_of,
};
use crate::scope::Permit;

/// What an item holds. A collection is changed in place under its lock
/// (inside its key's [`Items::compute`], so writes to one item are
/// serialized), never copied whole for a write.
#[derive(Clone)]
enum Value {
    Scalar(Bytes),
    Collection(Arc<Mutex<Collection>>),
}

#[derive(Clone)]
struct Item {
    value: Value,
    expires_at: Instant,
    /// Bytes it counts for against the cache's bound (key excluded).
    weight: usize,
}

impl Item {
    fn new(value: Bytes, ttl: Duration) -> Self {
        Item {
            weight: value.len(),
            value: Value::Scalar(value),
            expires_at: crate::clock::std_deadline(ttl),
        }
    }

    fn collection(collection: Arc<Mutex<Collection>>, weight: usize, ttl: Duration) -> Self {
        Item {
            value: Value::Collection(collection),
            expires_at: crate::clock::std_deadline(ttl),
            weight,
        }
    }

    /// A scalar's value; a collection is the wrong type.
    fn scalar(&self) -> Result<&Bytes, BackendError> {
        match &self.value {
            Value::Scalar(value) => Ok(value),
            Value::Collection(_) => Err(wrong_type()),
        }
    }

    fn item_type(&self) -> ItemType {
        match &self.value {
            Value::Scalar(_) => ItemType::Scalar,
            Value::Collection(c) => lock(c).item_type(),
        }
    }
}

/// A collection's lock (a panic while holding it cannot leave the data
/// half-changed: every change is validated before it is made).
fn lock(c: &Mutex<Collection>) -> std::sync::MutexGuard<'_, Collection> {
    c.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The hasher of the backend's maps: keys and cache names are the client's
/// choice, so it is keyed at random per process (ahash's `RandomState`), and
/// faster than the standard SipHash on every lookup.
type Hasher = ahash::RandomState;

/// One cache: its items and its topics.
struct Store {
    items: Items,
    topics: Topics,
}

impl Store {
    fn new(limits: &Limits) -> Self {
        Store {
            items: Items::new(limits.max_bytes_per_cache),
            topics: Topics::new(limits),
        }
    }
}

/// The memory backend.
pub struct MemoryBackend {
    caches: DashMap<Box<str>, Arc<Store>, Hasher>,
    /// Caches declared in the config: they always exist (SPEC 9).
    declared: Vec<String>,
    limits: Limits,
}

impl MemoryBackend {
    /// A backend holding `caches`.
    pub fn new(limits: Limits, caches: &[String]) -> Self {
        let backend = MemoryBackend {
            caches: DashMap::with_hasher(Hasher::new()),
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
    pub fn create_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
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
    pub fn delete_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
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
    pub fn flush_cache(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let name = permit.cache();
        self.store(name)?.items.clear();
        Ok(())
    }

    /// A scalar's value as of `at` (every read of this backend is answered
    /// at once). The value is cloned once, under the shard's read lock.
    pub fn get_at(&self, permit: &Permit<'_>, at: Instant) -> Result<Option<Bytes>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let store = self.store(cache)?;
        store
            .items
            .read(key, at, |item| item.scalar().cloned())
            .transpose()
    }

    /// Names of the caches, sorted.
    pub fn list_caches(&self, _: &Permit<'_>) -> Vec<String> {
        let mut names: Vec<String> = self.caches.iter().map(|e| e.key().to_string()).collect();
        names.sort_unstable();
        names
    }
}

impl CacheBackend for MemoryBackend {
    async fn get(&self, permit: &Permit<'_>) -> Result<Option<Bytes>, BackendError> {
        self.get_at(permit, Instant::now())
    }

    async fn set(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let (cache, key) = item_of(permit)?;
        // Every write to a key goes through its compute (serialized per
        // key), so a collection write in flight cannot put back what this
        // replaced.
        self.store(cache)?
            .items
            .compute(key, |_| Op::Put(Item::new(value, ttl)));
        Ok(())
    }

    async fn delete(&self, permit: &Permit<'_>) -> Result<(), BackendError> {
        let (cache, key) = item_of(permit)?;
        self.store(cache)?.items.compute(key, |_| Op::Remove);
        Ok(())
    }

    async fn exists(&self, permit: &Permit<'_>) -> Result<bool, BackendError> {
        let (cache, key) = item_of(permit)?;
        Ok(self.store(cache)?.items.contains_key(key))
    }

    async fn item(&self, permit: &Permit<'_>) -> Result<Option<ItemInfo>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let now = Instant::now();
        match self.store(cache)?.items.get(key) {
            Some(item) => Ok(Some(ItemInfo {
                remaining: item.expires_at.saturating_duration_since(now),
                value: item.scalar()?.clone(),
            })),
            None => Ok(None),
        }
    }

    // The read-modify-write operations below run in their key's compute,
    // which serializes calls on one key: each is atomic.

    async fn set_if(
        &self,
        permit: &Permit<'_>,
        value: Bytes,
        ttl: Duration,
        condition: &Condition,
    ) -> Result<bool, BackendError> {
        let (cache, key) = item_of(permit)?;
        let mut stored = Ok(false);
        self.store(cache)?.items.compute(key, |current| {
            let current = match current.map(Item::scalar) {
                None => None,
                Some(Ok(value)) => Some(value.as_ref()),
                Some(Err(e)) => {
                    stored = Err(e);
                    return Op::Nop;
                }
            };
            if condition.holds(current) {
                stored = Ok(true);
                Op::Put(Item::new(value, ttl))
            } else {
                Op::Nop
            }
        });
        stored
    }

    async fn increment(
        &self,
        permit: &Permit<'_>,
        amount: i64,
        ttl: Duration,
    ) -> Result<i64, BackendError> {
        let (cache, key) = item_of(permit)?;
        let mut result = Err(BackendError::FailedPrecondition(
            "the value is not an integer",
        ));
        self.store(cache)?.items.compute(key, |current| {
            let current = match current.map(Item::scalar) {
                None => Some(0),
                Some(Ok(value)) => collection::parse_integer(value),
                Some(Err(e)) => {
                    result = Err(e);
                    return Op::Nop;
                }
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
        permit: &Permit<'_>,
        update: TtlUpdate,
    ) -> Result<TtlOutcome, BackendError> {
        let (cache, key) = item_of(permit)?;
        let mut outcome = TtlOutcome::Missing;
        let now = Instant::now();
        self.store(cache)?.items.compute(key, |current| {
            let Some(item) = current else { return Op::Nop };
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
            Op::Put(Item {
                expires_at: crate::clock::std_deadline(ttl),
                ..item.clone()
            })
        });
        Ok(outcome)
    }
}

impl TopicBackend for MemoryBackend {
    type Subscription = MemorySubscription;

    async fn publish(
        &self,
        permit: &Permit<'_>,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        let (cache, topic) = topic_of(permit)?;
        self.store(cache)?
            .topics
            .publish(topic, value, publisher_id)
    }

    async fn subscribe(
        &self,
        permit: &Permit<'_>,
        resume: Option<Resume>,
    ) -> Result<MemorySubscription, BackendError> {
        let (cache, topic) = topic_of(permit)?;
        self.store(cache)?.topics.subscribe(topic, resume)
    }
}

#[cfg(test)]
mod permit_tests {
    use super::*;
    use crate::operation::{Keys, Operation, OperationKind};
    use crate::scope::CompiledScope;

    /// The backend acts on what the permit names, and refuses a permit that
    /// names no single item for a single-item call.
    #[tokio::test]
    async fn the_backend_reads_its_target_from_the_permit() {
        let b = MemoryBackend::new(Limits::default(), &["c".into()]);
        let su = CompiledScope::superuser();
        let k = su
            .authorize(&Operation::key(OperationKind::Set, "c", b"k"))
            .unwrap();
        b.set(&k, Bytes::from_static(b"v"), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(b.get(&k).await.unwrap().as_deref(), Some(&b"v"[..]));
        let other = su
            .authorize(&Operation::key(OperationKind::Get, "c", b"other"))
            .unwrap();
        assert_eq!(b.get(&other).await.unwrap(), None);
        let keys = [b"k".to_vec(), b"other".to_vec()];
        let batch = su
            .authorize(&Operation::keys(
                OperationKind::KeysExist,
                "c",
                Keys::List(&keys),
            ))
            .unwrap();
        assert_eq!(b.exists(&batch).await, Err(BackendError::WrongPermit));
        let mut each = Vec::new();
        for key in batch.each_key() {
            each.push(b.exists(&key).await.unwrap());
        }
        assert_eq!(each, [true, false]);
        let global = su
            .authorize(&Operation::global(OperationKind::ListCaches))
            .unwrap();
        assert_eq!(b.get(&global).await, Err(BackendError::WrongPermit));
        assert_eq!(
            b.publish(&k, TopicValue::Text("x".into()), "").await,
            Err(BackendError::WrongPermit)
        );
    }

    /// The front-facing backend takes only a permit of the class (or, for
    /// the control plane, the kind) its call needs.
    #[tokio::test]
    async fn the_front_facing_backend_refuses_a_permit_of_another_class() {
        let front =
            crate::backend::Backend::Memory(MemoryBackend::new(Limits::default(), &["c".into()]));
        let su = CompiledScope::superuser();
        let read = su
            .authorize(&Operation::key(OperationKind::Get, "c", b"k"))
            .unwrap();
        let write = su
            .authorize(&Operation::key(OperationKind::Set, "c", b"k"))
            .unwrap();
        let v = || Bytes::from_static(b"v");
        let ttl = Duration::from_secs(60);
        assert_eq!(
            front.set(&read, v(), ttl).await,
            Err(BackendError::WrongPermit)
        );
        assert_eq!(front.delete(&read).await, Err(BackendError::WrongPermit));
        assert_eq!(front.get(&write).await, Err(BackendError::WrongPermit));
        assert_eq!(
            front.increment(&write, 1, ttl).await,
            Err(BackendError::WrongPermit)
        );
        front.set(&write, v(), ttl).await.unwrap();
        assert_eq!(front.get(&read).await.unwrap().as_deref(), Some(&b"v"[..]));
        let create = su
            .authorize(&Operation::on_cache(OperationKind::CreateCache, "c"))
            .unwrap();
        assert_eq!(
            front.delete_cache(&create).await,
            Err(BackendError::WrongPermit)
        );
        assert_eq!(
            front.flush_cache(&create).await,
            Err(BackendError::WrongPermit)
        );
        let flush = su
            .authorize(&Operation::on_cache(OperationKind::FlushCache, "c"))
            .unwrap();
        front.flush_cache(&flush).await.unwrap();
        assert_eq!(front.get(&read).await.unwrap(), None);
        let subscribe = su
            .authorize(&Operation::topic(OperationKind::Subscribe, "c", "t"))
            .unwrap();
        assert_eq!(
            front
                .publish(&subscribe, TopicValue::Text("x".into()), "")
                .await,
            Err(BackendError::WrongPermit)
        );
    }
}
