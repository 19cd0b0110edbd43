//! Subscription heartbeats, timed (SPEC 6), over real gRPC on both backends.
//! Alone in this binary, so no other test competes for the CPU while the
//! first-message latency is measured.

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

/// SPEC 6: the first message is a heartbeat, at once; idle heartbeats keep
/// coming every `heartbeat` although the stream re-checks its credential
/// every 250 ms (which once restarted the idle clock forever).
#[tokio::test]
async fn a_subscription_opens_with_a_heartbeat_and_gets_idle_ones_on_time() {
    let heartbeat = Duration::from_millis(1000);
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
    let mut stream = client
        .subscribe(call(subscription("quiet"), Some(&token), None))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    let first_after = asked.elapsed();
    assert!(is_heartbeat(&first), "{first:?}");
    assert!(
        first_after < Duration::from_millis(100),
        "the first heartbeat took {first_after:?}"
    );
    for n in 1..=2 {
        let waited = Instant::now();
        let next = tokio::time::timeout(heartbeat + Duration::from_secs(1), stream.message())
            .await
            .unwrap_or_else(|_| panic!("idle heartbeat {n} did not come within heartbeat + 1 s"))
            .unwrap()
            .unwrap();
        assert!(is_heartbeat(&next), "{next:?}");
        // Not early either: the idle clock counts from the last message.
        assert!(
            waited.elapsed() >= heartbeat - Duration::from_millis(150),
            "heartbeat {n} after {:?}",
            waited.elapsed()
        );
    }
}
