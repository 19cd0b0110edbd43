//! The gRPC front: Momento's protocol, with momento-protos' tonic services.
//!
//! A request is classified by its path and its caller authenticated from the
//! head, before its body is read: an RPC that is not in the table is answered
//! UNIMPLEMENTED (after authentication) and never reaches a service.
//! Classified RPCs are dispatched by their service: `cache_client.Scs`'s
//! unary RPCs (every cache call but the two batch streams) to [`unary`],
//! which decodes and frames them itself, the rest to the generated tonic
//! server of their service. Both run the same handlers, which take the same
//! path as the HTTP API: authorize -> backend, failures mapped once by
//! [`ApiError::grpc_status`].

mod body;
mod control;
mod mint;
mod ping;
mod pubsub;
mod scs;
mod unary;
pub mod web;

pub use unary::UnaryBody;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderName, HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use momento_protos::auth::auth_server::AuthServer;
use momento_protos::cache_client::pubsub::pubsub_server::PubsubServer;
use momento_protos::cache_client::scs_server::ScsServer;
use momento_protos::control_client::scs_control_server::ScsControlServer;
use momento_protos::token::token_server::TokenServer;
use tokio::sync::Semaphore;
use tonic::codegen::Service as _;

use body::GrpcBody;

use super::ResponseBody;
use crate::app::App;
use crate::error::{ApiError, ErrorCode, Limit};
use crate::operation::{OperationKind, Service};
use crate::token::{AuthError, Verified};

/// The gRPC services, built once per server.
#[derive(Clone)]
pub struct Grpc {
    /// `cache_client.Scs`'s unary RPCs, served by [`unary`].
    scs_front: Arc<scs::ScsFront>,
    /// Its streams (GetBatch, SetBatch), served by tonic.
    scs: ScsServer<scs::ScsFront>,
    pubsub: PubsubServer<pubsub::PubsubFront>,
    control: ScsControlServer<control::ControlFront>,
    token: TokenServer<mint::MintFront>,
    auth: AuthServer<mint::MintFront>,
    /// The message cap of every other RPC.
    max_message: usize,
}

/// Headroom over the value limit for the rest of a message (key, TTL, framing).
pub const MESSAGE_OVERHEAD: usize = 64 * 1024;

/// The message cap of the RPCs that carry their credential in the body
/// (minting, refresh): a credential (`auth.max_credential_bytes` is at most
/// 1 MiB) and a scope. Small, because the body is read before the caller is
/// known.
const MINT_MESSAGE_MAX: usize = 1024 * 1024 + 64 * 1024;

// Header names the front reads on every call, parsed once.
const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const CACHE: HeaderName = HeaderName::from_static("cache");

impl Grpc {
    pub fn new(app: Arc<App>) -> Self {
        let max = app.limits.max_value_bytes + MESSAGE_OVERHEAD;
        let scs_front = Arc::new(scs::ScsFront {
            app: Arc::clone(&app),
        });
        let scs = ScsServer::from_arc(Arc::clone(&scs_front)).max_decoding_message_size(max);
        let pubsub = PubsubServer::new(pubsub::PubsubFront {
            app: Arc::clone(&app),
        })
        .max_decoding_message_size(max);
        let control = ScsControlServer::new(control::ControlFront {
            app: Arc::clone(&app),
        })
        .max_decoding_message_size(max);
        let token = TokenServer::new(mint::MintFront {
            app: Arc::clone(&app),
        })
        .max_decoding_message_size(MINT_MESSAGE_MAX);
        let auth =
            AuthServer::new(mint::MintFront { app }).max_decoding_message_size(MINT_MESSAGE_MAX);
        Grpc {
            scs_front,
            scs,
            pubsub,
            control,
            token,
            auth,
            max_message: max,
        }
    }

    /// Serves one gRPC request. Everything that can be decided on the head is
    /// decided before a byte of the body is read: the RPC is classified, and
    /// the caller authenticated from its one `authorization` value (minting
    /// RPCs carry their credential in a small, capped body instead). The body
    /// then reaches the service through [`GrpcBody`]'s framing checks and the
    /// connection's budget.
    pub async fn handle<B>(
        &self,
        app: &App,
        budget: &Arc<Semaphore>,
        req: Request<B>,
    ) -> Response<ResponseBody>
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + Unpin + 'static,
        B::Error: std::fmt::Display,
    {
        let started = Instant::now();
        let kind = OperationKind::from_grpc_path(req.uri().path());
        let (mut parts, body) = req.into_parts();
        let verified = match kind {
            Some(kind) if kind.credential_in_body() => None,
            _ => match head_caller(app, &parts.headers) {
                Ok(verified) => Some(verified),
                Err(error) => return refused(app, kind, &error, started),
            },
        };
        let Some(kind) = kind else {
            return refused(app, None, &unserved(), started);
        };
        // What an oversized message is called: for batches the request as a
        // whole, for the rest its item (SPEC 4's `err` values).
        let cap = match kind {
            _ if kind.credential_in_body() => (MINT_MESSAGE_MAX, Limit::RequestSize),
            OperationKind::GetBatch | OperationKind::SetBatch | OperationKind::KeysExist => {
                (self.max_message, Limit::RequestSize)
            }
            _ => (self.max_message, Limit::ItemSize),
        };
        let encoded = parts.headers.contains_key(GRPC_ENCODING);
        // The kind and the caller travel with the request (one extension):
        // handlers read them, never name them.
        parts.extensions.insert(Classified {
            kind,
            caller: verified,
        });
        let body = GrpcBody::new(body, Arc::clone(budget), cap, encoded);
        let req = Request::from_parts(parts, body);
        // The one dispatch: the table's service column.
        let call = async {
            let response = match kind.service() {
                Service::Scs => match self.scs_front.unary(kind, req).await {
                    // A unary answer, complete: nothing of tonic's to normalize.
                    Ok(response) => return Some(response),
                    Err(req) => self.scs.clone().call(req).await,
                },
                Service::Pubsub => self.pubsub.clone().call(req).await,
                Service::Control => self.control.clone().call(req).await,
                Service::Token => self.token.clone().call(req).await,
                Service::Auth => self.auth.clone().call(req).await,
                // Boxed: its future is larger than all the others together.
                Service::Ping => Ok(Box::pin(ping::serve(app, req)).await),
                // `from_grpc_path` never classifies an HTTP row; fail closed.
                Service::Http => return None,
            };
            let mut response = match response {
                Ok(response) => response,
                Err(never) => match never {},
            };
            normalize_codec_status(response.headers_mut());
            Some(response.map(|body| ResponseBody::Grpc(body.map_err(Into::into).boxed_unsync())))
        };
        // Reading the request and producing the response head (for streams:
        // the stream itself) is bounded like any request; a stream's items
        // are then bounded by its own rules.
        let limit = app.limits.request_timeout;
        match crate::clock::bounded(started, limit, call).await {
            Some(Some(response)) => response,
            Some(None) => refused(app, Some(kind), &unserved(), started),
            None => {
                let error = ApiError::new(ErrorCode::TimeoutError, "request timed out");
                refused(app, Some(kind), &error, started)
            }
        }
    }
}

/// A request answered by the front itself: counted, then a trailers-only status.
fn refused(
    app: &App,
    kind: Option<OperationKind>,
    error: &ApiError,
    started: Instant,
) -> Response<ResponseBody> {
    crate::api::outcome::record(&app.metrics, "grpc", kind, Some(error), started.elapsed());
    status_response(error)
}

/// The tonic methods of a service, one line each. `#[async_trait]` does not
/// see methods a macro expands to, so they are written in its expanded form
/// (a boxed, `Send` future). Every method records its request under the
/// kind its path was classified as, its failure mapped once by [`observe`].
///
/// `rpcs! { method(Request) -> Response; }` runs the inherent handler of the
/// same name: authorize -> backend -> convert, an `async fn(&self,
/// Request<T>) -> Result<R, ApiError>`.
macro_rules! rpcs {
    ($($method:ident($request:ty) -> $response:ty;)+) => {
        $( $crate::api::grpc::rpcs!(@method $method, $request, $response, |this, request| {
            // The inherent handler (inherent functions come first).
            Self::$method(this, request).await
        }); )+
    };
    (@method $method:ident, $request:ty, $response:ty, |$this:ident, $req:ident| $work:block) => {
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
                let kind = $crate::api::grpc::classified(&$req);
                $crate::api::grpc::observe(&$this.app, kind, async $work).await
            })
        }
    };
}
pub(crate) use rpcs;

/// Methods that are classified and authorized, then answer UNIMPLEMENTED:
/// authorization always comes first, so the answer never tells a caller
/// anything its scope does not cover. `global:` rows need a superuser (via
/// the service's `permit`).
macro_rules! authorized_not_served {
    (global: $($method:ident($request:ty) -> $response:ty;)+) => {
        $( $crate::api::grpc::rpcs!(@method $method, $request, $response, |this, request| {
            this.permit(&request, "")?;
            Err($crate::api::grpc::not_served())
        }); )+
    };
}
pub(crate) use authorized_not_served;

/// tonic's codec (the services [`unary`] does not serve) refuses a message
/// before any handler runs, as a trailers-only
/// response: OUT_OF_RANGE for one over the size limit, INTERNAL for one that
/// does not decode. SPEC 4 names these RESOURCE_EXHAUSTED and INVALID_ARGUMENT.
fn normalize_codec_status(headers: &mut http::HeaderMap) {
    let decode_failure = || {
        headers
            .get(GRPC_MESSAGE)
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| m.contains("decode"))
    };
    let code = match headers.get(GRPC_STATUS).map(HeaderValue::as_bytes) {
        Some(b"11") => "8",
        Some(b"13") if decode_failure() => "3",
        _ => return,
    };
    headers.insert(GRPC_STATUS, HeaderValue::from_static(code));
}

/// A trailers-only gRPC response carrying `error`.
pub fn status_response(error: &ApiError) -> Response<ResponseBody> {
    trailers_only(error.grpc_status())
}

/// A trailers-only gRPC response carrying `status`.
fn trailers_only(status: tonic::Status) -> Response<ResponseBody> {
    let mut response = status
        .into_http::<super::http::Body>()
        .map(ResponseBody::Http);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// Verifies the head's one `authorization` value (the inner JWT, or the
/// envelope). Two values are INVALID_ARGUMENT: a proxy in front that read the
/// other one would disagree with the gateway about who is asking.
fn head_caller(app: &App, headers: &http::HeaderMap) -> Result<Arc<Verified>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(ApiError::invalid(
            "give one authorization metadata value, not several",
        ));
    }
    Ok(app.auth.authenticate(value.as_bytes().trim_ascii())?)
}

/// What [`Grpc::handle`] found on the request head: the kind its path is
/// classified as, and the caller whose credential it verified (`None` for
/// the RPCs whose credential is in the body). Only this module can make one,
/// so a handler that finds a caller knows who is asking.
#[derive(Clone)]
struct Classified {
    kind: OperationKind,
    caller: Option<Arc<Verified>>,
}

/// The kind of a request, as classified from its path (`None` only outside
/// [`Grpc::handle`], where [`kind`] fails closed).
pub(crate) fn classified<T>(request: &tonic::Request<T>) -> Option<OperationKind> {
    request.extensions().get::<Classified>().map(|c| c.kind)
}

/// [`classified`], failing closed: no kind, no authorization.
fn kind(classified: Option<OperationKind>) -> Result<OperationKind, ApiError> {
    classified.ok_or_else(|| AuthError::Malformed("request not classified").into())
}

/// The caller of a request whose credential is in its head: verified by
/// [`Grpc::handle`] before the body was read.
fn caller<T>(request: &tonic::Request<T>) -> Result<Arc<Verified>, ApiError> {
    match request
        .extensions()
        .get::<Classified>()
        .and_then(|c| c.caller.as_ref())
    {
        Some(verified) => Ok(Arc::clone(verified)),
        // Unreachable through `handle`; fail closed all the same.
        None => Err(AuthError::Missing.into()),
    }
}

/// The cache named by the `cache` metadata of a `cache_client.Scs` call.
fn cache_name<T>(request: &tonic::Request<T>) -> Result<&str, ApiError> {
    let headers: &http::HeaderMap = request.metadata().as_ref();
    match headers.get(CACHE).map(HeaderValue::to_str) {
        Some(Ok(name)) if !name.is_empty() => Ok(name),
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

/// An RPC outside the classification table, from an authenticated caller:
/// UNIMPLEMENTED (a PERMISSION_ERROR would send users debugging their scopes).
fn unserved() -> ApiError {
    ApiError::new(
        ErrorCode::Unimplemented,
        "this RPC is not served by scopegate",
    )
}

/// Runs one RPC body: records its outcome and latency, and maps its failure.
async fn observe<T>(
    app: &App,
    kind: Option<OperationKind>,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<tonic::Response<T>, tonic::Status> {
    let started = Instant::now();
    let result = work.await;
    crate::api::outcome::record(
        &app.metrics,
        "grpc",
        kind,
        result.as_ref().err(),
        started.elapsed(),
    );
    result
        .map(tonic::Response::new)
        .map_err(|e| e.grpc_status())
}
