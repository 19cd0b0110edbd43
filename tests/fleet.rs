//! A fleet of gateways (SPEC 12): the revocation API on the admin listener,
//! revocations that reach every replica sharing a Redis within a second and
//! survive restarts, and refresh tokens redeemed at any replica, once.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use momento_protos::auth::auth_client::AuthClient;
use momento_protos::auth::generate_api_token_request::{Expires, Expiry};
use momento_protos::auth::{GenerateApiTokenRequest, RefreshApiTokenRequest};
use scopegate::config::RedisConfig;
use support::server::{Reply, Server, send, start};

const READER: &str = r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#;
const RW: &str = r#"{"permissions":[{"role":"readwrite","cache":"default-cache"}]}"#;

async fn revoke(s: &Server, credential: Option<&str>, body: &str) -> Reply {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(credential) = credential {
        headers.push(("authorization", credential));
    }
    send(
        s.admin,
        "POST",
        "/v1/revocations",
        &headers,
        Bytes::from(body.to_owned()),
    )
    .await
}

fn jti(envelope: &str) -> String {
    scopegate::token::inspect(envelope).unwrap().jti
}

/// The status a credential gets for a read of the default cache (404: a
/// miss, so it is valid; 401: refused).
async fn status(s: &Server, credential: &str) -> u16 {
    s.get("/cache/default-cache?key=nothing", Some(credential))
        .await
        .status
}

#[tokio::test]
async fn the_revocation_api_needs_a_superuser_and_a_well_formed_request() {
    let s = start(|_| {}).await;
    let reader = s.mint(READER, true, Some(600));
    let body = format!(r#"{{"jti":"{}"}}"#, jti(&reader));
    assert_eq!(revoke(&s, None, &body).await.status, 401);
    assert_eq!(revoke(&s, Some("garbage"), &body).await.status, 401);
    assert_eq!(revoke(&s, Some(&reader), &body).await.status, 403);
    let fine_grained = send(
        s.admin,
        "GET",
        "/v1/revocations",
        &[("authorization", &reader)],
        Bytes::new(),
    )
    .await;
    assert_eq!(fine_grained.status, 403, "listing needs a superuser too");
    let su = s.superuser.clone();
    for bad in [
        r#"{"jti":"a","unknown":1}"#,
        r#"{"jti":"a","sub":"b"}"#,
        r#"{"until":99999999999}"#,
        "not json",
    ] {
        let reply = revoke(&s, Some(&su), bad).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.code(), "INVALID_ARGUMENT_ERROR");
    }
    let big = format!(r#"{{"jti":"{}"}}"#, "x".repeat(10_000));
    assert_eq!(revoke(&s, Some(&su), &big).await.status, 413);
    assert_eq!(status(&s, &reader).await, 404, "still valid");
    assert_eq!(revoke(&s, Some(&su), &body).await.status, 204);
    assert_eq!(status(&s, &reader).await, 401, "revoked at once");
    // By subject: every credential of `tester` issued so far.
    let other = s.mint(READER, true, Some(600));
    let by_sub = r#"{"sub":"tester","until":99999999999}"#;
    assert_eq!(revoke(&s, Some(&su), by_sub).await.status, 204);
    assert_eq!(status(&s, &other).await, 401);
    // The live entries, for a superuser only.
    let listed = send(
        s.admin,
        "GET",
        "/v1/revocations",
        &[("authorization", &su)],
        Bytes::new(),
    )
    .await;
    assert_eq!(listed.status, 200);
    let entries = listed.json()["revocations"].as_array().unwrap().clone();
    assert!(
        entries.iter().any(|e| e["jti"] == jti(&reader)),
        "{entries:?}"
    );
    assert!(entries.iter().any(|e| e["sub"] == "tester"));
    let anonymous = send(s.admin, "GET", "/v1/revocations", &[], Bytes::new()).await;
    assert_eq!(anonymous.status, 401);
    let wrong_method = send(s.admin, "DELETE", "/v1/revocations", &[], Bytes::new()).await;
    assert_eq!(wrong_method.status, 405);
}

/// Two (and then three) gateways on one Redis namespace with one key ring.
async fn replica(namespace: &str, like: Option<&Server>) -> Server {
    let url = support::redis::shared().url();
    let namespace = namespace.to_owned();
    let keys = like.map(|s| Arc::clone(&s.keys));
    let mut s = start(move |c| {
        c.redis = Some(RedisConfig {
            namespace,
            ..RedisConfig::new(url)
        });
        if let Some(keys) = keys {
            c.keys = keys;
        }
    })
    .await;
    if let Some(like) = like {
        s.superuser = like.superuser.clone();
    }
    s
}

#[tokio::test]
async fn a_revocation_at_one_replica_reaches_the_others_within_a_second() {
    let namespace = support::server::unique_namespace();
    let a = replica(&namespace, None).await;
    let b = replica(&namespace, Some(&a)).await;
    let su = a.superuser.clone();
    let mut delays = Vec::new();
    for _ in 0..100 {
        let token = a.mint(READER, true, Some(600));
        assert_eq!(
            status(&b, &token).await,
            404,
            "valid at B (and cached there)"
        );
        let body = format!(r#"{{"jti":"{}"}}"#, jti(&token));
        assert_eq!(revoke(&a, Some(&su), &body).await.status, 204);
        let revoked = Instant::now();
        loop {
            if status(&b, &token).await == 401 {
                break;
            }
            assert!(
                revoked.elapsed() < Duration::from_secs(3),
                "never refused at B"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        delays.push(revoked.elapsed());
    }
    delays.sort();
    let p99 = delays[98];
    eprintln!(
        "revocation reaches the other replica: p50 {:?}, p99 {p99:?}",
        delays[49]
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
    // A replica that starts later knows them all (they are stored in Redis).
    let last = a.mint(READER, true, Some(600));
    let body = format!(r#"{{"jti":"{}"}}"#, jti(&last));
    assert_eq!(revoke(&b, Some(&su), &body).await.status, 204);
    let c = replica(&namespace, Some(&a)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(status(&c, &last).await, 401, "revocations survive restarts");
    assert_eq!(status(&a, &last).await, 401);
}

#[tokio::test]
async fn a_refresh_token_issued_at_one_replica_is_redeemed_at_another_once() {
    let namespace = support::server::unique_namespace();
    let a = replica(&namespace, None).await;
    let b = replica(&namespace, Some(&a)).await;
    let mut at_a = AuthClient::connect(format!("http://{}", a.addr))
        .await
        .unwrap();
    let mut at_b = AuthClient::connect(format!("http://{}", b.addr))
        .await
        .unwrap();
    let key = at_a
        .generate_api_token(GenerateApiTokenRequest {
            auth_token: a.superuser.clone(),
            permissions: Some(scopegate::scope::json::parse(RW).unwrap()),
            token_id: "key-1".into(),
            description: String::new(),
            expiry: Some(Expiry::Expires(Expires {
                valid_for_seconds: 3600,
            })),
        })
        .await
        .unwrap()
        .into_inner();
    let refresh = |api_key: &str, token: &str| RefreshApiTokenRequest {
        api_key: api_key.into(),
        refresh_token: token.into(),
    };
    // A token presented with another key is refused and not burnt.
    let other = a.mint(RW, false, Some(3600));
    let wrong = at_b
        .refresh_api_token(refresh(&other, &key.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), tonic::Code::Unauthenticated);
    let renewed = at_b
        .refresh_api_token(refresh(&key.api_key, &key.refresh_token))
        .await
        .expect("redeemed at B")
        .into_inner();
    for client in [&mut at_a, &mut at_b] {
        let again = client
            .refresh_api_token(refresh(&key.api_key, &key.refresh_token))
            .await
            .unwrap_err();
        assert_eq!(again.code(), tonic::Code::Unauthenticated, "once, anywhere");
    }
    // The new pair works at A.
    at_a.refresh_api_token(refresh(&renewed.api_key, &renewed.refresh_token))
        .await
        .expect("the renewed key refreshes at A");
    // Only digests are stored.
    let keys = support::redis::shared().keys();
    let stored: Vec<_> = keys
        .iter()
        .filter(|k| k.windows(4).any(|w| w == b":rt:"))
        .collect();
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|k| !k
            .windows(renewed.refresh_token.len())
            .any(|w| w == renewed.refresh_token.as_bytes())),
        "no refresh token in a key"
    );
}

/// `scopegate token revoke --admin URL`: the CLI over the same API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_revokes_through_the_admin_api() {
    let s = start(|_| {}).await;
    let reader = s.mint(READER, true, Some(600));
    let admin = format!("http://{}", s.admin);
    let cli = |credential: Option<&str>, args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_scopegate"));
        command
            .args(["token", "revoke", "--admin", &admin])
            .args(args);
        command.env_remove("SCOPEGATE_CREDENTIAL");
        if let Some(credential) = credential {
            command.env("SCOPEGATE_CREDENTIAL", credential);
        }
        command.output().unwrap()
    };
    let jti = jti(&reader);
    let refused = tokio::task::block_in_place(|| cli(Some(&reader), &["--jti", &jti]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("403"));
    let missing = tokio::task::block_in_place(|| cli(None, &["--jti", &jti]));
    assert_eq!(missing.status.code(), Some(2));
    let two =
        tokio::task::block_in_place(|| cli(Some(&s.superuser), &["--jti", "a", "--sub", "b"]));
    assert_eq!(two.status.code(), Some(2), "one target only");
    // A random jti may start with `-`: it is the value, not an option.
    let hyphen = tokio::task::block_in_place(|| {
        cli(
            Some(&s.superuser),
            &["--jti", "-leading-hyphen", "--for", "1h"],
        )
    });
    assert!(
        hyphen.status.success(),
        "{}",
        String::from_utf8_lossy(&hyphen.stderr)
    );
    assert_eq!(status(&s, &reader).await, 404);
    let ok =
        tokio::task::block_in_place(|| cli(Some(&s.superuser), &["--jti", &jti, "--for", "1h"]));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(status(&s, &reader).await, 401);
}
