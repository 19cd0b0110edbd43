//! Collections on the memory backend: each lives in its cache's store as an
//! item, under its lock; every operation is one `and_compute_with` on its
//! key, so read-modify-writes are atomic.

mod data;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::ops::compute::Op;

pub(super) use data::{Collection, parse_integer};

use super::{Item, MemoryBackend, Value, lock};
use crate::backend::collection::{
    Aggregate, CollectionBackend, CollectionOp, CollectionReply, ItemType, union_of, wrong_type,
};
use crate::backend::{BackendError, item_of};
use crate::operation::{Class, Target};
use crate::scope::Permit;

/// Applies `op` within the size bound: directly when the op cannot carry
/// the collection past it, otherwise to a copy that replaces the original
/// only if it fits (so a refused write changes nothing).
fn apply_within(
    c: &mut Collection,
    op: &CollectionOp<'_>,
    max: usize,
) -> Result<CollectionReply, BackendError> {
    if c.bytes.saturating_add(op.max_growth()) <= max {
        return c.apply(op);
    }
    let mut copy = c.clone();
    let reply = copy.apply(op)?;
    if copy.bytes > max {
        return Err(BackendError::ItemTooLarge);
    }
    *c = copy;
    Ok(reply)
}

impl CollectionBackend for MemoryBackend {
    async fn collection(
        &self,
        permit: &Permit<'_>,
        op: &CollectionOp<'_>,
    ) -> Result<CollectionReply, BackendError> {
        let (cache, key) = item_of(permit)?;
        let store = self.store(cache)?;
        let of_type = |item: &Item| match &item.value {
            Value::Collection(c) if lock(c).item_type() == op.item_type() => Ok(Arc::clone(c)),
            _ => Err(wrong_type()),
        };
        if op.class() == Class::Read {
            return match store.items.get(key) {
                None => Ok(CollectionReply::Missing),
                Some(item) => lock(&*of_type(&item)?).apply(op),
            };
        }
        let max = self.limits.max_collection_bytes;
        let mut result = Ok(CollectionReply::Missing);
        store.items.entry(key.into()).and_compute_with(|entry| {
            let Some(entry) = entry else {
                // Only the writes that add make a collection.
                let (Some(ttl), true) = (op.ttl(), op.creates()) else {
                    return Op::Nop;
                };
                let Some(mut c) = Collection::new(op.item_type()) else {
                    return Op::Nop;
                };
                result = apply_within(&mut c, op, max);
                if result.is_err() || c.is_empty() {
                    return Op::Nop;
                }
                let bytes = c.bytes;
                return Op::Put(Item::collection(Arc::new(Mutex::new(c)), bytes, ttl.ttl));
            };
            let item = entry.into_value();
            let shared = match of_type(&item) {
                Ok(c) => c,
                Err(e) => {
                    result = Err(e);
                    return Op::Nop;
                }
            };
            let mut c = lock(&shared);
            result = apply_within(&mut c, op, max);
            if result.is_err() {
                return Op::Nop;
            }
            if c.is_empty() {
                return Op::Remove;
            }
            let bytes = c.bytes;
            drop(c);
            match op.ttl() {
                Some(ttl) if ttl.refresh => Op::Put(Item::collection(shared, bytes, ttl.ttl)),
                // The TTL stays: what remains of it.
                _ => Op::Put(Item {
                    ttl: item.expires_at.saturating_duration_since(Instant::now()),
                    weight: bytes,
                    ..item
                }),
            }
        });
        result
    }

    async fn union_store(
        &self,
        permit: &Permit<'_>,
        aggregate: Aggregate,
        ttl: Duration,
    ) -> Result<u32, BackendError> {
        let Target::Union {
            destination,
            sources,
        } = permit.target()
        else {
            return Err(BackendError::WrongPermit);
        };
        let store = self.store(permit.cache())?;
        // Each source's elements, copied out under its lock.
        let mut read = Vec::with_capacity(sources.0.len());
        for source in sources.0 {
            let Some(item) = store.items.get(source.set_name.as_slice()) else {
                continue;
            };
            let Value::Collection(c) = &item.value else {
                return Err(wrong_type());
            };
            let c = lock(c);
            let data::Data::SortedSet(set) = &c.data else {
                return Err(wrong_type());
            };
            let pairs: Vec<(Bytes, f64)> = set.pairs().map(|(v, s)| (v.clone(), s)).collect();
            read.push((f64::from(source.weight), pairs));
        }
        let union = union_of(
            aggregate,
            read.iter()
                .map(|(w, pairs)| (*w, pairs.iter().map(|(v, s)| (v, *s)))),
        );
        let c = Collection::sorted(union);
        if c.bytes > self.limits.max_collection_bytes {
            return Err(BackendError::ItemTooLarge);
        }
        let length = crate::backend::collection::length(match &c.data {
            data::Data::SortedSet(set) => set.pairs().count(),
            _ => 0,
        });
        if c.is_empty() {
            store.items.invalidate(destination);
        } else {
            let bytes = c.bytes;
            store.items.insert(
                destination.into(),
                Item::collection(Arc::new(Mutex::new(c)), bytes, ttl),
            );
        }
        Ok(length)
    }

    async fn describe(
        &self,
        permit: &Permit<'_>,
    ) -> Result<Option<(ItemType, Duration)>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let now = Instant::now();
        Ok(self.store(cache)?.items.get(key).map(|item| {
            (
                item.item_type(),
                item.expires_at.saturating_duration_since(now),
            )
        }))
    }
}
