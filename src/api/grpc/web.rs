//! gRPC-Web (SPEC 11), for browsers: `application/grpc-web(+proto)` and
//! `application/grpc-web-text(+proto)` over HTTP/1.1 or HTTP/2. tonic-web
//! translates the request into gRPC (base64 decoded in text mode) and the
//! response back (trailers as a 0x80 frame in the body, base64 per message in
//! text mode, so a subscription's messages reach the browser as they come).
//! In between, the request takes the one gRPC dispatch: the same
//! classification, authentication on the head, framing checks, budget and
//! authorization as native gRPC.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;
use tonic::codegen::Service;
use tower_layer::Layer;

use super::Grpc;
use crate::api::ResponseBody;
use crate::app::App;

/// The gRPC dispatch as the tower service tonic-web wraps; it borrows the
/// request's context, so nothing is cloned per request.
struct Dispatch<'a> {
    grpc: &'a Grpc,
    app: &'a App,
    budget: &'a Arc<Semaphore>,
}

impl<'a> Service<Request<tonic::body::Body>> for Dispatch<'a> {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send + 'a>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<tonic::body::Body>) -> Self::Future {
        let Dispatch { grpc, app, budget } = *self;
        Box::pin(async move { Ok(grpc.handle(app, budget, req).await) })
    }
}

/// Serves one gRPC-Web request.
pub async fn handle(
    grpc: &Grpc,
    app: &App,
    budget: &Arc<Semaphore>,
    req: Request<impl crate::api::RequestBody>,
) -> Response<ResponseBody> {
    let mut web = tonic_web::GrpcWebLayer::new().layer(Dispatch { grpc, app, budget });
    match web.call(req).await {
        Ok(response) => {
            response.map(|body| ResponseBody::Grpc(body.map_err(Into::into).boxed_unsync()))
        }
        Err(never) => match never {},
    }
}
