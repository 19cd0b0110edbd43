//! What one connection may hold, measured: request bytes in flight (finding 1
//! of the attack probe: 100 half-sent 5 MB streams once took 500 MB) and
//! connection slots held by idle peers (finding 6). Alone in this binary, and
//! run one at a time, so the RSS reading is this test's own.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use support::server::{Server, start};

const CACHE: &str = "default-cache";
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A lazily produced request body.
type LazyBody =
    StreamBody<futures::stream::BoxStream<'static, Result<Frame<Bytes>, std::convert::Infallible>>>;
type Sender = hyper::client::conn::http2::SendRequest<LazyBody>;

async fn h2(s: &Server) -> (Sender, tokio::task::JoinHandle<()>) {
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    (sender, task)
}

static ZEROS: [u8; 16 * 1024] = [0; 16 * 1024];

/// A Set that declares a `len`-byte message and sends all of it but the last
/// 1000 bytes, lazily (the client holds 16 KiB at a time), then stalls.
fn half_sent_set(s: &Server, credential: Option<&str>, len: u32) -> http::Request<LazyBody> {
    let mut prefix = vec![0u8];
    prefix.extend_from_slice(&len.to_be_bytes());
    let chunks = (len as usize - 1000) / ZEROS.len();
    let body = futures::stream::iter(
        std::iter::once(Bytes::from(prefix))
            .chain(std::iter::repeat_n(Bytes::from_static(&ZEROS), chunks))
            .map(|b| Ok(Frame::data(b))),
    )
    .chain(futures::stream::pending())
    .boxed();
    let mut request = http::Request::post(format!("http://{}/cache_client.Scs/Set", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("cache", CACHE);
    if let Some(credential) = credential {
        request = request.header("authorization", credential);
    }
    request.body(StreamBody::new(body)).unwrap()
}

fn grpc_status(response: &http::Response<hyper::body::Incoming>) -> Option<String> {
    response
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// 40 unauthenticated and 40 authenticated half-sent 4 MB messages on one
/// connection: the first are answered from their heads, the second wait for
/// the connection's budget (two messages), so the gateway holds about 10 MB
/// instead of 320 MB; when the request timeout ends them, the budget is
/// whole again and the connection serves the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_holds_a_bounded_number_of_request_bytes() {
    let _alone = ONE_AT_A_TIME.lock().await;
    const LEN: u32 = 4 * 1024 * 1024;
    let s = start(|c| {
        c.server.max_value_bytes = LEN as usize;
        c.server.request_timeout = Duration::from_secs(4);
    })
    .await;
    let su = scopegate::token::unwrap_envelope(&s.superuser)
        .unwrap()
        .into_owned();
    let (sender, _conn) = h2(&s).await;
    let baseline = rss_bytes();
    let refused: Vec<_> = (0..40)
        .map(|_| {
            let mut sender = sender.clone();
            let request = half_sent_set(&s, None, LEN);
            tokio::spawn(async move { sender.send_request(request).await })
        })
        .collect();
    for task in refused {
        let response = tokio::time::timeout(Duration::from_secs(3), task)
            .await
            .expect("answered from the head")
            .unwrap()
            .unwrap();
        assert_eq!(grpc_status(&response).as_deref(), Some("16"));
    }
    let started = Instant::now();
    let waiting: Vec<_> = (0..40)
        .map(|_| {
            let mut sender = sender.clone();
            let request = half_sent_set(&s, Some(&su), LEN);
            tokio::spawn(async move { sender.send_request(request).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let grown = rss_bytes().saturating_sub(baseline);
    assert!(
        grown < 48 * 1024 * 1024,
        "RSS grew by {} MB with 40 half-sent 4 MB messages on one connection",
        grown / (1024 * 1024)
    );
    eprintln!(
        "RSS growth with 80 half-sent 4 MB streams: {} KB",
        grown / 1024
    );
    for task in waiting {
        let response = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("every stalled request ends")
            .unwrap()
            .unwrap();
        let status = match grpc_status(&response) {
            Some(status) => status,
            None => {
                let collected = response.into_body().collect().await.unwrap();
                let trailers = collected.trailers().cloned().unwrap_or_default();
                trailers["grpc-status"].to_str().unwrap().to_owned()
            }
        };
        assert_eq!(status, "4", "DEADLINE_EXCEEDED at request_timeout");
    }
    assert!(started.elapsed() < Duration::from_secs(9));
    // A client slow to send its request timed out: that is not the backend failing.
    let metrics = s.metrics().await;
    assert!(
        metrics
            .contains(r#"scopegate_requests_total{front="grpc",kind="Set",outcome="timeout"} 40"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains("scopegate_backend_errors_total{"),
        "{metrics}"
    );
    // The budget came back whole: a full-size Set on the same connection works.
    let value = vec![1u8; LEN as usize - 100];
    let set = momento_protos::cache_client::SetRequest {
        cache_key: b"k".to_vec(),
        cache_body: value,
        ttl_milliseconds: 60_000,
    };
    let mut body = vec![0u8];
    let encoded = prost::Message::encode_to_vec(&set);
    body.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
    body.extend_from_slice(&encoded);
    let request = http::Request::post(format!("http://{}/cache_client.Scs/Set", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("cache", CACHE)
        .header("authorization", &su)
        .body(StreamBody::new(
            futures::stream::iter([Ok(Frame::data(Bytes::from(body)))]).boxed(),
        ))
        .unwrap();
    let response = sender.clone().send_request(request).await.unwrap();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    assert_eq!(trailers["grpc-status"], "0");
}

/// Idle connections (HTTP/2 peers that answer pings but open no stream) are
/// shut down with GOAWAY after `server.idle_timeout`, so they cannot hold
/// every slot; a connection with an open subscription is not idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_give_their_slots_back() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let s = start(|c| {
        c.server.max_connections = 4;
        c.server.idle_timeout = Duration::from_secs(1);
        c.backend.heartbeat = Duration::from_millis(300);
    })
    .await;
    // A subscriber: busy, so kept past the idle timeout.
    let token = scopegate::token::unwrap_envelope(&s.superuser)
        .unwrap()
        .into_owned();
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut pubsub =
        momento_protos::cache_client::pubsub::pubsub_client::PubsubClient::new(channel);
    let mut stream = pubsub
        .subscribe(support::grpc_call(
            momento_protos::cache_client::pubsub::SubscriptionRequest {
                cache_name: CACHE.into(),
                topic: "t".into(),
                resume_at_topic_sequence_number: 0,
                sequence_page: 0,
            },
            Some(&token),
            None,
        ))
        .await
        .unwrap()
        .into_inner();
    // Three idle peers fill the remaining slots.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(h2(&s).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.app.metrics.open_connections(), 4);
    let started = Instant::now();
    for (_sender, conn) in idle {
        tokio::time::timeout(Duration::from_secs(4), conn)
            .await
            .expect("an idle connection is closed after idle_timeout")
            .unwrap();
    }
    let closed_after = started.elapsed();
    assert!(
        closed_after >= Duration::from_millis(700),
        "closed too early: {closed_after:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.app.metrics.open_connections(), 1, "only the subscriber");
    // The subscriber is still served (heartbeats), past the idle timeout.
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let item = tokio::time::timeout(Duration::from_secs(2), stream.message())
            .await
            .expect("heartbeats keep coming")
            .unwrap();
        assert!(item.is_some());
    }
    // A new client gets a slot and is served.
    let reply = s
        .get("/cache/default-cache?key=k", Some(&s.superuser))
        .await;
    assert_eq!(reply.status, 404);
}
