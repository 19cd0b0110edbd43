//! Topics on Redis Streams.
//!
//! Why Streams: a stream is an ordered, trimmed log with IDs Redis assigns
//! atomically, so every gateway sees the same messages with the same numbers,
//! a subscriber resumes by reading from an ID (XRANGE), and a trimmed resume
//! point is visible as a gap. Redis pub/sub has no history (no resume, no
//! sequence numbers) and lists have no cheap read-from-position.
//!
//! Sequence numbers: IDs are `<page>-<n>` (see `scripts::PUBLISH`); the
//! message's sequence number is n + 1 and its sequence page is `<page>`.
//!
//! Fan-out: per topic, one gateway-wide reader blocks on XREAD over a
//! connection of its own and only wakes the gateway's subscribers of that
//! topic; each subscriber reads from its own cursor with XRANGE on the pool.
//! A slow subscriber never holds anyone up, and one that falls behind the
//! stream's trimming gets a discontinuity. While Redis is unreachable a
//! subscription waits (no heartbeats: nothing says the stream is healthy)
//! and then carries on from its cursor, so nothing is skipped unannounced.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use redis::AsyncCommands;
use redis::streams::{StreamId, StreamRangeReply, StreamReadOptions, StreamReadReply};
use tokio::sync::watch;

use super::keys::CacheKeys;
use super::link::{BLOCK, Conn};
use super::{Inner, TOPIC_IDLE, ms, scripts};
use crate::backend::{
    BackendError, IdleClock, Resume, TopicEvent, TopicMessage, TopicSubscription, TopicValue,
};
use crate::metrics::Held;

/// How long a subscription or reader waits before trying an unreachable Redis again.
const RETRY: Duration = Duration::from_millis(200);
/// Messages one reader wake-up fetches (only their IDs are used).
const WAKE_COUNT: usize = 16;

/// A stream entry ID, `<page>-<n>` (ordered as Redis orders them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Id {
    page: u64,
    n: u64,
}

impl Id {
    fn parse(text: &str) -> Option<Id> {
        let (page, n) = text.split_once('-')?;
        Some(Id {
            page: page.parse().ok()?,
            n: n.parse().ok()?,
        })
    }

    fn sequence(self) -> u64 {
        self.n.saturating_add(1)
    }
}

/// The readers of this gateway, by stream key.
#[derive(Default)]
pub(super) struct Hubs {
    hubs: DashMap<Vec<u8>, Weak<Hub>>,
}

/// One topic's wake-ups; lives while a subscriber holds it.
struct Hub {
    wake: watch::Sender<u64>,
}

impl Hubs {
    /// The topic's hub, starting its reader after `from` (the newest ID the
    /// caller has seen) if there is none.
    fn join(&self, inner: &Arc<Inner>, key: &[u8], from: String) -> Result<Arc<Hub>, BackendError> {
        if let Some(hub) = self.hubs.get(key).and_then(|hub| hub.upgrade()) {
            return Ok(hub);
        }
        // Forget hubs whose subscribers have all gone, then count the rest:
        // each holds a Redis connection, and Redis's connections are shared
        // by every gateway (`maxclients`).
        self.hubs.retain(|_, hub| hub.strong_count() > 0);
        if self.hubs.len() >= inner.max_topic_readers {
            return Err(BackendError::SubscribersExceeded(
                "too many topics with subscribers on this gateway",
            ));
        }
        let mut slot = self.hubs.entry(key.to_vec()).or_default();
        if let Some(hub) = slot.upgrade() {
            return Ok(hub);
        }
        let hub = Arc::new(Hub {
            wake: watch::channel(0).0,
        });
        *slot = Arc::downgrade(&hub);
        drop(slot);
        tokio::spawn(read(
            Arc::downgrade(inner),
            Arc::downgrade(&hub),
            key.to_vec(),
            from,
        ));
        Ok(hub)
    }
}

/// A topic's reader: XREAD BLOCK from the newest ID seen, waking subscribers
/// on news, until the last subscriber leaves (checked at least every `BLOCK`).
async fn read(inner: Weak<Inner>, hub: Weak<Hub>, key: Vec<u8>, mut last: String) {
    let mut conn: Option<(Conn, Held)> = None;
    let options = StreamReadOptions::default()
        .block(BLOCK.as_millis() as usize)
        .count(WAKE_COUNT);
    while hub.strong_count() > 0 {
        let (mut c, timeout) = match &conn {
            Some((c, _)) => {
                let Some(inner) = inner.upgrade() else { return };
                (c.clone(), BLOCK + inner.link.command_timeout())
            }
            None => {
                let Some(inner) = inner.upgrade() else { return };
                match inner.link.dedicated().await {
                    Ok(c) => {
                        conn = Some((c, inner.link.metrics.reader()));
                    }
                    Err(_) => tokio::time::sleep(RETRY).await,
                }
                continue;
            }
        };
        let reply = tokio::time::timeout(
            timeout,
            c.xread_options::<_, _, Option<StreamReadReply>>(&[&key], &[&last], &options),
        )
        .await;
        match reply {
            Ok(Ok(reply)) => {
                let newest = reply
                    .into_iter()
                    .flat_map(|r| r.keys)
                    .flat_map(|k| k.ids)
                    .next_back();
                match (newest, hub.upgrade()) {
                    (Some(newest), Some(hub)) => {
                        last = newest.id;
                        hub.wake.send_modify(|n| *n = n.wrapping_add(1));
                    }
                    (None, _) => {
                        // Nothing new for a while: if the stream went back
                        // (a restore, a failover to a lagging replica), wait
                        // from where it is now, or news would never wake anyone.
                        let reply: Result<Result<StreamRangeReply, _>, _> =
                            tokio::time::timeout(timeout, c.xrevrange_count(&key, "+", "-", 1))
                                .await;
                        let now = reply.ok().and_then(Result::ok).and_then(|r| {
                            r.ids
                                .first()
                                .and_then(|e| Some((Id::parse(&e.id)?, e.id.clone())))
                        });
                        if let (Some((now, id)), Some(seen)) = (now, Id::parse(&last))
                            && now < seen
                        {
                            last = id;
                        }
                    }
                    (Some(_), None) => {}
                }
            }
            _ => {
                // Reconnect; subscribers read from their own cursors, so the
                // reader only has to resume waking them.
                conn = None;
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64)
        .max(1)
}

pub(super) async fn publish(
    inner: &Inner,
    cache: &str,
    topic: &str,
    value: TopicValue,
    publisher_id: &str,
) -> Result<u64, BackendError> {
    let key = inner.keys(cache).await?.topic(topic);
    let (kind, bytes): (&str, &[u8]) = match &value {
        TopicValue::Text(text) => ("t", text.as_bytes()),
        TopicValue::Binary(bytes) => ("b", bytes),
    };
    let replay = inner.limits.topic_replay;
    let id: String = inner
        .link
        .eval(
            "publish",
            scripts::PUBLISH
                .key(key)
                .arg(now_ms())
                .arg(replay)
                .arg(kind)
                .arg(bytes)
                .arg(publisher_id)
                .arg(ms(TOPIC_IDLE)),
        )
        .await?;
    Id::parse(&id).map(Id::sequence).ok_or_else(|| {
        BackendError::Unavailable("the cache backend gave an unexpected reply".into())
    })
}

/// Where a subscriber is: the page it reads and the next sequence number it
/// wants. Page 0: not known yet (the stream was empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    page: u64,
    next: u64,
}

pub(super) async fn subscribe(
    inner: &Arc<Inner>,
    cache: &str,
    topic: &str,
    resume: Option<Resume>,
) -> Result<RedisSubscription, BackendError> {
    let keys = inner.keys(cache).await?;
    let key = keys.topic(topic);
    let (oldest, newest): (StreamRangeReply, StreamRangeReply) = {
        let key = &key;
        inner
            .link
            .run("read_topic", |mut c| async move {
                redis::pipe()
                    .atomic()
                    .xrange_count(key, "-", "+", 1)
                    .xrevrange_count(key, "+", "-", 1)
                    .query_async(&mut c)
                    .await
            })
            .await?
    };
    let first = |r: &StreamRangeReply| r.ids.first().and_then(|e| Id::parse(&e.id));
    let (oldest, newest) = (first(&oldest), first(&newest));
    let mut pending = None;
    let cursor = match (resume, oldest, newest) {
        // Nothing yet: whatever comes first, in the page the subscriber knows.
        (resume, _, None) | (resume, None, _) => Cursor {
            page: resume.map_or(0, |r| r.page),
            next: resume.map_or(1, |r| r.sequence.max(1)),
        },
        (None | Some(Resume { sequence: 0, .. }), _, Some(newest)) => Cursor {
            page: newest.page,
            next: newest.sequence() + 1,
        },
        (Some(r), Some(oldest), Some(newest))
            if (r.page != 0 && r.page != newest.page) || r.sequence < oldest.sequence() =>
        {
            pending = Some(TopicEvent::Discontinuity {
                last_sequence: r.sequence.saturating_sub(1),
                new_sequence: oldest.sequence(),
                new_page: newest.page,
            });
            Cursor {
                page: newest.page,
                next: oldest.sequence(),
            }
        }
        (Some(r), _, Some(newest)) => Cursor {
            page: newest.page,
            next: r.sequence.min(newest.sequence() + 1),
        },
    };
    let from = newest.map_or_else(|| "0-0".to_owned(), |id| format!("{}-{}", id.page, id.n));
    let hub = inner.topics.join(inner, &key, from)?;
    Ok(RedisSubscription {
        changes: hub.wake.subscribe(),
        _hub: hub,
        inner: Arc::clone(inner),
        cache: cache.into(),
        keys,
        key,
        cursor,
        pending,
        idle: IdleClock::new(inner.limits.heartbeat),
    })
}

/// A subscription to a Redis topic.
pub struct RedisSubscription {
    inner: Arc<Inner>,
    _hub: Arc<Hub>,
    changes: watch::Receiver<u64>,
    cache: Box<str>,
    /// The cache's keys when subscribed: a cache deleted and created again
    /// (another incarnation) ends the subscription.
    keys: Arc<CacheKeys>,
    key: Vec<u8>,
    cursor: Cursor,
    pending: Option<TopicEvent>,
    idle: IdleClock,
}

impl RedisSubscription {
    /// Up to `max` entries at or after the cursor (no side effects, so a
    /// cancelled read loses nothing).
    async fn fetch(&self, max: usize) -> Result<Vec<StreamId>, BackendError> {
        let start = match self.cursor {
            Cursor { page: 0, .. } => "-".to_owned(),
            Cursor { page, next } => format!("{page}-{}", next.saturating_sub(1)),
        };
        let key = &self.key;
        let reply: StreamRangeReply = self
            .inner
            .link
            .run("read_topic", |mut c| async move {
                c.xrange_count(key, start, "+", max).await
            })
            .await?;
        Ok(reply.ids)
    }

    /// The stream's newest entry.
    async fn newest(&self) -> Result<Option<Id>, BackendError> {
        let key = &self.key;
        let reply: StreamRangeReply = self
            .inner
            .link
            .run("read_topic", |mut c| async move {
                c.xrevrange_count(key, "+", "-", 1).await
            })
            .await?;
        Ok(reply.ids.first().and_then(|e| Id::parse(&e.id)))
    }

    /// When the stream went back behind the cursor (a restore, a failover to
    /// a lagging replica, a stream made again with an earlier page), the
    /// numbers the cursor waits for may never come: move the cursor to the
    /// stream's end and say so.
    fn reseat(&mut self, newest: Id) -> Option<TopicEvent> {
        let Cursor { page, next } = self.cursor;
        if page == 0 || (newest.page == page && newest.sequence() + 1 >= next) {
            return None;
        }
        self.cursor = Cursor {
            page: newest.page,
            // Another page is all new to this subscriber: from its start.
            // The same page gone back: which of its numbers are new cannot
            // be told, so from its end.
            next: if newest.page == page {
                newest.sequence() + 1
            } else {
                1
            },
        };
        Some(TopicEvent::Discontinuity {
            last_sequence: next.saturating_sub(1),
            new_sequence: self.cursor.next,
            new_page: newest.page,
        })
    }

    /// Turns fetched entries into events and moves the cursor past them.
    fn take(&mut self, entries: Vec<StreamId>) -> Vec<TopicEvent> {
        let mut events: Vec<TopicEvent> = self.pending.take().into_iter().collect();
        for entry in entries {
            let Some(id) = Id::parse(&entry.id) else {
                continue;
            };
            let sequence = id.sequence();
            if id.page != self.cursor.page && self.cursor.page != 0
                || self.cursor.page == id.page && sequence > self.cursor.next
            {
                // The stream was made again (another page), or the cursor's
                // messages were trimmed away.
                events.push(TopicEvent::Discontinuity {
                    last_sequence: self.cursor.next.saturating_sub(1),
                    new_sequence: sequence,
                    new_page: id.page,
                });
            } else if self.cursor.page == id.page && sequence < self.cursor.next {
                continue; // Already delivered.
            }
            self.cursor = Cursor {
                page: id.page,
                next: sequence + 1,
            };
            events.push(TopicEvent::Item(Arc::new(message(&entry, id, sequence))));
        }
        events
    }
}

fn message(entry: &StreamId, id: Id, sequence: u64) -> TopicMessage {
    let bytes: Vec<u8> = entry.get("v").unwrap_or_default();
    let kind: String = entry.get("k").unwrap_or_default();
    let value = match kind.as_str() {
        "t" => match String::from_utf8(bytes) {
            Ok(text) => TopicValue::Text(text),
            Err(e) => TopicValue::Binary(e.into_bytes().into()),
        },
        _ => TopicValue::Binary(bytes.into()),
    };
    let publisher: String = entry.get("p").unwrap_or_default();
    TopicMessage {
        sequence,
        page: id.page,
        value,
        publisher_id: publisher.into(),
    }
}

impl TopicSubscription for RedisSubscription {
    async fn next(&mut self, max: usize) -> Result<Vec<TopicEvent>, BackendError> {
        let max = max.max(1);
        loop {
            if !self.inner.still_has(&self.cache, &self.keys) {
                return Err(BackendError::CacheNotFound);
            }
            // Mark the wake-ups seen before reading, so news between the read
            // and the wait still wakes us.
            self.changes.borrow_and_update();
            match self.fetch(max).await {
                Ok(entries) => {
                    let events = self.take(entries);
                    if !events.is_empty() {
                        self.idle.restart();
                        return Ok(events);
                    }
                }
                Err(_) => {
                    // Unreachable or slow: wait for Redis, then go on from the cursor.
                    tokio::time::sleep(RETRY).await;
                    self.idle.restart();
                    continue;
                }
            }
            tokio::select! {
                changed = self.changes.changed() => {
                    if changed.is_err() {
                        return Err(BackendError::CacheNotFound);
                    }
                }
                () = tokio::time::sleep_until(self.idle.due()) => {
                    self.idle.restart();
                    // Idle: first make sure the stream has not gone back.
                    if let Ok(Some(newest)) = self.newest().await
                        && let Some(reseated) = self.reseat(newest)
                    {
                        return Ok(vec![reseated]);
                    }
                    return Ok(vec![TopicEvent::Heartbeat]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_into_pages_and_sequence_numbers() {
        let id = Id::parse("1732384000000-0").unwrap();
        assert_eq!((id.page, id.sequence()), (1_732_384_000_000, 1));
        for bad in ["", "1", "1-", "-1", "a-1", "1-b", "1-2-3"] {
            assert_eq!(Id::parse(bad), None, "{bad}");
        }
    }
}
