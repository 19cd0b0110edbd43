//! Structured claims, correctly signed with the test ring's HS256 keys, so
//! verification gets past the signature and exercises SPEC 2.2's later steps:
//! time, lifetime, token id, revocation, scope.
//!
//! An independent oracle computes, from the structured input alone, what
//! verification must answer (which `AuthError`, in SPEC order, or success),
//! and the target asserts `Authenticator::verify_at` answers exactly that.
//! On success it also asserts the verified credential's invariants: expiry in
//! the future (within leeway), lifetime within the policy, no superuser
//! disposable token, the scope is the compiled scope of the signed `p`; and
//! that the verification cache still checks expiry and revocation on a hit.
#![no_main]

#[path = "../common/mod.rs"]
mod common;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use momento_protos::permission_messages::Permissions;
use prost::Message;
use scopegate::scope::compile;
use scopegate::token::{CredentialKind, RevokeBy};
use scopegate::{AuthError, Verified};
use serde_json::{Map, Value, json};

use common::{ArbScope, LEEWAY, NOW, Name};

#[derive(Arbitrary, Debug)]
enum HeaderSpec {
    K1,
    K1NoTyp,
    K1BadTyp,
    K2,
    /// An HS256 header naming the EdDSA key.
    E1AsHs256,
    /// An EdDSA header naming an HS256 key.
    K1AsEdDSA,
    AlgNone,
    NoKid,
    UnknownKid(Name),
    /// Signed as is; no expectation.
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    /// NOW plus this many seconds.
    Rel(i32),
    /// Any epoch second, up to u64::MAX.
    Abs(u64),
    /// A negative number: not a u64.
    Neg(u16),
}

impl Time {
    fn json(self) -> Value {
        match self {
            Time::Rel(r) => json!((NOW as i64 + i64::from(r)) as u64),
            Time::Abs(a) => json!(a),
            Time::Neg(n) => json!(-(i64::from(n)) - 1),
        }
    }
    /// `None` when it is not a u64.
    fn value(self) -> Option<u64> {
        match self {
            Time::Rel(r) => Some((NOW as i64 + i64::from(r)) as u64),
            Time::Abs(a) => Some(a),
            Time::Neg(_) => None,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum TSpec {
    None,
    Disposable,
    ApiKey,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum PSpec {
    Scope(ArbScope),
    /// The scope, base64url with padding (not the canonical form).
    PaddedScope(ArbScope),
    Bytes(Vec<u8>),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct ClaimsSpec {
    sub: Name,
    jti: Name,
    ver: Option<u32>,
    iat: Time,
    exp: Option<Time>,
    nbf: Option<Time>,
    t: TSpec,
    id: Option<Name>,
    /// Make the token id 65 characters or more.
    long_id: bool,
    p: PSpec,
    /// An unknown claim.
    extra: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Form {
    Jwt,
    EnvelopeUrlSafe,
    EnvelopeUrlSafeNoPad,
    EnvelopeStandard,
    EnvelopeStandardNoPad,
}

#[derive(Arbitrary, Debug)]
enum Tamper {
    None,
    FlipSignatureBit(u8),
    OtherSecret,
}

#[derive(Arbitrary, Debug)]
struct Revoke {
    /// 0: jti, 1: token id, 2: subject.
    by: u8,
    /// The revoked value: the credential's own, or another.
    own: bool,
    revoked_at: Time,
    until: Option<Time>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    header: HeaderSpec,
    claims: ClaimsSpec,
    /// Sign these bytes instead of the claims JSON (no expectation).
    raw_claims: Option<Vec<u8>>,
    form: Form,
    tamper: Tamper,
    revoke: Option<Revoke>,
}

/// Error kinds compared without the text of `Malformed`.
fn same(a: &AuthError, b: &AuthError) -> bool {
    match (a, b) {
        (AuthError::Malformed(_), AuthError::Malformed(_)) => true,
        _ => a == b,
    }
}

struct Built {
    credential: String,
    /// What verification must answer; `None` when the input is outside the oracle.
    expected: Option<Result<(), AuthError>>,
    scope: Option<Permissions>,
    sub: String,
    jti: String,
    id: Option<String>,
    kind: CredentialKind,
    iat: Option<u64>,
    exp: Option<u64>,
}

fn build(input: &Input) -> Built {
    let c = &input.claims;
    // Header and which secret signs.
    let (header, secret, header_expect): (Vec<u8>, &[u8], Option<Result<(), AuthError>>) =
        match &input.header {
            HeaderSpec::K1 => (
                br#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#.to_vec(),
                common::SECRET,
                Some(Ok(())),
            ),
            HeaderSpec::K1NoTyp => (
                br#"{"kid":"k1","alg":"HS256"}"#.to_vec(),
                common::SECRET,
                Some(Ok(())),
            ),
            HeaderSpec::K1BadTyp => (
                br#"{"alg":"HS256","typ":"jwt","kid":"k1"}"#.to_vec(),
                common::SECRET,
                Some(Err(AuthError::Malformed(""))),
            ),
            HeaderSpec::K2 => (
                br#"{"alg":"HS256","typ":"JWT","kid":"k2"}"#.to_vec(),
                common::SECRET2,
                Some(Ok(())),
            ),
            HeaderSpec::E1AsHs256 => (
                br#"{"alg":"HS256","kid":"e1"}"#.to_vec(),
                common::SECRET,
                Some(Err(AuthError::AlgorithmMismatch)),
            ),
            HeaderSpec::K1AsEdDSA => (
                br#"{"alg":"EdDSA","kid":"k1"}"#.to_vec(),
                common::SECRET,
                Some(Err(AuthError::AlgorithmMismatch)),
            ),
            HeaderSpec::AlgNone => (
                br#"{"alg":"none","kid":"k1"}"#.to_vec(),
                common::SECRET,
                Some(Err(AuthError::AlgorithmMismatch)),
            ),
            HeaderSpec::NoKid => (
                br#"{"alg":"HS256","typ":"JWT"}"#.to_vec(),
                common::SECRET,
                Some(Err(AuthError::UnknownKid)),
            ),
            HeaderSpec::UnknownKid(n) => (
                serde_json::to_vec(&json!({"alg": "HS256", "kid": format!("zz{}", n.text())}))
                    .unwrap(),
                common::SECRET,
                Some(Err(AuthError::UnknownKid)),
            ),
            HeaderSpec::Raw(bytes) => (bytes.clone(), common::SECRET, None),
        };

    // Claims.
    let sub = c.sub.text();
    let jti = c.jti.text();
    let id = c.id.as_ref().map(|n| {
        let mut id = n.text();
        if c.long_id {
            while id.chars().count() <= scopegate::token::MAX_TOKEN_ID_CHARS {
                id.push('é');
            }
        }
        id
    });
    let (p_text, scope) = match &c.p {
        PSpec::Scope(s) => {
            let scope = s.to_proto();
            (URL_SAFE_NO_PAD.encode(scope.encode_to_vec()), Some(scope))
        }
        PSpec::PaddedScope(s) => {
            let scope = s.to_proto();
            (URL_SAFE.encode(scope.encode_to_vec()), Some(scope))
        }
        PSpec::Bytes(b) => (URL_SAFE_NO_PAD.encode(b), None),
        PSpec::Text(t) => (t.clone(), None),
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(sub));
    claims.insert("jti".into(), json!(jti));
    claims.insert("ver".into(), json!(c.ver.unwrap_or(1)));
    claims.insert("iat".into(), c.iat.json());
    if let Some(exp) = c.exp {
        claims.insert("exp".into(), exp.json());
    }
    if let Some(nbf) = c.nbf {
        claims.insert("nbf".into(), nbf.json());
    }
    match &c.t {
        TSpec::None => {}
        TSpec::Disposable => {
            claims.insert("t".into(), json!("disposable"));
        }
        TSpec::ApiKey => {
            claims.insert("t".into(), json!("g"));
        }
        TSpec::Other(t) => {
            claims.insert("t".into(), json!(t));
        }
    }
    if let Some(id) = &id {
        claims.insert("id".into(), json!(id));
    }
    claims.insert("p".into(), json!(p_text));
    let known = ["sub", "jti", "ver", "iat", "exp", "nbf", "t", "id", "p"];
    let unknown_claim = match &c.extra {
        Some(name) if !known.contains(&name.as_str()) => {
            claims.insert(name.clone(), json!(1));
            true
        }
        _ => false,
    };
    let claims_json = match &input.raw_claims {
        Some(raw) => raw.clone(),
        None => serde_json::to_vec(&Value::Object(claims)).unwrap(),
    };

    // Sign, tamper, wrap.
    let secret = match input.tamper {
        Tamper::OtherSecret => b"not-the-key-of-any-kid-0123456789abcdef".as_slice(),
        _ => secret,
    };
    let mut jwt = common::sign_hs256(&header, &claims_json, secret);
    if let Tamper::FlipSignatureBit(bit) = input.tamper {
        let (head, sig) = jwt.rsplit_once('.').unwrap();
        let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig[(bit as usize / 8) % 32] ^= 1 << (bit % 8);
        jwt = format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig));
    }
    let envelope = || json!({"api_key": jwt, "endpoint": "localhost"}).to_string();
    let credential = match input.form {
        Form::Jwt => jwt.clone(),
        Form::EnvelopeUrlSafe => URL_SAFE.encode(envelope()),
        Form::EnvelopeUrlSafeNoPad => URL_SAFE_NO_PAD.encode(envelope()),
        Form::EnvelopeStandard => STANDARD.encode(envelope()),
        Form::EnvelopeStandardNoPad => STANDARD_NO_PAD.encode(envelope()),
    };

    let kind = if matches!(c.t, TSpec::Disposable) {
        CredentialKind::Disposable
    } else {
        CredentialKind::ApiKey
    };
    let iat = c.iat.value();
    let exp = c.exp.and_then(Time::value);

    // The oracle: SPEC 2.2 in order, from the structured input.
    let expected = (|| {
        let header_expect = header_expect?;
        if input.raw_claims.is_some() {
            return None;
        }
        let policy = common::policy();
        if credential.len() > policy.max_credential_bytes {
            return Some(Err(AuthError::Oversized));
        }
        // 2. Parse: header, then claims.
        if let Err(e @ AuthError::Malformed(_)) = header_expect {
            return Some(Err(e));
        }
        let malformed = Some(Err(AuthError::Malformed("")));
        let (Some(iat), true, true) = (
            iat,
            c.exp.is_none_or(|t| t.value().is_some()),
            c.nbf.is_none_or(|t| t.value().is_some()),
        ) else {
            return malformed;
        };
        if unknown_claim
            || c.ver.is_some_and(|v| v != 1)
            || sub.is_empty()
            || jti.is_empty()
            || matches!(&c.t, TSpec::Other(t) if t != "disposable" && t != "g")
            || exp.is_some_and(|e| e < iat)
        {
            return malformed;
        }
        // 3. Key and algorithm.
        if let Err(e) = header_expect {
            return Some(Err(e));
        }
        // 4. Signature.
        if !matches!(input.tamper, Tamper::None) {
            return Some(Err(AuthError::BadSignature));
        }
        // TSpec::Other("disposable") is a disposable token too.
        let kind = match &c.t {
            TSpec::Disposable => CredentialKind::Disposable,
            TSpec::Other(t) if t == "disposable" => CredentialKind::Disposable,
            _ => CredentialKind::ApiKey,
        };
        // 5. Time.
        if exp.is_some_and(|e| NOW >= e.saturating_add(LEEWAY)) {
            return Some(Err(AuthError::Expired));
        }
        let nbf = c.nbf.and_then(Time::value).unwrap_or(0).max(iat);
        if nbf > NOW + LEEWAY {
            return Some(Err(AuthError::NotYetValid));
        }
        let max = match kind {
            CredentialKind::Disposable => policy.max_disposable_lifetime_secs,
            CredentialKind::ApiKey => policy.max_api_key_lifetime_secs,
        };
        match exp {
            None if kind == CredentialKind::Disposable => {
                return Some(Err(AuthError::LifetimeTooLong));
            }
            Some(e) if e - iat > max => return Some(Err(AuthError::LifetimeTooLong)),
            _ => {}
        }
        if id
            .as_ref()
            .is_some_and(|id| id.chars().count() > scopegate::token::MAX_TOKEN_ID_CHARS)
        {
            return malformed;
        }
        // 6. Revocation.
        if let Some(r) = &input.revoke {
            let covers = r.own
                && (r.by % 3 != 1 || id.is_some())
                && r.revoked_at.value().is_some_and(|at| iat <= at)
                && r.until.is_none_or(|until| {
                    until
                        .value()
                        .is_some_and(|u| NOW <= u && r.revoked_at.value().is_some_and(|at| at <= u))
                });
            if covers {
                return Some(Err(AuthError::Revoked));
            }
        }
        // 7. Scope.
        let Some(scope) = &scope else {
            return None; // Arbitrary bytes or text: whatever they decode to.
        };
        if matches!(c.p, PSpec::PaddedScope(_)) && p_text.ends_with('=') {
            return Some(Err(AuthError::BadScope));
        }
        match compile(scope, &policy.scope) {
            Err(_) => Some(Err(AuthError::BadScope)),
            Ok(s) if s.is_superuser() && kind == CredentialKind::Disposable => {
                Some(Err(AuthError::BadScope))
            }
            Ok(_) => Some(Ok(())),
        }
    })();

    Built {
        credential,
        expected,
        scope,
        sub,
        jti,
        id,
        kind,
        iat,
        exp,
    }
}

fn revoke(input: &Input, built: &Built, revocations: &scopegate::token::RevocationList) {
    let Some(r) = &input.revoke else {
        return;
    };
    let (by, own) = match r.by % 3 {
        0 => (RevokeBy::Jti, Some(built.jti.as_str())),
        1 => (RevokeBy::TokenId, built.id.as_deref()),
        _ => (RevokeBy::Subject, Some(built.sub.as_str())),
    };
    let value = match (r.own, own) {
        (true, Some(v)) => v.to_owned(),
        // Another value: never the credential's own.
        _ => format!("{}-other", own.unwrap_or("none")),
    };
    // A revocation in the future of NOW-relative entries is fine: the list
    // only compares numbers. Negative times are not representable: skip.
    let Some(at) = r.revoked_at.value() else {
        return;
    };
    let until = match r.until {
        None => None,
        Some(u) => match u.value() {
            Some(u) => Some(u),
            None => return,
        },
    };
    // An entry that ends before it starts targets nothing still valid; the
    // list may drop it, so the harness never makes one.
    if until.is_some_and(|u| u < at) {
        return;
    }
    // `let _`: the list may refuse an entry when full (a fresh one never is).
    let _ = revocations.revoke(by, &value, at, until);
}

fn check_verified(built: &Built, v: &Verified) {
    assert_eq!(&*v.subject, built.sub);
    assert_eq!(&*v.jti, built.jti);
    assert_eq!(v.token_id.as_deref(), built.id.as_deref());
    assert_eq!(Some(v.issued_at), built.iat);
    assert_eq!(v.expires_at, built.exp);
    let policy = common::policy();
    match v.expires_at {
        Some(exp) => {
            assert!(
                NOW < exp.saturating_add(LEEWAY),
                "verified but expired: {v:?}"
            );
            let max = match v.kind {
                CredentialKind::Disposable => policy.max_disposable_lifetime_secs,
                CredentialKind::ApiKey => policy.max_api_key_lifetime_secs,
            };
            assert!(exp - v.issued_at <= max, "lifetime too long: {v:?}");
        }
        None => assert_eq!(
            v.kind,
            CredentialKind::ApiKey,
            "a disposable token never expires"
        ),
    }
    assert!(v.issued_at <= NOW + LEEWAY);
    if v.kind == CredentialKind::Disposable {
        assert!(
            !v.scope.is_superuser(),
            "a superuser disposable token verified"
        );
    }
    if let Some(scope) = &built.scope {
        assert_eq!(
            compile(scope, &policy.scope).as_ref(),
            Ok(&v.scope),
            "the verified scope is not the compiled signed scope"
        );
        common::check_authorization(scope, &v.scope);
    }
}

fuzz_target!(|input: Input| {
    let built = build(&input);
    let (auth, revocations) = common::authenticator();
    revoke(&input, &built, &revocations);
    let result = auth.verify_at(&built.credential, NOW);

    if let Some(expected) = &built.expected {
        let agree = match (&result, expected) {
            (Ok(_), Ok(())) => true,
            (Err(a), Err(b)) => same(a, b),
            _ => false,
        };
        assert!(
            agree,
            "verify_at answered {:?}, SPEC 2.2 says {expected:?}\ncredential: {}\ninput: {input:?}",
            result.as_ref().map(|_| ()),
            built.credential
        );
    }
    if !matches!(input.tamper, Tamper::None) {
        assert!(
            matches!(
                result,
                Err(AuthError::Malformed(_)
                    | AuthError::Oversized
                    | AuthError::UnknownKid
                    | AuthError::AlgorithmMismatch
                    | AuthError::BadSignature)
            ),
            "a tampered credential got past the signature: {result:?}"
        );
    }
    if let Err(e) = &result {
        let message = e.to_string();
        assert!(message.len() <= 200);
        assert!(!message.contains(&built.credential));
    }
    let Ok(verified) = result else {
        return;
    };
    assert_eq!(verified.kind, built.kind);
    check_verified(&built, &verified);

    // Through the cache: the same answer; a hit still checks expiry and revocation.
    let first = auth
        .authenticate_at(&built.credential, NOW)
        .expect("verified above");
    assert_eq!(*first, verified);
    let hit = auth
        .authenticate_at(&built.credential, NOW)
        .expect("a cache hit");
    assert_eq!(*hit, verified);
    if let Some(exp) = verified.expires_at {
        if let Some(later) = exp.checked_add(LEEWAY) {
            assert_eq!(
                auth.authenticate_at(&built.credential, later).err(),
                Some(AuthError::Expired),
                "a cache hit past exp + leeway was accepted"
            );
        }
    }
    let _ = revocations.revoke(
        RevokeBy::Jti,
        &verified.jti,
        NOW.max(verified.issued_at),
        None,
    );
    assert_eq!(
        auth.authenticate_at(&built.credential, NOW).err(),
        Some(AuthError::Revoked),
        "a cache hit of a revoked credential was accepted"
    );
    // `recheck` runs at the real clock: revoked, or (on a clock past 2027) expired.
    assert!(auth.recheck(&verified).is_err());
});
