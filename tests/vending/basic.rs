//! Basic vending: users with argon2 and bcrypt hashes, their groups' scopes
//! (templates, unions, the shorter ttl), refusals, and the rate limits.

use super::{argon2_hash, basic, basic_section, basic_server, parse_vending, vend, vended};

#[tokio::test]
async fn basic_users_with_argon2_and_bcrypt_get_their_groups_scopes() {
    let s = basic_server("").await;
    let alice = basic("alice", "alice-pw");
    let (token, inspected) = vended(&vend(&s, "/vend", &[("authorization", &alice)]).await);
    assert_eq!(
        (inspected.subject.as_str(), inspected.token_id.as_deref()),
        ("alice", Some("alice"))
    );
    let lifetime = inspected.expires_at.unwrap() - inspected.issued_at;
    assert_eq!(lifetime, 600);
    // {sub} and {group} were filled in: alice/ keys, players- topics.
    assert_eq!(
        s.put(
            "/cache/default-cache?key=alice/x&ttl_seconds=60",
            &token,
            b"a"
        )
        .await
        .status,
        204
    );
    assert_eq!(
        s.get("/cache/default-cache?key=alice/x", Some(&token))
            .await
            .body,
        "a"
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=bob/x&ttl_seconds=60",
            &token,
            b"a"
        )
        .await
        .status,
        403
    );
    assert_eq!(
        s.get("/cache/default-cache?key=bob/x", Some(&token))
            .await
            .status,
        403
    );
    assert_eq!(
        s.publish("/topics/default-cache/players-1", &token, "hi")
            .await
            .status,
        204
    );
    assert_eq!(
        s.publish("/topics/default-cache/auditors-1", &token, "hi")
            .await
            .status,
        403
    );

    // bob (bcrypt) is in two groups: the union, and the shorter ttl.
    let bob = basic("bob", "bob-pw");
    let (token, inspected) =
        vended(&vend(&s, "/vend?name=bobs-tab", &[("authorization", &bob)]).await);
    assert_eq!(inspected.token_id.as_deref(), Some("bobs-tab"));
    assert_eq!(inspected.expires_at.unwrap() - inspected.issued_at, 120);
    assert_eq!(
        s.get("/cache/default-cache?key=alice/x", Some(&token))
            .await
            .body,
        "a"
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=alice/x&ttl_seconds=60",
            &token,
            b"b"
        )
        .await
        .status,
        403
    );
    assert_eq!(
        s.put(
            "/cache/default-cache?key=bob/x&ttl_seconds=60",
            &token,
            b"b"
        )
        .await
        .status,
        204
    );
}

#[tokio::test]
async fn basic_refusals() {
    let s = basic_server("").await;
    for (header, why) in [
        (basic("alice", "wrong"), "wrong password"),
        (basic("mallory", "alice-pw"), "unknown user"),
        (basic("bob", "alice-pw"), "another user's password"),
        ("Bearer alice-pw".to_owned(), "not basic"),
        ("Basic !!!".to_owned(), "bad base64"),
    ] {
        let reply = vend(&s, "/vend", &[("authorization", &header)]).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "AUTHENTICATION_ERROR"),
            "{why}"
        );
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("pw"),
            "{why}: no echo"
        );
    }
    let reply = vend(&s, "/vend", &[]).await;
    assert_eq!(reply.status, 401);
    // carol is valid but in no group with a policy.
    let reply = vend(
        &s,
        "/vend",
        &[("authorization", &basic("carol", "carol-pw"))],
    )
    .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (403, "PERMISSION_ERROR")
    );
    // `x/y` cannot fill {sub}: a clear 403.
    let reply = vend(&s, "/vend", &[("authorization", &basic("x/y", "xy-pw"))]).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.json()["message"].as_str().unwrap().contains("{sub}"),
        "{:?}",
        reply.body
    );
    // ?name= over 64 characters.
    let long = format!("/vend?name={}", "n".repeat(65));
    let reply = vend(&s, &long, &[("authorization", &basic("alice", "alice-pw"))]).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (400, "INVALID_ARGUMENT_ERROR")
    );
}

#[test]
fn a_users_file_with_a_plain_password_is_refused_by_line_number() {
    let text = format!(
        "alice:{}:players\nbob:hunter2-plain:players\n",
        argon2_hash("pw")
    );
    let errors = parse_vending(&basic_section(""), &[("users.txt", &text)]).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("line 2") && !errors[0].contains("hunter2"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn vends_are_limited_per_identity_and_per_address() {
    let s =
        basic_server("vends_per_minute_per_identity = 2\nvends_per_minute_per_address = 100").await;
    let alice = basic("alice", "alice-pw");
    for _ in 0..2 {
        assert_eq!(
            vend(&s, "/vend", &[("authorization", &alice)]).await.status,
            200
        );
    }
    assert_rate_limited(
        &vend(&s, "/vend", &[("authorization", &alice)]).await,
        "identity",
    );
    assert_eq!(
        vend(&s, "/vend", &[("authorization", &basic("bob", "bob-pw"))])
            .await
            .status,
        200
    );

    let s =
        basic_server("vends_per_minute_per_identity = 100\nvends_per_minute_per_address = 3").await;
    assert_eq!(
        vend(&s, "/vend", &[("authorization", &alice)]).await.status,
        200
    );
    // Failed attempts count against the address too.
    assert_eq!(
        vend(&s, "/vend", &[("authorization", &basic("alice", "x"))])
            .await
            .status,
        401
    );
    assert_eq!(
        vend(&s, "/vend", &[("authorization", &basic("bob", "bob-pw"))])
            .await
            .status,
        200
    );
    assert_rate_limited(
        &vend(&s, "/vend", &[("authorization", &basic("bob", "bob-pw"))]).await,
        "address",
    );
}

/// A vend refused by a rate limit: 429, LIMIT_EXCEEDED, naming which limit.
fn assert_rate_limited(reply: &crate::support::server::Reply, limit: &str) {
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (429, "LIMIT_EXCEEDED_ERROR")
    );
    let message = reply.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(limit), "{message}");
}
