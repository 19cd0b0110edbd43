//! Momento's official Rust SDK (`momento` crate) against scopegate, unchanged
//! except for pointing it at the gateway with `insecure_endpoint_override`.

mod support;

use std::time::Duration;

use momento::cache::{GetResponse, configurations};
use momento::{CacheClient, CredentialProvider, MomentoErrorCode};
use support::server::{Server, start};

const CACHE: &str = "default-cache";

/// A `CacheClient` holding `envelope`, talking plaintext gRPC to `server`.
/// Disposable tokens go through `from_disposable_token`; API keys through the
/// legacy `from_string` (the SDK's v2 `from_api_key_v2` wants keys whose `t`
/// claim is "g", which SPEC 2.1 does not give API keys).
fn sdk_client(server: &Server, envelope: &str) -> CacheClient {
    let disposable = scopegate::token::inspect(envelope).unwrap().kind
        == scopegate::token::CredentialKind::Disposable;
    #[allow(deprecated)]
    let provider = if disposable {
        CredentialProvider::from_disposable_token(envelope)
    } else {
        CredentialProvider::from_string(envelope)
    };
    let provider = provider
        .expect("the SDK parses scopegate's envelope")
        .insecure_endpoint_override(&format!("http://{}", server.addr));
    CacheClient::builder()
        .default_ttl(Duration::from_secs(60))
        .configuration(configurations::Laptop::latest())
        .credential_provider(provider)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_sdk_reads_and_writes_in_scope_and_sees_permission_errors_outside() {
    let s = start(|c| c.caches.push("other-cache".into())).await;
    let scoped = s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"default-cache","item":{"keyPrefix":"user-1/"}}]}"#,
        true,
        Some(600),
    );
    let client = sdk_client(&s, &scoped);
    client.set(CACHE, "user-1/name", "ada").await.unwrap();
    let got: String = client
        .get(CACHE, "user-1/name")
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(got, "ada");
    assert!(matches!(
        client.get(CACHE, "user-1/none").await.unwrap(),
        GetResponse::Miss
    ));
    client.delete(CACHE, "user-1/name").await.unwrap();
    assert!(matches!(
        client.get(CACHE, "user-1/name").await.unwrap(),
        GetResponse::Miss
    ));

    for (cache, key) in [(CACHE, "user-2/name"), ("other-cache", "user-1/name")] {
        let err = client.get(cache, key).await.unwrap_err();
        assert_eq!(
            err.error_code,
            MomentoErrorCode::PermissionError,
            "{cache}/{key}: {err:?}"
        );
        let err = client.set(cache, key, "x").await.unwrap_err();
        assert_eq!(err.error_code, MomentoErrorCode::PermissionError);
    }

    let read_only = s.mint(
        r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#,
        true,
        Some(600),
    );
    let err = sdk_client(&s, &read_only)
        .set(CACHE, "k", "v")
        .await
        .unwrap_err();
    assert_eq!(err.error_code, MomentoErrorCode::PermissionError);
}

#[tokio::test]
async fn an_expiring_token_works_then_fails_with_authentication_error() {
    let s = start(|_| {}).await;
    let short = s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
        true,
        Some(2),
    );
    let client = sdk_client(&s, &short);
    client.set(CACHE, "k", "v").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let err = client.get(CACHE, "k").await.unwrap_err();
    assert_eq!(
        err.error_code,
        MomentoErrorCode::AuthenticationError,
        "{err:?}"
    );
}

#[tokio::test]
async fn the_superuser_from_the_cli_shape_works_and_missing_caches_are_not_found() {
    let s = start(|_| {}).await;
    let client = sdk_client(&s, &s.superuser);
    client
        .set(CACHE, vec![0xffu8, 0x00], vec![1u8, 2, 3])
        .await
        .unwrap();
    let GetResponse::Hit { value } = client.get(CACHE, vec![0xffu8, 0x00]).await.unwrap() else {
        panic!("binary key round-trips")
    };
    let bytes: Vec<u8> = value.into();
    assert_eq!(bytes, [1, 2, 3]);
    let err = client.get("no-such-cache", "k").await.unwrap_err();
    assert_eq!(
        err.error_code,
        MomentoErrorCode::CacheNotFoundError,
        "{err:?}"
    );
}

#[tokio::test]
async fn the_sdk_topic_client_publishes_and_subscribes_with_the_publisher_id() {
    use futures::StreamExt;
    use momento::TopicClient;
    use momento::topics::configurations as topic_configurations;
    let s = start(|_| {}).await;
    let token = s.mint(
        r#"{"permissions":[{"role":"publishsubscribe","cache":"default-cache","topic":"chat"}]}"#,
        true,
        Some(600),
    );
    let provider = CredentialProvider::from_disposable_token(&token)
        .unwrap()
        .insecure_endpoint_override(&format!("http://{}", s.addr));
    let topics = TopicClient::builder()
        .configuration(topic_configurations::Laptop::latest())
        .credential_provider(provider)
        .build()
        .unwrap();
    let mut subscription = topics.subscribe(CACHE, "chat").await.unwrap();
    topics
        .publish(CACHE, "chat", "hi from the sdk")
        .await
        .unwrap();
    let value = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value.publisher_id, "tok-7");
    assert_eq!(value.topic_sequence_number, 1);
    let text: String = value.try_into().unwrap();
    assert_eq!(text, "hi from the sdk");
    let err = topics.publish(CACHE, "elsewhere", "x").await.unwrap_err();
    assert_eq!(err.error_code, MomentoErrorCode::PermissionError);
}
