//! `App`: the immutable per-process state every request shares, built once from
//! a [`Config`], plus the process lifecycle (ready, draining).

use std::sync::Arc;

use tokio::sync::watch;

use crate::backend::Backend;
use crate::config::{Config, ServerLimits};
use crate::metrics::Metrics;
use crate::token::{Authenticator, RefreshTokens, RevocationList};

pub struct App {
    pub endpoint: String,
    pub limits: ServerLimits,
    pub auth: Authenticator,
    pub backend: Backend,
    pub metrics: Metrics,
    /// Outstanding API-key refresh tokens.
    pub refresh_tokens: RefreshTokens,
    /// The browser origins allowed (CORS).
    pub cors: crate::api::cors::Cors,
    /// Whether `/demo` is served (`serve --dev`).
    pub demo: bool,
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
        let metrics = Metrics::new();
        let backend = Backend::new(
            config.backend,
            config.redis.as_ref(),
            &config.caches,
            metrics.backend(),
        )?;
        Ok(Arc::new(App {
            endpoint: config.endpoint,
            limits: config.server,
            auth,
            backend,
            metrics,
            refresh_tokens: RefreshTokens::new(100_000),
            cors: crate::api::cors::Cors::new(&config.cors_origins),
            demo: config.demo,
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

    /// Resolves when draining starts.
    pub async fn drained(&self) {
        let mut rx = self.draining.subscribe();
        // The sender lives in `self`, so `wait_for` only ends when draining starts.
        let _ = rx.wait_for(|draining| *draining).await;
    }
}
