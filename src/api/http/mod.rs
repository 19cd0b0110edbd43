//! The Momento HTTP API front (SPEC 5).
//!
//! Every request takes the one path: route and parse (400s) -> authenticate
//! (401) -> authorize (403) -> backend (404, 503, 504) -> response; failures
//! become `{"code", "message"}` JSON in [`error_response`], the only place an
//! HTTP status is chosen.

pub mod demo;
pub mod request;
mod topics;
mod vend;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::RequestBody;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};

use crate::app::App;
use crate::backend::{CacheBackend, Immediate};
use crate::error::{ApiError, ErrorCode};
use crate::operation::{HttpRoute, Operation, OperationKind};
use request::{Query, credential, no_route, segment};

/// Response body of the HTTP API.
pub type Body = Full<Bytes>;

/// What a route names (borrowed from the path unless it was escaped).
enum Route<'p> {
    Cache {
        cache: Cow<'p, str>,
    },
    Topic {
        cache: Cow<'p, str>,
        topic: Cow<'p, str>,
    },
}

/// What [`now`] gives: a hit's value, or a response ready now.
pub enum Answer {
    /// A GET hit served while hyper handed the request over: its response
    /// ([`hit`]) is made when hyper takes it, so until then the value moves,
    /// not a whole response.
    Hit(Bytes),
    /// A refusal: boxed, so the hit's answer stays small (see
    /// [`crate::api::Handle`]).
    Now(Box<Response<Body>>),
}

/// Serves an HTTP API request that can be answered at once, from a
/// reference to it: an HTTP/1 GET of an item from a backend that answers
/// without waiting (the memory backend), by the same steps as every other
/// request; `None` for every other request ([`later`]).
///
/// It runs while hyper hands the request over, and the request's head is
/// dropped before hyper reads the connection again (the head's bytes are
/// slices of hyper's read buffer: held, they make that read allocate a new
/// buffer). Not over HTTP/2: hyper calls this on the connection's task, and
/// a stream's work (a credential's first verification) belongs in the
/// stream's own task.
pub fn now<B>(app: &App, req: &Request<B>, started: Instant) -> Option<Answer> {
    if req.method() != Method::GET || req.version() > http::Version::HTTP_11 {
        return None;
    }
    let backend = app.backend.immediate()?;
    let Ok((kind @ OperationKind::HttpCacheGet, Route::Cache { cache })) =
        route(req.method(), req.uri().path())
    else {
        return None;
    };
    let (headers, query) = (req.headers(), req.uri().query());
    let result = read_now(app, backend, kind, headers, query, &cache, started);
    Some(match recorded(app, Some(kind), result, started) {
        Ok(value) => Answer::Hit(value),
        Err(error) => Answer::Now(Box::new(refusal(req.version(), headers, &error))),
    })
}

/// Serves every other HTTP API request: a boxed future, so the request's
/// future stays small.
pub fn later(
    app: &Arc<App>,
    peer: SocketAddr,
    req: Request<impl RequestBody>,
    started: Instant,
) -> crate::api::BoxResponse {
    let (parts, body) = req.into_parts();
    let app = Arc::clone(app);
    Box::pin(async move {
        let (kind, result) = dispatch(&app, peer, &parts, body, started).await;
        recorded(&app, kind, result, started)
            .unwrap_or_else(|error| refusal(parts.version, &parts.headers, &error))
            .map(crate::api::ResponseBody::Http)
    })
}

/// A request's outcome, recorded.
fn recorded<T>(
    app: &App,
    kind: Option<OperationKind>,
    result: Result<T, ApiError>,
    started: Instant,
) -> Result<T, ApiError> {
    let error = result.as_ref().err();
    crate::api::outcome::record(&app.metrics, "http", kind, error, started.elapsed());
    result
}

/// A failed request's response.
fn refusal(version: http::Version, headers: &http::HeaderMap, error: &ApiError) -> Response<Body> {
    let mut response = error_response(error);
    // A refusal is usually sent before the body is read (401 before a byte
    // of an unauthenticated upload): hyper then closes the HTTP/1
    // connection, so say so, and the client does not send its next request
    // into a closed socket.
    if version < http::Version::HTTP_2 && has_body(headers) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether a request declares a body (a non-zero length, or chunks).
fn has_body(headers: &http::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

async fn dispatch(
    app: &App,
    peer: SocketAddr,
    parts: &http::request::Parts,
    body: impl RequestBody,
    started: Instant,
) -> (Option<OperationKind>, Result<Response<Body>, ApiError>) {
    // Routes outside the classification table: no credential operation.
    match parts.uri.path() {
        // Boxed, as are the topic routes: their futures are large and rare,
        // and every request's future would be as large as its largest route.
        "/vend" => return (None, Box::pin(vend::serve(app, peer, parts, body)).await),
        "/demo" => {
            if let Some(page) = demo::page(app, parts) {
                return (None, Ok(page));
            }
        }
        _ => {}
    }
    let (kind, route) = match route(&parts.method, parts.uri.path()) {
        Ok(routed) => routed,
        Err((kind, e)) => return (kind, Err(e)),
    };
    let result = match route {
        Route::Topic { cache, topic } if kind == OperationKind::HttpTopicSubscribe => {
            // Long polls have their own deadline (server.long_poll_timeout).
            Box::pin(topics::subscribe(app, kind, parts, &cache, &topic)).await
        }
        route => {
            let work = async {
                match route {
                    Route::Cache { cache } => cache_item(app, kind, parts, body, &cache).await,
                    Route::Topic { cache, topic } => {
                        Box::pin(topics::publish(app, kind, parts, body, &cache, &topic)).await
                    }
                }
            };
            crate::clock::bounded(started, app.limits.request_timeout, work)
                .await
                .unwrap_or_else(|| Err(ApiError::new(ErrorCode::TimeoutError, "request timed out")))
        }
    };
    (Some(kind), result)
}

/// Routes by the classification table's HTTP rows, and decodes the path's
/// captures (a malformed one is 400, recorded under its row).
fn route<'p>(
    method: &Method,
    path: &'p str,
) -> Result<(OperationKind, Route<'p>), (Option<OperationKind>, ApiError)> {
    let (kind, [cache, topic]) = match OperationKind::from_http(method.as_str(), path) {
        HttpRoute::Row(kind, captures) => (kind, captures),
        HttpRoute::WrongMethod => {
            let error = ApiError {
                http_status: Some(405),
                ..ApiError::invalid("method not allowed on this route")
            };
            return Err((None, error));
        }
        HttpRoute::NoRoute => return Err((None, no_route())),
    };
    let decode = |raw, what| segment(raw, what).map_err(|e| (Some(kind), e));
    let cache = decode(cache, "cache name")?;
    let route = match kind {
        OperationKind::HttpTopicPublish | OperationKind::HttpTopicSubscribe => Route::Topic {
            cache,
            topic: decode(topic, "topic name")?,
        },
        _ => Route::Cache { cache },
    };
    Ok((kind, route))
}

/// What a cache item request's head gives: the caller, the key, the TTL of
/// a PUT.
struct ItemHead<'q> {
    verified: Arc<crate::token::Verified>,
    key: Cow<'q, [u8]>,
    ttl: Option<Duration>,
}

impl ItemHead<'_> {
    /// The one order of every front: authenticate (as soon as the credential
    /// can be found: it may be in the query), read the request's fields;
    /// the caller authorizes ([`ItemHead::authorize`]), and reads the body
    /// only after.
    fn read<'q>(
        app: &App,
        kind: OperationKind,
        headers: &http::HeaderMap,
        query: &'q Query<'q>,
    ) -> Result<ItemHead<'q>, ApiError> {
        let verified = app.auth.authenticate(credential(headers, query)?)?;
        let key = query.key()?;
        let ttl = match kind {
            OperationKind::HttpCachePut => {
                check_declared_length(headers, app.limits.max_value_bytes)?;
                Some(Duration::from_secs(query.ttl_seconds()?))
            }
            _ => None,
        };
        Ok(ItemHead { verified, key, ttl })
    }

    fn authorize<'a>(
        &'a self,
        kind: OperationKind,
        cache: &'a str,
    ) -> Result<crate::scope::Permit<'a>, ApiError> {
        Ok(self
            .verified
            .scope
            .authorize(&Operation::key(kind, cache, &self.key))?)
    }
}

/// A GET of one cache item from a backend that answers without waiting.
fn read_now(
    app: &App,
    backend: Immediate<'_>,
    kind: OperationKind,
    headers: &http::HeaderMap,
    query: Option<&str>,
    cache: &str,
    started: Instant,
) -> Result<Bytes, ApiError> {
    let query = Query::parse(query)?;
    let head = ItemHead::read(app, kind, headers, &query)?;
    let permit = head.authorize(kind, cache)?;
    backend.get(&permit, started)?.ok_or_else(miss)
}

/// GET, PUT and DELETE of one cache item.
async fn cache_item(
    app: &App,
    kind: OperationKind,
    parts: &http::request::Parts,
    body: impl RequestBody,
    cache: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(parts.uri.query())?;
    let head = ItemHead::read(app, kind, &parts.headers, &query)?;
    let permit = head.authorize(kind, cache)?;
    match (kind, head.ttl) {
        (OperationKind::HttpCachePut, Some(ttl)) => {
            let value = read_body(body, app.limits.max_value_bytes).await?;
            app.backend.set(&permit, value, ttl).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (OperationKind::HttpCacheDelete, _) => {
            app.backend.delete(&permit).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        _ => Ok(hit(app.backend.get(&permit).await?.ok_or_else(miss)?)),
    }
}

/// A GET hit's answer: the raw value.
pub(crate) fn hit(value: Bytes) -> Response<Body> {
    hit_of(Full::new(value))
}

/// A GET hit's answer with the value's body as the caller wraps it (built
/// once, not remade around each wrapping: a response is 150 bytes).
#[inline]
pub(crate) fn hit_of<B>(body: B) -> Response<B> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// A GET's miss: 404.
fn miss() -> ApiError {
    ApiError::new(ErrorCode::NotFoundError, "key not found")
}

/// Refuses a body whose declared length is over the limit, before reading it.
fn check_declared_length(headers: &http::HeaderMap, max: usize) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok());
    match declared.map(str::parse::<u64>) {
        Some(Ok(len)) if len > max as u64 => Err(ApiError::too_large(max)),
        Some(Err(_)) => Err(ApiError::invalid("content-length is not a number")),
        _ => Ok(()),
    }
}

/// Reads a body of at most `max` bytes; stops reading as soon as it is over.
async fn read_body(body: impl RequestBody, max: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(max)),
        Err(_) => Err(ApiError::invalid("the request body could not be read")),
    }
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// A JSON response.
fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The HTTP form of every failure: status from the code, `{"code","message"}` body.
pub fn error_response(error: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(
        status,
        &serde_json::json!({"code": error.code.as_str(), "message": error.message}),
    )
}
