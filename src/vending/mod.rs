//! The token vending endpoint (SPEC 8): `GET /vend` and `POST /vend` answer
//! `{"authToken": "<envelope>", "expiresAt": <epoch s>}`, a disposable token
//! for the caller's identity with the union of its groups' policies.
//!
//! One request (the HTTP side is `api::http`'s): method -> `?name=` ->
//! per-address limit (before any password or signature work) -> identity (open, basic or OIDC; the groups
//! come only from it) -> per-identity limit -> policies -> mint. Failures are
//! [`VendError`]s, mapped to codes and statuses in `error.rs`.
//!
//! Decisions where SPEC 8 is silent:
//! - open mode: every caller is `anonymous` in the group `anonymous`, so
//!   only `group = "anonymous"` policies apply (and per-identity limits are
//!   one bucket for everyone);
//! - the default `token_id` is the identity when it fits the 64 characters
//!   of SPEC 3.3, and none otherwise (truncating could make two identities
//!   look alike to topic subscribers);
//! - the per-address limit keys on the IP of the connection, never on a
//!   forwarded-for header: behind a proxy every caller shares the proxy's.

pub mod basic;
mod config;
pub mod jwks;
mod limits;
pub mod oidc;
pub mod policy;

use std::net::IpAddr;
use std::sync::Arc;

pub use config::{VendAuth, VendingConfig};

use crate::token::{
    self, AuthPolicy, Authenticator, CredentialKind, MintError, MintRequest, Minted, Origin,
};
use limits::RateLimit;

/// The identity in open mode, and its one group.
pub const ANONYMOUS: &str = "anonymous";

/// Who is asking: a subject and its groups, from a verified identity only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub groups: Vec<String>,
}

/// Why a vend is refused.
#[derive(Debug, thiserror::Error)]
pub enum VendError {
    /// `[vending]` is not configured: the route does not exist.
    #[error("vending is not enabled")]
    NotEnabled,
    #[error("method not allowed on /vend (use GET or POST)")]
    WrongMethod,
    #[error("{0}")]
    BadRequest(&'static str),
    /// No or bad identity; `reason` is a bounded metrics label.
    #[error("{message}")]
    Unauthenticated {
        reason: &'static str,
        message: &'static str,
    },
    /// A verified identity that no policy covers.
    #[error("no vending policy for this identity's groups")]
    NoPolicy,
    /// A policy applies but cannot be filled in or combined for this identity.
    #[error("{0}")]
    Forbidden(String),
    /// Over `vends_per_minute_per_identity` or `..._per_address`.
    #[error("too many token requests from this {0}; try again in a minute")]
    RateLimited(&'static str),
    #[error(transparent)]
    Mint(#[from] MintError),
}

impl VendError {
    pub(crate) fn unauthenticated(reason: &'static str, message: &'static str) -> Self {
        VendError::Unauthenticated { reason, message }
    }
}

/// The caller authenticator of each mode.
enum Authenticate {
    Open,
    Basic(basic::Users),
    Oidc(Arc<oidc::Oidc>),
}

/// The vending state on [`App`]: policies, the authenticator (with the OIDC
/// key and verification caches) and the rate limits.
pub struct Vending {
    authenticate: Authenticate,
    policies: Vec<policy::Policy>,
    by_identity: RateLimit<String>,
    by_address: RateLimit<IpAddr>,
}

impl Vending {
    /// Builds the state; for OIDC with a `jwks_url`, starts the key refresh
    /// task when called within a tokio runtime.
    pub fn new(config: VendingConfig, auth: &AuthPolicy) -> Vending {
        let authenticate = match config.auth {
            VendAuth::Open => {
                tracing::warn!(
                    "vending is OPEN: anyone who reaches /vend gets a token (auth = \"open\" is for development only)"
                );
                Authenticate::Open
            }
            VendAuth::Basic(users) => Authenticate::Basic(users),
            VendAuth::Oidc(settings) => {
                let verifier = oidc::Oidc::new(settings, auth);
                verifier.spawn_refresh();
                Authenticate::Oidc(verifier)
            }
        };
        Vending {
            authenticate,
            policies: config.policies,
            by_identity: RateLimit::new(config.per_identity),
            by_address: RateLimit::new(config.per_address),
        }
    }

    /// Vends a token to whoever `headers` prove to be, asking from `ip`;
    /// `name` is the token id asked for (validated by the front).
    pub async fn vend(
        &self,
        auth: &Authenticator,
        endpoint: &str,
        ip: IpAddr,
        name: Option<&str>,
        headers: &http::HeaderMap,
    ) -> Result<Minted, VendError> {
        if !self.by_address.allow(&ip) {
            return Err(VendError::RateLimited("address"));
        }
        let identity = match &self.authenticate {
            Authenticate::Open => {
                tracing::warn!("vending is OPEN: a token was vended without authentication");
                Identity {
                    sub: ANONYMOUS.into(),
                    groups: vec![ANONYMOUS.into()],
                }
            }
            Authenticate::Basic(users) => users.authenticate(headers).await?,
            Authenticate::Oidc(verifier) => verifier.authenticate(headers).await?,
        };
        if !self.by_identity.allow(&identity.sub) {
            return Err(VendError::RateLimited("identity"));
        }
        let applying = self
            .policies
            .iter()
            .filter(|p| identity.groups.contains(&p.group));
        let limits = &auth.policy().scope;
        let (scope, ttl) =
            policy::union(applying, &identity.sub, limits)?.ok_or(VendError::NoPolicy)?;
        let default_id = (identity.sub.chars().count() <= token::MAX_TOKEN_ID_CHARS)
            .then_some(identity.sub.as_str());
        let request = MintRequest {
            scope: &scope,
            kind: CredentialKind::Disposable,
            ttl_secs: Some(ttl),
            token_id: name.or(default_id),
            subject: &identity.sub,
            origin: Origin::Api,
        };
        Ok(token::mint(
            &auth.ring(),
            auth.policy(),
            endpoint,
            &request,
            token::unix_now(),
        )?)
    }
}
