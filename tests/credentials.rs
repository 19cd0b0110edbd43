//! Minting and verification through the public API: SPEC 2 and 3.3 (mint side), 7.

mod support;

use std::sync::Arc;

use scopegate::error::{Coded, ErrorCode};
use scopegate::operation::{Operation, OperationKind};
use scopegate::scope::{Denial, json};
use scopegate::token::{
    self, AuthError, AuthPolicy, Authenticator, CredentialKind, KeyRing, MintError, MintRequest,
    Origin, RevocationList, RingKey,
};
use support::*;

const HOUR: u64 = 3600;

#[test]
fn a_minted_disposable_token_verifies_and_carries_its_claims() {
    let f = fixture();
    let minted = f.mint(
        r#"{"permissions":[{"role":"readonly","cache":"c","item":{"keyPrefix":"u/"}}]}"#,
        CredentialKind::Disposable,
        Some(HOUR),
    );
    assert_eq!(minted.expires_at, Some(NOW + HOUR));
    for credential in [&minted.envelope, &minted.jwt] {
        let v = f.auth.authenticate_at(credential, NOW + 10).unwrap();
        assert_eq!(v.kind, CredentialKind::Disposable);
        assert_eq!(&*v.subject, "alice");
        assert_eq!(v.token_id.as_deref(), Some("tid-1"));
        assert_eq!(&*v.jti, minted.jti);
        assert_eq!((v.issued_at, v.expires_at), (NOW, Some(NOW + HOUR)));
        assert!(
            v.scope
                .authorize(&Operation::key(OperationKind::Get, "c", b"u/1"))
                .is_ok()
        );
        assert_eq!(
            v.scope
                .authorize(&Operation::key(OperationKind::Set, "c", b"u/1")),
            Err(Denial::RoleNotGranted)
        );
    }
}

#[test]
fn the_envelope_carries_the_endpoint_sdks_read() {
    use base64::Engine;
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::ApiKey, None);
    let json = base64::engine::general_purpose::URL_SAFE
        .decode(&minted.envelope)
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["endpoint"], "localhost");
    assert_eq!(json["api_key"], minted.jwt.as_str());
}

#[test]
fn never_expiring_api_keys_and_superusers() {
    let f = fixture();
    let key = f.mint("superuser", CredentialKind::ApiKey, None);
    assert_eq!(key.expires_at, None);
    let v = f
        .auth
        .authenticate_at(&key.envelope, NOW + 100 * 365 * 24 * HOUR)
        .unwrap();
    assert_eq!(v.kind, CredentialKind::ApiKey);
    assert!(v.scope.is_superuser());
    assert!(
        v.scope
            .authorize(&Operation::global(OperationKind::CreateCache))
            .is_ok()
    );
}

#[test]
fn time_is_checked_on_every_request_including_cache_hits() {
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(60));
    assert!(f.auth.authenticate_at(&minted.envelope, NOW).is_ok()); // cached now
    assert!(f.auth.authenticate_at(&minted.envelope, NOW + 59).is_ok());
    assert_eq!(
        f.auth
            .authenticate_at(&minted.envelope, NOW + 60)
            .unwrap_err(),
        AuthError::Expired
    );
    assert_eq!(
        f.auth.verify_at(&minted.envelope, NOW + 60).unwrap_err(),
        AuthError::Expired
    );
    // Issued in the future relative to this clock.
    assert_eq!(
        f.auth.verify_at(&minted.envelope, NOW - 5).unwrap_err(),
        AuthError::NotYetValid
    );
}

#[test]
fn leeway_is_applied_to_both_ends() {
    let policy = AuthPolicy {
        leeway_secs: 5,
        ..AuthPolicy::default()
    };
    let f = fixture_with(policy, "k1");
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(60));
    assert!(f.auth.verify_at(&minted.jwt, NOW - 5).is_ok());
    assert_eq!(
        f.auth.verify_at(&minted.jwt, NOW - 6).unwrap_err(),
        AuthError::NotYetValid
    );
    assert!(f.auth.verify_at(&minted.jwt, NOW + 64).is_ok());
    assert_eq!(
        f.auth.verify_at(&minted.jwt, NOW + 65).unwrap_err(),
        AuthError::Expired
    );
}

#[test]
fn lifetimes_over_the_configured_maximum_are_refused_at_verification() {
    // Minted under a generous policy, verified under a strict one.
    let generous = fixture_with(
        AuthPolicy {
            max_disposable_lifetime_secs: 48 * HOUR,
            ..AuthPolicy::default()
        },
        "k1",
    );
    let long = generous.mint(RW_C, CredentialKind::Disposable, Some(30 * HOUR));
    let strict = Authenticator::new(
        Arc::clone(&generous.ring),
        AuthPolicy::default(),
        Arc::new(RevocationList::default()),
    );
    assert_eq!(
        strict.verify_at(&long.jwt, NOW).unwrap_err(),
        AuthError::LifetimeTooLong
    );
    assert!(generous.auth.verify_at(&long.jwt, NOW).is_ok());
}

#[test]
fn eddsa_tokens_verify_on_an_enforcer_holding_only_the_public_key() {
    let issuer = fixture_with(AuthPolicy::default(), "e1");
    let minted = issuer.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    let header = jsonwebtoken::decode_header(&minted.jwt).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (jsonwebtoken::Algorithm::EdDSA, Some("e1"))
    );

    let public_only = RingKey::ed25519("e1", None, Some(&issuer.ed_public_pem)).unwrap();
    assert!(!public_only.can_sign());
    let ring = Arc::new(KeyRing::new(vec![public_only], None).unwrap());
    let enforcer = Authenticator::new(
        Arc::clone(&ring),
        AuthPolicy::default(),
        Arc::new(RevocationList::default()),
    );
    assert!(enforcer.verify_at(&minted.envelope, NOW).is_ok());
    // The enforcer cannot mint.
    let scope = json::parse(RW_C).unwrap();
    let request = MintRequest {
        scope: &scope,
        kind: CredentialKind::ApiKey,
        ttl_secs: None,
        token_id: None,
        subject: "s",
        origin: Origin::Cli,
    };
    assert_eq!(
        token::mint(&ring, &AuthPolicy::default(), "e", &request, NOW).unwrap_err(),
        MintError::NoSigningKey
    );
    // Another key pair with the same kid does not verify it.
    let other = fixture_with(AuthPolicy::default(), "e1");
    assert_eq!(
        other.auth.verify_at(&minted.jwt, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn jsonwebtoken_agrees_with_our_signatures() {
    // An independent implementation verifies what we mint.
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        &minted.jwt,
        &jsonwebtoken::DecodingKey::from_secret(SECRET),
        &validation,
    )
    .unwrap();
    assert_eq!(decoded.claims["t"], "disposable");
    assert_eq!(decoded.claims["id"], "tid-1");
    assert_eq!(decoded.claims["ver"], 1);
}

fn mint_err(
    kind: CredentialKind,
    scope: &str,
    ttl: Option<u64>,
    token_id: Option<&str>,
    origin: Origin,
) -> MintError {
    let f = fixture();
    let scope = if scope == "superuser" {
        json::superuser()
    } else {
        json::parse(scope).unwrap()
    };
    let request = MintRequest {
        scope: &scope,
        kind,
        ttl_secs: ttl,
        token_id,
        subject: "s",
        origin,
    };
    token::mint(&f.ring, f.auth.policy(), "localhost", &request, NOW).unwrap_err()
}

#[test]
fn issue_time_validations_of_minting() {
    use CredentialKind::*;
    use Origin::*;
    let long_id = "x".repeat(65);
    let cases = [
        (
            mint_err(Disposable, RW_C, None, None, Cli),
            MintError::DisposableWithoutExpiry,
        ),
        (
            mint_err(Disposable, RW_C, Some(0), None, Cli),
            MintError::ZeroExpiry,
        ),
        (
            mint_err(ApiKey, RW_C, Some(0), None, Cli),
            MintError::ZeroExpiry,
        ),
        (
            mint_err(Disposable, RW_C, Some(25 * HOUR + 1), None, Cli),
            MintError::ExpiryTooLong {
                requested: 25 * HOUR + 1,
                max: 25 * HOUR,
            },
        ),
        (
            mint_err(Disposable, "superuser", Some(60), None, Cli),
            MintError::SuperUserDisposable,
        ),
        (
            mint_err(ApiKey, "superuser", None, None, Api),
            MintError::SuperUserOverApi,
        ),
        (
            mint_err(Disposable, RW_C, Some(60), Some(&long_id), Cli),
            MintError::TokenIdTooLong,
        ),
        (
            mint_err(Disposable, r#"{"permissions":[]}"#, Some(60), None, Cli),
            MintError::Scope(scopegate::scope::ScopeError::Empty),
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
        assert_eq!(got.code(), ErrorCode::InvalidArgumentError);
    }
    // 64 characters (not bytes) is the limit.
    let f = fixture();
    let id = "é".repeat(64);
    let scope = json::parse(RW_C).unwrap();
    let request = MintRequest {
        scope: &scope,
        kind: CredentialKind::Disposable,
        ttl_secs: Some(60),
        token_id: Some(&id),
        subject: "s",
        origin: Origin::Api,
    };
    let minted = token::mint(&f.ring, f.auth.policy(), "localhost", &request, NOW).unwrap();
    assert_eq!(
        f.auth
            .verify_at(&minted.jwt, NOW)
            .unwrap()
            .token_id
            .as_deref(),
        Some(id.as_str())
    );
}

#[test]
fn the_verification_cache_is_keyed_by_the_exact_bytes() {
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    assert!(f.auth.authenticate_at(&minted.jwt, NOW).is_ok());
    // A credential differing by one byte is verified afresh, not served from the cache.
    let mut altered = minted.jwt.clone();
    altered.push('A');
    assert!(f.auth.authenticate_at(&altered, NOW).is_err());
    let a = f.auth.authenticate_at(&minted.jwt, NOW).unwrap();
    let b = f.auth.authenticate_at(&minted.jwt, NOW).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "the second call is a cache hit");
}

#[test]
fn a_key_rotation_is_seen_by_every_cached_verification() {
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    // Verified, then served from this thread's table and the shared cache.
    for _ in 0..3 {
        assert!(f.auth.authenticate_at(&minted.envelope, NOW).is_ok());
    }
    // From another thread: a hit in the shared cache, stored in that thread's table.
    std::thread::scope(|t| {
        t.spawn(|| assert!(f.auth.authenticate_at(&minted.envelope, NOW).is_ok()));
    });
    // k1 leaves the ring: no level may serve what it verified.
    let keys = vec![RingKey::hs256("k2", &[7u8; 32]).unwrap()];
    f.auth
        .replace_ring(Arc::new(KeyRing::new(keys, Some("k2")).unwrap()));
    assert_eq!(
        f.auth.authenticate_at(&minted.envelope, NOW).unwrap_err(),
        AuthError::UnknownKid
    );
    std::thread::scope(|t| {
        t.spawn(|| {
            assert_eq!(
                f.auth.authenticate_at(&minted.envelope, NOW).unwrap_err(),
                AuthError::UnknownKid
            );
        });
    });
    // Back in the ring: verified afresh, and served again.
    f.auth.replace_ring(Arc::clone(&f.ring));
    assert!(f.auth.authenticate_at(&minted.envelope, NOW).is_ok());
}

#[test]
fn cached_verifications_are_revoked_and_expire_on_every_level() {
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    let verified = f.auth.authenticate_at(&minted.envelope, NOW).unwrap();
    assert!(f.auth.authenticate_at(&minted.envelope, NOW + 1).is_ok());
    f.revocations
        .revoke(token::RevokeBy::Jti, &verified.jti, NOW + 1, None)
        .unwrap();
    assert_eq!(
        f.auth
            .authenticate_at(&minted.envelope, NOW + 2)
            .unwrap_err(),
        AuthError::Revoked
    );
    // Two authenticators in one thread never serve each other's entries:
    // this one's k1 is another secret, so the credential is not its own.
    let fresh = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    assert!(f.auth.authenticate_at(&fresh.envelope, NOW).is_ok());
    let keys = vec![RingKey::hs256("k1", &[9u8; 32]).unwrap()];
    let other = Authenticator::new(
        Arc::new(KeyRing::new(keys, Some("k1")).unwrap()),
        AuthPolicy::default(),
        Arc::new(RevocationList::default()),
    );
    assert_eq!(
        other.authenticate_at(&fresh.envelope, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn key_ring_rules() {
    use scopegate::token::KeyError;
    assert_eq!(
        RingKey::hs256("k", b"short").unwrap_err(),
        KeyError::ShortSecret(5)
    );
    let dup = KeyRing::new(
        vec![
            RingKey::hs256("k", SECRET).unwrap(),
            RingKey::hs256("k", SECRET).unwrap(),
        ],
        None,
    );
    assert_eq!(dup.unwrap_err(), KeyError::DuplicateKid("k".into()));
    assert_eq!(
        RingKey::ed25519("e", None, None).unwrap_err(),
        KeyError::NoKeyMaterial
    );
    assert_eq!(
        RingKey::ed25519("e", Some("not a pem"), None).unwrap_err(),
        KeyError::BadPrivateKey
    );
    assert_eq!(
        RingKey::ed25519("e", None, Some("not a pem")).unwrap_err(),
        KeyError::BadPublicKey
    );
    // A private key with somebody else's public key.
    let other_public = &fixture().ed_public_pem;
    let token::GeneratedKey::Ed25519 { private_pem, .. } =
        token::generate(token::Algorithm::EdDSA).unwrap()
    else {
        unreachable!("EdDSA yields a key pair")
    };
    assert_eq!(
        RingKey::ed25519("e", Some(&private_pem), Some(other_public)).unwrap_err(),
        KeyError::MismatchedKeys
    );
    let verify_only = RingKey::ed25519("e", None, Some(other_public)).unwrap();
    assert_eq!(
        KeyRing::new(vec![verify_only], Some("e")).unwrap_err(),
        KeyError::CannotSign("e".into())
    );
}

#[test]
fn missing_credential_is_an_authentication_error() {
    assert_eq!(AuthError::Missing.code(), ErrorCode::AuthenticationError);
    assert_eq!(AuthError::Missing.reason(), "missing");
}

#[test]
fn an_enormous_configured_lifetime_does_not_overflow() {
    let policy = AuthPolicy {
        max_api_key_lifetime_secs: u64::MAX,
        ..AuthPolicy::default()
    };
    let f = fixture_with(policy, "k1");
    let minted = f.mint(RW_C, CredentialKind::ApiKey, Some(u64::MAX - 1));
    assert_eq!(minted.expires_at, Some(u64::MAX));
    let verified = f.auth.verify_at(&minted.jwt, NOW).unwrap();
    assert_eq!(verified.expires_at, Some(u64::MAX));
}

#[test]
fn a_revocation_outlives_the_leeway_window() {
    use scopegate::token::RevokeBy;
    let f = fixture_with(
        AuthPolicy {
            leeway_secs: 5,
            ..AuthPolicy::default()
        },
        "k1",
    );
    let now = token::unix_now();
    let minted = f.mint_at(RW_C, CredentialKind::Disposable, Some(60), now - 10);
    let exp = minted.expires_at.unwrap();
    f.auth
        .revoke(RevokeBy::Jti, &minted.jti, Some(exp))
        .unwrap();
    // Past exp but inside the leeway the credential would still be accepted,
    // so the revocation must still hold there.
    assert_eq!(
        f.auth.verify_at(&minted.jwt, exp + 3).unwrap_err(),
        AuthError::Revoked
    );
    assert_eq!(
        f.auth.verify_at(&minted.jwt, exp + 5).unwrap_err(),
        AuthError::Expired
    );
}
