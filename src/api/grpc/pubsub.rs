//! `cache_client.pubsub.Pubsub`: Publish and the Subscribe stream.
//!
//! A subscription is a task feeding a small bounded channel (the client's pace
//! is the backpressure). Its first message is a heartbeat, sent at once; idle
//! heartbeats come from the subscription's own clock, which the re-check does
//! not reset. It re-checks its credential every 250 ms and ends the
//! stream with UNAUTHENTICATED when the credential expires or is revoked, with
//! UNAVAILABLE when the server drains, and quietly when the client goes away.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use momento_protos::cache_client::pubsub::pubsub_server::Pubsub;
use momento_protos::cache_client::pubsub::{
    Discontinuity, Heartbeat, PublishRequest, SubscriptionItem, SubscriptionRequest, TopicItem,
    subscription_item, topic_value,
};
use momento_protos::common::Empty;
use tokio::sync::mpsc;
use tonic::codegen::tokio_stream::Stream;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};

use super::{caller, classified, kind, rpcs};
use crate::app::App;
use crate::backend::{Resume, TopicBackend, TopicEvent, TopicSubscription, TopicValue};
use crate::error::ApiError;
use crate::operation::Operation;
use crate::token::Verified;

pub struct PubsubFront {
    pub app: Arc<App>,
}

/// How often a subscription re-checks its credential.
const RECHECK: Duration = Duration::from_millis(250);
/// Items buffered between a subscription and a slow client.
const BUFFER: usize = 32;

type ItemStream = Pin<Box<dyn Stream<Item = Result<SubscriptionItem, Status>> + Send + 'static>>;

fn names<'a>(cache: &'a str, topic: &'a str) -> Result<(&'a str, &'a str), ApiError> {
    if cache.is_empty() || topic.is_empty() {
        return Err(ApiError::invalid("cache_name and topic are required"));
    }
    Ok((cache, topic))
}

/// The handlers: authorize -> backend -> convert; [`rpcs!`](super::rpcs) makes
/// each the tonic method of the same name.
impl PubsubFront {
    async fn publish(&self, request: Request<PublishRequest>) -> Result<Empty, ApiError> {
        let verified = caller(&request)?;
        let r = request.get_ref();
        let (cache, topic) = names(&r.cache_name, &r.topic)?;
        let permit = verified.scope.authorize(&Operation::topic(
            kind(classified(&request))?,
            cache,
            topic,
        ))?;
        let kind = r.value.as_ref().and_then(|v| v.kind.as_ref());
        let kind = kind.ok_or_else(|| ApiError::invalid("a value to publish is required"))?;
        // Sized before it is copied.
        let max = self.app.limits.max_value_bytes;
        let len = match kind {
            topic_value::Kind::Text(text) => text.len(),
            topic_value::Kind::Binary(bytes) => bytes.len(),
        };
        if len > max {
            return Err(ApiError::too_large(max));
        }
        let value = match kind {
            topic_value::Kind::Text(text) => TopicValue::Text(text.clone()),
            topic_value::Kind::Binary(bytes) => TopicValue::Binary(bytes.clone().into()),
        };
        let publisher = verified.token_id.as_deref().unwrap_or("");
        self.app.backend.publish(&permit, value, publisher).await?;
        Ok(Empty {})
    }

    async fn subscribe(
        &self,
        request: Request<SubscriptionRequest>,
    ) -> Result<ItemStream, ApiError> {
        let verified = caller(&request)?;
        let r = request.get_ref();
        let (cache, topic) = names(&r.cache_name, &r.topic)?;
        let op = Operation::topic(kind(classified(&request))?, cache, topic);
        let permit = verified.scope.authorize(&op)?;
        let resume = (r.resume_at_topic_sequence_number != 0).then_some(Resume {
            sequence: r.resume_at_topic_sequence_number,
            page: r.sequence_page,
        });
        let subscription = self.app.backend.subscribe(&permit, resume).await?;
        let (tx, rx) = mpsc::channel(BUFFER);
        // SPEC 6: the first message of every stream is a heartbeat, sent at
        // once (the Node, Python and Web SDKs wait for it). The channel is
        // new and empty, so this cannot fail.
        let _ = tx.try_send(Ok(item(&TopicEvent::Heartbeat)));
        tokio::spawn(feed(Arc::clone(&self.app), verified, subscription, tx));
        Ok(Box::pin(ReceiverStream::new(rx)) as ItemStream)
    }
}

#[tonic::async_trait]
impl Pubsub for PubsubFront {
    type SubscribeStream = ItemStream;

    rpcs! {
        publish(PublishRequest) -> Empty;
        subscribe(SubscriptionRequest) -> Self::SubscribeStream;
    }
}

/// Moves events from the subscription to the client until one side ends.
///
/// The credential is checked before every delivery (cheap: a clock compare
/// and an atomic load), and while the client is not reading, the wait for room
/// in the channel races the periodic re-check and the drain, so a stalled
/// client cannot keep its stream past its credential.
async fn feed(
    app: Arc<App>,
    verified: Arc<Verified>,
    mut subscription: impl TopicSubscription,
    tx: mpsc::Sender<Result<SubscriptionItem, Status>>,
) {
    let _open = app.metrics.subscription();
    let mut recheck = tokio::time::interval(RECHECK);
    let drained = app.drained();
    tokio::pin!(drained);
    let end = 'stream: loop {
        let events = tokio::select! {
            biased;
            _ = &mut drained => break Status::unavailable("the server is shutting down"),
            _ = recheck.tick() => match app.auth.recheck(&verified) {
                Ok(()) => continue,
                Err(e) => break ApiError::from(e).grpc_status(),
            },
            _ = tx.closed() => return,
            events = subscription.next(BUFFER) => match events {
                Ok(events) => events,
                Err(e) => break ApiError::from(e).grpc_status(),
            },
        };
        for event in &events {
            if let Err(e) = app.auth.recheck(&verified) {
                break 'stream ApiError::from(e).grpc_status();
            }
            let slot = tokio::select! {
                biased;
                _ = &mut drained => break 'stream Status::unavailable("the server is shutting down"),
                _ = async {
                    loop {
                        recheck.tick().await;
                        if app.auth.recheck(&verified).is_err() {
                            return;
                        }
                    }
                } => continue 'stream,
                slot = tx.reserve() => slot,
            };
            match slot {
                Ok(slot) => slot.send(Ok(item(event))),
                Err(_) => return, // the client went away
            }
        }
    };
    // Best effort: a client that is not reading gets the end of the stream.
    let _ = tx.try_send(Err(end));
}

fn item(event: &TopicEvent) -> SubscriptionItem {
    use subscription_item::Kind;
    let kind = match event {
        TopicEvent::Item(m) => Kind::Item(TopicItem {
            topic_sequence_number: m.sequence,
            value: Some(momento_protos::cache_client::pubsub::TopicValue {
                kind: Some(match &m.value {
                    TopicValue::Text(text) => topic_value::Kind::Text(text.clone()),
                    TopicValue::Binary(bytes) => topic_value::Kind::Binary(bytes.to_vec()),
                }),
            }),
            publisher_id: m.publisher_id.to_string(),
            sequence_page: m.page,
        }),
        TopicEvent::Discontinuity {
            last_sequence,
            new_sequence,
            new_page,
        } => Kind::Discontinuity(Discontinuity {
            last_topic_sequence: *last_sequence,
            new_topic_sequence: *new_sequence,
            new_sequence_page: *new_page,
        }),
        TopicEvent::Heartbeat => Kind::Heartbeat(Heartbeat {}),
    };
    SubscriptionItem { kind: Some(kind) }
}
