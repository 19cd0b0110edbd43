//! Topics of one cache: sequence numbers, a bounded replay ring, heartbeats.
//!
//! Fan-out without a queue per subscriber: a publisher appends to the topic's
//! ring and bumps a `watch` channel; each subscriber keeps its own cursor and
//! reads the ring. A slow subscriber never stalls a publisher or another
//! subscriber: it falls behind, and when its cursor leaves the ring it gets a
//! discontinuity and continues from the oldest message still held.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::watch;

use crate::backend::Limits;
use crate::backend::{
    BackendError, IdleClock, Resume, TopicEvent, TopicMessage, TopicSubscription, TopicValue,
};

/// Sequence pages are unique in this process and grow across restarts (they
/// start from the clock), so a subscriber resuming across a restart sees a reset.
fn next_page() -> u64 {
    static PAGES: OnceLock<AtomicU64> = OnceLock::new();
    PAGES
        .get_or_init(|| {
            let start = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_millis() as u64);
            AtomicU64::new(start.max(1))
        })
        .fetch_add(1, Ordering::Relaxed)
}

struct Ring {
    /// The sequence number the next message gets (starts at 1).
    next: u64,
    messages: VecDeque<Arc<TopicMessage>>,
    /// Bytes of the values in `messages`.
    bytes: usize,
}

struct Topic {
    page: u64,
    ring: Mutex<Ring>,
    /// The last published sequence number; subscribers wait on it.
    latest: watch::Sender<u64>,
    closed: AtomicBool,
}

impl Topic {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding the lock cannot leave the ring inconsistent
        // (each critical section is a push/pop), so a poisoned lock is usable.
        self.ring
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The topics of one cache.
pub(super) struct Topics {
    topics: DashMap<Box<str>, Arc<Topic>>,
    replay: usize,
    replay_bytes: usize,
    max_topics: usize,
    heartbeat: Duration,
}

impl Topics {
    pub(super) fn new(limits: &Limits) -> Self {
        Topics {
            topics: DashMap::new(),
            replay: limits.topic_replay.max(1),
            replay_bytes: limits.topic_replay_bytes,
            max_topics: limits.max_topics_per_cache,
            heartbeat: limits.heartbeat,
        }
    }

    fn topic(&self, name: &str) -> Result<Arc<Topic>, BackendError> {
        if let Some(topic) = self.topics.get(name) {
            return Ok(Arc::clone(&topic));
        }
        if self.topics.len() >= self.max_topics {
            // Forget topics nobody holds (no subscriber); their replay goes with them.
            self.topics.retain(|_, topic| Arc::strong_count(topic) > 1);
            if self.topics.len() >= self.max_topics {
                return Err(BackendError::LimitExceeded("too many topics in this cache"));
            }
        }
        let topic = self.topics.entry(name.into()).or_insert_with(|| {
            Arc::new(Topic {
                page: next_page(),
                ring: Mutex::new(Ring {
                    next: 1,
                    messages: VecDeque::new(),
                    bytes: 0,
                }),
                latest: watch::channel(0).0,
                closed: AtomicBool::new(false),
            })
        });
        Ok(Arc::clone(&topic))
    }

    pub(super) fn publish(
        &self,
        name: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<u64, BackendError> {
        let topic = self.topic(name)?;
        let size = value.len();
        let sequence = {
            let mut ring = topic.lock();
            let sequence = ring.next;
            ring.next += 1;
            ring.messages.push_back(Arc::new(TopicMessage {
                sequence,
                page: topic.page,
                value,
                publisher_id: publisher_id.into(),
            }));
            ring.bytes += size;
            // Bounded by count and by bytes; the newest message always stays.
            while ring.messages.len() > 1
                && (ring.messages.len() > self.replay || ring.bytes > self.replay_bytes)
            {
                if let Some(old) = ring.messages.pop_front() {
                    ring.bytes -= old.value.len();
                }
            }
            sequence
        };
        topic.latest.send_replace(sequence);
        Ok(sequence)
    }

    pub(super) fn subscribe(
        &self,
        name: &str,
        resume: Option<Resume>,
    ) -> Result<MemorySubscription, BackendError> {
        let topic = self.topic(name)?;
        let changes = topic.latest.subscribe();
        let (next, oldest) = {
            let ring = topic.lock();
            (
                ring.next,
                ring.messages.front().map_or(ring.next, |m| m.sequence),
            )
        };
        let mut pending = None;
        let cursor = match resume {
            // No resume point: only what is published from now on.
            None | Some(Resume { sequence: 0, .. }) => next,
            // Another page: the topic was reset; replay what this page holds.
            Some(r) if r.page != 0 && r.page != topic.page => {
                pending = Some(TopicEvent::Discontinuity {
                    last_sequence: r.sequence.saturating_sub(1),
                    new_sequence: oldest,
                    new_page: topic.page,
                });
                oldest
            }
            // The resume point is gone from the ring.
            Some(r) if r.sequence < oldest => {
                pending = Some(TopicEvent::Discontinuity {
                    last_sequence: r.sequence.saturating_sub(1),
                    new_sequence: oldest,
                    new_page: topic.page,
                });
                oldest
            }
            // In the future: wait for it to be published.
            Some(r) => r.sequence.min(next),
        };
        Ok(MemorySubscription {
            topic,
            cursor,
            pending,
            changes,
            idle: IdleClock::new(self.heartbeat),
        })
    }

    /// Closes every topic: their subscriptions end with `CacheNotFound`.
    pub(super) fn close(&self) {
        for topic in self.topics.iter() {
            topic.closed.store(true, Ordering::Release);
            topic.latest.send_modify(|_| {});
        }
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        self.close();
    }
}

/// A subscription to a memory topic.
pub struct MemorySubscription {
    topic: Arc<Topic>,
    /// The next sequence number to deliver.
    cursor: u64,
    pending: Option<TopicEvent>,
    changes: watch::Receiver<u64>,
    idle: IdleClock,
}

impl MemorySubscription {
    /// Takes what is ready without waiting. Synchronous, so the cursor only
    /// moves together with the events returned (this is what makes `next`
    /// cancel-safe).
    fn take(&mut self, max: usize) -> Vec<TopicEvent> {
        let mut events: Vec<TopicEvent> = self.pending.take().into_iter().collect();
        let ring = self.topic.lock();
        let oldest = ring.messages.front().map_or(ring.next, |m| m.sequence);
        if self.cursor < oldest {
            events.push(TopicEvent::Discontinuity {
                last_sequence: self.cursor.saturating_sub(1),
                new_sequence: oldest,
                new_page: self.topic.page,
            });
            self.cursor = oldest;
        }
        let skip = (self.cursor - oldest) as usize;
        for message in ring
            .messages
            .iter()
            .skip(skip)
            .take(max.saturating_sub(events.len()))
        {
            events.push(TopicEvent::Item(Arc::clone(message)));
            self.cursor = message.sequence + 1;
        }
        events
    }
}

impl TopicSubscription for MemorySubscription {
    async fn next(&mut self, max: usize) -> Result<Vec<TopicEvent>, BackendError> {
        let max = max.max(1);
        loop {
            if self.topic.closed.load(Ordering::Acquire) {
                return Err(BackendError::CacheNotFound);
            }
            // Mark the current value seen before reading, so a publish between
            // the read and the wait still wakes us.
            self.changes.borrow_and_update();
            let events = self.take(max);
            if !events.is_empty() {
                self.idle.restart();
                return Ok(events);
            }
            match tokio::time::timeout_at(self.idle.due(), self.changes.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(BackendError::CacheNotFound),
                Err(_) => {
                    self.idle.restart();
                    return Ok(vec![TopicEvent::Heartbeat]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(replay: usize) -> Topics {
        Topics::new(&Limits {
            topic_replay: replay,
            heartbeat: Duration::from_millis(50),
            ..Limits::default()
        })
    }

    fn text(s: &str) -> TopicValue {
        TopicValue::Text(s.into())
    }

    fn sequences(events: &[TopicEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                TopicEvent::Item(m) => Some(m.sequence),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn sequence_numbers_start_at_one_and_subscribers_start_at_the_newest() {
        let t = topics(10);
        assert_eq!(t.publish("a", text("1"), "p").unwrap(), 1);
        let mut sub = t.subscribe("a", None).unwrap();
        assert_eq!(t.publish("a", text("2"), "p").unwrap(), 2);
        assert_eq!(
            t.publish("b", text("x"), "p").unwrap(),
            1,
            "per-topic sequences"
        );
        let events = sub.next(10).await.unwrap();
        assert_eq!(sequences(&events), [2]);
        let TopicEvent::Item(m) = &events[0] else {
            panic!()
        };
        assert_eq!((m.value.clone(), &*m.publisher_id), (text("2"), "p"));
    }

    #[tokio::test]
    async fn resume_replays_and_a_lost_resume_point_is_a_discontinuity() {
        let t = topics(3);
        for i in 1..=5 {
            t.publish("a", text(&i.to_string()), "").unwrap();
        }
        let page = t.subscribe("a", None).unwrap().topic.page;
        let mut sub = t
            .subscribe("a", Some(Resume { sequence: 4, page }))
            .unwrap();
        assert_eq!(sequences(&sub.next(10).await.unwrap()), [4, 5]);
        let mut lost = t
            .subscribe("a", Some(Resume { sequence: 1, page }))
            .unwrap();
        let events = lost.next(10).await.unwrap();
        assert_eq!(
            events[0],
            TopicEvent::Discontinuity {
                last_sequence: 0,
                new_sequence: 3,
                new_page: page
            }
        );
        assert_eq!(sequences(&events), [3, 4, 5]);
        let mut reset = t
            .subscribe(
                "a",
                Some(Resume {
                    sequence: 4,
                    page: page + 1_000_000,
                }),
            )
            .unwrap();
        let events = reset.next(10).await.unwrap();
        assert!(
            matches!(events[0], TopicEvent::Discontinuity { new_page, .. } if new_page == page)
        );
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_a_discontinuity_not_a_stall() {
        let t = topics(4);
        let mut slow = t.subscribe("a", None).unwrap();
        for i in 0..10 {
            t.publish("a", text(&i.to_string()), "").unwrap();
        }
        let events = slow.next(100).await.unwrap();
        assert!(matches!(
            events[0],
            TopicEvent::Discontinuity {
                last_sequence: 0,
                new_sequence: 7,
                ..
            }
        ));
        assert_eq!(sequences(&events), [7, 8, 9, 10]);
    }

    #[tokio::test]
    async fn idle_subscriptions_get_heartbeats_and_closing_ends_them() {
        let t = topics(4);
        let mut sub = t.subscribe("a", None).unwrap();
        assert_eq!(sub.next(1).await.unwrap(), [TopicEvent::Heartbeat]);
        t.close();
        assert_eq!(sub.next(1).await.unwrap_err(), BackendError::CacheNotFound);
    }

    #[tokio::test]
    async fn the_replay_ring_is_bounded_in_bytes_too() {
        let t = Topics::new(&Limits {
            topic_replay: 100,
            topic_replay_bytes: 10,
            ..Limits::default()
        });
        for i in 0..5 {
            t.publish("a", TopicValue::Binary(vec![i; 4].into()), "")
                .unwrap();
        }
        // 4-byte messages under a 10-byte budget: the two newest remain.
        let page = t.subscribe("a", None).unwrap().topic.page;
        let mut sub = t
            .subscribe("a", Some(Resume { sequence: 1, page }))
            .unwrap();
        let events = sub.next(10).await.unwrap();
        assert!(matches!(
            events[0],
            TopicEvent::Discontinuity {
                new_sequence: 4,
                ..
            }
        ));
        assert_eq!(sequences(&events), [4, 5]);
        // A message larger than the budget is still kept (alone).
        t.publish("a", TopicValue::Binary(vec![0; 64].into()), "")
            .unwrap();
        let mut latest = t
            .subscribe("a", Some(Resume { sequence: 6, page }))
            .unwrap();
        assert_eq!(sequences(&latest.next(10).await.unwrap()), [6]);
    }

    #[test]
    fn topics_are_bounded_and_unheld_ones_are_forgotten() {
        let t = Topics::new(&Limits {
            max_topics_per_cache: 2,
            ..Limits::default()
        });
        let held = t.subscribe("a", None).unwrap();
        t.publish("b", text("x"), "").unwrap();
        // "b" has no subscriber: it is forgotten to make room for "c".
        t.publish("c", text("x"), "").unwrap();
        let _c = t.subscribe("c", None).unwrap();
        assert_eq!(
            t.publish("d", text("x"), "").unwrap_err(),
            BackendError::LimitExceeded("too many topics in this cache")
        );
        drop(held);
        assert!(t.publish("d", text("x"), "").is_ok());
    }
}
