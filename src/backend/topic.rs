//! Topics: the trait both backends implement, its messages and events, and
//! the idle clock that paces a subscription's heartbeats.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::BackendError;
use crate::scope::Permit;

/// A topic message's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicValue {
    Text(String),
    Binary(Bytes),
}

impl TopicValue {
    pub fn len(&self) -> usize {
        match self {
            TopicValue::Text(t) => t.len(),
            TopicValue::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A published message, as every subscriber sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct TopicMessage {
    pub sequence: u64,
    pub page: u64,
    pub value: TopicValue,
    /// The publisher's `token_id` (empty for API keys).
    pub publisher_id: Arc<str>,
}

/// What a subscription yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicEvent {
    Item(Arc<TopicMessage>),
    /// Messages were skipped: the resume point is gone, or the topic was reset.
    Discontinuity {
        last_sequence: u64,
        new_sequence: u64,
        new_page: u64,
    },
    /// Nothing was published for a while; the stream is healthy.
    Heartbeat,
}

/// When an idle subscription owes its subscriber a heartbeat. The clock lives
/// in the subscription, not in one call of `next`, so a caller that drops
/// `next` often (to re-check a credential) still gets a heartbeat every
/// `every` of silence.
#[derive(Debug)]
pub struct IdleClock {
    every: Duration,
    due: tokio::time::Instant,
}

impl IdleClock {
    pub fn new(every: Duration) -> Self {
        IdleClock {
            every,
            due: crate::clock::deadline(every),
        }
    }

    /// When the next heartbeat is due.
    pub fn due(&self) -> tokio::time::Instant {
        self.due
    }

    /// Something was delivered (or the stream was quiet for a reason other
    /// than idleness): the silence starts again now.
    pub fn restart(&mut self) {
        self.due = crate::clock::deadline(self.every);
    }
}

/// Where a subscriber wants to resume: the first sequence number it wants, in a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    pub sequence: u64,
    /// 0 when the subscriber does not know the page.
    pub page: u64,
}

/// Topics: publish, and subscriptions that yield [`TopicEvent`]s.
pub trait TopicBackend: Send + Sync {
    type Subscription: TopicSubscription;

    /// Publishes and returns the message's sequence number.
    fn publish(
        &self,
        permit: &Permit<'_>,
        value: TopicValue,
        publisher_id: &str,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;

    fn subscribe(
        &self,
        permit: &Permit<'_>,
        resume: Option<Resume>,
    ) -> impl Future<Output = Result<Self::Subscription, BackendError>> + Send;
}

/// An open subscription.
pub trait TopicSubscription: Send {
    /// Waits for the next events (at most `max`). Yields a heartbeat after an idle
    /// interval. Cancel-safe: dropping the future loses no event.
    fn next(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<TopicEvent>, BackendError>> + Send;
}
