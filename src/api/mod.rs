//! The fronts: one port, two protocols. Requests with `content-type:
//! application/grpc` go to the gRPC front, everything else to the HTTP API.

pub mod grpc;
pub mod http;

use ::http::{Request, Response, header};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::app::App;

/// Errors a response body can end with (a gRPC stream's status, for one).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body of both fronts.
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// Serves one request on the main port.
pub async fn handle(
    app: &App,
    grpc: &grpc::Grpc,
    req: Request<Incoming>,
) -> Response<ResponseBody> {
    if is_grpc(&req) {
        return grpc.handle(app, req).await;
    }
    http::handle(app, req)
        .await
        .map(|body| body.map_err(|never| match never {}).boxed_unsync())
}

fn is_grpc(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}
