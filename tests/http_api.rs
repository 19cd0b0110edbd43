//! The Momento HTTP API through the real server and a real HTTP client.

#[macro_use]
mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::server::{Server, enc, send, start};

const CACHE: &str = "default-cache";

fn item(key: &str) -> String {
    format!("/cache/{CACHE}?key={}", enc(key))
}

fn put_path(key: &str) -> String {
    format!("{}&ttl_seconds=60", item(key))
}

fn scoped(server: &Server, role: &str, cache: &str, item: &str) -> String {
    let scope = format!(r#"{{"permissions":[{{"role":"{role}","cache":"{cache}"{item}}}]}}"#);
    server.mint(&scope, true, Some(600))
}

both_backends! {
#[tokio::test]
async fn in_scope_cache_calls_succeed() {
    let s = start(|_| {}).await;
    let rw = scoped(&s, "readwrite", CACHE, r#","item":{"keyPrefix":"user/"}"#);
    assert_eq!(s.put(&put_path("user/1"), &rw, b"v1").await.status, 204);
    let got = s.get(&item("user/1"), Some(&rw)).await;
    assert_eq!((got.status, &got.body[..]), (200, &b"v1"[..]));
    assert_eq!(got.headers["content-type"], "application/octet-stream");
    // Bearer, the token query parameter, and key_base64 reach the same item.
    assert_eq!(
        s.get(&item("user/1"), Some(&format!("Bearer {rw}")))
            .await
            .status,
        200
    );
    assert_eq!(
        s.get(&format!("{}&token={}", item("user/1"), enc(&rw)), None)
            .await
            .status,
        200
    );
    let b64 = format!("/cache/{CACHE}?key_base64={}", enc("dXNlci8x"));
    assert_eq!(s.get(&b64, Some(&rw)).await.body, Bytes::from_static(b"v1"));
    assert_eq!(s.delete(&item("user/1"), &rw).await.status, 204);
    assert_eq!(
        s.delete(&item("user/1"), &rw).await.status,
        204,
        "deleting an absent key is fine"
    );
    let miss = s.get(&item("user/1"), Some(&rw)).await;
    assert_eq!((miss.status, miss.code()), (404, "NOT_FOUND_ERROR".into()));
}
}

both_backends! {
#[tokio::test]
async fn binary_keys_are_stored_byte_for_byte() {
    let s = start(|_| {}).await;
    let rw = s.mint(r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefixBase64":"/w=="}}]}"#, true, Some(60));
    let path = format!("/cache/{CACHE}?key=%FF%00%01&ttl_seconds=60");
    assert_eq!(s.put(&path, &rw, b"bin").await.status, 204);
    let same = format!("/cache/{CACHE}?key_base64={}", enc("/wAB"));
    assert_eq!(
        s.get(&same, Some(&rw)).await.body,
        Bytes::from_static(b"bin")
    );
    // The lossy UTF-8 rendering of those bytes is another key, and out of scope.
    let lossy = format!("/cache/{CACHE}?key={}", enc("\u{fffd}\u{0}\u{1}"));
    assert_eq!(s.get(&lossy, Some(&rw)).await.code(), "PERMISSION_ERROR");
}
}

both_backends! {
#[tokio::test]
async fn credentials_that_do_not_verify_are_401() {
    let s = start(|_| {}).await;
    let good = scoped(&s, "readwrite", CACHE, "");
    let mut tampered = good.clone();
    let middle = tampered.len() / 2;
    let c = if tampered.as_bytes()[middle] == b'A' {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(middle..middle + 1, c);
    let other = support::server::start(|_| {}).await; // another key ring, same kid "dev"
    let foreign = scoped(&other, "readwrite", CACHE, "");
    let short = scoped(&s, "readwrite", CACHE, "");
    let _ = &short;
    let expiring = s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
        true,
        Some(1),
    );
    let revoked = scoped(&s, "readwrite", CACHE, "");
    let jti = scopegate::token::inspect(&revoked).unwrap().jti;
    s.app
        .auth
        .revocations()
        .revoke(
            scopegate::token::RevokeBy::Jti,
            &jti,
            scopegate::token::unix_now(),
            None,
        )
        .unwrap();
    assert_eq!(
        s.get(&item("k"), Some(&expiring)).await.status,
        404,
        "valid for now"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let cases = [
        ("missing", None),
        ("malformed", Some("not-a-credential")),
        ("tampered", Some(tampered.as_str())),
        ("signed by another key", Some(foreign.as_str())),
        ("expired", Some(expiring.as_str())),
        ("revoked", Some(revoked.as_str())),
        ("oversized", Some(&*"A".repeat(9000))),
    ];
    for (name, credential) in cases {
        let reply = s.get(&item("k"), credential).await;
        assert_eq!(
            (reply.status, reply.code()),
            (401, "AUTHENTICATION_ERROR".into()),
            "{name}"
        );
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("eyJ"),
            "{name}: the credential is echoed"
        );
    }
    // Unknown kid: a ring whose only key is named differently.
    let mut renamed = start(|c| {
        let key = scopegate::token::RingKey::hs256("other-kid", &[7u8; 32]).unwrap();
        c.keys = std::sync::Arc::new(
            scopegate::token::KeyRing::new(vec![key], Some("other-kid")).unwrap(),
        );
    })
    .await;
    let unknown_kid = renamed.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
        false,
        None,
    );
    let reply = s.get(&item("k"), Some(&unknown_kid)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (401, "AUTHENTICATION_ERROR".into())
    );
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("unknown key")
    );
    renamed.shut_down();
}
}

both_backends! {
#[tokio::test]
async fn out_of_scope_requests_are_403() {
    let s = start(|c| c.caches.push("other-cache".into())).await;
    let prefix = scoped(&s, "readwrite", CACHE, r#","item":{"keyPrefix":"user/"}"#);
    let exact = scoped(&s, "readwrite", CACHE, r#","item":{"key":"one"}"#);
    let write_only = scoped(&s, "writeonly", CACHE, "");
    let read_only = scoped(&s, "readonly", CACHE, "");
    let topics_only = s.mint(
        r#"{"permissions":[{"role":"publishsubscribe","cache":"*","topic":"*"}]}"#,
        true,
        Some(60),
    );
    let cache_only = scoped(&s, "readwrite", "*", "");
    let other_cache = format!("/cache/other-cache?key={}", enc("user/1"));
    let cases: Vec<(&str, http::Method, String, &str)> = vec![
        ("wrong cache", http::Method::GET, other_cache, &prefix),
        ("wrong key", http::Method::GET, item("two"), &exact),
        (
            "key outside the prefix",
            http::Method::GET,
            item("admin/1"),
            &prefix,
        ),
        (
            "a prefix is not a key",
            http::Method::GET,
            item("user"),
            &prefix,
        ),
        (
            "read with a write-only token",
            http::Method::GET,
            item("k"),
            &write_only,
        ),
        (
            "write with a read-only token",
            http::Method::PUT,
            put_path("k"),
            &read_only,
        ),
        (
            "delete with a read-only token",
            http::Method::DELETE,
            item("k"),
            &read_only,
        ),
        (
            "cache item with a topic token",
            http::Method::GET,
            item("k"),
            &topics_only,
        ),
        (
            "publish with a cache-only token",
            http::Method::POST,
            format!("/topics/{CACHE}/t"),
            &cache_only,
        ),
        (
            "subscribe with a cache-only token",
            http::Method::GET,
            format!("/topics/{CACHE}/t"),
            &cache_only,
        ),
    ];
    for (name, method, path, credential) in cases {
        let reply = send(
            s.addr,
            method.as_str(),
            &path,
            &[("authorization", credential)],
            Bytes::from_static(b"x"),
        )
        .await;
        assert_eq!(
            (reply.status, reply.code()),
            (403, "PERMISSION_ERROR".into()),
            "{name}: {:?}",
            reply.body
        );
    }
    // A missing cache outside the scope is 403 too: existence is not revealed.
    let reply = s.get("/cache/no-such-cache?key=k", Some(&exact)).await;
    assert_eq!(reply.status, 403);
}
}

both_backends! {
#[tokio::test]
async fn bad_requests_are_400_404_405_413() {
    let s = start(|c| c.server.max_value_bytes = 1024).await;
    let rw = scoped(&s, "readwrite", "*", "");
    let both = send(
        s.addr,
        "GET",
        &format!("{}&token={}", item("k"), enc(&rw)),
        &[("authorization", &rw)],
        Bytes::new(),
    )
    .await;
    let cases = [
        ("token in header and query", both),
        (
            "key and key_base64",
            s.get(&format!("/cache/{CACHE}?key=a&key_base64=YQ=="), Some(&rw))
                .await,
        ),
        ("no key", s.get(&format!("/cache/{CACHE}"), Some(&rw)).await),
        ("missing ttl_seconds", s.put(&item("k"), &rw, b"v").await),
        (
            "ttl_seconds 0",
            s.put(&format!("{}&ttl_seconds=0", item("k")), &rw, b"v")
                .await,
        ),
        (
            "malformed percent-encoding",
            s.get(&format!("/cache/{CACHE}?key=%G1"), Some(&rw)).await,
        ),
        (
            "malformed cache name",
            s.get("/cache/%ZZ?key=k", Some(&rw)).await,
        ),
        (
            "bad base64 key",
            s.get(&format!("/cache/{CACHE}?key_base64=!!!"), Some(&rw))
                .await,
        ),
        (
            "repeated key",
            s.get(&format!("/cache/{CACHE}?key=a&key=b"), Some(&rw))
                .await,
        ),
        (
            "bad sequence number",
            s.get(&format!("/topics/{CACHE}/t?sequence_number=x"), Some(&rw))
                .await,
        ),
    ];
    for (name, reply) in cases {
        assert_eq!(
            (reply.status, reply.code()),
            (400, "INVALID_ARGUMENT_ERROR".into()),
            "{name}: {:?}",
            reply.body
        );
    }
    let missing_cache = s.get("/cache/no-such-cache?key=k", Some(&rw)).await;
    assert_eq!(
        (missing_cache.status, missing_cache.code()),
        (404, "NOT_FOUND_ERROR".into())
    );
    let topics = s.mint(
        r#"{"permissions":[{"role":"publishsubscribe","cache":"*","topic":"*"}]}"#,
        true,
        Some(60),
    );
    let missing_topic_cache = s.publish("/topics/no-such-cache/t", &topics, "x").await;
    assert_eq!(
        (missing_topic_cache.status, missing_topic_cache.code()),
        (404, "NOT_FOUND_ERROR".into())
    );
    let no_route = s.get("/nothing/here", Some(&rw)).await;
    assert_eq!(
        (no_route.status, no_route.code()),
        (404, "NOT_FOUND_ERROR".into())
    );
    let method = send(
        s.addr,
        "PATCH",
        &item("k"),
        &[("authorization", &rw)],
        Bytes::new(),
    )
    .await;
    assert_eq!(method.status, 405);
    let big = s.put(&put_path("k"), &rw, &[7u8; 1025]).await;
    assert_eq!(
        (big.status, big.code()),
        (413, "LIMIT_EXCEEDED_ERROR".into())
    );
    assert_eq!(
        s.put(&put_path("k"), &rw, &[7u8; 1024]).await.status,
        204,
        "the limit itself is allowed"
    );
    let big_message = s
        .publish(&format!("/topics/{CACHE}/t"), &topics, &"x".repeat(1025))
        .await;
    assert_eq!(big_message.status, 413);
    // Nothing was half-written: the oversized value did not replace the stored one.
    assert_eq!(s.get(&item("k"), Some(&rw)).await.body.len(), 1024);
}
}

both_backends! {
#[tokio::test]
async fn values_expire_with_their_ttl() {
    let s = start(|_| {}).await;
    let rw = scoped(&s, "readwrite", CACHE, "");
    assert_eq!(
        s.put(&format!("{}&ttl_seconds=1", item("short")), &rw, b"v")
            .await
            .status,
        204
    );
    assert_eq!(s.get(&item("short"), Some(&rw)).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(s.get(&item("short"), Some(&rw)).await.status, 404);
}
}

both_backends! {
#[tokio::test]
async fn topics_publish_and_long_poll_with_sequence_numbers() {
    let s = start(|_| {}).await;
    let pubsub = s.mint(r#"{"permissions":[{"role":"publishsubscribe","cache":"default-cache","topic":{"prefix":"news-"}}]}"#, true, Some(600));
    let path = format!("/topics/{CACHE}/news-1");
    let poller = {
        let (addr, credential, path) = (s.addr, pubsub.clone(), path.clone());
        tokio::spawn(async move {
            send(
                addr,
                "GET",
                &path,
                &[("authorization", &credential)],
                Bytes::new(),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.publish(&path, &pubsub, "first").await.status, 204);
    let reply = poller.await.unwrap();
    assert_eq!(reply.status, 200);
    let items = reply.json()["items"].clone();
    assert_eq!(items[0]["item"]["topic_sequence_number"], 1);
    assert_eq!(items[0]["item"]["value"]["text"], "first");
    assert_eq!(items[0]["item"]["publisher_id"], "tok-7");
    let page = items[0]["item"]["sequence_page"].as_u64().unwrap();
    // Binary messages, then resume from a sequence number.
    let binary = send(
        s.addr,
        "POST",
        &path,
        &[
            ("authorization", &pubsub),
            ("content-type", "application/octet-stream"),
        ],
        Bytes::from_static(&[0, 159, 146, 150]),
    )
    .await;
    assert_eq!(binary.status, 204);
    let resumed = s
        .get(
            &format!("{path}?sequence_number=1&sequence_page={page}"),
            Some(&pubsub),
        )
        .await
        .json();
    let seqs: Vec<u64> = resumed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"]["topic_sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(resumed["items"][1]["item"]["value"]["binary"], "AJ+Slg==");
    // A resume point from another page (a reset topic) yields a discontinuity first.
    let reset = s
        .get(
            &format!("{path}?sequence_number=5&sequence_page=1"),
            Some(&pubsub),
        )
        .await
        .json();
    assert_eq!(
        reset["items"][0]["discontinuity"]["new_sequence_page"],
        page
    );
    // Topic names outside the prefix are refused.
    assert_eq!(
        s.publish(&format!("/topics/{CACHE}/sports"), &pubsub, "x")
            .await
            .status,
        403
    );
}
}

both_backends! {
#[tokio::test]
async fn an_idle_long_poll_answers_empty_after_its_timeout() {
    let s = start(|c| c.server.long_poll_timeout = Duration::from_millis(300)).await;
    let sub = s.mint(
        r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
        true,
        Some(60),
    );
    let reply = s.get(&format!("/topics/{CACHE}/quiet"), Some(&sub)).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, serde_json::json!({"items": []}))
    );
}
}

both_backends! {
#[tokio::test]
async fn a_long_poll_ends_when_its_credential_expires_or_is_revoked() {
    let s = start(|_| {}).await;
    let expiring = s.mint(
        r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
        true,
        Some(2),
    );
    let started = Instant::now();
    let reply = s.get(&format!("/topics/{CACHE}/t"), Some(&expiring)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (401, "AUTHENTICATION_ERROR".into())
    );
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "ended with the credential (about 2 s), not the 25 s poll timeout"
    );

    let revocable = s.mint(
        r#"{"permissions":[{"role":"subscribeonly","cache":"*","topic":"*"}]}"#,
        true,
        Some(600),
    );
    let poll = {
        let (addr, credential) = (s.addr, revocable.clone());
        tokio::spawn(async move {
            send(
                addr,
                "GET",
                "/topics/default-cache/t",
                &[("authorization", &credential)],
                Bytes::new(),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.app.metrics.open_subscriptions(), 1);
    s.app
        .auth
        .revocations()
        .revoke(
            scopegate::token::RevokeBy::Subject,
            "tester",
            scopegate::token::unix_now(),
            None,
        )
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(3), poll)
        .await
        .expect("ends within a second")
        .unwrap();
    assert_eq!(reply.status, 401);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(s.app.metrics.open_subscriptions(), 0);
}
}

both_backends! {
#[tokio::test]
async fn metrics_count_denials_by_reason_and_health_endpoints_answer() {
    let s = start(|_| {}).await;
    let read_only = scoped(&s, "readonly", CACHE, "");
    s.put(&put_path("k"), &read_only, b"v").await;
    s.get(&item("k"), Some("garbage")).await;
    s.get(&item("k"), Some(&read_only)).await;
    s.get(&item("k"), Some(&read_only)).await;
    let text = s.metrics().await;
    for line in [
        r#"scopegate_denials_total{kind="HttpCachePut",reason="role_not_granted"} 1"#,
        r#"scopegate_denials_total{kind="HttpCacheGet",reason="malformed"} 1"#,
        r#"scopegate_requests_total{front="http",kind="HttpCacheGet",outcome="not_found"} 2"#,
        "scopegate_verification_cache_hits_total 2",
        "scopegate_verification_cache_misses_total 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(
        !text.contains(CACHE) && !text.contains("tester"),
        "labels never carry caches or subjects"
    );
    let live = send(s.admin, "GET", "/livez", &[], Bytes::new()).await;
    let ready = send(s.admin, "GET", "/readyz", &[], Bytes::new()).await;
    assert_eq!((live.status, ready.status), (200, 200));
}
}
