//! Minting: issue-time validation (SPEC 3.3) and signing (SPEC 7).

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use momento_protos::permission_messages::Permissions;
use prost::Message;

use super::codec::{API_KEY, Claims, DISPOSABLE, envelope};
use super::keyring::KeyRing;
use super::verify::{AuthPolicy, CredentialKind};
use crate::scope::{ScopeError, compile};

/// Where a mint request comes from: the offline CLI may mint superuser API keys
/// (bootstrap); the API may not (SPEC 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Cli,
    Api,
    /// Re-minting an existing API key with its own scope (RefreshApiToken):
    /// not an escalation, so a superuser key may be refreshed.
    Refresh,
}

/// What to mint.
#[derive(Clone, Debug)]
pub struct MintRequest<'a> {
    pub scope: &'a Permissions,
    pub kind: CredentialKind,
    /// Lifetime in seconds; `None` is never-expiring (API keys only).
    pub ttl_secs: Option<u64>,
    pub token_id: Option<&'a str>,
    pub subject: &'a str,
    pub origin: Origin,
}

/// A minted credential.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The inner JWT (what SDKs send on the wire).
    pub jwt: String,
    /// The envelope handed to users.
    pub envelope: String,
    pub jti: String,
    pub issued_at: u64,
    pub expires_at: Option<u64>,
}

/// Why a mint request is refused: INVALID_ARGUMENT, except `NoSigningKey` and
/// `Signing`, which are the server's own failures.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    #[error("invalid scope: {0}")]
    Scope(#[from] ScopeError),
    #[error("token id is longer than {max} characters", max = super::MAX_TOKEN_ID_CHARS)]
    TokenIdTooLong,
    #[error("subject must be 1 to 256 characters")]
    BadSubject,
    #[error("a disposable token needs an expiry")]
    DisposableWithoutExpiry,
    #[error("expiry must be greater than 0 seconds")]
    ZeroExpiry,
    #[error("expiry of {requested} s exceeds the maximum of {max} s")]
    ExpiryTooLong { requested: u64, max: u64 },
    #[error("a superuser scope cannot be given to a disposable token")]
    SuperUserDisposable,
    #[error("a superuser API key can only be minted offline with the CLI")]
    SuperUserOverApi,
    #[error("this gateway holds no signing key")]
    NoSigningKey,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Validates `request` against `policy` and signs it with the ring's signing key.
pub fn mint(
    ring: &KeyRing,
    policy: &AuthPolicy,
    endpoint: &str,
    request: &MintRequest<'_>,
    now: u64,
) -> Result<Minted, MintError> {
    let scope = compile(request.scope, &policy.scope)?;
    let disposable = request.kind == CredentialKind::Disposable;
    if scope.is_superuser() && disposable {
        return Err(MintError::SuperUserDisposable);
    }
    if scope.is_superuser() && request.origin == Origin::Api {
        return Err(MintError::SuperUserOverApi);
    }
    if request
        .token_id
        .is_some_and(|id| id.chars().count() > super::MAX_TOKEN_ID_CHARS)
    {
        return Err(MintError::TokenIdTooLong);
    }
    if request.subject.is_empty() || request.subject.chars().count() > 256 {
        return Err(MintError::BadSubject);
    }
    let max = if disposable {
        policy.max_disposable_lifetime_secs
    } else {
        policy.max_api_key_lifetime_secs
    };
    let expires_at = match request.ttl_secs {
        None if disposable => return Err(MintError::DisposableWithoutExpiry),
        None => None,
        Some(0) => return Err(MintError::ZeroExpiry),
        Some(ttl) if ttl > max => {
            return Err(MintError::ExpiryTooLong {
                requested: ttl,
                max,
            });
        }
        // Saturating: the configured maximum may be enormous.
        Some(ttl) => Some(now.saturating_add(ttl)),
    };
    let jti = new_jti().map_err(MintError::Signing)?;
    let claims = Claims {
        sub: Cow::Borrowed(request.subject),
        ver: 1,
        iat: now,
        jti: Cow::Borrowed(&jti),
        exp: expires_at,
        nbf: None,
        t: Some(Cow::Borrowed(if disposable { DISPOSABLE } else { API_KEY })),
        id: request
            .token_id
            .filter(|id| !id.is_empty())
            .map(Cow::Borrowed),
        p: Cow::Owned(URL_SAFE_NO_PAD.encode(request.scope.encode_to_vec())),
    };
    let jwt = ring
        .sign(&claims)
        .ok_or(MintError::NoSigningKey)?
        .map_err(MintError::Signing)?;
    Ok(Minted {
        envelope: envelope(&jwt, endpoint),
        jwt,
        jti,
        issued_at: now,
        expires_at,
    })
}

/// A fresh 128-bit random `jti`, base64url.
fn new_jti() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no system randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
