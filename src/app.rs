//! `App`: the immutable per-process state every request shares, built once from
//! a [`Config`], plus the process lifecycle (ready, draining).

use std::sync::Arc;

use tokio::sync::watch;

use crate::backend::Backend;
use crate::config::{Config, ServerLimits};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::token::{
    Authenticator, CredentialKind, RefreshRefusal, RefreshTokens, Revocation, RevocationList,
    Verified, refresh, unix_now,
};

pub struct App {
    pub endpoint: String,
    pub limits: ServerLimits,
    pub auth: Authenticator,
    pub backend: Backend,
    pub metrics: Metrics,
    /// Outstanding API-key refresh tokens.
    pub refresh_tokens: RefreshTokens,
    /// The browser origins allowed (CORS).
    pub cors: crate::cors::Cors,
    /// Whether `/demo` is served (`serve --dev`).
    pub demo: bool,
    /// The token vending endpoint (`[vending]`); `None`: `/vend` is 404.
    pub vending: Option<crate::vending::Vending>,
    draining: watch::Sender<bool>,
}

impl App {
    /// Builds the process state; keys are loaded by then. The Redis backend
    /// connects in the background (call within a tokio runtime); a URL redis-rs
    /// cannot use is an error here.
    pub fn new(config: Config) -> Result<Arc<App>, String> {
        let auth = Authenticator::new(
            config.keys,
            config.auth,
            Arc::new(RevocationList::default()),
        );
        // Built within the runtime (as the backend): an OIDC verifier starts
        // its JWKS refresh task here.
        let vending = config
            .vending
            .map(|v| crate::vending::Vending::new(v, auth.policy()));
        let metrics = Metrics::new();
        let backend = Backend::new(
            // One element and one whole collection are bounded as one value is.
            crate::backend::Limits {
                max_collection_bytes: config.server.max_value_bytes,
                ..config.backend
            },
            config.redis.as_ref(),
            &config.caches,
            metrics.backend(),
        )?;
        if let Backend::Redis(redis) = &backend {
            redis.follow_revocations(Arc::clone(auth.revocations_handle()));
        }
        Ok(Arc::new(App {
            endpoint: config.endpoint,
            limits: config.server,
            auth,
            backend,
            metrics,
            refresh_tokens: RefreshTokens::new(100_000),
            cors: crate::cors::Cors::new(&config.cors_origins),
            demo: config.demo,
            vending,
            draining: watch::channel(false).0,
        }))
    }

    /// Ready to serve: not draining, and the backend is up.
    pub fn is_ready(&self) -> bool {
        !self.is_draining() && self.backend.is_up()
    }

    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Starts draining: readiness turns false and long-lived requests are told.
    pub fn drain(&self) {
        self.draining.send_replace(true);
    }

    /// Revokes (SPEC 12). On the Redis backend the entry is stored in Redis
    /// first, so every replica applies it and it survives restarts; then it
    /// applies here at once. `until` gets the clock leeway, as at verification.
    pub async fn revoke(&self, mut revocation: Revocation) -> Result<(), ApiError> {
        let leeway = self.auth.policy().leeway_secs;
        revocation.until = revocation.until.map(|u| u.saturating_add(leeway));
        if let Backend::Redis(redis) = &self.backend {
            redis.store_revocation(&revocation).await?;
        }
        let result = self.auth.revocations().insert(&revocation, unix_now());
        self.metrics
            .revocations(self.auth.revocations().len(), result.is_err());
        result.map_err(|full| ApiError {
            limit: Some(crate::error::Limit::Operations),
            http_status: Some(503),
            ..ApiError::new(crate::ErrorCode::LimitExceededError, full.to_string())
        })
    }

    /// Issues a refresh token for a freshly minted API key: in Redis on the
    /// Redis backend (any replica redeems it), else in this process.
    pub async fn issue_refresh_token(
        &self,
        api_jti: &str,
        expires_at: Option<u64>,
    ) -> Result<String, ApiError> {
        let now = unix_now();
        let too_many = || {
            ApiError::new(
                crate::ErrorCode::LimitExceededError,
                "too many outstanding refresh tokens",
            )
        };
        match &self.backend {
            Backend::Redis(redis) => {
                let (token, digest) = refresh::new_token().ok_or_else(too_many)?;
                let until = refresh::redeemable_until(expires_at, now);
                redis.store_refresh_token(&digest, api_jti, until).await?;
                Ok(token)
            }
            Backend::Memory(_) => self
                .refresh_tokens
                .issue(api_jti, expires_at, now)
                .ok_or_else(too_many),
        }
    }

    /// The refresh rule: `caller` must be an API key and `token` a live
    /// refresh token issued for it; it works once, at any replica.
    pub async fn redeem_refresh_token(
        &self,
        token: &str,
        caller: &Verified,
    ) -> Result<Result<(), RefreshRefusal>, ApiError> {
        match &self.backend {
            Backend::Redis(redis) => {
                if caller.kind != CredentialKind::ApiKey {
                    return Ok(Err(RefreshRefusal::NotAnApiKey));
                }
                let redeemed = redis
                    .redeem_refresh_token(&refresh::digest(token), &caller.jti)
                    .await?;
                Ok(if redeemed {
                    Ok(())
                } else {
                    Err(RefreshRefusal::BadToken)
                })
            }
            Backend::Memory(_) => Ok(self.refresh_tokens.redeem_for(token, caller, unix_now())),
        }
    }

    /// Resolves when draining starts.
    pub async fn drained(&self) {
        let mut rx = self.draining.subscribe();
        // The sender lives in `self`, so `wait_for` only ends when draining starts.
        let _ = rx.wait_for(|draining| *draining).await;
    }
}
