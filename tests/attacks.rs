//! Hostile credentials: every one is refused as AUTHENTICATION_ERROR with the
//! right reason, quickly, without echoing the credential, and without a panic.

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use scopegate::error::{Coded, ErrorCode};
use scopegate::token::{AuthError, CredentialKind};
use support::*;

const HOUR: u64 = 3600;

fn exp(secs: u64) -> String {
    format!(r#","exp":{}"#, NOW + secs)
}

/// A token whose header and signature are fine but whose claims are `claims`.
fn signed(claims: &str) -> String {
    sign_raw(HS_HEADER, claims, SECRET)
}

/// Replaces the segment `index` of a JWT.
fn with_segment(jwt: &str, index: usize, segment: &str) -> String {
    let mut parts: Vec<&str> = jwt.split('.').collect();
    parts[index] = segment;
    parts.join(".")
}

fn cases(f: &Fixture) -> Vec<(&'static str, String, &'static str)> {
    let good = signed(&claims_with(&exp(HOUR)));
    let [header, claims, signature]: [&str; 3] =
        good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut tampered_sig = signature.to_owned();
    let first = if tampered_sig.starts_with('A') {
        "B"
    } else {
        "A"
    };
    tampered_sig.replace_range(0..1, first);
    let superuser_claims = format!(
        r#"{{"sub":"alice","ver":1,"iat":{NOW},"jti":"j1","exp":{},"p":"{}"}}"#,
        NOW + HOUR,
        p_claim("superuser")
    );
    vec![
        (
            "alg none, no signature",
            format!(
                "{}.{claims}.",
                b64(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#)
            ),
            "algorithm_mismatch",
        ),
        (
            "alg none, signature kept",
            format!(
                "{}.{claims}.{signature}",
                b64(r#"{"alg":"none","kid":"k1"}"#)
            ),
            "algorithm_mismatch",
        ),
        (
            "HS256 against the EdDSA kid, keyed with its public key",
            sign_raw(
                r#"{"alg":"HS256","kid":"e1"}"#,
                &claims_with(&exp(HOUR)),
                f.ed_public_pem.as_bytes(),
            ),
            "algorithm_mismatch",
        ),
        (
            "EdDSA header on the HS256 kid",
            with_segment(&good, 0, &b64(r#"{"alg":"EdDSA","kid":"k1"}"#)),
            "algorithm_mismatch",
        ),
        (
            "lower-case alg",
            with_segment(&good, 0, &b64(r#"{"alg":"hs256","kid":"k1"}"#)),
            "algorithm_mismatch",
        ),
        (
            "unknown kid",
            sign_raw(
                r#"{"alg":"HS256","kid":"k9"}"#,
                &claims_with(&exp(HOUR)),
                SECRET,
            ),
            "unknown_kid",
        ),
        (
            "no kid",
            sign_raw(r#"{"alg":"HS256"}"#, &claims_with(&exp(HOUR)), SECRET),
            "unknown_kid",
        ),
        (
            "signed with another secret",
            sign_raw(
                HS_HEADER,
                &claims_with(&exp(HOUR)),
                b"another-secret-another-secret-another",
            ),
            "bad_signature",
        ),
        (
            "payload swapped for a superuser one",
            with_segment(&good, 1, &b64(&superuser_claims)),
            "bad_signature",
        ),
        (
            "signature tampered",
            with_segment(&good, 2, &tampered_sig),
            "bad_signature",
        ),
        (
            "signature truncated",
            with_segment(&good, 2, &signature[..signature.len() - 3]),
            "bad_signature",
        ),
        (
            "signature empty",
            with_segment(&good, 2, ""),
            "bad_signature",
        ),
        (
            "duplicate exp claim",
            signed(&claims_with(&format!("{}{}", exp(HOUR), exp(20 * HOUR)))),
            "malformed",
        ),
        (
            "duplicate p claim",
            signed(&claims_with(&format!(r#","p":"{}""#, p_claim("superuser")))),
            "malformed",
        ),
        (
            "duplicate kid in header",
            sign_raw(
                r#"{"alg":"HS256","kid":"k1","kid":"k1"}"#,
                &claims_with(&exp(HOUR)),
                SECRET,
            ),
            "malformed",
        ),
        (
            "unknown claim",
            signed(&claims_with(&format!(r#"{},"admin":true"#, exp(HOUR)))),
            "malformed",
        ),
        (
            "unknown header field",
            sign_raw(
                r#"{"alg":"HS256","kid":"k1","jku":"http://x"}"#,
                &claims_with(&exp(HOUR)),
                SECRET,
            ),
            "malformed",
        ),
        (
            "typ is not JWT",
            sign_raw(
                r#"{"alg":"HS256","kid":"k1","typ":"JWE"}"#,
                &claims_with(&exp(HOUR)),
                SECRET,
            ),
            "malformed",
        ),
        (
            "exp as a string",
            signed(&claims_with(&format!(r#","exp":"{}""#, NOW + HOUR))),
            "malformed",
        ),
        (
            "exp as 1e19",
            signed(&claims_with(r#","exp":1e19"#)),
            "malformed",
        ),
        (
            "exp negative",
            signed(&claims_with(r#","exp":-1"#)),
            "malformed",
        ),
        (
            "exp beyond u64",
            signed(&claims_with(r#","exp":99999999999999999999999"#)),
            "malformed",
        ),
        (
            "exp as 10^19 seconds",
            signed(&claims_with(r#","exp":10000000000000000000"#)),
            "lifetime_too_long",
        ),
        (
            "exp before iat",
            signed(&claims_with(&format!(r#","exp":{}"#, NOW - 10))),
            "malformed",
        ),
        (
            "disposable without exp",
            signed(&claims_with("")),
            "lifetime_too_long",
        ),
        (
            "disposable living 26 hours",
            signed(&claims_with(&exp(26 * HOUR))),
            "lifetime_too_long",
        ),
        (
            "expired",
            signed(&claims_with(&format!(r#","exp":{NOW}"#)).replace(
                &format!(r#""iat":{NOW}"#),
                &format!(r#""iat":{}"#, NOW - 60),
            )),
            "expired",
        ),
        (
            "nbf in the future",
            signed(&claims_with(&format!(
                r#"{},"nbf":{}"#,
                exp(HOUR),
                NOW + 60
            ))),
            "not_yet_valid",
        ),
        (
            "iat in the future",
            signed(&claims_with(&exp(HOUR)).replace(
                &format!(r#""iat":{NOW}"#),
                &format!(r#""iat":{}"#, NOW + 60),
            )),
            "not_yet_valid",
        ),
        (
            "ver 2",
            signed(&claims_with(&exp(HOUR)).replace(r#""ver":1"#, r#""ver":2"#)),
            "malformed",
        ),
        (
            "t is not disposable",
            signed(&claims_with(&exp(HOUR)).replace(r#""t":"disposable""#, r#""t":"apikey""#)),
            "malformed",
        ),
        (
            "token_id over 64 characters",
            signed(&claims_with(&format!(
                r#"{},"id":"{}""#,
                exp(HOUR),
                "x".repeat(65)
            ))),
            "malformed",
        ),
        ("1 MiB credential", "a".repeat(1024 * 1024), "oversized"),
        (
            "8 KiB + 1 credential",
            format!("{good}{}", "A".repeat(8 * 1024 + 1 - good.len())),
            "oversized",
        ),
        ("two segments", format!("{header}.{claims}"), "malformed"),
        ("four segments", format!("{good}.{signature}"), "malformed"),
        (
            "header truncated",
            with_segment(&good, 0, &header[..header.len() - 3]),
            "malformed",
        ),
        (
            "claims truncated",
            with_segment(&good, 1, &claims[..claims.len() - 1]),
            "malformed",
        ),
        (
            "padded header",
            with_segment(&good, 0, &format!("{header}==")),
            "malformed",
        ),
        (
            "padded signature",
            with_segment(&good, 2, &format!("{signature}=")),
            "malformed",
        ),
        (
            "standard alphabet in claims",
            with_segment(&good, 1, &format!("+{}", &claims[1..])),
            "malformed",
        ),
        (
            "non-canonical trailing bits",
            with_segment(&good, 2, &non_canonical(signature)),
            "malformed",
        ),
        (
            "claims not JSON",
            with_segment(&good, 1, &b64("not json")),
            "malformed",
        ),
        ("claims a JSON array", signed("[1,2,3]"), "malformed"),
        ("empty credential", String::new(), "malformed"),
        ("spaces", "   ".into(), "malformed"),
        (
            "envelope of garbage",
            STANDARD.encode(r#"{"api_key":"x.y.z","endpoint":"e"}"#),
            "malformed",
        ),
        ("envelope not JSON", STANDARD.encode("hello"), "malformed"),
        (
            "p not base64url",
            signed(&claims_with(&exp(HOUR)).replace(&p_claim(RW_C), "!!not base64!!")),
            "bad_scope",
        ),
        (
            "p not a protobuf",
            signed(&claims_with(&exp(HOUR)).replace(
                &p_claim(RW_C),
                &URL_SAFE_NO_PAD.encode([0xff, 0xff, 0xff, 0x0f]),
            )),
            "bad_scope",
        ),
        (
            "p empty",
            signed(&claims_with(&exp(HOUR)).replace(&p_claim(RW_C), "")),
            "bad_scope",
        ),
        (
            "p empty explicit list",
            signed(
                &claims_with(&exp(HOUR))
                    .replace(&p_claim(RW_C), &URL_SAFE_NO_PAD.encode([0x12, 0x00])),
            ),
            "bad_scope",
        ),
        (
            "p with an empty key prefix",
            signed(&claims_with(&exp(HOUR)).replace(
                &p_claim(RW_C),
                &p_claim(
                    r#"{"permissions":[{"role":"readonly","cache":"c","item":{"keyPrefix":""}}]}"#,
                ),
            )),
            "bad_scope",
        ),
        (
            "p superuser on a disposable token",
            signed(&claims_with(&exp(HOUR)).replace(&p_claim(RW_C), &p_claim("superuser"))),
            "bad_scope",
        ),
    ]
}

/// Flips the unused low bits of the last base64url character.
fn non_canonical(segment: &str) -> String {
    // 32-byte HS256 signatures are 43 characters: the last one carries 2 unused bits.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = segment.chars().last().unwrap();
    let index = ALPHABET.find(last).unwrap();
    let flipped = ALPHABET.as_bytes()[index ^ 1] as char;
    format!("{}{flipped}", &segment[..segment.len() - 1])
}

#[test]
fn the_well_formed_token_of_the_table_verifies() {
    let f = fixture();
    let good = signed(&claims_with(&exp(HOUR)));
    let verified = f
        .auth
        .verify_at(&good, NOW)
        .expect("the baseline token must verify");
    assert_eq!(verified.kind, CredentialKind::Disposable);
    assert_eq!(&*verified.subject, "alice");
}

#[test]
fn every_attack_is_an_authentication_error_with_its_reason() {
    let f = fixture();
    let mut failures = Vec::new();
    for (name, credential, reason) in cases(&f) {
        let started = Instant::now();
        let result = f.auth.authenticate_at(&credential, NOW);
        // A hang guard, not a speed measurement (benches measure speed).
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: took {:?}",
            started.elapsed()
        );
        match result {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::AuthenticationError);
                if e.reason() != reason {
                    failures.push(format!("{name}: {} ({e}), expected {reason}", e.reason()));
                }
                assert_no_echo(name, &credential, &e);
            }
        }
        // The same answer through the envelope, and again (failures are not cached).
        if credential.contains('.') && credential.len() < 4096 {
            let wrapped = scopegate::token::envelope(&credential, "localhost");
            let again = f
                .auth
                .authenticate_at(&wrapped, NOW)
                .map(|_| ())
                .map_err(|e| e.reason());
            assert_eq!(again, Err(reason), "{name} in an envelope");
        }
        let again = f
            .auth
            .authenticate_at(&credential, NOW)
            .map(|_| ())
            .map_err(|e| e.reason());
        assert_eq!(again, Err(reason), "{name}, asked twice");
    }
    assert!(
        failures.is_empty(),
        "wrong outcomes:\n{}",
        failures.join("\n")
    );
}

fn assert_no_echo(name: &str, credential: &str, error: &AuthError) {
    let message = error.to_string();
    for part in credential.split('.').filter(|p| p.len() >= 8) {
        assert!(
            !message.contains(part),
            "{name}: message echoes the credential: {message}"
        );
    }
}

#[test]
fn revoked_credentials_are_refused_by_each_claim() {
    use scopegate::token::RevokeBy;
    for (by, value) in [
        (RevokeBy::Jti, None),
        (RevokeBy::TokenId, Some("tid-1")),
        (RevokeBy::Subject, Some("alice")),
    ] {
        let f = fixture();
        let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
        assert!(f.auth.authenticate_at(&minted.envelope, NOW).is_ok());
        let value = value.unwrap_or(&minted.jti);
        f.revocations
            .revoke(by, value, NOW, Some(NOW + HOUR))
            .unwrap();
        // Also on the verification-cache hit path.
        let err = f
            .auth
            .authenticate_at(&minted.envelope, NOW + 1)
            .unwrap_err();
        assert_eq!(err, AuthError::Revoked, "{by:?}");
        assert_eq!(
            f.auth.verify_at(&minted.jwt, NOW + 1).unwrap_err(),
            AuthError::Revoked
        );
    }
}

#[test]
fn mutations_of_a_valid_token_never_panic_and_never_pass() {
    let f = fixture();
    let minted = f.mint(RW_C, CredentialKind::Disposable, Some(HOUR));
    let jwt = minted.jwt.as_bytes();
    // Deterministic xorshift so a failure reproduces.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let mut bytes = jwt.to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = (next() % 128) as u8;
        }
        let text = String::from_utf8_lossy(&bytes);
        if text == minted.jwt {
            continue;
        }
        // Changing a base64 character in a way that decodes identically is
        // impossible with canonical decoding, so every mutation must fail.
        assert!(
            f.auth.verify_at(&text, NOW).is_err(),
            "mutation accepted: {text}"
        );
        let _ = scopegate::token::inspect(&text);
    }
    for cut in 0..jwt.len() {
        let text = std::str::from_utf8(&jwt[..cut]).unwrap();
        assert!(f.auth.verify_at(text, NOW).is_err());
    }
}

#[test]
fn random_scope_bytes_never_panic_the_compiler() {
    use prost::Message;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..20_000 {
        let len = (state % 48) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        if let Ok(p) = momento_protos::permission_messages::Permissions::decode(bytes.as_slice()) {
            let _ = scopegate::scope::compile(&p, &Default::default());
        }
    }
}
