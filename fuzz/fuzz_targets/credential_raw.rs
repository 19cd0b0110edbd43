//! Raw bytes as a presented credential: through the HTTP front's credential
//! extraction (the `Authorization` header, raw or `Bearer`, and the `token`
//! parameter), then `Authenticator` verification of the envelope or JWT text,
//! with and without the verification cache, and `token::inspect`.
//!
//! Properties: nothing panics; the cached and uncached paths agree; failure
//! messages are short fixed text that never echoes a long input; and a
//! success happens only for a credential whose JWT carries a valid HS256
//! signature by the ring's key (a random input cannot have one, so in
//! practice: every input fails cleanly).
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use scopegate::Authenticator;
use scopegate::api::http::request::{Query, credential};
use scopegate::error::ApiError;
use scopegate::token::{self, AuthError, unwrap_envelope};

fn auth() -> &'static Authenticator {
    static AUTH: OnceLock<Authenticator> = OnceLock::new();
    AUTH.get_or_init(|| common::authenticator().0)
}

/// Appended and prepended to inputs: base64url characters, so a JWT with it
/// still decodes and goes as deep as the input did. No message may contain
/// it. (Checking "the message does not contain the input" directly is
/// useless: libFuzzer reads the message off the comparison and feeds it back.)
const CANARY: &str = "Zq7fCanaryXw3Kp";

/// Messages are short fixed text, and never echo the input.
fn check_message(message: &str) {
    assert!(message.len() <= 200, "unbounded message: {message}");
    assert!(
        !message.contains(CANARY),
        "message echoes the input: {message}"
    );
}

fn verify(text: &str) {
    let auth = auth();
    let direct = auth.verify_at(text, common::NOW);
    let cached = auth.authenticate_at(text, common::NOW);
    let again = auth.authenticate_at(text, common::NOW);
    if !text.is_ascii() {
        // Authentication refuses what is not ASCII text (after its size),
        // before any decoding; no such text verifies by any path.
        assert!(direct.is_err(), "non-ASCII text verified: {direct:?}");
        for refused in [&cached, &again] {
            let e = refused.as_ref().expect_err("non-ASCII text authenticated");
            assert!(
                matches!(e, AuthError::Malformed(_) | AuthError::Oversized),
                "{e:?}"
            );
            check_message(&e.to_string());
        }
        assert_eq!(cached.as_ref().err(), again.as_ref().err());
    } else {
        agree(text, &direct, &cached, &again);
    }
    if let Err(e) = token::inspect(text) {
        check_message(&e.to_string());
    }
}

/// The direct and cached verifications of ASCII `text` agree, and succeed
/// only for a correct signature.
fn agree(
    text: &str,
    direct: &Result<scopegate::token::Verified, AuthError>,
    cached: &Result<std::sync::Arc<scopegate::token::Verified>, AuthError>,
    again: &Result<std::sync::Arc<scopegate::token::Verified>, AuthError>,
) {
    match (direct, cached, again) {
        (Ok(a), Ok(b), Ok(c)) => {
            assert_eq!(a, &**b);
            assert_eq!(a, &**c);
            // Only a correctly signed JWT verifies.
            let jwt = unwrap_envelope(text).expect("it verified");
            let (input, signature) = jwt.rsplit_once('.').unwrap();
            let kid_is_k2 = token::inspect(text).unwrap().kid.as_deref() == Some("k2");
            let secret = if kid_is_k2 {
                common::SECRET2
            } else {
                common::SECRET
            };
            use base64::Engine;
            let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(signature)
                .unwrap();
            assert_eq!(signature, common::hs256(input.as_bytes(), secret));
            assert!(
                a.expires_at
                    .is_none_or(|exp| common::NOW < exp + common::LEEWAY)
            );
        }
        (Err(a), Err(b), Err(c)) => {
            assert_eq!(a, b);
            assert_eq!(a, c);
            check_message(&a.to_string());
            let api: ApiError = (*a).into();
            check_message(&api.message);
        }
        _ => panic!("cache and direct verification disagree: {direct:?} / {cached:?} / {again:?}"),
    }
}

/// A credential as the fronts hand it over (bytes): ASCII is verified as
/// text; anything else is refused by authentication.
fn verify_bytes(credential: &[u8]) {
    match std::str::from_utf8(credential) {
        Ok(text) => verify(text),
        Err(_) => {
            let e = auth()
                .authenticate_at(credential, common::NOW)
                .expect_err("a credential that is not UTF-8 authenticated");
            check_message(&e.to_string());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // As the `token` query parameter (any UTF-8), or the lossy text of any bytes.
    let text = String::from_utf8_lossy(data);
    verify(&text);
    verify(&format!("{text}{CANARY}"));
    verify(&format!("{CANARY}{text}"));
    let query = Query {
        token: Some(data.into()),
        ..Query::default()
    };
    // The parameter's bytes are handed over as they are; authentication
    // checks that they are text.
    let no_headers = HeaderMap::new();
    let c = credential(&no_headers, &query).expect("a token parameter is the credential");
    assert_eq!(c, data);
    verify_bytes(c);

    // As the Authorization header: visible ASCII, trimmed, an optional Bearer.
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value.clone());
        match credential(&headers, &Query::default()) {
            Ok(c) => {
                assert!(data.windows(c.len().max(1)).any(|w| w == c) || c.is_empty());
                verify_bytes(c);
            }
            Err(e) => check_message(&e.message),
        }
        // Header and parameter at once, or two headers: refused before verification.
        assert!(credential(&headers, &query).is_err());
        headers.append(http::header::AUTHORIZATION, value);
        assert!(credential(&headers, &Query::default()).is_err());
    }
});
