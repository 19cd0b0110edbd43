//! `cache_client.Ping/Ping`: the Go SDK's health check. momento-protos does
//! not declare its (empty) messages, so they are declared here; the caller
//! was authenticated on the request head like any other (SPEC 3.4).

use std::future::{Ready, ready};

use http::{Request, Response};
use tonic::body::Body;
use tonic::server::{Grpc, UnaryService};
use tonic_prost::ProstCodec;

use super::body::GrpcBody;
use crate::app::App;

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct PingRequest {}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct PingResponse {}

struct Pong;

impl UnaryService<PingRequest> for Pong {
    type Response = PingResponse;
    type Future = Ready<Result<tonic::Response<PingResponse>, tonic::Status>>;

    fn call(&mut self, _request: tonic::Request<PingRequest>) -> Self::Future {
        ready(Ok(tonic::Response::new(PingResponse {})))
    }
}

/// Answers a Ping whose caller [`super::Grpc::handle`] has verified.
pub(super) async fn serve<B>(app: &App, request: Request<GrpcBody<B>>) -> Response<Body>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + Unpin + 'static,
    B::Error: std::fmt::Display,
{
    let started = std::time::Instant::now();
    let kind = request
        .extensions()
        .get::<super::Classified>()
        .map(|c| c.kind);
    let response = Grpc::new(ProstCodec::default()).unary(Pong, request).await;
    crate::api::outcome::record(&app.metrics, "grpc", kind, None, started.elapsed());
    response
}
