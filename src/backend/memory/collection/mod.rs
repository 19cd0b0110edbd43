//! Collections on the memory backend: each lives in its cache's store as an
//! item, under its lock; every write is one compute on its key, so
//! read-modify-writes are atomic.

mod data;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(super) use data::{Collection, parse_integer};

use super::{Item, MemoryBackend, Op, Value, lock};
use crate::backend::collection::{
    Aggregate, CollectionBackend, CollectionOp, CollectionReply, ItemType, Union, wrong_type,
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
    // A push to a list kept near the bound by truncation (a capped feed):
    // its exact growth is counted without copying the list.
    if let (
        CollectionOp::ListPush {
            end,
            values,
            truncate_to,
            ..
        },
        data::Data::List(l),
    ) = (op, &c.data)
    {
        let grown = data::push_growth(l, *end, values, *truncate_to);
        if c.bytes.saturating_add_signed(grown) > max {
            return Err(BackendError::ItemTooLarge);
        }
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
        // The type is checked under the one lock the op takes.
        let of_type = |c: &Collection| {
            if c.item_type() == op.item_type() {
                Ok(())
            } else {
                Err(wrong_type())
            }
        };
        if op.class() == Class::Read {
            let Some(item) = store.items.get(key) else {
                return Ok(CollectionReply::Missing);
            };
            let Value::Collection(shared) = &item.value else {
                return Err(wrong_type());
            };
            let mut c = lock(shared);
            of_type(&c)?;
            // Emptied by a write that is removing it right now: gone.
            if c.is_empty() {
                return Ok(CollectionReply::Missing);
            }
            return c.apply(op);
        }
        let max = self.limits.max_collection_bytes;
        let mut result = Ok(CollectionReply::Missing);
        store.items.compute(key, |current| {
            let Some(item) = current else {
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
                let weight = c.weight();
                return Op::Put(Item::collection(Arc::new(Mutex::new(c)), weight, ttl.ttl));
            };
            let Value::Collection(shared) = &item.value else {
                result = Err(wrong_type());
                return Op::Nop;
            };
            let shared = Arc::clone(shared);
            let mut c = lock(&shared);
            result = of_type(&c).and_then(|()| apply_within(&mut c, op, max));
            if result.is_err() {
                return Op::Nop;
            }
            if c.is_empty() {
                return Op::Remove;
            }
            let weight = c.weight();
            drop(c);
            match op.ttl() {
                Some(ttl) if ttl.refresh => Op::Put(Item::collection(shared, weight, ttl.ttl)),
                // The TTL stays: what remains of it.
                _ => Op::Put(Item {
                    weight,
                    ..item.clone()
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
        // Each source folded in under its lock, the size bound checked as
        // the union grows.
        let mut union = Union::new(aggregate, self.limits.max_collection_bytes);
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
            union.add(f64::from(source.weight), set.pairs())?;
        }
        let c = Collection::sorted(union.into_scores());
        let length = crate::backend::collection::length(c.len());
        // Through the key's compute, like every write to a key.
        store.items.compute(destination, |_| {
            if c.is_empty() {
                Op::Remove
            } else {
                let weight = c.weight();
                Op::Put(Item::collection(Arc::new(Mutex::new(c)), weight, ttl))
            }
        });
        Ok(length)
    }

    async fn describe(
        &self,
        permit: &Permit<'_>,
    ) -> Result<Option<(ItemType, Duration)>, BackendError> {
        let (cache, key) = item_of(permit)?;
        let now = Instant::now();
        Ok(self.store(cache)?.items.get(key).and_then(|item| {
            // A collection emptied by a write that is removing it: gone.
            if let Value::Collection(c) = &item.value
                && lock(c).is_empty()
            {
                return None;
            }
            Some((
                item.item_type(),
                item.expires_at.saturating_duration_since(now),
            ))
        }))
    }
}
