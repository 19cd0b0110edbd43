//! One cache's items: a map split into shards, each behind its own lock,
//! bounded in bytes, each item living for its own TTL.
//!
//! A read takes its shard's read lock, one hash and one probe, and one clock
//! read for the item's expiry: it records nothing else (a general-purpose
//! cache such as moka queues every read for its eviction policy, which cost
//! the memory backend's hit more than the rest of its read). Eviction is
//! sampled instead, as Redis does: when a write carries the cache past its
//! bound, a few items of a shard are sampled and the one read least recently
//! goes (an expired one first). Recency is counted in writes, not time: a
//! read notes the map's write count in its slot (a relaxed store, made only
//! when the count has moved on), so a read reads no clock for it.
//!
//! A cache has a shard per MiB of its bound, up to [`SHARDS`]. Every write
//! to a key runs in [`Items::compute`], under its shard's write lock, so
//! writes to one key are serialized (a collection's read-modify-write is
//! atomic, and a replacing write cannot be put back by a collection write
//! in flight). A compute holds its shard for the time of its closure: a
//! collection write near the size bound copies its collection under that
//! lock. An item heavier than the whole bound is not kept (its key is left
//! with none), and evicts nothing.
//!
//! Expired items are not served. Their memory is reclaimed by the write to
//! their key, by eviction (which prefers them), and by each insert, which
//! samples a few items of its shard and drops the expired ones.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use indexmap::IndexMap;
use indexmap::map::{RawEntryApiV1, raw_entry_v1::RawEntryMut};

use super::{Hasher, Item};

/// Shards per cache: writes to keys of different shards do not wait for
/// each other.
const SHARDS: usize = 16;

/// Items sampled to choose one to evict, and to find expired ones on an
/// insert (Redis samples 5 by default).
const SAMPLES: usize = 5;

/// What a compute does with its key.
pub(super) enum Op {
    /// Stores this item (replacing the current one).
    Put(Item),
    /// Removes the item.
    Remove,
    /// Leaves it as it is.
    Nop,
}

struct Slot {
    item: Item,
    /// The map's write count when it was last read or written.
    used: AtomicU32,
    /// Bytes it counts for against the bound, key included.
    weight: u64,
}

struct Shard {
    map: IndexMap<Box<[u8]>, Slot, Hasher>,
    /// A xorshift state for sampling (not a secret: it picks what to evict).
    rng: u64,
}

impl Shard {
    fn random_index(&mut self) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // The high bits, scaled to the length (no modulo bias worth naming
        // at these sizes).
        ((u128::from(self.rng >> 32) * self.map.len() as u128) >> 32) as usize
    }

    /// Removes the slot at `index`; returns its weight.
    fn remove_index(&mut self, index: usize) -> u64 {
        self.map
            .swap_remove_index(index)
            .map_or(0, |(_, slot)| slot.weight)
    }
}

/// The items of one cache.
pub(super) struct Items {
    shards: Box<[RwLock<Shard>]>,
    hasher: Hasher,
    /// The bound on the bytes of all shards together.
    max_bytes: u64,
    /// The bytes of all shards together.
    bytes: AtomicU64,
    /// The shard eviction starts from next, in turn.
    cursor: AtomicU32,
    /// Items written so far (wrapping): the clock of recency.
    writes: AtomicU32,
}

/// Bytes an item counts for: its key and value, plus a fixed overhead.
fn weigh(key: &[u8], item: &Item) -> u64 {
    (key.len() + item.weight + 64) as u64
}

fn read_lock(shard: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
    // A panic under the lock cannot leave a shard half-changed: a compute's
    // closure runs before the map is touched.
    shard
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock(shard: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
    shard
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Items {
    /// An empty map holding at most `max_bytes` (keys, values and a fixed
    /// overhead per item).
    pub(super) fn new(max_bytes: u64) -> Self {
        // A shard per MiB of the bound, up to SHARDS: eviction samples one
        // shard, so a small cache is one shard (exactly least recently used
        // among up to five items) rather than many nearly empty ones.
        let shards = usize::try_from(max_bytes >> 20).unwrap_or(SHARDS);
        Self::with_shards(max_bytes, shards.clamp(1, SHARDS))
    }

    fn with_shards(max_bytes: u64, shards: usize) -> Self {
        let hasher = Hasher::new();
        let seed = hasher.hash_one(0u8) | 1;
        let shards = (0..shards as u32)
            .map(|i| {
                RwLock::new(Shard {
                    map: IndexMap::with_hasher(hasher.clone()),
                    rng: seed.rotate_left(i * 4) | 1,
                })
            })
            .collect();
        Items {
            shards,
            hasher,
            max_bytes,
            bytes: AtomicU64::new(0),
            cursor: AtomicU32::new(0),
            writes: AtomicU32::new(0),
        }
    }

    fn locate(&self, key: &[u8]) -> (u64, &RwLock<Shard>) {
        let hash = self.hasher.hash_one(key);
        // Bits the map's own table does not start from.
        let shard = (hash >> 48) as usize % self.shards.len();
        (hash, &self.shards[shard])
    }

    /// The item under `key`, unless it has expired.
    pub(super) fn get(&self, key: &[u8]) -> Option<Item> {
        self.read(key, Instant::now(), Item::clone)
    }

    /// Whether an item is under `key` and has not expired.
    pub(super) fn contains_key(&self, key: &[u8]) -> bool {
        self.read(key, Instant::now(), |_| ()).is_some()
    }

    /// `f` of the item under `key`, unless it had expired at `now`.
    pub(super) fn read<T>(
        &self,
        key: &[u8],
        now: Instant,
        f: impl FnOnce(&Item) -> T,
    ) -> Option<T> {
        let (hash, shard) = self.locate(key);
        let shard = read_lock(shard);
        let (_, slot) = shard
            .map
            .raw_entry_v1()
            .from_key_hashed_nocheck(hash, key)?;
        if slot.item.expires_at <= now {
            return None;
        }
        let stamp = self.writes.load(Ordering::Relaxed);
        if slot.used.load(Ordering::Relaxed) != stamp {
            slot.used.store(stamp, Ordering::Relaxed);
        }
        Some(f(&slot.item))
    }

    /// Runs `f` on the item under `key` (`None` if there is none, or it has
    /// expired) and does what it returns, with every other write to the key
    /// waiting.
    pub(super) fn compute(&self, key: &[u8], f: impl FnOnce(Option<&Item>) -> Op) {
        let (hash, shard) = self.locate(key);
        let now = Instant::now();
        let mut guard = write_lock(shard);
        let mut grown = false;
        match guard
            .map
            .raw_entry_mut_v1()
            .from_key_hashed_nocheck(hash, key)
        {
            RawEntryMut::Occupied(mut entry) => {
                let current = Some(&entry.get().item).filter(|item| item.expires_at > now);
                let expired = current.is_none();
                match self.fitting(key, f(current)) {
                    Op::Put(item) => {
                        let slot = self.slot(key, item);
                        let old = entry.get_mut();
                        self.resize(old.weight, slot.weight);
                        grown = slot.weight > old.weight;
                        *old = slot;
                    }
                    // An expired item goes whatever the closure says.
                    Op::Remove => self.resize(entry.swap_remove().weight, 0),
                    Op::Nop if expired => self.resize(entry.swap_remove().weight, 0),
                    Op::Nop => {}
                }
            }
            RawEntryMut::Vacant(entry) => {
                if let Op::Put(item) = self.fitting(key, f(None)) {
                    let slot = self.slot(key, item);
                    self.resize(0, slot.weight);
                    grown = true;
                    entry.insert_hashed_nocheck(hash, key.into(), slot);
                    self.drop_expired(&mut guard, now);
                }
            }
        }
        drop(guard);
        if grown {
            self.make_room(now);
        }
    }

    /// `op`, unless it puts an item heavier than the whole bound: that one
    /// is written and evicted at once (the key is left with no item), and
    /// the rest of the cache is left alone.
    fn fitting(&self, key: &[u8], op: Op) -> Op {
        match op {
            Op::Put(item) if weigh(key, &item) > self.max_bytes => Op::Remove,
            op => op,
        }
    }

    /// A slot for `item`, stamped as written now (counting the write).
    fn slot(&self, key: &[u8], item: Item) -> Slot {
        Slot {
            weight: weigh(key, &item),
            item,
            used: AtomicU32::new(self.writes.fetch_add(1, Ordering::Relaxed).wrapping_add(1)),
        }
    }

    fn resize(&self, from: u64, to: u64) {
        if to >= from {
            self.bytes.fetch_add(to - from, Ordering::Relaxed);
        } else {
            self.bytes.fetch_sub(from - to, Ordering::Relaxed);
        }
    }

    /// Samples a few items of `shard` and removes the expired ones.
    fn drop_expired(&self, shard: &mut Shard, now: Instant) {
        for _ in 0..SAMPLES {
            if shard.map.is_empty() {
                return;
            }
            let index = shard.random_index();
            if shard.map[index].item.expires_at <= now {
                let weight = shard.remove_index(index);
                self.resize(weight, 0);
            }
        }
    }

    /// Evicts until the bound holds: from each shard in turn, the item read
    /// least recently of a sample (an expired one first), or of the whole
    /// shard when it holds no more than a sample. One shard lock at a time;
    /// it stops once it has found every shard empty in a row.
    fn make_room(&self, now: Instant) {
        let count = self.shards.len();
        let mut next = self.cursor.fetch_add(1, Ordering::Relaxed) as usize;
        let mut empty = 0;
        while self.bytes.load(Ordering::Relaxed) > self.max_bytes && empty < count {
            next = (next + 1) % count;
            let mut shard = write_lock(&self.shards[next]);
            let len = shard.map.len();
            if len == 0 {
                empty += 1;
                continue;
            }
            empty = 0;
            // Read under the shard's lock: no slot of it is stamped later.
            let stamp = self.writes.load(Ordering::Relaxed);
            // (age, index): ages in writes, not stamps, as the count wraps
            // (an item unread for four billion writes may look recent).
            let mut oldest = (0, 0);
            for sample in 0..SAMPLES.min(len) {
                let index = if len <= SAMPLES {
                    sample
                } else {
                    shard.random_index()
                };
                let slot = &shard.map[index];
                let age = if slot.item.expires_at <= now {
                    u32::MAX
                } else {
                    stamp.wrapping_sub(slot.used.load(Ordering::Relaxed))
                };
                if sample == 0 || age > oldest.0 {
                    oldest = (age, index);
                }
            }
            let weight = shard.remove_index(oldest.1);
            self.resize(weight, 0);
        }
    }

    /// Removes every item.
    pub(super) fn clear(&self) {
        for shard in &self.shards {
            let mut shard = write_lock(shard);
            let weight: u64 = shard.map.values().map(|slot| slot.weight).sum();
            // A new map: a cleared one would keep its table's memory.
            shard.map = IndexMap::with_hasher(self.hasher.clone());
            self.resize(weight, 0);
        }
    }

    /// The bytes the items count for.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| read_lock(s).map.len()).sum()
    }
}

#[cfg(test)]
mod tests;
