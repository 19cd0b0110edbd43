//! The token vending endpoint (SPEC 8): `GET /vend` and `POST /vend` answer
//! `{"authToken": "<envelope>", "expiresAt": <epoch s>}`, a disposable token
//! for the caller's identity with the union of its groups' policies.
//!
//! One request: method -> per-address limit (before any password or
//! signature work) -> `?name=` -> identity (open, basic or OIDC; the groups
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

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;

pub use config::{VendAuth, VendingConfig};

use crate::api::ClientAddr;
use crate::api::http::Body;
use crate::app::App;
use crate::error::ApiError;
use crate::token::{self, AuthPolicy, CredentialKind, MintError, MintRequest, Origin};
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

    async fn vend(
        &self,
        app: &App,
        parts: &http::request::Parts,
    ) -> Result<Response<Body>, VendError> {
        if parts.method != Method::GET && parts.method != Method::POST {
            return Err(VendError::WrongMethod);
        }
        let ip = parts
            .extensions
            .get::<ClientAddr>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.0.ip());
        if !self.by_address.allow(&ip) {
            return Err(VendError::RateLimited("address"));
        }
        let name = name(parts.uri.query())?;
        let identity = match &self.authenticate {
            Authenticate::Open => {
                tracing::warn!("vending is OPEN: a token was vended without authentication");
                Identity {
                    sub: ANONYMOUS.into(),
                    groups: vec![ANONYMOUS.into()],
                }
            }
            Authenticate::Basic(users) => users.authenticate(&parts.headers).await?,
            Authenticate::Oidc(verifier) => verifier.authenticate(&parts.headers).await?,
        };
        if !self.by_identity.allow(&identity.sub) {
            return Err(VendError::RateLimited("identity"));
        }
        let applying = self
            .policies
            .iter()
            .filter(|p| identity.groups.contains(&p.group));
        let limits = &app.auth.policy().scope;
        let (scope, ttl) =
            policy::union(applying, &identity.sub, limits)?.ok_or(VendError::NoPolicy)?;
        let default_id = (identity.sub.chars().count() <= token::MAX_TOKEN_ID_CHARS)
            .then_some(identity.sub.as_str());
        let request = MintRequest {
            scope: &scope,
            kind: CredentialKind::Disposable,
            ttl_secs: Some(ttl),
            token_id: name.as_deref().or(default_id),
            subject: &identity.sub,
            origin: Origin::Api,
        };
        let minted = token::mint(
            &app.auth.ring(),
            app.auth.policy(),
            &app.endpoint,
            &request,
            token::unix_now(),
        )?;
        let body = serde_json::json!({
            "authToken": minted.envelope,
            "expiresAt": minted.expires_at,
        });
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // A token is a secret: no cache in between may keep it.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    }
}

/// Serves one vending request (the body of a POST is not read).
pub async fn serve(
    app: &App,
    parts: &http::request::Parts,
    _body: Incoming,
) -> Result<Response<Body>, ApiError> {
    let Some(vending) = &app.vending else {
        return Err(VendError::NotEnabled.into());
    };
    let work = vending.vend(app, parts);
    match tokio::time::timeout(app.limits.request_timeout, work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => Err(ApiError::new(
            crate::error::ErrorCode::TimeoutError,
            "request timed out",
        )),
    }
}

/// `?name=`: the token id asked for (SPEC 3.3: at most 64 characters).
fn name(query: Option<&str>) -> Result<Option<String>, VendError> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "name" {
            continue;
        }
        if found.is_some() {
            return Err(VendError::BadRequest("query parameter `name` is repeated"));
        }
        let value = percent_decode(value).ok_or(VendError::BadRequest(
            "`name` has a malformed percent-encoding",
        ))?;
        if value.is_empty() || value.chars().count() > token::MAX_TOKEN_ID_CHARS {
            return Err(VendError::BadRequest("`name` must be 1 to 64 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(VendError::BadRequest(
                "`name` must not contain control characters",
            ));
        }
        found = Some(value);
    }
    Ok(found)
}

/// `%XX` escapes and `+` as a space, as the HTTP API decodes its queries;
/// `None` for a bad escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    crate::api::http::request::percent_decode(text, true).and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_validated() {
        assert_eq!(name(None).unwrap(), None);
        assert_eq!(
            name(Some("x=1&name=web%2D42")).unwrap().as_deref(),
            Some("web-42")
        );
        assert!(name(Some("name=")).is_err());
        assert!(name(Some(&format!("name={}", "a".repeat(65)))).is_err());
        assert!(name(Some("name=a&name=b")).is_err());
        assert!(name(Some("name=%zz")).is_err());
        assert!(name(Some("name=%0A")).is_err());
    }
}
