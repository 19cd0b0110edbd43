//! The fronts: one port, two protocols. Requests with `content-type:
//! application/grpc` go to the gRPC front, everything else to the HTTP API.

/// The longest TTL either front accepts: ten years (keeps every deadline
/// representable).
pub const MAX_TTL_SECONDS: u64 = 10 * 365 * 24 * 3600;

pub mod grpc;
pub mod http;
pub mod outcome;

/// The request bytes one connection's requests may hold at once: room for
/// two of the largest gRPC messages (so one never waits for itself).
pub fn connection_budget(max_value_bytes: usize) -> usize {
    2 * (max_value_bytes + grpc::MESSAGE_OVERHEAD)
}

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::{Request, Response, header};
use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::cors;

/// Errors a response body can end with (a gRPC stream's status, for one).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body the fronts can read: hyper's `Incoming` off a socket, or
/// any other body (an in-process test's `Full<Bytes>`), so a handler can be
/// called as a function, axum's `oneshot` style, with no socket.
pub trait RequestBody:
    hyper::body::Body<Data = Bytes, Error: Into<BoxError> + std::fmt::Display> + Send + Unpin + 'static
{
}

impl<B> RequestBody for B where
    B: hyper::body::Body<Data = Bytes, Error: Into<BoxError> + std::fmt::Display>
        + Send
        + Unpin
        + 'static
{
}

/// A boxed body: gRPC responses and streams.
pub type BoxBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// The response body of both fronts: HTTP API responses and unary gRPC
/// answers stay unboxed (no allocation per response on the hot path); the
/// bodies of gRPC streams are boxed.
pub enum ResponseBody {
    Http(http::Body),
    Unary(grpc::UnaryBody),
    Grpc(BoxBody),
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ResponseBody::Http(body) => std::pin::Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            ResponseBody::Unary(body) => std::pin::Pin::new(body).poll_frame(cx),
            ResponseBody::Grpc(body) => std::pin::Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Http(body) => body.is_end_stream(),
            ResponseBody::Unary(body) => body.is_end_stream(),
            ResponseBody::Grpc(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            ResponseBody::Http(body) => body.size_hint(),
            ResponseBody::Unary(body) => body.size_hint(),
            ResponseBody::Grpc(body) => body.size_hint(),
        }
    }
}

/// Serves one request on the main port. `peer` is the address its connection
/// came from (for limits per client address); `budget` is the request bytes
/// the requests of its connection may hold at once (see [`grpc`]'s body
/// checks).
///
/// A plain function returning the request's future, not an `async fn`: what
/// can be decided on the head (CORS, a preflight, the front) is decided here,
/// and the future holds the front's work alone. Each `async` layer would hold
/// the request again, and every move of the future (into hyper's slot for
/// it) copies all of it. An HTTP API answer that is ready at once (a GET
/// hit) is made from a reference to the request: the request (264 bytes) is
/// moved, a call to memcpy each time, only into the futures of the others.
#[inline(always)]
pub fn handle<B: RequestBody>(
    app: &Arc<App>,
    grpc: &Arc<grpc::Grpc>,
    peer: std::net::SocketAddr,
    budget: &Arc<Semaphore>,
    req: Request<B>,
) -> Handle {
    let front = Front::of(&req);
    // The HTTP API's clock starts here (the gRPC fronts keep their own).
    let mut started = None;
    if let Front::Http = front {
        let now = std::time::Instant::now();
        if let Some(handle) = at_once(app, &req, now) {
            return handle;
        }
        started = Some(now);
    }
    // Not folded into this function: inlined with the fronts' `async move`
    // arms, the request was copied up front for every request (a memcpy of
    // 264 bytes, measured); moved into a call, it is not.
    routed(front, app, grpc, peer, budget, req, started)
}

/// The HTTP API's answer, when it is ready at once ([`http::now`]).
fn at_once<B>(app: &App, req: &Request<B>, started: std::time::Instant) -> Option<Handle> {
    let work = match http::now(app, req, started)? {
        http::Answer::Hit(value) => Ready::Hit(value),
        http::Answer::Now(response) => Ready::Response(Box::new(response.map(ResponseBody::Http))),
    };
    Some(Handle {
        origin: app.cors.allowed(req.headers()),
        work: Work::Ready(Some(work)),
    })
}

/// Every request not answered at once: a preflight, or a front's future.
fn routed<B: RequestBody>(
    front: Front,
    app: &Arc<App>,
    grpc: &Arc<grpc::Grpc>,
    peer: std::net::SocketAddr,
    budget: &Arc<Semaphore>,
    req: Request<B>,
    started: Option<std::time::Instant>,
) -> Handle {
    let origin = app.cors.allowed(req.headers());
    // The gRPC fronts' futures are boxed: each is several times the size of
    // the HTTP API's, and a request's future is as large as its largest arm.
    let fut: BoxResponse = match front {
        Front::Preflight => {
            // A preflight's answer carries its own CORS headers.
            let response = app.cors.preflight(req.headers()).map(ResponseBody::Http);
            return Handle {
                origin: None,
                work: Work::Ready(Some(Ready::Response(Box::new(response)))),
            };
        }
        Front::GrpcWeb => {
            let (app, grpc, budget) = (Arc::clone(app), Arc::clone(grpc), Arc::clone(budget));
            Box::pin(async move { grpc::web::handle(&grpc, &app, &budget, req).await })
        }
        Front::Grpc => {
            let (app, grpc, budget) = (Arc::clone(app), Arc::clone(grpc), Arc::clone(budget));
            Box::pin(async move { grpc.handle(&app, &budget, req).await })
        }
        Front::Http => {
            let started = started.unwrap_or_else(std::time::Instant::now);
            http::later(app, peer, req, started)
        }
    };
    Handle {
        origin,
        work: Work::Boxed { fut },
    }
}

/// A boxed response future.
pub type BoxResponse = Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send>>;

/// The future of [`handle`]: the front's work, and the response's CORS
/// headers once it is done (`Unpin`: the work is boxed or ready).
pub struct Handle {
    origin: Option<::http::HeaderValue>,
    work: Work,
}

enum Work {
    /// Answered already; taken by the first poll.
    Ready(Option<Ready>),
    Boxed {
        fut: BoxResponse,
    },
}

enum Ready {
    /// The HTTP API's GET hit: its response is made when it is taken, so
    /// the value moves, not a whole response.
    Hit(bytes::Bytes),
    /// Boxed: a response is 150 bytes, and hyper moves the request's future
    /// (this) several times; at under 128 bytes the moves are inline, not
    /// calls to memcpy (0.5-1 % of a GET hit's CPU, docs/PERFORMANCE.md).
    /// Only refusals and preflights are answered this way.
    Response(Box<Response<ResponseBody>>),
}

impl Handle {
    /// Polls for the response, its body wrapped by `wrap` (the server's
    /// in-flight tracking): a hit's response is built once around the
    /// wrapped body rather than remade for each wrapping.
    pub fn poll_wrapped<B>(
        &mut self,
        cx: &mut Context<'_>,
        wrap: impl FnOnce(ResponseBody) -> B,
    ) -> Poll<Response<B>> {
        let mut response = match &mut self.work {
            // Polled again after it was ready (a caller's mistake, which
            // hyper does not make), it stays pending, as a fused future.
            Work::Ready(ready) => match ready.take() {
                Some(Ready::Hit(value)) => {
                    http::hit_of(wrap(ResponseBody::Http(http_body_util::Full::new(value))))
                }
                Some(Ready::Response(response)) => response.map(wrap),
                None => return Poll::Pending,
            },
            Work::Boxed { fut } => std::task::ready!(fut.as_mut().poll(cx)).map(wrap),
        };
        if let Some(origin) = self.origin.take() {
            cors::decorate(response.headers_mut(), origin);
        }
        Poll::Ready(response)
    }
}

impl Future for Handle {
    type Output = Response<ResponseBody>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_wrapped(cx, |body| body)
    }
}

/// Which front serves a request (or that it is a CORS preflight), by its
/// method and headers (read once).
enum Front {
    /// A CORS preflight, answered here.
    Preflight,
    GrpcWeb,
    Grpc,
    Http,
}

impl Front {
    fn of<B>(req: &Request<B>) -> Front {
        if cors::is_preflight(req.method(), req.headers()) {
            return Front::Preflight;
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes());
        match content_type {
            Some(v) if v.starts_with(b"application/grpc-web") => Front::GrpcWeb,
            Some(v) if v.starts_with(b"application/grpc") => Front::Grpc,
            _ => Front::Http,
        }
    }
}
