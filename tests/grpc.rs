//! The gRPC front (`cache_client.Scs`) through a real gRPC client (tonic, the
//! generated `ScsClient` of momento-protos) over HTTP/2 on the shared port.

#[macro_use]
mod support;

use momento_protos::cache_client::scs_client::ScsClient;
use momento_protos::cache_client::*;
use support::server::{Server, start};
use tonic::transport::Channel;
use tonic::{Code, Request};

const CACHE: &str = "default-cache";

async fn client(server: &Server) -> ScsClient<Channel> {
    ScsClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap()
}

use support::grpc_call as call;

fn get(key: &str) -> GetRequest {
    GetRequest {
        cache_key: key.as_bytes().to_vec(),
    }
}

fn set(key: &str, value: &str) -> SetRequest {
    SetRequest {
        cache_key: key.as_bytes().to_vec(),
        cache_body: value.as_bytes().to_vec(),
        ttl_milliseconds: 60_000,
    }
}

/// The inner JWT of an envelope, as the SDKs send it.
fn jwt(envelope: &str) -> String {
    scopegate::token::unwrap_envelope(envelope)
        .unwrap()
        .into_owned()
}

both_backends! {
#[tokio::test]
async fn scalar_rpcs_in_scope() {
    let s = start(|_| {}).await;
    let token = jwt(&s.mint(r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"u/"}}]}"#, true, Some(600)));
    let mut c = client(&s).await;
    let t = Some(token.as_str());
    let set_result = c
        .set(call(set("u/1", "one"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set_result.result, ECacheResult::Ok as i32);
    let hit = c
        .get(call(get("u/1"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (hit.result, hit.cache_body.as_slice()),
        (ECacheResult::Hit as i32, &b"one"[..])
    );
    let miss = c
        .get(call(get("u/2"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(miss.result, ECacheResult::Miss as i32);
    let exists = c
        .keys_exist(call(
            KeysExistRequest {
                cache_keys: vec![b"u/1".to_vec(), b"u/2".to_vec()],
            },
            t,
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(exists.exists, [true, false]);
    c.delete(call(
        DeleteRequest {
            cache_key: b"u/1".to_vec(),
        },
        t,
        Some(CACHE),
    ))
    .await
    .unwrap();
    let gone = c
        .get(call(get("u/1"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gone.result, ECacheResult::Miss as i32);
    // The envelope is accepted in the metadata too, and the same item is seen over HTTP.
    let envelope = s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"default-cache"}]}"#,
        false,
        None,
    );
    c.set(call(set("shared", "both"), Some(&envelope), Some(CACHE)))
        .await
        .unwrap();
    let over_http = s
        .get("/cache/default-cache?key=shared", Some(&envelope))
        .await;
    assert_eq!(over_http.body.as_ref(), b"both");
}
}

both_backends! {
#[tokio::test]
async fn batches_are_all_of_and_never_half_written() {
    let s = start(|_| {}).await;
    let token = jwt(&s.mint(r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"u/"}}]}"#, true, Some(600)));
    let t = Some(token.as_str());
    let mut c = client(&s).await;
    let items = vec![set("u/1", "a"), set("u/2", "b")];
    let mut stream = c
        .set_batch(call(SetBatchRequest { items }, t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let mut count = 0;
    while let Some(response) = stream.message().await.unwrap() {
        assert_eq!(response.result, ECacheResult::Ok as i32);
        count += 1;
    }
    assert_eq!(count, 2);
    let gets = GetBatchRequest {
        items: vec![get("u/1"), get("u/3"), get("u/2")],
    };
    let mut stream = c
        .get_batch(call(gets, t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let mut results = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        results.push((r.result, String::from_utf8(r.cache_body).unwrap()));
    }
    let (hit, miss) = (ECacheResult::Hit as i32, ECacheResult::Miss as i32);
    assert_eq!(
        results,
        [(hit, "a".into()), (miss, String::new()), (hit, "b".into())]
    );
    // One key out of scope: the whole batch is refused and nothing is written.
    let items = vec![set("u/9", "x"), set("admin", "x")];
    let err = c
        .set_batch(call(SetBatchRequest { items }, t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let nine = c
        .get(call(get("u/9"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(nine.result, miss);
    let err = c
        .get_batch(call(
            GetBatchRequest {
                items: vec![get("u/1"), get("other")],
            },
            t,
            Some(CACHE),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}
}

both_backends! {
/// `server.max_keys_per_request` caps every batch: one key more is
/// INVALID_ARGUMENT before any key is authorized or reaches the backend
/// (nothing of an over-cap SetBatch is written); at the cap, batches answer
/// every key in order, although several lookups are in flight at once.
#[tokio::test]
async fn batches_are_capped_in_keys_and_answered_in_order() {
    const CAP: usize = 40;
    let s = start(|c| c.server.max_keys_per_request = CAP).await;
    let su = jwt(&s.superuser);
    let t = Some(su.as_str());
    let mut c = client(&s).await;
    let names: Vec<String> = (0..=CAP).map(|i| format!("k{i}")).collect();
    let over = |n: usize| names[..n].iter().map(|k| set(k, k)).collect::<Vec<_>>();
    let err = c
        .set_batch(call(
            SetBatchRequest {
                items: over(CAP + 1),
            },
            t,
            Some(CACHE),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("at most 40 keys"),
        "{}",
        err.message()
    );
    let first = c.get(call(get("k0"), t, Some(CACHE))).await.unwrap();
    assert_eq!(first.into_inner().result, ECacheResult::Miss as i32);
    let gets = |n: usize| GetBatchRequest {
        items: names[..n].iter().map(|k| get(k)).collect(),
    };
    let err = c
        .get_batch(call(gets(CAP + 1), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let keys = |n: usize| KeysExistRequest {
        cache_keys: names[..n].iter().map(|k| k.as_bytes().to_vec()).collect(),
    };
    let err = c
        .keys_exist(call(keys(CAP + 1), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // A fine-grained token over the cap hears the same (the cap comes first).
    let narrow = jwt(&s.mint(
        r#"{"permissions":[{"role":"readonly","cache":"default-cache","item":{"key":"k0"}}]}"#,
        true,
        Some(600),
    ));
    let err = c
        .keys_exist(call(keys(CAP + 1), Some(&narrow), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // At the cap: every other key is stored; answers come back in request order.
    let even: Vec<_> = names[..CAP].iter().step_by(2).map(|k| set(k, k)).collect();
    let mut stored = c
        .set_batch(call(SetBatchRequest { items: even }, t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    while stored.message().await.unwrap().is_some() {}
    let mut stream = c
        .get_batch(call(gets(CAP), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(r) = stream.message().await.unwrap() {
        got.push((r.result == ECacheResult::Hit as i32).then_some(r.cache_body));
    }
    let want: Vec<_> = (0..CAP)
        .map(|i| (i % 2 == 0).then(|| format!("k{i}").into_bytes()))
        .collect();
    assert_eq!(got, want);
    let exists = c
        .keys_exist(call(keys(CAP), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner()
        .exists;
    assert_eq!(exists, (0..CAP).map(|i| i % 2 == 0).collect::<Vec<_>>());
}
}

both_backends! {
#[tokio::test]
async fn every_failure_has_its_status() {
    let s = start(|c| c.server.max_value_bytes = 1024).await;
    let scoped = jwt(&s.mint(
        r#"{"permissions":[{"role":"readonly","cache":"default-cache","item":{"key":"k"}}]}"#,
        true,
        Some(600),
    ));
    let expired = jwt(&s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
        true,
        Some(1),
    ));
    let superuser = jwt(&s.superuser);
    let mut c = client(&s).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let t = Some(scoped.as_str());
    let cases: Vec<(&str, Request<GetRequest>, Code)> = vec![
        (
            "no credential",
            call(get("k"), None, Some(CACHE)),
            Code::Unauthenticated,
        ),
        (
            "garbage credential",
            call(get("k"), Some("garbage"), Some(CACHE)),
            Code::Unauthenticated,
        ),
        (
            "expired",
            call(get("k"), Some(&expired), Some(CACHE)),
            Code::Unauthenticated,
        ),
        (
            "wrong key",
            call(get("j"), t, Some(CACHE)),
            Code::PermissionDenied,
        ),
        (
            "wrong cache",
            call(get("k"), t, Some("other")),
            Code::PermissionDenied,
        ),
        (
            "no cache metadata",
            call(get("k"), t, None),
            Code::InvalidArgument,
        ),
        (
            "empty cache metadata",
            call(get("k"), t, Some("")),
            Code::InvalidArgument,
        ),
        (
            "missing cache",
            call(get("k"), Some(&superuser), Some("no-such-cache")),
            Code::NotFound,
        ),
    ];
    for (name, request, code) in cases {
        let status = c.get(request).await.unwrap_err();
        assert_eq!(status.code(), code, "{name}: {}", status.message());
        assert!(
            !status.message().contains("eyJ"),
            "{name}: the credential is echoed"
        );
    }
    let write = c
        .set(call(set("k", "v"), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(
        write.code(),
        Code::PermissionDenied,
        "write with a read-only token"
    );
    let ttl = SetRequest {
        ttl_milliseconds: 0,
        ..set("k", "v")
    };
    let zero = c
        .set(call(ttl, Some(&superuser), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(zero.code(), Code::InvalidArgument);
    let big = SetRequest {
        cache_body: vec![0; 1025],
        ..set("k", "v")
    };
    let big = c
        .set(call(big, Some(&superuser), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(big.code(), Code::ResourceExhausted);
    let huge = SetRequest {
        cache_body: vec![0; 2 * 1024 * 1024],
        ..set("k", "v")
    };
    let huge = c
        .set(call(huge, Some(&superuser), Some(CACHE)))
        .await
        .unwrap_err();
    assert!(
        matches!(huge.code(), Code::ResourceExhausted | Code::OutOfRange),
        "{huge:?}"
    );
    // Denials are counted by reason on the gRPC front too.
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"scopegate_denials_total{kind="Get",reason="key_not_granted"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(
        r#"scopegate_requests_total{front="grpc",kind="Get",outcome="unauthenticated"} 3"#
    ));
}
}

both_backends! {
#[tokio::test]
async fn collection_requests_are_capped_in_elements_and_element_size() {
    let s = start(|c| {
        c.server.max_keys_per_request = 3;
        c.server.max_value_bytes = 1024;
    })
    .await;
    let su = jwt(&s.superuser);
    let t = Some(su.as_str());
    let mut c = client(&s).await;
    let union = |elements: Vec<Vec<u8>>| SetUnionRequest {
        set_name: b"capped".to_vec(),
        elements,
        ttl_milliseconds: 60_000,
        refresh_ttl: true,
    };
    // More elements than server.max_keys_per_request: INVALID_ARGUMENT.
    let four = c
        .set_union(call(union(vec![b"a".to_vec(); 4]), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(four.code(), Code::InvalidArgument, "{four:?}");
    // One element over max_value_bytes: RESOURCE_EXHAUSTED, named by `err`.
    let big = c
        .set_union(call(union(vec![vec![b'x'; 1025]]), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(big.code(), Code::ResourceExhausted, "{big:?}");
    assert_eq!(
        big.metadata().get("err").map(|v| v.to_str().unwrap()),
        Some("element_size_limit_exceeded")
    );
    // Neither wrote anything; three small elements are within both caps.
    let fetch = || call(SetFetchRequest { set_name: b"capped".to_vec() }, t, Some(CACHE));
    let missing = c.set_fetch(fetch()).await.unwrap().into_inner();
    assert!(matches!(missing.set, Some(set_fetch_response::Set::Missing(_))));
    c.set_union(call(union(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]), t, Some(CACHE)))
        .await
        .unwrap();
    let found = c.set_fetch(fetch()).await.unwrap().into_inner();
    let Some(set_fetch_response::Set::Found(found)) = found.set else {
        panic!("{found:?}")
    };
    assert_eq!(found.elements.len(), 3);
}
}

both_backends! {
#[tokio::test]
async fn collection_rpcs_are_authorized_before_anything_else() {
    let s = start(|_| {}).await;
    let token = jwt(&s.mint(r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"d/"}}]}"#, true, Some(600)));
    let t = Some(token.as_str());
    let mut c = client(&s).await;
    let request = |name: &str| DictionaryFetchRequest {
        dictionary_name: name.as_bytes().to_vec(),
    };
    let out = c
        .dictionary_fetch(call(request("other"), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(out.code(), Code::PermissionDenied);
    let unauthenticated = c
        .dictionary_fetch(call(request("d/1"), None, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    let inside = c
        .dictionary_fetch(call(request("d/1"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        inside.dictionary,
        Some(dictionary_fetch_response::Dictionary::Missing(_))
    ));
    let increment = IncrementRequest {
        cache_key: b"x/1".to_vec(),
        amount: 1,
        ttl_milliseconds: 1000,
    };
    let out = c
        .increment(call(increment, t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(out.code(), Code::PermissionDenied);
    // SortedSetUnionStore: RW on the destination, R on every source.
    use momento_protos::cache_client::sorted_set_union_store_request::Source;
    let union = |dest: &str, source: &str| SortedSetUnionStoreRequest {
        set_name: dest.as_bytes().to_vec(),
        sources: vec![Source {
            set_name: source.as_bytes().to_vec(),
            weight: 1.0,
        }],
        ..Default::default()
    };
    let out = c
        .sorted_set_union_store(call(union("d/dest", "elsewhere"), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(out.code(), Code::PermissionDenied);
    // Validation comes after authorization: a TTL of 0 is refused only
    // to a caller whose scope covers the names.
    let inside = c
        .sorted_set_union_store(call(union("d/dest", "d/src"), t, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(inside.code(), Code::InvalidArgument);
    let stored = c
        .sorted_set_union_store(call(
            SortedSetUnionStoreRequest {
                ttl_milliseconds: 60_000,
                ..union("d/dest", "d/src")
            },
            t,
            Some(CACHE),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.length, 0, "the union of a missing source is empty");
}
}

mod pubsub {
    use super::*;
    use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
    use momento_protos::cache_client::pubsub::{
        PublishRequest, SubscriptionRequest, TopicValue, subscription_item, topic_value,
    };

    fn publish(topic: &str, text: &str) -> PublishRequest {
        PublishRequest {
            cache_name: CACHE.into(),
            topic: topic.into(),
            value: Some(TopicValue {
                kind: Some(topic_value::Kind::Text(text.into())),
            }),
        }
    }

    fn subscribe(topic: &str, resume: u64, page: u64) -> SubscriptionRequest {
        SubscriptionRequest {
            cache_name: CACHE.into(),
            topic: topic.into(),
            resume_at_topic_sequence_number: resume,
            sequence_page: page,
        }
    }

    async fn pubsub_client(server: &Server) -> PubsubClient<Channel> {
        PubsubClient::connect(format!("http://{}", server.addr))
            .await
            .unwrap()
    }

    both_backends! {
    #[tokio::test]
    async fn publish_subscribe_sequence_numbers_and_publisher_id() {
        let s = start(|_| {}).await;
        let token = jwt(&s.mint(r#"{"permissions":[{"role":"publishsubscribe","cache":"default-cache","topic":{"prefix":"chat-"}}]}"#, true, Some(600)));
        let t = Some(token.as_str());
        let mut c = pubsub_client(&s).await;
        let mut stream = c
            .subscribe(call(subscribe("chat-1", 0, 0), t, None))
            .await
            .unwrap()
            .into_inner();
        c.publish(call(publish("chat-1", "hello"), t, None))
            .await
            .unwrap();
        c.publish(call(publish("chat-1", "again"), t, None))
            .await
            .unwrap();
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let item = stream.message().await.unwrap().unwrap();
            if let Some(subscription_item::Kind::Item(item)) = item.kind {
                let Some(topic_value::Kind::Text(text)) = item.value.unwrap().kind else {
                    panic!()
                };
                assert_eq!(item.publisher_id, "tok-7", "the publisher's token_id");
                seen.push((item.topic_sequence_number, text, item.sequence_page));
            }
        }
        assert_eq!((seen[0].0, seen[0].1.as_str()), (1, "hello"));
        assert_eq!((seen[1].0, seen[1].1.as_str()), (2, "again"));
        // Resume from 2 in the same page replays the second message first.
        let mut resumed = c
            .subscribe(call(subscribe("chat-1", 2, seen[0].2), t, None))
            .await
            .unwrap()
            .into_inner();
        let first = resumed.message().await.unwrap().unwrap();
        assert!(
            matches!(first.kind, Some(subscription_item::Kind::Heartbeat(_))),
            "every stream opens with a heartbeat: {first:?}"
        );
        let second = resumed.message().await.unwrap().unwrap();
        assert!(
            matches!(second.kind, Some(subscription_item::Kind::Item(ref i)) if i.topic_sequence_number == 2)
        );
        // Out of scope: another topic, a cache-only token, a subscribe-only token publishing.
        let denied = c
            .publish(call(publish("news", "x"), t, None))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let cache_only = jwt(&s.mint(
            r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
            true,
            Some(600),
        ));
        let denied = c
            .subscribe(call(subscribe("chat-1", 0, 0), Some(&cache_only), None))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let reader = jwt(&s.mint(
            r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
            true,
            Some(600),
        ));
        let denied = c
            .publish(call(publish("chat-1", "x"), Some(&reader), None))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        let empty = PublishRequest {
            value: None,
            ..publish("chat-1", "x")
        };
        assert_eq!(
            c.publish(call(empty, t, None)).await.unwrap_err().code(),
            Code::InvalidArgument
        );
        let no_cache = PublishRequest {
            cache_name: String::new(),
            ..publish("chat-1", "x")
        };
        assert_eq!(
            c.publish(call(no_cache, t, None)).await.unwrap_err().code(),
            Code::InvalidArgument
        );
    }
    }

    both_backends! {
    #[tokio::test]
    async fn a_subscription_ends_with_unauthenticated_when_its_token_expires() {
        let s = start(|_| {}).await;
        let token = jwt(&s.mint(
            r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
            true,
            Some(2),
        ));
        let mut c = pubsub_client(&s).await;
        let started = std::time::Instant::now();
        let mut stream = c
            .subscribe(call(subscribe("t", 0, 0), Some(&token), None))
            .await
            .unwrap()
            .into_inner();
        let status = loop {
            match stream.message().await {
                Ok(Some(_heartbeat)) => continue,
                Ok(None) => panic!("the stream ended without a status"),
                Err(status) => break status,
            }
        };
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        // With the token (about 2 s), not never: loose for a busy machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // The subscription is gone from the gauge.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(s.app.metrics.open_subscriptions(), 0);
    }
    }
}

mod api_keys {
    use super::*;
    use momento_protos::auth::auth_client::AuthClient;
    use momento_protos::auth::generate_api_token_request::{Expires, Expiry, Never};
    use momento_protos::auth::{GenerateApiTokenRequest, RefreshApiTokenRequest};
    use scopegate::scope::json;

    fn generate(auth_token: &str, scope: &str, expiry: Expiry) -> GenerateApiTokenRequest {
        GenerateApiTokenRequest {
            auth_token: auth_token.into(),
            permissions: Some(if scope == "superuser" {
                json::superuser()
            } else {
                json::parse(scope).unwrap()
            }),
            token_id: "key-1".into(),
            description: String::new(),
            expiry: Some(expiry),
        }
    }

    fn refresh(api_key: &str, refresh_token: &str) -> Request<RefreshApiTokenRequest> {
        Request::new(RefreshApiTokenRequest {
            api_key: api_key.into(),
            refresh_token: refresh_token.into(),
        })
    }

    const RW: &str = r#"{"permissions":[{"role":"readwrite","cache":"default-cache"}]}"#;

    both_backends! {
    #[tokio::test]
    async fn generate_refresh_once_and_refuse_the_rest() {
        let s = start(|_| {}).await;
        let mut auth = AuthClient::connect(format!("http://{}", s.addr))
            .await
            .unwrap();
        let mut scs = client(&s).await;
        let now = scopegate::token::unix_now();
        let first = auth
            .generate_api_token(Request::new(generate(
                &s.superuser,
                RW,
                Expiry::Expires(Expires {
                    valid_for_seconds: 3600,
                }),
            )))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.endpoint, "localhost");
        assert!((now + 3599..=now + 3601).contains(&first.valid_until));
        scs.set(call(set("k", "v"), Some(&first.api_key), Some(CACHE)))
            .await
            .unwrap();

        let second = auth
            .refresh_api_token(refresh(&first.api_key, &first.refresh_token))
            .await
            .unwrap()
            .into_inner();
        assert_ne!(second.api_key, first.api_key);
        assert!(
            (now + 3599..=now + 3602).contains(&second.valid_until),
            "the same lifetime, from now"
        );
        scs.get(call(get("k"), Some(&second.api_key), Some(CACHE)))
            .await
            .unwrap();
        let inspected = scopegate::token::inspect(&second.api_key).unwrap();
        assert_eq!(inspected.token_id.as_deref(), Some("key-1"));
        assert!(
            scs.get(call(get("k"), Some(&second.api_key), Some("other")))
                .await
                .is_err(),
            "same scope"
        );

        // The first refresh token is spent; unknown ones fail; a token presented
        // with the wrong key fails without being burnt.
        let again = auth
            .refresh_api_token(refresh(&first.api_key, &first.refresh_token))
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::Unauthenticated);
        let unknown = auth
            .refresh_api_token(refresh(&second.api_key, "made-up"))
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::Unauthenticated);
        let wrong_key = auth
            .refresh_api_token(refresh(&first.api_key, &second.refresh_token))
            .await
            .unwrap_err();
        assert_eq!(wrong_key.code(), Code::Unauthenticated);
        auth.refresh_api_token(refresh(&second.api_key, &second.refresh_token))
            .await
            .unwrap();

        // Never-expiring keys: valid_until 0, no exp claim.
        let never = auth
            .generate_api_token(Request::new(generate(
                &s.superuser,
                RW,
                Expiry::Never(Never {}),
            )))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(never.valid_until, 0);
        assert_eq!(
            scopegate::token::inspect(&never.api_key)
                .unwrap()
                .expires_at,
            None
        );
    }
    }

    both_backends! {
    #[tokio::test]
    async fn what_is_refused() {
        let s = start(|_| {}).await;
        let mut auth = AuthClient::connect(format!("http://{}", s.addr))
            .await
            .unwrap();
        let hour = || {
            Expiry::Expires(Expires {
                valid_for_seconds: 3600,
            })
        };
        let fine = s.mint(RW, false, None);
        let denied = auth
            .generate_api_token(Request::new(generate(&fine, RW, hour())))
            .await
            .unwrap_err();
        assert_eq!(
            denied.code(),
            Code::PermissionDenied,
            "a fine-grained key cannot mint"
        );
        let su = auth
            .generate_api_token(Request::new(generate(&s.superuser, "superuser", hour())))
            .await
            .unwrap_err();
        assert_eq!(
            su.code(),
            Code::InvalidArgument,
            "no superuser keys over the API"
        );
        let none = GenerateApiTokenRequest {
            expiry: None,
            ..generate(&s.superuser, RW, hour())
        };
        assert_eq!(
            auth.generate_api_token(Request::new(none))
                .await
                .unwrap_err()
                .code(),
            Code::InvalidArgument
        );
        let missing = auth
            .generate_api_token(Request::new(generate("", RW, hour())))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::Unauthenticated);

        let disposable = s.mint(RW, true, Some(60));
        let not_a_key = auth
            .refresh_api_token(refresh(&disposable, "x"))
            .await
            .unwrap_err();
        assert_eq!(not_a_key.code(), Code::InvalidArgument);

        let short = auth
            .generate_api_token(Request::new(generate(
                &s.superuser,
                RW,
                Expiry::Expires(Expires {
                    valid_for_seconds: 1,
                }),
            )))
            .await
            .unwrap()
            .into_inner();
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let expired = auth
            .refresh_api_token(refresh(&short.api_key, &short.refresh_token))
            .await
            .unwrap_err();
        assert_eq!(
            expired.code(),
            Code::Unauthenticated,
            "an expired key cannot be refreshed"
        );
    }
    }
}

both_backends! {
/// The scalar RPCs the Rust SDK does not call: GetWithHash, SetIfHash, SetIfNotExists.
/// (SetIfNotExists is deprecated in Momento's protocol, but older SDKs send it.)
#[allow(deprecated)]
#[tokio::test]
async fn hashes_and_set_if_not_exists() {
    use momento_protos::cache_client::set_if_hash_request::Condition as C;
    use momento_protos::common::{
        AbsentOrHashEqual, PresentAndHashEqual, PresentAndNotHashEqual, Unconditional,
    };
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let t = Some(su.as_str());
    let mut c = client(&s).await;
    let not_exists = |key: &str, value: &str| SetIfNotExistsRequest {
        cache_key: key.into(),
        cache_body: value.into(),
        ttl_milliseconds: 60_000,
    };
    use set_if_not_exists_response::Result as N;
    let first = c
        .set_if_not_exists(call(not_exists("h", "one"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(first.result, Some(N::Stored(_))));
    let second = c
        .set_if_not_exists(call(not_exists("h", "two"), t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(second.result, Some(N::NotStored(_))));

    let with_hash = |c: &mut ScsClient<Channel>, key: &str| {
        let request = call(
            GetWithHashRequest {
                cache_key: key.into(),
            },
            t,
            Some(CACHE),
        );
        let mut c = c.clone();
        async move { c.get_with_hash(request).await.unwrap().into_inner().result }
    };
    let Some(get_with_hash_response::Result::Found(found)) = with_hash(&mut c, "h").await else {
        panic!()
    };
    assert_eq!(found.value, b"one");
    assert!(matches!(
        with_hash(&mut c, "none").await,
        Some(get_with_hash_response::Result::Missing(_))
    ));

    let set_if_hash = |key: &str, value: &str, condition: C| SetIfHashRequest {
        cache_key: key.into(),
        cache_body: value.into(),
        ttl_milliseconds: 60_000,
        condition: Some(condition),
    };
    use set_if_hash_response::Result as H;
    let stale = set_if_hash(
        "h",
        "x",
        C::PresentAndHashEqual(PresentAndHashEqual {
            hash_to_check: b"stale".to_vec(),
        }),
    );
    assert!(matches!(
        c.set_if_hash(call(stale, t, Some(CACHE)))
            .await
            .unwrap()
            .into_inner()
            .result,
        Some(H::NotStored(_))
    ));
    let fresh = set_if_hash(
        "h",
        "three",
        C::PresentAndHashEqual(PresentAndHashEqual {
            hash_to_check: found.hash.clone(),
        }),
    );
    let Some(H::Stored(stored)) = c
        .set_if_hash(call(fresh, t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner()
        .result
    else {
        panic!("the current hash matches")
    };
    let Some(get_with_hash_response::Result::Found(now)) = with_hash(&mut c, "h").await else {
        panic!()
    };
    assert_eq!(
        (now.value.as_slice(), &now.hash),
        (&b"three"[..], &stored.new_hash),
        "new_hash is the stored value's hash"
    );
    let same = set_if_hash(
        "h",
        "x",
        C::PresentAndNotHashEqual(PresentAndNotHashEqual {
            hash_to_check: stored.new_hash.clone(),
        }),
    );
    assert!(matches!(
        c.set_if_hash(call(same, t, Some(CACHE)))
            .await
            .unwrap()
            .into_inner()
            .result,
        Some(H::NotStored(_))
    ));
    let absent = set_if_hash(
        "new",
        "v",
        C::AbsentOrHashEqual(AbsentOrHashEqual {
            hash_to_check: b"any".to_vec(),
        }),
    );
    assert!(matches!(
        c.set_if_hash(call(absent, t, Some(CACHE)))
            .await
            .unwrap()
            .into_inner()
            .result,
        Some(H::Stored(_))
    ));
    let always = set_if_hash("h", "four", C::Unconditional(Unconditional {}));
    assert!(matches!(
        c.set_if_hash(call(always, t, Some(CACHE)))
            .await
            .unwrap()
            .into_inner()
            .result,
        Some(H::Stored(_))
    ));
    let none = SetIfHashRequest {
        condition: None,
        ..set_if_hash("h", "x", C::Unconditional(Unconditional {}))
    };
    assert_eq!(
        c.set_if_hash(call(none, t, Some(CACHE)))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
}
}

both_backends! {
/// Bad gRPC input on raw HTTP/2: each gets a clear status, never a panic.
#[tokio::test]
async fn bad_grpc_input_gets_a_clear_status() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    let s = start(|c| c.server.max_value_bytes = 1024).await;
    let su = jwt(&s.superuser);
    let send = |path: &'static str, content_type: &'static str, body: Vec<u8>| {
        let (addr, su) = (s.addr, su.clone());
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let request = http::Request::post(format!("http://{addr}{path}"))
                .header("content-type", content_type)
                .header("te", "trailers")
                .header("authorization", su)
                .header("cache", CACHE)
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let headers = response.headers().clone();
            let collected = response.into_body().collect().await.unwrap();
            let trailers = collected.trailers().cloned().unwrap_or_default();
            let status = headers
                .get("grpc-status")
                .or(trailers.get("grpc-status"))
                .map(|v| v.to_str().unwrap().to_owned());
            (status, headers, trailers)
        }
    };
    // A gRPC frame: flag 0, 4-byte big-endian length, payload.
    let frame = |payload: &[u8]| {
        let mut out = vec![0u8];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    };
    let (garbage, ..) = send(
        "/cache_client.Scs/Get",
        "application/grpc",
        frame(&[0xff; 16]),
    )
    .await;
    assert!(
        matches!(garbage.as_deref(), Some("13") | Some("3")),
        "garbage protobuf: {garbage:?}"
    );
    let (truncated, ..) = send(
        "/cache_client.Scs/Get",
        "application/grpc",
        vec![0, 0, 0, 0, 99, 1],
    )
    .await;
    assert_eq!(
        truncated.as_deref(),
        Some("3"),
        "a truncated frame is the client's fault: INVALID_ARGUMENT"
    );
    let (oversized, ..) = send(
        "/cache_client.Scs/Set",
        "application/grpc",
        frame(&vec![0u8; 256 * 1024]),
    )
    .await;
    assert_eq!(oversized.as_deref(), Some("8"), "RESOURCE_EXHAUSTED");
    let (unknown, ..) = send(
        "/cache_client.Scs/NoSuchMethod",
        "application/grpc",
        frame(&[]),
    )
    .await;
    assert_eq!(
        unknown.as_deref(),
        Some("12"),
        "an unknown method is UNIMPLEMENTED after authentication, never forwarded"
    );
    let (unknown_service, ..) = send("/other.Service/Get", "application/grpc", frame(&[])).await;
    assert_eq!(unknown_service.as_deref(), Some("12"));
    let (proper, ..) = send(
        "/cache_client.Scs/Get",
        "application/grpc",
        frame(&prost::Message::encode_to_vec(&get("k"))),
    )
    .await;
    assert_eq!(
        proper.as_deref(),
        Some("0"),
        "the same path with a good message works"
    );
    // Not gRPC at all: the HTTP API answers, with its own JSON error.
    let (not_grpc, headers, _) =
        send("/cache_client.Scs/Get", "application/json", b"{}".to_vec()).await;
    assert_eq!(not_grpc, None);
    assert_eq!(headers["content-type"], "application/json");
}
}

both_backends! {
/// A subscriber that stops reading still ends with its credential, and its
/// server-side subscription is released.
#[tokio::test]
async fn a_stalled_subscriber_does_not_outlive_its_credential() {
    use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
    use momento_protos::cache_client::pubsub::{
        PublishRequest, SubscriptionRequest, TopicValue, topic_value,
    };
    let s = start(|_| {}).await;
    let short = jwt(&s.mint(
        r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
        true,
        Some(2),
    ));
    let publisher = jwt(&s.superuser);
    let mut c = PubsubClient::connect(format!("http://{}", s.addr))
        .await
        .unwrap();
    let subscribe = SubscriptionRequest {
        cache_name: CACHE.into(),
        topic: "t".into(),
        ..Default::default()
    };
    let _stream = c
        .subscribe(call(subscribe, Some(&short), None))
        .await
        .unwrap()
        .into_inner();
    // Never read: fill every buffer between the server and this client.
    let value = TopicValue {
        kind: Some(topic_value::Kind::Binary(vec![7; 4096])),
    };
    for _ in 0..200 {
        let message = PublishRequest {
            cache_name: CACHE.into(),
            topic: "t".into(),
            value: Some(value.clone()),
        };
        c.publish(call(message, Some(&publisher), None))
            .await
            .unwrap();
    }
    assert_eq!(s.app.metrics.open_subscriptions(), 1);
    let mut open = 1;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        open = s.app.metrics.open_subscriptions();
        if open == 0 {
            break;
        }
    }
    assert_eq!(
        open, 0,
        "the stalled subscription ended with its credential"
    );
}
}

both_backends! {
/// A gRPC request whose body never finishes gets DEADLINE_EXCEEDED within
/// `server.request_timeout`, and does not hold the call open.
#[tokio::test]
async fn a_half_sent_grpc_request_times_out() {
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;
    let s = start(|c| c.server.request_timeout = std::time::Duration::from_millis(500)).await;
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io)
            .await
            .unwrap();
    tokio::spawn(conn);
    // Five bytes of a frame header announcing 100 bytes, then nothing more.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(1);
    tx.send(Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 100]))))
        .await
        .unwrap();
    let body = StreamBody::new(tokio_stream_compat(rx));
    let request = http::Request::post(format!("http://{}/cache_client.Scs/Set", s.addr))
        .header("content-type", "application/grpc")
        .header("authorization", jwt(&s.superuser))
        .header("cache", CACHE)
        .body(body)
        .unwrap();
    let started = std::time::Instant::now();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sender.send_request(request),
    )
    .await
    .expect("answered, not hung")
    .unwrap();
    let headers = response.headers().clone();
    let trailers = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .trailers()
        .cloned()
        .unwrap_or_default();
    let status = headers
        .get("grpc-status")
        .or(trailers.get("grpc-status"))
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(status, "4", "DEADLINE_EXCEEDED");
    // At the 500 ms request timeout, not at the 5 s guard above.
    assert!(started.elapsed() < std::time::Duration::from_millis(4500));
    drop(tx);
}
}

/// A receiver as a stream, for a request body that stays open.
fn tokio_stream_compat<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> tonic::codegen::tokio_stream::wrappers::ReceiverStream<T> {
    tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(rx)
}

both_backends! {
/// Authorization comes before request validation: a malformed SetIf from an
/// unauthenticated or out-of-scope caller learns nothing about its request.
#[tokio::test]
async fn authorization_precedes_validation() {
    let s = start(|_| {}).await;
    let mut c = client(&s).await;
    let no_condition = || SetIfRequest {
        cache_key: b"k".to_vec(),
        cache_body: b"v".to_vec(),
        ttl_milliseconds: 1000,
        condition: None,
    };
    let err = c
        .set_if(call(no_condition(), None, Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let other = jwt(&s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"key":"j"}}]}"#,
        true,
        Some(60),
    ));
    let err = c
        .set_if(call(no_condition(), Some(&other), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .set_if(call(no_condition(), Some(&jwt(&s.superuser)), Some(CACHE)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}
}

both_backends! {
/// A GetBatch whose client stops reading frees its task within
/// `server.request_timeout`; when the client reads again it gets what was
/// sent, then DEADLINE_EXCEEDED, never a batch that silently stops short.
#[tokio::test]
async fn a_get_batch_nobody_reads_ends_with_deadline_exceeded() {
    let s = start(|c| {
        c.server.request_timeout = std::time::Duration::from_millis(300);
        c.server.max_value_bytes = 1024 * 1024;
    })
    .await;
    let su = jwt(&s.superuser);
    let t = Some(su.as_str());
    let mut c = client(&s).await;
    // Values larger than an HTTP/2 window, so an unread stream stalls the server.
    let big = "v".repeat(512 * 1024);
    c.set(call(set("big", &big), t, Some(CACHE))).await.unwrap();
    let gets = GetBatchRequest {
        items: (0..20).map(|_| get("big")).collect(),
    };
    let mut stream = c
        .get_batch(call(gets, t, Some(CACHE)))
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let mut items = 0;
    let status = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
            .await
            .expect("the stream ends")
        {
            Ok(Some(r)) => {
                assert_eq!(r.cache_body.len(), big.len());
                items += 1;
            }
            Ok(None) => panic!("ended without an error after {items} items"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(items < 20, "{items}");
}
}
