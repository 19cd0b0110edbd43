//! Backends: where permitted operations go.
//!
//! Every method takes a [`Permit`], which only the authorizer can make, so no
//! front can reach a backend without authorization. Backends do no permission
//! checks of their own.

pub mod memory;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::scope::Permit;

/// The backend of this build. (The Redis backend will turn this into an enum.)
pub type Backend = memory::MemoryBackend;

/// Why a backend call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("cache not found")]
    CacheNotFound,
    #[error("cache already exists")]
    CacheExists,
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("backend timed out")]
    Timeout,
}

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

/// Where a subscriber wants to resume: the first sequence number it wants, in a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    pub sequence: u64,
    /// 0 when the subscriber does not know the page.
    pub page: u64,
}

/// Scalar cache operations.
pub trait CacheBackend: Send + Sync {
    fn get(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<Bytes>, BackendError>> + Send;

    fn set(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    fn delete(
        &self,
        permit: &Permit,
        cache: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
}

/// Topics: publish, and subscriptions that yield [`TopicEvent`]s.
pub trait TopicBackend: Send + Sync {
    type Subscription: TopicSubscription;

    /// Publishes and returns the message's sequence number.
    fn publish(
        &self,
        permit: &Permit,
        cache: &str,
        topic: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;

    fn subscribe(
        &self,
        permit: &Permit,
        cache: &str,
        topic: &str,
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
