//! Credentials: the envelope and JWT codec, the key ring, verification with its
//! cache, the revocation list, and minting.

mod codec;
mod keyring;
mod mint;
pub mod refresh;
mod revocation;
mod verify;

pub use codec::{Claims, envelope, unwrap_envelope};
pub use keyring::{
    Algorithm, GeneratedKey, KeyError, KeyRing, MIN_HS256_SECRET_BYTES, RingKey, generate,
};
pub use mint::{MintError, MintRequest, Minted, Origin, mint};
pub use refresh::{RefreshRefusal, RefreshTokens};
pub use revocation::{ListFull, MAX_REVOCATIONS, Revocation, RevocationList, RevokeBy};
pub use verify::{AuthError, AuthPolicy, Authenticator, CredentialKind, Verified, unix_now};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use momento_protos::permission_messages::Permissions;
use prost::Message;

/// The longest `token_id` (SPEC 2.1), in characters.
pub const MAX_TOKEN_ID_CHARS: usize = 64;

/// What a credential says about itself, decoded without checking its signature.
#[derive(Debug)]
pub struct Inspected {
    pub kid: Option<String>,
    pub alg: String,
    pub subject: String,
    pub issued_at: u64,
    pub expires_at: Option<u64>,
    pub kind: CredentialKind,
    pub token_id: Option<String>,
    pub jti: String,
    /// `None` when `p` does not decode.
    pub scope: Option<Permissions>,
}

/// Decodes a credential (envelope or JWT) without verifying it. For humans and
/// tooling only: nothing decoded here may be trusted.
pub fn inspect(credential: &str) -> Result<Inspected, AuthError> {
    let jwt = unwrap_envelope(credential)?;
    let parsed = codec::Parsed::split(&jwt)?;
    let header = parsed.header()?;
    let claims = parsed.claims()?;
    let scope = URL_SAFE_NO_PAD
        .decode(claims.p.as_bytes())
        .ok()
        .and_then(|bytes| Permissions::decode(bytes.as_slice()).ok());
    let kind = if claims.is_disposable() {
        CredentialKind::Disposable
    } else {
        CredentialKind::ApiKey
    };
    Ok(Inspected {
        kid: header.kid.map(Into::into),
        alg: header.alg.into(),
        subject: claims.sub.into(),
        issued_at: claims.iat,
        expires_at: claims.exp,
        kind,
        token_id: claims.id.map(Into::into),
        jti: claims.jti.into(),
        scope,
    })
}
