//! Subscription heartbeats, timed (SPEC 6), over real gRPC on both backends.

#[macro_use]
mod support;

use std::time::{Duration, Instant};

use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_protos::cache_client::pubsub::{SubscriptionRequest, subscription_item};
use support::grpc_call as call;
use support::server::start;
use tonic::transport::Channel;

const CACHE: &str = "default-cache";
const SUBSCRIBER: &str =
    r#"{"permissions":[{"role":"subscribeonly","cache":"default-cache","topic":"*"}]}"#;

fn subscription(topic: &str) -> SubscriptionRequest {
    SubscriptionRequest {
        cache_name: CACHE.into(),
        topic: topic.into(),
        resume_at_topic_sequence_number: 0,
        sequence_page: 0,
    }
}

fn is_heartbeat(item: &momento_protos::cache_client::pubsub::SubscriptionItem) -> bool {
    matches!(item.kind, Some(subscription_item::Kind::Heartbeat(_)))
}

async fn subscribe(
    heartbeat: Duration,
) -> (
    support::server::Server,
    tonic::Streaming<momento_protos::cache_client::pubsub::SubscriptionItem>,
    Instant,
) {
    let s = start(|c| c.backend.heartbeat = heartbeat).await;
    let token = scopegate::token::unwrap_envelope(&s.mint(SUBSCRIBER, true, Some(600)))
        .unwrap()
        .into_owned();
    let channel = Channel::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = PubsubClient::new(channel);
    let asked = Instant::now();
    let stream = client
        .subscribe(call(subscription("quiet"), Some(&token), None))
        .await
        .unwrap()
        .into_inner();
    (s, stream, asked)
}

both_backends! {
/// SPEC 6: the first message is a heartbeat, at once. The idle heartbeat is a
/// minute away, so a heartbeat within seconds can only be the first one (the
/// bound is loose on purpose: a busy CI machine is slow, never early).
#[tokio::test]
async fn a_subscription_opens_with_a_heartbeat_at_once() {
    let (_s, mut stream, asked) = subscribe(Duration::from_secs(60)).await;
    let first = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the first heartbeat did not come at once")
        .unwrap()
        .unwrap();
    assert!(is_heartbeat(&first), "{first:?}");
    assert!(asked.elapsed() < Duration::from_secs(10));
}
}

both_backends! {
/// Idle heartbeats keep coming every `heartbeat` although the stream
/// re-checks its credential every 250 ms (which once restarted the idle clock
/// forever, so none ever came). The n-th idle heartbeat is never early: it
/// comes no sooner than n heartbeats after the subscription was asked for.
#[tokio::test]
async fn idle_heartbeats_come_every_heartbeat_despite_the_recheck() {
    let heartbeat = Duration::from_millis(1000);
    let (_s, mut stream, asked) = subscribe(heartbeat).await;
    let first = stream.message().await.unwrap().unwrap();
    assert!(is_heartbeat(&first), "{first:?}");
    for n in 1..=3u32 {
        let next = tokio::time::timeout(Duration::from_secs(15), stream.message())
            .await
            .unwrap_or_else(|_| panic!("idle heartbeat {n} never came"))
            .unwrap()
            .unwrap();
        assert!(is_heartbeat(&next), "{next:?}");
        assert!(
            asked.elapsed() >= heartbeat * n,
            "idle heartbeat {n} came early, {:?} after subscribing",
            asked.elapsed()
        );
    }
}
}
