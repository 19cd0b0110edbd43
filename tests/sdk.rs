//! Momento's official Rust SDK (`momento` crate) against scopegate, unchanged
//! except for pointing it at the gateway with `insecure_endpoint_override`.

#[macro_use]
mod support;

use std::time::Duration;

use momento::cache::{GetResponse, configurations};
use momento::{CacheClient, CredentialProvider, MomentoErrorCode};
use support::server::{Server, start};

mod sdk {
    //! Suites of their own, sharing this binary and its client.
    pub mod collections;
}

const CACHE: &str = "default-cache";

/// A `CacheClient` holding `envelope`, talking plaintext gRPC to `server`.
/// Disposable tokens go through `from_disposable_token`; API keys (`t` = "g",
/// SPEC 2.1) through the SDK's current `from_api_key_v2`, given the bare JWT
/// and an endpoint, as Momento's users hold them.
fn sdk_client(server: &Server, envelope: &str) -> CacheClient {
    let disposable = scopegate::token::inspect(envelope).unwrap().kind
        == scopegate::token::CredentialKind::Disposable;
    let provider = if disposable {
        CredentialProvider::from_disposable_token(envelope)
    } else {
        let jwt = scopegate::token::unwrap_envelope(envelope).unwrap();
        CredentialProvider::from_api_key_v2(jwt.into_owned(), "localhost")
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

both_backends! {
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
}

both_backends! {
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
}

both_backends! {
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
}

both_backends! {
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
}

mod minting {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use futures::StreamExt;
    use momento::TopicClient;
    use momento::auth::{
        AuthClient, CachePermission, CacheRole, DisposableTokenScope, DisposableTokenScopes,
        ExpiresIn, GenerateDisposableTokenRequest, Permission, PermissionScopes, Permissions,
        TopicPermission, TopicRole,
    };
    use momento::topics::configurations as topic_configurations;

    fn provider(s: &Server, envelope: &str) -> CredentialProvider {
        #[allow(deprecated)]
        let provider = CredentialProvider::from_string(envelope).unwrap();
        provider.insecure_endpoint_override(&format!("http://{}", s.addr))
    }

    fn auth_client(s: &Server, envelope: &str) -> AuthClient {
        AuthClient::builder()
            .credential_provider(provider(s, envelope))
            .build()
            .unwrap()
    }

    fn topic_client(s: &Server, envelope: &str) -> TopicClient {
        TopicClient::builder()
            .configuration(topic_configurations::Laptop::latest())
            .credential_provider(provider(s, envelope))
            .build()
            .unwrap()
    }

    /// SDK 0.70 encodes the tokens it mints with standard base64 but parses
    /// credentials as URL-safe base64, so a token whose encoding holds `+` or
    /// `/` would not load back into the SDK. Re-encode (scopegate takes both).
    fn loadable(sdk_token: String) -> String {
        URL_SAFE.encode(STANDARD.decode(sdk_token).unwrap())
    }

    async fn mint(auth: &AuthClient, scope: impl Into<DisposableTokenScope>) -> String {
        let response = auth
            .generate_disposable_token(scope.into(), ExpiresIn::minutes(10))
            .await
            .unwrap();
        loadable(response.auth_token())
    }

    fn denied<T: std::fmt::Debug>(result: momento::MomentoResult<T>) -> bool {
        matches!(result, Err(e) if e.error_code == MomentoErrorCode::PermissionError)
    }

    both_backends! {
    #[tokio::test]
    async fn every_scope_helper_mints_a_token_that_enforces_its_scope() {
        let s = start(|c| c.caches.push("other-cache".into())).await;
        let auth = auth_client(&s, &s.superuser);

        let rw = sdk_client(
            &s,
            &mint(&auth, PermissionScopes::cache_read_write(CACHE)).await,
        );
        rw.set(CACHE, "k", "v").await.unwrap();
        assert!(matches!(
            rw.get(CACHE, "k").await.unwrap(),
            GetResponse::Hit { .. }
        ));
        assert!(denied(rw.get("other-cache", "k").await));

        let ro = sdk_client(
            &s,
            &mint(&auth, PermissionScopes::cache_read_only(CACHE)).await,
        );
        assert!(matches!(
            ro.get(CACHE, "k").await.unwrap(),
            GetResponse::Hit { .. }
        ));
        assert!(denied(ro.set(CACHE, "k", "v").await));

        let wo = sdk_client(
            &s,
            &mint(&auth, PermissionScopes::cache_write_only(CACHE)).await,
        );
        wo.set(CACHE, "k", "w").await.unwrap();
        assert!(denied(wo.get(CACHE, "k").await));

        let key = sdk_client(
            &s,
            &mint(
                &auth,
                DisposableTokenScopes::cache_key_read_write(CACHE, "only"),
            )
            .await,
        );
        key.set(CACHE, "only", "v").await.unwrap();
        assert!(denied(key.set(CACHE, "other", "v").await));

        let prefix = mint(
            &auth,
            DisposableTokenScopes::cache_key_prefix_read_write(CACHE, "p/"),
        )
        .await;
        let prefix = sdk_client(&s, &prefix);
        prefix.set(CACHE, "p/1", "v").await.unwrap();
        assert!(denied(prefix.set(CACHE, "q/1", "v").await));

        let pubsub = mint(&auth, PermissionScopes::topic_publish_subscribe(CACHE, "t")).await;
        topic_client(&s, &pubsub)
            .publish(CACHE, "t", "m")
            .await
            .unwrap();
        assert!(
            denied(sdk_client(&s, &pubsub).get(CACHE, "k").await),
            "topic tokens get no cache items"
        );
        let sub_only = mint(&auth, PermissionScopes::topic_subscribe_only(CACHE, "t")).await;
        assert!(denied(
            topic_client(&s, &sub_only).publish(CACHE, "t", "m").await
        ));
        let pub_only = mint(&auth, PermissionScopes::topic_publish_only(CACHE, "t")).await;
        topic_client(&s, &pub_only)
            .publish(CACHE, "t", "m")
            .await
            .unwrap();
        assert!(denied(
            sdk_client(
                &s,
                &mint(&auth, PermissionScopes::cache_read_write(CACHE)).await
            )
            .delete("other-cache", "k")
            .await
        ));

        // Several permissions at once.
        let several = Permissions {
            permissions: vec![
                Permission::CachePermission(CachePermission {
                    role: CacheRole::ReadOnly,
                    cache: "other-cache".into(),
                }),
                Permission::TopicPermission(TopicPermission {
                    role: TopicRole::PublishOnly,
                    cache: CACHE.into(),
                    topic: "news".into(),
                }),
            ],
        };
        let several = mint(&auth, momento::auth::PermissionScope::Permissions(several)).await;
        assert!(matches!(
            sdk_client(&s, &several)
                .get("other-cache", "k")
                .await
                .unwrap(),
            GetResponse::Miss
        ));
        assert!(denied(
            sdk_client(&s, &several).set("other-cache", "k", "v").await
        ));
        topic_client(&s, &several)
            .publish(CACHE, "news", "m")
            .await
            .unwrap();
        assert!(denied(
            topic_client(&s, &several).publish(CACHE, "t", "m").await
        ));
    }
    }

    both_backends! {
    #[tokio::test]
    async fn token_id_is_the_publisher_id_and_only_superusers_mint() {
        let s = start(|_| {}).await;
        let auth = auth_client(&s, &s.superuser);
        let request = GenerateDisposableTokenRequest::new(
            PermissionScopes::topic_publish_subscribe(CACHE, "room").into(),
            ExpiresIn::minutes(5),
        )
        .token_id("sdk-42".into());
        let token = loadable(auth.send_request(request).await.unwrap().auth_token());
        let topics = topic_client(&s, &token);
        let mut subscription = topics.subscribe(CACHE, "room").await.unwrap();
        topics.publish(CACHE, "room", "hello").await.unwrap();
        let value = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value.publisher_id, "sdk-42");

        // A fine-grained credential cannot mint: INVALID_ARGUMENT, as Momento answers.
        let fine = auth_client(&s, &token);
        let err = fine
            .generate_disposable_token(
                PermissionScopes::cache_read_write(CACHE).into(),
                ExpiresIn::minutes(1),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.error_code,
            MomentoErrorCode::InvalidArgumentError,
            "{err:?}"
        );
        // The SDK keeps our message in the inner status.
        let detail = format!("{err:?}");
        assert!(
            detail.contains("Only tokens with SuperUser permissions"),
            "{detail}"
        );
    }
    }

    both_backends! {
    #[tokio::test]
    async fn only_the_superuser_reaches_the_control_plane() {
        let s = start(|_| {}).await;
        let admin = sdk_client(&s, &s.superuser);
        use momento::cache::CreateCacheResponse;
        assert_eq!(
            admin.create_cache("fresh").await.unwrap(),
            CreateCacheResponse::Created
        );
        assert_eq!(
            admin.create_cache("fresh").await.unwrap(),
            CreateCacheResponse::AlreadyExists
        );
        let names: Vec<String> = admin
            .list_caches()
            .await
            .unwrap()
            .caches
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert!(
            names.contains(&"fresh".to_string()) && names.contains(&CACHE.to_string()),
            "{names:?}"
        );
        admin.set("fresh", "k", "v").await.unwrap();
        admin.flush_cache("fresh").await.unwrap();
        assert!(matches!(
            admin.get("fresh", "k").await.unwrap(),
            GetResponse::Miss
        ));
        admin.delete_cache("fresh").await.unwrap();
        let err = admin.delete_cache("fresh").await.unwrap_err();
        assert_eq!(err.error_code, MomentoErrorCode::CacheNotFoundError);
        // Caches declared in the config always exist.
        let err = admin.delete_cache(CACHE).await.unwrap_err();
        assert_eq!(
            err.error_code,
            MomentoErrorCode::FailedPreconditionError,
            "{err:?}"
        );

        let fine = sdk_client(
            &s,
            &s.mint(
                r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
                false,
                None,
            ),
        );
        assert!(denied(fine.create_cache("mine").await));
        assert!(denied(fine.list_caches().await));
        assert!(denied(fine.delete_cache(CACHE).await));
    }
    }
}

both_backends! {
/// Every scalar RPC through the SDK, against its documented behaviour.
#[tokio::test]
async fn scalar_rpcs_behave_as_documented() {
    use momento::cache::{
        DecreaseTtlResponse, IncreaseTtlResponse, ItemGetTtlResponse, ItemGetTypeResponse,
        ItemType, SetIfAbsentOrEqualResponse, SetIfAbsentResponse, SetIfEqualResponse,
        SetIfNotEqualResponse, SetIfPresentAndNotEqualResponse, SetIfPresentResponse,
        UpdateTtlResponse,
    };
    let s = start(|_| {}).await;
    let c = sdk_client(&s, &s.superuser);

    // Conditional sets: each condition both ways.
    assert_eq!(
        c.set_if_absent(CACHE, "a", "1").await.unwrap(),
        SetIfAbsentResponse::Stored
    );
    assert_eq!(
        c.set_if_absent(CACHE, "a", "2").await.unwrap(),
        SetIfAbsentResponse::NotStored
    );
    assert_eq!(
        c.set_if_present(CACHE, "missing", "x").await.unwrap(),
        SetIfPresentResponse::NotStored
    );
    assert_eq!(
        c.set_if_present(CACHE, "a", "2").await.unwrap(),
        SetIfPresentResponse::Stored
    );
    assert_eq!(
        c.set_if_equal(CACHE, "a", "3", "nope").await.unwrap(),
        SetIfEqualResponse::NotStored
    );
    assert_eq!(
        c.set_if_equal(CACHE, "a", "3", "2").await.unwrap(),
        SetIfEqualResponse::Stored
    );
    assert_eq!(
        c.set_if_not_equal(CACHE, "a", "4", "3").await.unwrap(),
        SetIfNotEqualResponse::NotStored
    );
    assert_eq!(
        c.set_if_not_equal(CACHE, "a", "4", "x").await.unwrap(),
        SetIfNotEqualResponse::Stored
    );
    assert_eq!(
        c.set_if_not_equal(CACHE, "fresh", "1", "x").await.unwrap(),
        SetIfNotEqualResponse::Stored
    );
    assert_eq!(
        c.set_if_present_and_not_equal(CACHE, "a", "5", "4")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::NotStored
    );
    assert_eq!(
        c.set_if_present_and_not_equal(CACHE, "gone", "5", "4")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::NotStored
    );
    assert_eq!(
        c.set_if_present_and_not_equal(CACHE, "a", "5", "x")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::Stored
    );
    assert_eq!(
        c.set_if_absent_or_equal(CACHE, "a", "6", "x")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::NotStored
    );
    assert_eq!(
        c.set_if_absent_or_equal(CACHE, "a", "6", "5")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::Stored
    );
    assert_eq!(
        c.set_if_absent_or_equal(CACHE, "b", "1", "x")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::Stored
    );
    let a: String = c.get(CACHE, "a").await.unwrap().try_into().unwrap();
    assert_eq!(a, "6");

    // Increment: from absent, from a number, and not on text.
    assert_eq!(c.increment(CACHE, "n", 5).await.unwrap().value, 5);
    assert_eq!(c.increment(CACHE, "n", -7).await.unwrap().value, -2);
    let err = c.increment(CACHE, "a-text", 1).await;
    assert!(err.is_ok(), "an absent key starts at 0");
    c.set(CACHE, "text", "hello").await.unwrap();
    let err = c.increment(CACHE, "text", 1).await.unwrap_err();
    assert_eq!(
        err.error_code,
        MomentoErrorCode::FailedPreconditionError,
        "{err:?}"
    );

    // TTLs: read, increase, decrease, overwrite, on a miss.
    let ttl = |r: ItemGetTtlResponse| match r {
        ItemGetTtlResponse::Hit { remaining_ttl } => remaining_ttl,
        ItemGetTtlResponse::Miss => panic!("expected a hit"),
    };
    let start_ttl = ttl(c.item_get_ttl(CACHE, "a").await.unwrap());
    assert!(
        start_ttl <= Duration::from_secs(60) && start_ttl > Duration::from_secs(55),
        "{start_ttl:?}"
    );
    assert_eq!(
        c.increase_ttl(CACHE, "a", Duration::from_secs(30))
            .await
            .unwrap(),
        IncreaseTtlResponse::NotSet
    );
    assert_eq!(
        c.increase_ttl(CACHE, "a", Duration::from_secs(600))
            .await
            .unwrap(),
        IncreaseTtlResponse::Set
    );
    assert!(ttl(c.item_get_ttl(CACHE, "a").await.unwrap()) > Duration::from_secs(590));
    assert_eq!(
        c.decrease_ttl(CACHE, "a", Duration::from_secs(900))
            .await
            .unwrap(),
        DecreaseTtlResponse::NotSet
    );
    assert_eq!(
        c.decrease_ttl(CACHE, "a", Duration::from_secs(100))
            .await
            .unwrap(),
        DecreaseTtlResponse::Set
    );
    assert_eq!(
        c.update_ttl(CACHE, "a", Duration::from_secs(5))
            .await
            .unwrap(),
        UpdateTtlResponse::Set
    );
    assert!(ttl(c.item_get_ttl(CACHE, "a").await.unwrap()) <= Duration::from_secs(5));
    assert_eq!(
        c.update_ttl(CACHE, "missing", Duration::from_secs(5))
            .await
            .unwrap(),
        UpdateTtlResponse::Miss
    );
    assert!(matches!(
        c.item_get_ttl(CACHE, "missing").await.unwrap(),
        ItemGetTtlResponse::Miss
    ));
    assert!(matches!(
        c.item_get_type(CACHE, "a").await.unwrap(),
        ItemGetTypeResponse::Hit {
            key_type: ItemType::Scalar
        }
    ));
    assert!(matches!(
        c.item_get_type(CACHE, "missing").await.unwrap(),
        ItemGetTypeResponse::Miss
    ));

    // Batches and existence.
    c.set_batch(CACHE, vec![("k1", "v1"), ("k2", "v2")])
        .await
        .unwrap();
    let batch: std::collections::HashMap<Vec<u8>, GetResponse> = c
        .get_batch(CACHE, vec!["k1", "k2", "k3"])
        .await
        .unwrap()
        .into();
    assert!(matches!(batch[b"k1".as_slice()], GetResponse::Hit { .. }));
    assert!(matches!(batch[b"k3".as_slice()], GetResponse::Miss));
    let exists: Vec<bool> = c
        .keys_exist(CACHE, vec!["k1", "k3", "k2"])
        .await
        .unwrap()
        .into();
    assert_eq!(exists, [true, false, true]);

    // A value set with a 1-second TTL is gone after it.
    c.send_request(
        momento::cache::SetRequest::new(CACHE, "short", "v").ttl(Duration::from_secs(1)),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(matches!(
        c.get(CACHE, "short").await.unwrap(),
        GetResponse::Miss
    ));
}
}

both_backends! {
#[tokio::test]
async fn a_cache_only_token_gets_no_topics_through_the_sdk() {
    use momento::TopicClient;
    use momento::topics::configurations as topic_configurations;
    let s = start(|_| {}).await;
    let cache_only = s.mint(
        r#"{"permissions":[{"role":"readwrite","cache":"*"}]}"#,
        true,
        Some(600),
    );
    let provider = CredentialProvider::from_disposable_token(&cache_only)
        .unwrap()
        .insecure_endpoint_override(&format!("http://{}", s.addr));
    let topics = TopicClient::builder()
        .configuration(topic_configurations::Laptop::latest())
        .credential_provider(provider)
        .build()
        .unwrap();
    let err = topics.publish(CACHE, "t", "x").await.unwrap_err();
    assert_eq!(err.error_code, MomentoErrorCode::PermissionError);
    let err = topics
        .subscribe(CACHE, "t")
        .await
        .err()
        .expect("subscribe is refused");
    assert_eq!(err.error_code, MomentoErrorCode::PermissionError);
}
}
