//! gRPC-Web (SPEC 11) on the main port, over HTTP/1.1 and HTTP/2, in text
//! and binary mode, through the same classification, authentication and
//! authorization as gRPC; CORS for listed origins only. (The Web SDK itself
//! runs in headless Chromium in `tests/browser/`.)

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use momento_protos::cache_client::pubsub::{
    PublishRequest, SubscriptionItem, SubscriptionRequest, TopicValue, subscription_item,
    topic_value,
};
use momento_protos::cache_client::{ECacheResult, GetRequest, GetResponse, SetRequest};
use prost::Message;
use support::server::{Server, start};

const CACHE: &str = "default-cache";
const ORIGIN: &str = "http://app.example.test";
const SCOPED: &str = r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"u/"}},{"role":"publishsubscribe","cache":"default-cache","topic":{"prefix":"chat-"}}]}"#;

fn jwt(envelope: &str) -> String {
    scopegate::token::unwrap_envelope(envelope)
        .unwrap()
        .into_owned()
}

fn frame(message: &impl Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let mut out = vec![0u8];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    out
}

/// A gRPC-Web response, decoded: its messages and its status (from the
/// trailers frame, or the headers of a trailers-only answer).
#[derive(Debug)]
struct WebReply {
    headers: http::HeaderMap,
    messages: Vec<Vec<u8>>,
    status: Option<String>,
}

/// Text mode (asked for with `accept`) concatenates padded base64 chunks;
/// each 4-character group decodes on its own.
fn decode_text(body: &[u8]) -> Vec<u8> {
    body.chunks(4)
        .flat_map(|group| STANDARD.decode(group).expect("base64 groups"))
        .collect()
}

fn parse_frames(headers: http::HeaderMap, mut bytes: &[u8]) -> WebReply {
    let mut messages = Vec::new();
    let mut status = headers
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    while bytes.len() >= 5 {
        let flag = bytes[0];
        let len = u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;
        let payload = &bytes[5..5 + len];
        if flag & 0x80 != 0 {
            let text = String::from_utf8_lossy(payload);
            status = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("grpc-status:"))
                .map(|s| s.trim().to_owned());
        } else {
            messages.push(payload.to_vec());
        }
        bytes = &bytes[5 + len..];
    }
    WebReply {
        headers,
        messages,
        status,
    }
}

/// One unary gRPC-Web call over HTTP/1.1 (`text`: base64 mode).
async fn call_h1(
    s: &Server,
    path: &str,
    credential: Option<&str>,
    body: Vec<u8>,
    text: bool,
) -> WebReply {
    let mut sender = support::server::h1(s.addr).await;
    let (content_type, body) = if text {
        (
            "application/grpc-web-text",
            STANDARD.encode(body).into_bytes(),
        )
    } else {
        ("application/grpc-web+proto", body)
    };
    let mut request = http::Request::post(format!("http://{}{path}", s.addr))
        .header("host", "web.cache.localhost")
        .header("content-type", content_type)
        .header("accept", content_type)
        .header("x-grpc-web", "1")
        .header("origin", ORIGIN)
        .header("cache", CACHE);
    if let Some(credential) = credential {
        request = request.header("authorization", credential);
    }
    let request = request.body(Full::new(Bytes::from(body))).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .expect("no hang")
        .unwrap();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let bytes = if text {
        decode_text(&bytes)
    } else {
        bytes.to_vec()
    };
    parse_frames(headers, &bytes)
}

fn get(key: &str) -> Vec<u8> {
    frame(&GetRequest {
        cache_key: key.as_bytes().to_vec(),
    })
}

#[tokio::test]
async fn text_and_binary_modes_take_the_same_path_as_grpc() {
    let s = start(|c| c.cors_origins = vec![ORIGIN.into()]).await;
    let token = jwt(&s.mint(SCOPED, true, Some(600)));
    let set = frame(&SetRequest {
        cache_key: b"u/1".to_vec(),
        cache_body: b"hello".to_vec(),
        ttl_milliseconds: 60_000,
    });
    for text in [true, false] {
        let stored = call_h1(&s, "/cache_client.Scs/Set", Some(&token), set.clone(), text).await;
        assert_eq!(stored.status.as_deref(), Some("0"), "{stored:?}");
        let content_type = stored.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("application/grpc-web"),
            "{content_type}"
        );
        // CORS for the listed origin, with the status headers exposed.
        assert_eq!(stored.headers["access-control-allow-origin"], ORIGIN);
        assert!(
            stored.headers["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("grpc-status")
        );
        let hit = call_h1(&s, "/cache_client.Scs/Get", Some(&token), get("u/1"), text).await;
        assert_eq!(hit.status.as_deref(), Some("0"));
        let response = GetResponse::decode(hit.messages[0].as_slice()).unwrap();
        assert_eq!(response.result, ECacheResult::Hit as i32);
        assert_eq!(response.cache_body, b"hello");
        // The same denials as gRPC.
        let denied = call_h1(&s, "/cache_client.Scs/Get", Some(&token), get("v/1"), text).await;
        assert_eq!(denied.status.as_deref(), Some("7"), "PERMISSION_DENIED");
        let nobody = call_h1(&s, "/cache_client.Scs/Get", None, get("u/1"), text).await;
        assert_eq!(nobody.status.as_deref(), Some("16"), "UNAUTHENTICATED");
        let unknown = call_h1(&s, "/cache_client.Scs/Nope", Some(&token), get("u/1"), text).await;
        assert_eq!(unknown.status.as_deref(), Some("12"), "UNIMPLEMENTED");
    }
}

#[tokio::test]
async fn grpc_web_over_http2_works_too() {
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let mut sender = support::server::h2(s.addr).await;
    let request = http::Request::post(format!("http://{}/cache_client.Scs/Get", s.addr))
        .header("content-type", "application/grpc-web+proto")
        .header("authorization", su)
        .header("cache", CACHE)
        .body(Full::new(Bytes::from(get("missing"))))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let reply = parse_frames(headers, &bytes);
    assert_eq!(reply.status.as_deref(), Some("0"));
    let response = GetResponse::decode(reply.messages[0].as_slice()).unwrap();
    assert_eq!(response.result, ECacheResult::Miss as i32);
}

/// A subscription over HTTP/1.1 in text mode: each message is flushed as it
/// comes (the first heartbeat at once), as the Web SDK needs.
#[tokio::test]
async fn a_text_mode_subscription_streams_over_http1() {
    // The idle heartbeat is a minute away: a heartbeat within seconds is the first.
    let s = start(|c| c.backend.heartbeat = Duration::from_secs(60)).await;
    let token = jwt(&s.mint(SCOPED, true, Some(600)));
    let mut sender = support::server::h1(s.addr).await;
    let subscribe = frame(&SubscriptionRequest {
        cache_name: CACHE.into(),
        topic: "chat-1".into(),
        resume_at_topic_sequence_number: 0,
        sequence_page: 0,
    });
    let request = http::Request::post(format!(
        "http://{}/cache_client.pubsub.Pubsub/Subscribe",
        s.addr
    ))
    .header("content-type", "application/grpc-web-text")
    .header("accept", "application/grpc-web-text")
    .header("authorization", &token)
    .body(Full::new(Bytes::from(STANDARD.encode(subscribe))))
    .unwrap();
    let asked = Instant::now();
    let response = sender.send_request(request).await.unwrap();
    let mut body = response.into_body();
    let mut text = Vec::new();
    let mut items: Vec<SubscriptionItem> = Vec::new();
    let mut next_item = async || -> SubscriptionItem {
        loop {
            let decoded = decode_text(&text[..text.len() - text.len() % 4]);
            let reply = parse_frames(http::HeaderMap::new(), &decoded);
            if reply.messages.len() > items.len() {
                let item =
                    SubscriptionItem::decode(reply.messages[items.len()].as_slice()).unwrap();
                items.push(item.clone());
                return item;
            }
            let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
                .await
                .expect("a message within 5 s")
                .unwrap()
                .unwrap();
            text.extend_from_slice(&frame.into_data().unwrap());
        }
    };
    let first = next_item().await;
    assert!(matches!(
        first.kind,
        Some(subscription_item::Kind::Heartbeat(_))
    ));
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    // Publish over native gRPC; the browser-side stream receives it.
    let mut publisher = momento_protos::cache_client::pubsub::pubsub_client::PubsubClient::connect(
        format!("http://{}", s.addr),
    )
    .await
    .unwrap();
    publisher
        .publish(support::grpc_call(
            PublishRequest {
                cache_name: CACHE.into(),
                topic: "chat-1".into(),
                value: Some(TopicValue {
                    kind: Some(topic_value::Kind::Text("hi".into())),
                }),
            },
            Some(&token),
            None,
        ))
        .await
        .unwrap();
    let item = loop {
        match next_item().await.kind {
            Some(subscription_item::Kind::Item(item)) => break item,
            _ => continue,
        }
    };
    assert_eq!(item.topic_sequence_number, 1);
}

#[tokio::test]
async fn preflights_answer_listed_origins_only() {
    let s = start(|c| c.cors_origins = vec![ORIGIN.into()]).await;
    let preflight = |origin: &'static str| {
        let addr = s.addr;
        async move {
            support::server::send(
                addr,
                "OPTIONS",
                "/cache_client.Scs/Get",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "authorization,cache,content-type,x-grpc-web",
                    ),
                ],
                Bytes::new(),
            )
            .await
        }
    };
    let allowed = preflight(ORIGIN).await;
    assert_eq!(allowed.status, 204);
    assert_eq!(allowed.headers["access-control-allow-origin"], ORIGIN);
    // Each once: the preflight's own, not decorated again.
    for name in ["access-control-allow-origin", "vary"] {
        let values: Vec<_> = allowed.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
    }
    let headers = allowed.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for needed in [
        "authorization",
        "cache",
        "content-type",
        "x-grpc-web",
        "grpc-timeout",
    ] {
        assert!(headers.contains(needed), "{needed} in {headers}");
    }
    assert!(
        allowed.headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let other = preflight("http://evil.example.test").await;
    assert!(
        other
            .headers
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        other.headers
    );
    // The vending route gets the same preflight.
    let vend = support::server::send(
        s.addr,
        "OPTIONS",
        "/vend",
        &[("origin", ORIGIN), ("access-control-request-method", "GET")],
        Bytes::new(),
    )
    .await;
    assert_eq!(vend.headers["access-control-allow-origin"], ORIGIN);
}

/// Bad gRPC-Web input: each its own clear status, nothing buffered unbounded.
#[tokio::test]
async fn malformed_grpc_web_is_refused_clearly() {
    let s = start(|c| c.server.max_value_bytes = 1024).await;
    let su = jwt(&s.superuser);
    let raw = |body: &'static [u8]| {
        let (addr, su) = (s.addr, su.clone());
        async move {
            let mut sender = support::server::h1(addr).await;
            let request = http::Request::post(format!("http://{addr}/cache_client.Scs/Get"))
                .header("content-type", "application/grpc-web-text")
                .header("accept", "application/grpc-web-text")
                .header("authorization", su)
                .header("cache", CACHE)
                .body(Full::new(Bytes::from_static(body)))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            parse_frames(headers, &decode_text(&bytes)).status
        }
    };
    assert_eq!(raw(b"!!!!").await.as_deref(), Some("3"), "bad base64");
    // base64 of a prefix declaring a 16 MiB message.
    assert_eq!(raw(b"AAEAAAA=").await.as_deref(), Some("8"), "over the cap");
    // base64 of a prefix with flag byte 2.
    assert_eq!(raw(b"AgAAAAA=").await.as_deref(), Some("3"), "bad flag");
}
