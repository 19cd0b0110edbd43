//! Vends per minute, per identity and per client address: token buckets
//! (a burst of the whole minute's allowance, refilled evenly) kept in a
//! bounded cache, so memory stays flat whatever the number of callers.

use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// Buckets kept per limiter. Past it the least recently seen callers are
/// forgotten (and start again with a full bucket).
const MAX_TRACKED: u64 = 100_000;

/// A per-key rate limit of `per_minute` events.
pub struct RateLimit<K: Hash + Eq + Send + Sync + 'static> {
    per_minute: u32,
    buckets: Cache<K, Arc<Mutex<Bucket>>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Send + Sync + Clone + 'static> RateLimit<K> {
    pub fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute,
            // A bucket idle for a minute is full again: forgetting it changes nothing.
            buckets: Cache::builder()
                .max_capacity(MAX_TRACKED)
                .time_to_idle(Duration::from_secs(60))
                .build(),
        }
    }

    /// Takes one event from `key`'s bucket; false when it is empty.
    pub fn allow(&self, key: &K) -> bool {
        let capacity = f64::from(self.per_minute);
        let bucket = self.buckets.get_with_by_ref(key, || {
            Arc::new(Mutex::new(Bucket {
                tokens: capacity,
                at: Instant::now(),
            }))
        });
        let mut bucket = bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(bucket.at).as_secs_f64() * capacity / 60.0;
        bucket.tokens = (bucket.tokens + refill).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_and_others_are_apart() {
        let limit = RateLimit::new(3);
        for _ in 0..3 {
            assert!(limit.allow(&"a"));
        }
        assert!(!limit.allow(&"a"));
        assert!(limit.allow(&"b"));
    }
}
