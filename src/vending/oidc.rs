//! `auth = "oidc"`: an identity JWT (`Authorization: Bearer`) verified
//! against the issuer's JWKS (RS256, ES256, EdDSA), with `iss`, `aud`, `exp`
//! (and `nbf` when present) checked; the groups come from a configured claim
//! of the verified token and from nowhere else.
//!
//! Verified tokens are cached by the SHA-256 of their bytes, never past
//! their `exp`. The keys are refreshed on an interval (a background task)
//! and when a token names an unknown `kid`, at most once per `min_refresh`.

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::{Validation, decode, decode_header};
use moka::sync::Cache;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jwks::{self, JwksSource, KeySet};
use super::{Identity, VendError};
use crate::token::unix_now;

/// The validated `[vending]` OIDC settings.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: String,
    pub audience: String,
    pub source: JwksSource,
    /// The keys read at config time (`jwks_file`); `None` for a URL.
    pub initial: Option<KeySet>,
    pub groups_claim: String,
    pub refresh: Duration,
    pub min_refresh: Duration,
    pub timeout: Duration,
    pub max_bytes: usize,
}

/// The verifier with its key cache and verification cache.
pub struct Oidc {
    config: OidcConfig,
    keys: RwLock<Arc<KeySet>>,
    /// When keys were last fetched (or tried); held across a fetch so one
    /// fetch runs at a time.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    verified: Cache<[u8; 32], Arc<(Identity, u64)>>,
    max_token_bytes: usize,
    leeway_secs: u64,
}

/// Cached verifications expire at the token's `exp` (or the cache's TTL).
struct UntilExp(Duration);

impl moka::Expiry<[u8; 32], Arc<(Identity, u64)>> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Arc<(Identity, u64)>,
        _now: Instant,
    ) -> Option<Duration> {
        let left = Duration::from_secs(value.1.saturating_sub(unix_now()));
        Some(left.min(self.0))
    }
}

impl Oidc {
    pub fn new(config: OidcConfig, policy: &crate::token::AuthPolicy) -> Arc<Oidc> {
        let keys = Arc::new(config.initial.clone().unwrap_or_default());
        Arc::new(Oidc {
            keys: RwLock::new(keys),
            last_fetch: tokio::sync::Mutex::new(None),
            verified: Cache::builder()
                .max_capacity(policy.cache_entries)
                .expire_after(UntilExp(policy.cache_ttl))
                .build(),
            max_token_bytes: policy.max_credential_bytes,
            leeway_secs: policy.leeway_secs,
            config,
        })
    }

    /// Refreshes the keys every `refresh` (the first fetch at once, for a
    /// URL) while the verifier lives. Needs a tokio runtime; without one,
    /// keys are fetched on the first request instead.
    pub fn spawn_refresh(self: &Arc<Oidc>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Oidc> = Arc::downgrade(self);
        let mut first = self.config.initial.is_none();
        let interval = self.config.refresh;
        runtime.spawn(async move {
            loop {
                if !first {
                    tokio::time::sleep(interval).await;
                }
                first = false;
                let Some(oidc) = weak.upgrade() else { return };
                oidc.refresh(Duration::ZERO).await;
            }
        });
    }

    /// The caller's identity from `Authorization: Bearer <identity JWT>`.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Identity, VendError> {
        let token = bearer(headers)?;
        if token.len() > self.max_token_bytes {
            return Err(VendError::unauthenticated(
                "oversized",
                "identity token is too large",
            ));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = unix_now();
        if let Some(hit) = self.verified.get(&digest)
            && hit.1 > now
        {
            return Ok(hit.0.clone());
        }
        let (identity, exp) = self.verify(token).await?;
        self.verified
            .insert(digest, Arc::new((identity.clone(), exp)));
        Ok(identity)
    }

    async fn verify(&self, token: &str) -> Result<(Identity, u64), VendError> {
        let malformed = |why| VendError::unauthenticated("malformed", why);
        // `alg: none` (and any algorithm jsonwebtoken does not know) fails here.
        let header = decode_header(token).map_err(|_| malformed("malformed identity token"))?;
        let kid = header.kid.ok_or(malformed("identity token has no kid"))?;
        let key = match self.key(&kid) {
            Some(key) => key,
            None => {
                self.refresh(self.config.min_refresh).await;
                self.key(&kid).ok_or(VendError::unauthenticated(
                    "unknown_kid",
                    "identity token is signed by an unknown key",
                ))?
            }
        };
        if key.alg != header.alg {
            return Err(VendError::unauthenticated(
                "algorithm_mismatch",
                "identity token algorithm does not match its key",
            ));
        }
        let mut validation = Validation::new(key.alg);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Value>(token, &key.key, &validation)
            .map_err(|e| refusal(e.kind()))?
            .claims;
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
        if sub.is_empty() || sub.chars().count() > 256 {
            return Err(malformed("identity token has no usable sub"));
        }
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        let groups = match claims.get(&self.config.groups_claim) {
            Some(Value::String(g)) => vec![g.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let identity = Identity {
            sub: sub.to_owned(),
            groups,
        };
        Ok((identity, exp))
    }

    fn key(&self, kid: &str) -> Option<Arc<jwks::Key>> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.0.get(kid).cloned()
    }

    /// Fetches the keys unless the last attempt was less than `min_gap` ago.
    /// A failed fetch keeps the keys there are.
    async fn refresh(&self, min_gap: Duration) {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < min_gap) {
            return;
        }
        *last = Some(Instant::now());
        let c = &self.config;
        match jwks::load(&c.source, c.timeout, c.max_bytes).await {
            Ok(keys) => {
                tracing::debug!(keys = keys.0.len(), "vending: JWKS loaded");
                *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
            }
            Err(e) => {
                let from = match &c.source {
                    JwksSource::Url(url) => url.text.clone(),
                    JwksSource::File(path) => path.display().to_string(),
                };
                tracing::warn!(%from, error = %e, "vending: cannot load the JWKS; keeping the keys loaded before");
            }
        }
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &http::HeaderMap) -> Result<&str, VendError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(VendError::unauthenticated(
            "missing",
            "no identity token presented",
        ))?;
    let value = value
        .to_str()
        .map_err(|_| VendError::unauthenticated("malformed", "malformed identity token"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(VendError::unauthenticated(
            "malformed",
            "expected Authorization: Bearer <identity token>",
        )),
    }
}

/// The refusal for a failed `decode`: general terms, bounded reasons.
fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> VendError {
    use jsonwebtoken::errors::ErrorKind as K;
    let (reason, message) = match kind {
        K::ExpiredSignature => ("expired", "identity token has expired"),
        K::ImmatureSignature => ("not_yet_valid", "identity token is not valid yet"),
        K::InvalidIssuer => ("wrong_issuer", "identity token is from another issuer"),
        K::InvalidAudience => ("wrong_audience", "identity token is for another audience"),
        K::InvalidSignature => ("bad_signature", "identity token signature is invalid"),
        K::MissingRequiredClaim(_) => ("malformed", "identity token lacks a required claim"),
        K::InvalidAlgorithm => (
            "algorithm_mismatch",
            "identity token algorithm is not allowed",
        ),
        _ => ("malformed", "malformed identity token"),
    };
    VendError::unauthenticated(reason, message)
}
