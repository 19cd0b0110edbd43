//! Verification of a credential, in exactly the order of SPEC 2.2, behind a
//! verification cache.

mod recent;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moka::sync::Cache;
use prost::Message;

use crate::scope::{CompiledScope, ScopeLimits, compile};
use crate::token::codec::{Malformed, Parsed, unwrap_envelope};
use crate::token::keyring::{Algorithm, KeyRing};
use crate::token::revocation::RevocationList;
use recent::Recent;

/// Limits and policy applied to every credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthPolicy {
    /// Credentials longer than this are refused before any decoding.
    pub max_credential_bytes: usize,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Longest lifetime (`exp - iat`) of a disposable token.
    pub max_disposable_lifetime_secs: u64,
    /// Longest lifetime of an API key that expires.
    pub max_api_key_lifetime_secs: u64,
    pub scope: ScopeLimits,
    /// Verified credentials kept in the verification cache.
    pub cache_entries: u64,
    /// Longest a verified credential stays cached (its `exp` caps it further).
    pub cache_ttl: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            max_credential_bytes: 8 * 1024,
            leeway_secs: 0,
            max_disposable_lifetime_secs: 25 * 3600,
            max_api_key_lifetime_secs: 10 * 365 * 24 * 3600,
            scope: ScopeLimits::default(),
            cache_entries: 10_000,
            cache_ttl: Duration::from_secs(300),
        }
    }
}

/// Why a credential was refused. Every variant is AUTHENTICATION_ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// No credential was presented.
    Missing,
    Oversized,
    Malformed(&'static str),
    UnknownKid,
    AlgorithmMismatch,
    BadSignature,
    Expired,
    NotYetValid,
    LifetimeTooLong,
    Revoked,
    BadScope,
}

impl AuthError {
    /// A bounded label for metrics.
    pub const fn reason(self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Oversized => "oversized",
            AuthError::Malformed(_) => "malformed",
            AuthError::UnknownKid => "unknown_kid",
            AuthError::AlgorithmMismatch => "algorithm_mismatch",
            AuthError::BadSignature => "bad_signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::LifetimeTooLong => "lifetime_too_long",
            AuthError::Revoked => "revoked",
            AuthError::BadScope => "bad_scope",
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Missing => f.write_str("no credential presented"),
            AuthError::Oversized => f.write_str("credential is too large"),
            AuthError::Malformed(why) => write!(f, "malformed credential: {why}"),
            AuthError::UnknownKid => f.write_str("credential is signed by an unknown key"),
            AuthError::AlgorithmMismatch => {
                f.write_str("credential algorithm does not match its key")
            }
            AuthError::BadSignature => f.write_str("credential signature is invalid"),
            AuthError::Expired => f.write_str("credential has expired"),
            AuthError::NotYetValid => f.write_str("credential is not valid yet"),
            AuthError::LifetimeTooLong => {
                f.write_str("credential lifetime exceeds the allowed maximum")
            }
            AuthError::Revoked => f.write_str("credential has been revoked"),
            AuthError::BadScope => f.write_str("credential scope is invalid"),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<Malformed> for AuthError {
    fn from(m: Malformed) -> Self {
        AuthError::Malformed(m.0)
    }
}

/// API key or disposable token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    ApiKey,
    Disposable,
}

/// A verified credential: who, until when, and its compiled scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub kind: CredentialKind,
    /// The key it was verified with: a stream whose key leaves the ring ends.
    pub kid: Box<str>,
    pub subject: Box<str>,
    pub jti: Box<str>,
    /// The disposable token's `token_id`: the `publisher_id` of its messages.
    pub token_id: Option<Box<str>>,
    pub issued_at: u64,
    /// `None` only for never-expiring API keys.
    pub expires_at: Option<u64>,
    pub scope: CompiledScope,
}

/// Verifies credentials against a key ring, a revocation list and a policy.
pub struct Authenticator {
    /// Replaced whole by a key rotation (`replace_ring`).
    ring: std::sync::RwLock<Arc<KeyRing>>,
    policy: AuthPolicy,
    revocations: Arc<RevocationList>,
    cache: Cache<Box<str>, Cached, ahash::RandomState>,
    /// Each thread's last verifications, in front of `cache`.
    recent: Recent,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A verification-cache entry: served only while the key ring is the one it
/// was verified under (a verification racing a rotation may store what the
/// old ring accepted after the cache was cleared).
#[derive(Clone)]
struct Cached {
    verified: Arc<Verified>,
    generation: u64,
}

/// Cache entries live no longer than the credential nor the configured TTL.
struct UntilExpiry(Duration);

impl moka::Expiry<Box<str>, Cached> for UntilExpiry {
    fn expire_after_create(
        &self,
        _: &Box<str>,
        cached: &Cached,
        _: std::time::Instant,
    ) -> Option<Duration> {
        let left = cached.verified.expires_at.map_or(self.0, |exp| {
            Duration::from_secs(exp.saturating_sub(unix_now()))
        });
        Some(left.min(self.0))
    }
}

/// A credential's text: ASCII only, whether it came in a header, a `token`
/// query parameter or a request body (in a header, hyper admits tab,
/// visible ASCII and bytes over 0x7f, so this is what `HeaderValue::to_str`
/// admits). Checked a word at a time rather than byte by byte (a credential
/// is hundreds of bytes).
fn credential_text(credential: &[u8]) -> Result<&str, AuthError> {
    Some(credential)
        .filter(|b| b.is_ascii())
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or(AuthError::Malformed("credential is not text"))
}

impl Authenticator {
    pub fn new(ring: Arc<KeyRing>, policy: AuthPolicy, revocations: Arc<RevocationList>) -> Self {
        // ahash's RandomState is seeded per process: credentials are
        // attacker-chosen, so the hash must not be predictable.
        let cache = Cache::builder()
            .max_capacity(policy.cache_entries)
            .expire_after(UntilExpiry(policy.cache_ttl))
            .build_with_hasher(ahash::RandomState::new());
        Authenticator {
            ring: std::sync::RwLock::new(ring),
            policy,
            revocations,
            cache,
            recent: Recent::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// The current key ring.
    pub fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// A key rotation (SPEC 12): `ring` (validated whole by the caller)
    /// replaces the current one. Every cached verification is dropped, so a
    /// credential of a removed or changed key is verified afresh, and fails,
    /// from now on; open streams re-check their key.
    pub fn replace_ring(&self, ring: Arc<KeyRing>) {
        *self.ring.write().unwrap_or_else(|e| e.into_inner()) = ring;
        // After the write: whoever reads the new generation reads the new ring.
        self.recent.new_generation();
        self.cache.invalidate_all();
    }

    pub fn revocations(&self) -> &RevocationList {
        &self.revocations
    }

    /// The shared list itself (for the task that replicates revocations).
    pub fn revocations_handle(&self) -> &Arc<RevocationList> {
        &self.revocations
    }

    /// Verifies `credential` now, through the verification cache. It is the
    /// request's bytes as they came (a header value, trimmed): whether they
    /// are text is checked here, and only for a credential this thread has
    /// not just verified (one it has was checked then, and is compared byte
    /// for byte).
    /// Its clock is `clock::unix_secs`, the coarse one (never behind the
    /// fine clock, up to a tick ahead).
    pub fn authenticate(&self, credential: impl AsRef<[u8]>) -> Result<Arc<Verified>, AuthError> {
        self.authenticate_at(credential, crate::clock::unix_secs())
    }

    /// [`authenticate`](Self::authenticate) at a given clock (epoch seconds).
    /// A cache hit still checks expiry and revocation; failures are never
    /// cached. Two levels: this thread's last verifications, then the shared
    /// cache; an entry of either is served only under the key ring it was
    /// verified with.
    pub fn authenticate_at(
        &self,
        credential: impl AsRef<[u8]>,
        now: u64,
    ) -> Result<Arc<Verified>, AuthError> {
        let credential = credential.as_ref();
        if credential.len() > self.policy.max_credential_bytes {
            return Err(AuthError::Oversized);
        }
        // Read before the ring (in `verify_at`): see `Recent::generation`.
        let generation = self.recent.generation();
        let hash = self.recent.hash(credential);
        if let Some(verified) = self.recent.get(credential, hash, generation, now) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            self.check_live(&verified, now)?;
            return Ok(verified);
        }
        let credential = credential_text(credential)?;
        let until = now.saturating_add(self.policy.cache_ttl.as_secs());
        if let Some(cached) = self.cache.get(credential)
            && cached.generation == generation
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            self.check_live(&cached.verified, now)?;
            self.recent.put(
                credential.as_bytes(),
                hash,
                &cached.verified,
                generation,
                until,
            );
            return Ok(cached.verified);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let verified = Arc::new(self.verify_at(credential, now)?);
        let cached = Cached {
            verified: Arc::clone(&verified),
            generation,
        };
        self.cache.insert(credential.into(), cached);
        self.recent
            .put(credential.as_bytes(), hash, &verified, generation, until);
        Ok(verified)
    }

    /// Revokes credentials whose `by` claim is `value`, issued up to now. `until`
    /// is the latest expiry of the credentials it targets (`None`: for good);
    /// the entry is kept `leeway` longer, as long as such a credential could
    /// still be accepted.
    pub fn revoke(
        &self,
        by: super::RevokeBy,
        value: &str,
        until: Option<u64>,
    ) -> Result<(), super::revocation::ListFull> {
        let until = until.map(|u| u.saturating_add(self.policy.leeway_secs));
        self.revocations.revoke(by, value, unix_now(), until)
    }

    /// Verification-cache hits and misses so far.
    pub fn cache_stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Whether a credential verified earlier is still live now (not expired, not
    /// revoked): long-lived requests call this to end with their credential.
    pub fn recheck(&self, verified: &Verified) -> Result<(), AuthError> {
        self.check_live(verified, unix_now())?;
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        if ring.key(&verified.kid).is_none() {
            return Err(AuthError::UnknownKid);
        }
        Ok(())
    }

    /// Expiry and revocation: the checks that can change after verification.
    #[inline]
    fn check_live(&self, v: &Verified, now: u64) -> Result<(), AuthError> {
        if v.expires_at
            .is_some_and(|exp| now >= exp.saturating_add(self.policy.leeway_secs))
        {
            return Err(AuthError::Expired);
        }
        if self
            .revocations
            .is_revoked(&v.jti, v.token_id.as_deref(), &v.subject, v.issued_at, now)
        {
            return Err(AuthError::Revoked);
        }
        Ok(())
    }

    /// Full verification without the cache (SPEC 2.2, steps 1 to 7 in order).
    pub fn verify_at(&self, credential: &str, now: u64) -> Result<Verified, AuthError> {
        let policy = &self.policy;
        // 1. Size, before any decoding.
        if credential.len() > policy.max_credential_bytes {
            return Err(AuthError::Oversized);
        }
        // 2. Parse: envelope, segments, header and claims.
        let jwt = unwrap_envelope(credential)?;
        let parsed = Parsed::split(&jwt)?;
        let header = parsed.header()?;
        let claims = parsed.claims()?;
        // 3. Key: kid selects the key, which fixes the algorithm.
        let ring = self.ring();
        let key = header.kid.as_deref().and_then(|kid| ring.key(kid));
        let key = key.ok_or(AuthError::UnknownKid)?;
        if header.alg != key.alg().as_str() {
            return Err(AuthError::AlgorithmMismatch);
        }
        // 4. Signature.
        let expected_len = match key.alg() {
            Algorithm::HS256 => 32,
            Algorithm::EdDSA => 64,
        };
        if parsed.signature.len() != expected_len
            || !key.verify(parsed.signing_input.as_bytes(), &parsed.signature)
        {
            return Err(AuthError::BadSignature);
        }
        // 5. Time.
        let kind = if claims.is_disposable() {
            CredentialKind::Disposable
        } else {
            CredentialKind::ApiKey
        };
        let leeway = policy.leeway_secs;
        if claims
            .exp
            .is_some_and(|exp| now >= exp.saturating_add(leeway))
        {
            return Err(AuthError::Expired);
        }
        let not_before = claims.nbf.unwrap_or(0).max(claims.iat);
        if not_before > now.saturating_add(leeway) {
            return Err(AuthError::NotYetValid);
        }
        let max_lifetime = match kind {
            CredentialKind::Disposable => policy.max_disposable_lifetime_secs,
            CredentialKind::ApiKey => policy.max_api_key_lifetime_secs,
        };
        match claims.exp {
            // Never-expiring: API keys only.
            None if kind == CredentialKind::Disposable => return Err(AuthError::LifetimeTooLong),
            Some(exp) if exp - claims.iat > max_lifetime => return Err(AuthError::LifetimeTooLong),
            _ => {}
        }
        if claims
            .id
            .as_ref()
            .is_some_and(|id| id.chars().count() > super::MAX_TOKEN_ID_CHARS)
        {
            return Err(AuthError::Malformed("token id is too long"));
        }
        // 6. Revocation.
        let token_id = claims.id.as_deref();
        if self
            .revocations
            .is_revoked(&claims.jti, token_id, &claims.sub, claims.iat, now)
        {
            return Err(AuthError::Revoked);
        }
        // 7. Scope.
        let scope = URL_SAFE_NO_PAD
            .decode(claims.p.as_bytes())
            .map_err(|_| AuthError::BadScope)?;
        let scope = momento_protos::permission_messages::Permissions::decode(scope.as_slice())
            .map_err(|_| AuthError::BadScope)?;
        let scope = compile(&scope, &policy.scope).map_err(|_| AuthError::BadScope)?;
        if kind == CredentialKind::Disposable && scope.is_superuser() {
            return Err(AuthError::BadScope);
        }
        Ok(Verified {
            kind,
            kid: key.kid().into(),
            subject: claims.sub.into(),
            jti: claims.jti.into(),
            token_id: claims.id.map(Into::into),
            issued_at: claims.iat,
            expires_at: claims.exp,
            scope,
        })
    }
}

pub use crate::clock::unix_now;
