//! Minting over gRPC (SPEC 7): `token.Token/GenerateDisposableToken`,
//! `auth.Auth/GenerateApiToken` and `auth.Auth/RefreshApiToken`.
//!
//! The caller's credential is in the body (`auth_token`, or `api_key` for a
//! refresh). Minting is authorized by the one authorizer (superuser only;
//! refresh acts on the caller's own credential) and validated by the same
//! `token::mint` as the CLI.

use std::pin::Pin;
use std::sync::Arc;

use momento_protos::auth::auth_server::Auth;
use momento_protos::auth::{
    GenerateApiTokenRequest, GenerateApiTokenResponse, LoginRequest, LoginResponse,
    RefreshApiTokenRequest, RefreshApiTokenResponse, generate_api_token_request,
};
use momento_protos::token::token_server::Token;
use momento_protos::token::{GenerateDisposableTokenRequest, GenerateDisposableTokenResponse};
use tonic::codegen::tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{classified, kind, rpcs};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::operation::Operation;
use crate::scope::Denial;
use crate::token::{
    self, AuthError, CredentialKind, MintRequest, Minted, Origin, RefreshRefusal, Verified,
};

pub struct MintFront {
    pub app: Arc<App>,
}

impl MintFront {
    /// Authenticates the credential of the body, and authorizes it for the
    /// kind the request's path was classified as (the denial is the
    /// handler's to word: Momento words minting's its own way).
    fn caller<T>(
        &self,
        request: &Request<T>,
        credential: &str,
    ) -> Result<(Arc<Verified>, Result<(), Denial>), ApiError> {
        if credential.is_empty() {
            return Err(AuthError::Missing.into());
        }
        let verified = self.app.auth.authenticate(credential.trim())?;
        let op = Operation::global(kind(classified(request))?);
        let authorized = verified.scope.authorize(&op).map(|_| ());
        Ok((verified, authorized))
    }

    fn mint(&self, request: &MintRequest<'_>) -> Result<Minted, ApiError> {
        let ring = self.app.auth.ring();
        let policy = self.app.auth.policy();
        Ok(token::mint(
            &ring,
            policy,
            &self.app.endpoint,
            request,
            token::unix_now(),
        )?)
    }

    /// A refresh token for a freshly minted API key.
    async fn refresh_token(&self, minted: &Minted) -> Result<String, ApiError> {
        self.app
            .issue_refresh_token(&minted.jti, minted.expires_at)
            .await
    }
}

fn token_id(id: &str) -> Option<&str> {
    (!id.is_empty()).then_some(id)
}

/// The handlers: authorize -> backend -> convert; [`rpcs!`](super::rpcs) makes
/// each the tonic method of the same name.
impl MintFront {
    async fn generate_disposable_token(
        &self,
        request: Request<GenerateDisposableTokenRequest>,
    ) -> Result<GenerateDisposableTokenResponse, ApiError> {
        let r = request.get_ref();
        let (verified, authorized) = self.caller(&request, &r.auth_token)?;
        // Momento answers a fine-grained caller with INVALID_ARGUMENT (SPEC 7).
        authorized.map_err(|denial| ApiError {
            denial_reason: Some(denial.reason()),
            ..ApiError::invalid(
                "Only tokens with SuperUser permissions can generate disposable tokens",
            )
        })?;
        let scope = r
            .permissions
            .as_ref()
            .ok_or_else(|| ApiError::invalid("permissions are required"))?;
        let minted = self.mint(&MintRequest {
            scope,
            kind: CredentialKind::Disposable,
            ttl_secs: r.expires.map(|e| u64::from(e.valid_for_seconds)),
            token_id: token_id(&r.token_id),
            subject: &verified.subject,
            origin: Origin::Api,
        })?;
        Ok(GenerateDisposableTokenResponse {
            api_key: minted.jwt,
            endpoint: self.app.endpoint.clone(),
            valid_until: minted.expires_at.unwrap_or(0),
        })
    }
}

#[tonic::async_trait]
impl Token for MintFront {
    rpcs! {
        generate_disposable_token(GenerateDisposableTokenRequest) -> GenerateDisposableTokenResponse;
    }
}

type LoginStream = Pin<Box<dyn Stream<Item = Result<LoginResponse, Status>> + Send + 'static>>;

/// The handlers: authorize -> backend -> convert; [`rpcs!`](super::rpcs) makes
/// each the tonic method of the same name.
impl MintFront {
    async fn generate_api_token(
        &self,
        request: Request<GenerateApiTokenRequest>,
    ) -> Result<GenerateApiTokenResponse, ApiError> {
        let r = request.get_ref();
        let (verified, authorized) = self.caller(&request, &r.auth_token)?;
        authorized?;
        let scope = r
            .permissions
            .as_ref()
            .ok_or_else(|| ApiError::invalid("permissions are required"))?;
        let ttl_secs = match r.expiry {
            Some(generate_api_token_request::Expiry::Never(_)) => None,
            Some(generate_api_token_request::Expiry::Expires(e)) => {
                Some(u64::from(e.valid_for_seconds))
            }
            None => {
                return Err(ApiError::invalid(
                    "an expiry (never, or expires) is required",
                ));
            }
        };
        let minted = self.mint(&MintRequest {
            scope,
            kind: CredentialKind::ApiKey,
            ttl_secs,
            token_id: token_id(&r.token_id),
            subject: &verified.subject,
            origin: Origin::Api,
        })?;
        Ok(GenerateApiTokenResponse {
            refresh_token: self.refresh_token(&minted).await?,
            api_key: minted.jwt,
            endpoint: self.app.endpoint.clone(),
            valid_until: minted.expires_at.unwrap_or(0),
        })
    }

    async fn refresh_api_token(
        &self,
        request: Request<RefreshApiTokenRequest>,
    ) -> Result<RefreshApiTokenResponse, ApiError> {
        let r = request.get_ref();
        let (verified, authorized) = self.caller(&request, &r.api_key)?;
        authorized?;
        let redeemed = self
            .app
            .redeem_refresh_token(&r.refresh_token, &verified)
            .await?;
        match redeemed {
            Ok(()) => {}
            Err(RefreshRefusal::NotAnApiKey) => {
                return Err(ApiError::invalid("only API keys can be refreshed"));
            }
            Err(RefreshRefusal::BadToken) => {
                let error = ApiError::new(
                    ErrorCode::AuthenticationError,
                    "the refresh token is not valid",
                );
                return Err(ApiError {
                    denial_reason: Some("bad_refresh_token"),
                    ..error
                });
            }
        }
        // Same scope, subject and token id; the same lifetime, from now.
        let old = token::inspect(r.api_key.trim())?; // the bytes `caller` verified
        let scope = old.scope.ok_or(AuthError::BadScope)?;
        let minted = self.mint(&MintRequest {
            scope: &scope,
            kind: CredentialKind::ApiKey,
            ttl_secs: verified.expires_at.map(|exp| exp - verified.issued_at),
            token_id: verified.token_id.as_deref(),
            subject: &verified.subject,
            origin: Origin::Refresh,
        })?;
        Ok(RefreshApiTokenResponse {
            refresh_token: self.refresh_token(&minted).await?,
            api_key: minted.jwt,
            endpoint: self.app.endpoint.clone(),
            valid_until: minted.expires_at.unwrap_or(0),
        })
    }
}

#[tonic::async_trait]
impl Auth for MintFront {
    type LoginStream = LoginStream;
    /// Not in the classification table: refused before dispatch; this is a backstop.
    async fn login(&self, _: Request<LoginRequest>) -> Result<Response<LoginStream>, Status> {
        Err(Status::permission_denied("this RPC is not served"))
    }

    rpcs! {
        generate_api_token(GenerateApiTokenRequest) -> GenerateApiTokenResponse;
        refresh_api_token(RefreshApiTokenRequest) -> RefreshApiTokenResponse;
    }
}
