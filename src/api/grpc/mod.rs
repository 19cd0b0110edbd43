//! The gRPC front: Momento's protocol, with momento-protos' tonic services.
//!
//! A request is classified by its path first: an RPC that is not in the table
//! is refused with PERMISSION_DENIED and never reaches a service. Classified
//! RPCs are dispatched to the generated tonic server of their service, whose
//! methods take the same path as the HTTP API: credential -> authenticate ->
//! authorize -> backend, failures mapped once by [`ApiError::grpc_status`].

mod control;
mod mint;
mod pubsub;
mod scs;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use momento_protos::auth::auth_server::AuthServer;
use momento_protos::cache_client::pubsub::pubsub_server::PubsubServer;
use momento_protos::cache_client::scs_server::ScsServer;
use momento_protos::control_client::scs_control_server::ScsControlServer;
use momento_protos::token::token_server::TokenServer;
use tonic::codegen::Service;

use super::ResponseBody;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::operation::OperationKind;
use crate::token::{AuthError, Verified};

/// The gRPC services, built once per server.
#[derive(Clone)]
pub struct Grpc {
    scs: ScsServer<scs::ScsFront>,
    pubsub: PubsubServer<pubsub::PubsubFront>,
    control: ScsControlServer<control::ControlFront>,
    token: TokenServer<mint::MintFront>,
    auth: AuthServer<mint::MintFront>,
}

/// Headroom over the value limit for the rest of a message (key, TTL, framing).
const MESSAGE_OVERHEAD: usize = 64 * 1024;

impl Grpc {
    pub fn new(app: Arc<App>) -> Self {
        let max = app.limits.max_value_bytes + MESSAGE_OVERHEAD;
        let scs = ScsServer::new(scs::ScsFront {
            app: Arc::clone(&app),
        })
        .max_decoding_message_size(max);
        let pubsub = PubsubServer::new(pubsub::PubsubFront {
            app: Arc::clone(&app),
        })
        .max_decoding_message_size(max);
        let control = ScsControlServer::new(control::ControlFront {
            app: Arc::clone(&app),
        });
        let token = TokenServer::new(mint::MintFront {
            app: Arc::clone(&app),
        });
        let auth = AuthServer::new(mint::MintFront { app });
        Grpc {
            scs,
            pubsub,
            control,
            token,
            auth,
        }
    }

    /// Serves one gRPC request.
    pub async fn handle(&self, app: &App, req: Request<Incoming>) -> Response<ResponseBody> {
        let Some(kind) = OperationKind::from_grpc_path(req.uri().path()) else {
            let error = unserved();
            app.metrics
                .finish("grpc", None, Some(&error), std::time::Duration::ZERO);
            return status_response(&error);
        };
        let route = kind.route();
        let call = async {
            let response = if route.starts_with("/cache_client.Scs/") {
                self.scs.clone().call(req).await
            } else if route.starts_with("/cache_client.pubsub.Pubsub/") {
                self.pubsub.clone().call(req).await
            } else if route.starts_with("/control_client.ScsControl/") {
                self.control.clone().call(req).await
            } else if route.starts_with("/token.Token/") {
                self.token.clone().call(req).await
            } else if route.starts_with("/auth.Auth/") {
                self.auth.clone().call(req).await
            } else {
                // The table names no other service; fail closed if it ever does.
                return None;
            };
            Some(match response {
                Ok(response) => response,
                Err(never) => match never {},
            })
        };
        // Reading the request and producing the response head (for streams:
        // the stream itself) is bounded like any request; a stream's items
        // are then bounded by its own rules.
        let limit = app.limits.request_timeout;
        let mut response = match tokio::time::timeout(limit, call).await {
            Ok(Some(response)) => response,
            Ok(None) => {
                let error = unserved();
                app.metrics.finish("grpc", Some(kind), Some(&error), limit);
                return status_response(&error);
            }
            Err(_) => {
                let error = ApiError::new(ErrorCode::TimeoutError, "request timed out");
                app.metrics.finish("grpc", Some(kind), Some(&error), limit);
                return status_response(&error);
            }
        };
        normalize_codec_status(response.headers_mut());
        response.map(|body| ResponseBody::Grpc(body.map_err(Into::into).boxed_unsync()))
    }
}

/// Methods that are classified and authorized, then answer UNIMPLEMENTED:
/// authorization always comes first, so the answer never tells a caller
/// anything its scope does not cover. `#[async_trait]` does not see methods a
/// macro expands to, so they are written in its expanded form (a boxed,
/// `Send` future). `keyed:` rows authorize one key field of the request in the
/// `cache` metadata's cache (via the service's `permit` and `one`); `global:`
/// rows need a superuser (via the service's `permit`).
macro_rules! authorized_not_served {
    (keyed: $($method:ident($request:ty) -> $response:ty = $kind:ident, $field:ident;)+) => {
        $( authorized_not_served!(@rpc $method, $request, $response, $kind, |this, request| {
            this.permit(&request, OperationKind::$kind, |r| one(&r.$field))
        }); )+
    };
    (global: $($method:ident($request:ty) -> $response:ty = $kind:ident;)+) => {
        $( authorized_not_served!(@rpc $method, $request, $response, $kind, |this, request| {
            this.permit(&request, OperationKind::$kind)
        }); )+
    };
    (@rpc $method:ident, $request:ty, $response:ty, $kind:ident, |$this:ident, $req:ident| $authorize:block) => {
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            $req: tonic::Request<$request>,
        ) -> std::pin::Pin<Box<
            dyn std::future::Future<Output = Result<tonic::Response<$response>, tonic::Status>>
                + Send
                + 'async_trait,
        >>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                let $this = self;
                $crate::api::grpc::observe(&$this.app, OperationKind::$kind, async {
                    $authorize?;
                    Err($crate::api::grpc::not_served())
                })
                .await
            })
        }
    };
}
pub(crate) use authorized_not_served;

/// tonic's codec refuses a message before any handler runs, as a trailers-only
/// response: OUT_OF_RANGE for one over the size limit, INTERNAL for one that
/// does not decode. SPEC 4 names these RESOURCE_EXHAUSTED and INVALID_ARGUMENT.
fn normalize_codec_status(headers: &mut http::HeaderMap) {
    let decode_failure = || {
        headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| m.contains("decode"))
    };
    let code = match headers.get("grpc-status").map(HeaderValue::as_bytes) {
        Some(b"11") => "8",
        Some(b"13") if decode_failure() => "3",
        _ => return,
    };
    headers.insert("grpc-status", HeaderValue::from_static(code));
}

/// A trailers-only gRPC response carrying `error`.
pub fn status_response(error: &ApiError) -> Response<ResponseBody> {
    let mut response = error
        .grpc_status()
        .into_http::<super::http::Body>()
        .map(ResponseBody::Http);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// The caller's verified credential, from the `authorization` metadata (the
/// inner JWT, or the envelope).
fn caller<T>(app: &App, request: &tonic::Request<T>) -> Result<Arc<Verified>, ApiError> {
    let value = request
        .metadata()
        .get("authorization")
        .ok_or(AuthError::Missing)?;
    let text = value
        .to_str()
        .map_err(|_| AuthError::Malformed("credential is not text"))?;
    Ok(app.auth.authenticate(text.trim())?)
}

/// The cache named by the `cache` metadata of a `cache_client.Scs` call.
fn cache_name<T>(request: &tonic::Request<T>) -> Result<String, ApiError> {
    match request.metadata().get("cache").map(|v| v.to_str()) {
        Some(Ok(name)) if !name.is_empty() => Ok(name.to_owned()),
        Some(Err(_)) => Err(ApiError::invalid("the cache metadata is not text")),
        _ => Err(ApiError::invalid("the `cache` metadata header is required")),
    }
}

/// A classified, authorized RPC this build does not serve yet.
pub(crate) fn not_served() -> ApiError {
    ApiError::new(
        ErrorCode::Unimplemented,
        "this RPC is not available in this build yet",
    )
}

/// An RPC outside the classification table: refused, counted by reason.
fn unserved() -> ApiError {
    ApiError {
        denial_reason: Some("unclassified_rpc"),
        ..ApiError::new(ErrorCode::PermissionError, "this RPC is not served")
    }
}

/// Runs one RPC body: records its outcome and latency, and maps its failure.
async fn observe<T>(
    app: &App,
    kind: OperationKind,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<tonic::Response<T>, tonic::Status> {
    let started = Instant::now();
    let result = work.await;
    app.metrics
        .finish("grpc", Some(kind), result.as_ref().err(), started.elapsed());
    result
        .map(tonic::Response::new)
        .map_err(|e| e.grpc_status())
}
