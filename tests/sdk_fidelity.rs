//! What Momento's SDKs rely on beyond the happy path (issue: Node and Python
//! SDK fidelity), over real gRPC on both backends: v2 API keys (`t` = "g"),
//! the `err` metadata of limits, Ping, and RPCs outside the table, empty keys.
//! (The heartbeat timings are in `heartbeat.rs`, alone in their binary.)

#[macro_use]
mod support;

use std::time::Duration;

use momento_protos::cache_client::scs_client::ScsClient;
use momento_protos::cache_client::{GetRequest, SetRequest};
use support::grpc_call as call;
use support::server::{Server, start};
use tonic::Code;
use tonic::transport::Channel;

const CACHE: &str = "default-cache";
const SUBSCRIBER: &str =
    r#"{"permissions":[{"role":"subscribeonly","cache":"default-cache","topic":"*"}]}"#;

fn jwt(envelope: &str) -> String {
    scopegate::token::unwrap_envelope(envelope)
        .unwrap()
        .into_owned()
}

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

both_backends! {
/// SPEC 2.1: API keys carry `t` = "g", so the SDKs' current providers load
/// them (here the Rust SDK's `from_api_key_v2`, bare JWT plus endpoint);
/// minted disposable tokens keep `t` = "disposable".
#[tokio::test]
async fn api_keys_are_v2_keys_the_sdks_load() {
    use momento::cache::configurations;
    use momento::{CacheClient, CredentialProvider};
    let s = start(|_| {}).await;
    let claims = |envelope: &str| -> serde_json::Value {
        use base64::Engine;
        let jwt = jwt(envelope);
        let payload = jwt.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(claims(&s.superuser)["t"], "g");
    let disposable = s.mint(SUBSCRIBER, true, Some(60));
    assert_eq!(claims(&disposable)["t"], "disposable");
    let provider = CredentialProvider::from_api_key_v2(jwt(&s.superuser), "localhost")
        .expect("the SDK's v2 provider takes scopegate's API key")
        .insecure_endpoint_override(&format!("http://{}", s.addr));
    let cache = CacheClient::builder()
        .default_ttl(Duration::from_secs(60))
        .configuration(configurations::Laptop::latest())
        .credential_provider(provider)
        .build()
        .unwrap();
    cache.set(CACHE, "v2", "works").await.unwrap();
    let value: String = cache.get(CACHE, "v2").await.unwrap().try_into().unwrap();
    assert_eq!(value, "works");
}
}

both_backends! {
/// SPEC 4: an oversized value is RESOURCE_EXHAUSTED with `err` =
/// `item_size_limit_exceeded` and "item size" in the message, whether the
/// handler sees it (a value just over the limit) or the framing does (a
/// message over the gRPC cap, refused before it is read).
#[tokio::test]
async fn oversized_values_name_the_item_size_limit() {
    let s = start(|c| c.server.max_value_bytes = 1024).await;
    let su = jwt(&s.superuser);
    let mut c = ScsClient::new(channel(&s).await);
    for size in [1025, 200 * 1024] {
        let request = SetRequest {
            cache_key: b"big".to_vec(),
            cache_body: vec![7; size],
            ttl_milliseconds: 60_000,
        };
        let status = c
            .set(call(request, Some(&su), Some(CACHE)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{size}: {status:?}");
        assert_eq!(
            status.metadata().get("err").map(|v| v.to_str().unwrap()),
            Some("item_size_limit_exceeded"),
            "{size}"
        );
        assert!(status.message().contains("item size"), "{status:?}");
    }
    // A batch over the message cap is over the request limit, not an item's.
    // 84 values of 1000 bytes: each under the limit, together over the cap.
    let items = (0..84)
        .map(|i| SetRequest {
            cache_key: format!("k{i}").into_bytes(),
            cache_body: vec![7; 1000],
            ttl_milliseconds: 60_000,
        })
        .collect();
    let batch = momento_protos::cache_client::SetBatchRequest { items };
    let status = c
        .set_batch(call(batch, Some(&su), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.metadata().get("err").map(|v| v.to_str().unwrap()),
        Some("request_size_limit_exceeded")
    );
    assert!(status.message().contains("request limit"), "{status:?}");
}
}

/// A raw unary call (no generated client exists for Ping or unknown RPCs).
async fn raw_unary(s: &Server, path: &str, credential: Option<&str>) -> (String, Vec<u8>) {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    let mut sender = support::server::h2(s.addr).await;
    let mut request = http::Request::post(format!("http://{}{path}", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(credential) = credential {
        request = request.header("authorization", credential);
    }
    // One empty message.
    let request = request
        .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let headers = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let status = headers
        .get("grpc-status")
        .or(trailers.get("grpc-status"))
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("a grpc-status");
    (status, collected.to_bytes().to_vec())
}

both_backends! {
/// SPEC 3.4: `cache_client.Ping/Ping` answers any valid credential (the Go
/// SDK's health check); an RPC outside the table is UNIMPLEMENTED after
/// authentication, and UNAUTHENTICATED without a valid credential.
#[tokio::test]
async fn ping_and_rpcs_outside_the_table() {
    let s = start(|_| {}).await;
    let fine_grained = jwt(&s.mint(SUBSCRIBER, true, Some(60)));
    let (status, body) = raw_unary(&s, "/cache_client.Ping/Ping", Some(&fine_grained)).await;
    assert_eq!(status, "0");
    assert_eq!(body, [0, 0, 0, 0, 0], "one empty PingResponse");
    for credential in [None, Some("garbage")] {
        let (status, _) = raw_unary(&s, "/cache_client.Ping/Ping", credential).await;
        assert_eq!(status, "16", "{credential:?}");
        let (status, _) = raw_unary(&s, "/leaderboard.Leaderboard/GetRank", credential).await;
        assert_eq!(status, "16", "{credential:?}");
    }
    for path in [
        "/leaderboard.Leaderboard/GetRank",
        "/cache_client.Scs/NoSuchMethod",
    ] {
        let (status, _) = raw_unary(&s, path, Some(&fine_grained)).await;
        assert_eq!(status, "12", "{path}");
    }
    let metrics = s.metrics().await;
    assert!(metrics.contains(r#"kind="Ping""#), "Ping is counted");
}
}

both_backends! {
/// SPEC 4: NOT_FOUND only ever means a missing cache; a missing item is a miss.
#[tokio::test]
async fn not_found_is_only_a_missing_cache() {
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let mut c = ScsClient::new(channel(&s).await);
    let miss = c
        .get(call(
            GetRequest {
                cache_key: b"nothing".to_vec(),
            },
            Some(&su),
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        miss.result,
        momento_protos::cache_client::ECacheResult::Miss as i32
    );
    let missing = c
        .get(call(
            GetRequest {
                cache_key: b"k".to_vec(),
            },
            Some(&su),
            Some("no-such-cache"),
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.metadata().get("err").is_none());
}
}

both_backends! {
/// An empty key is INVALID_ARGUMENT for every keyed RPC (the Node and Python
/// SDKs send it as it is), after authorization like every other validation.
#[tokio::test]
async fn an_empty_key_is_invalid_argument() {
    fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Code {
        result.unwrap_err().code()
    }
    use momento_protos::cache_client::{DeleteRequest, KeysExistRequest};
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let scoped = jwt(&s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"u/"}}]}"#,
        true,
        Some(60),
    ));
    let mut c = ScsClient::new(channel(&s).await);
    let get = || GetRequest { cache_key: vec![] };
    assert_eq!(
        code(c.get(call(get(), Some(&su), Some(CACHE))).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(c.get(call(get(), Some(&scoped), Some(CACHE))).await),
        Code::PermissionDenied,
        "authorization first"
    );
    let set = SetRequest {
        cache_key: vec![],
        cache_body: b"v".to_vec(),
        ttl_milliseconds: 1000,
    };
    assert_eq!(
        code(c.set(call(set, Some(&su), Some(CACHE))).await),
        Code::InvalidArgument
    );
    let delete = DeleteRequest { cache_key: vec![] };
    assert_eq!(
        code(c.delete(call(delete, Some(&su), Some(CACHE))).await),
        Code::InvalidArgument
    );
    let exist = KeysExistRequest {
        cache_keys: vec![b"a".to_vec(), vec![]],
    };
    assert_eq!(
        code(c.keys_exist(call(exist, Some(&su), Some(CACHE))).await),
        Code::InvalidArgument
    );
}
}
