//! The fronts: one port, two protocols. Requests with `content-type:
//! application/grpc` go to the gRPC front, everything else to the HTTP API.

pub mod http;

use ::http::{HeaderValue, Request, Response, header};
use hyper::body::Incoming;

use crate::app::App;

/// Serves one request on the main port.
pub async fn handle(app: &App, req: Request<Incoming>) -> Response<http::Body> {
    if is_grpc(&req) {
        return grpc_unimplemented();
    }
    http::handle(app, req).await
}

fn is_grpc(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// A trailers-only gRPC answer: UNIMPLEMENTED (12), until the gRPC front exists.
fn grpc_unimplemented() -> Response<http::Body> {
    let mut response = Response::new(http::Body::default());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from_static("12"));
    headers.insert(
        "grpc-message",
        HeaderValue::from_static("the gRPC front is not available in this build"),
    );
    response
}
