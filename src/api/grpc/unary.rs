//! Unary RPCs, decoded and encoded by the front itself rather than by tonic's
//! server (which still serves the streams). A unary call is one message in
//! and one message out, so tonic's stream machinery (a buffered decoder, an
//! encoding stream, the status turned into a header map, two boxed futures)
//! was most of what a cache hit cost over HTTP/2 (docs/PERFORMANCE.md).
//!
//! The request body arrives through [`GrpcBody`], whose framing checks, size
//! cap and connection budget are the same as for every gRPC request; this
//! module only joins the one message's bytes, decodes it, runs the handler
//! and frames its answer. What reaches the handler is the `tonic::Request`
//! tonic would have built: the head's metadata, the classification, the
//! message.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tonic::Status;

use super::{GRPC_ENCODING, GRPC_STATUS, body::GrpcBody};
use crate::api::{BoxError, ResponseBody};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::operation::OperationKind;

/// Length of a gRPC message prefix: a flag byte and a big-endian u32 length.
const PREFIX: usize = 5;

/// Serves one unary call: the request's message decoded, `handler` run on
/// it (its outcome recorded under `kind`), its answer framed, or its error
/// as a trailers-only status.
pub(super) async fn serve<Req, Res, B, F, Fut>(
    app: &App,
    kind: OperationKind,
    req: Request<GrpcBody<B>>,
    handler: F,
) -> Response<ResponseBody>
where
    Req: prost::Message + Default,
    Res: prost::Message,
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<Res, ApiError>>,
{
    let (parts, mut body) = req.into_parts();
    let message = match read_message::<Req, B>(&parts.headers, &mut body).await {
        Ok(message) => message,
        Err(status) => return super::trailers_only(status),
    };
    let request = tonic::Request::from_parts(
        tonic::metadata::MetadataMap::from_headers(parts.headers),
        parts.extensions,
        message,
    );
    let started = Instant::now();
    let result = handler(request).await.and_then(|answer| encode(&answer));
    crate::api::outcome::record(
        &app.metrics,
        "grpc",
        Some(kind),
        result.as_ref().err(),
        started.elapsed(),
    );
    // The body (and with it the message's share of the connection's budget)
    // is held until the handler is done with what it was sent.
    drop(body);
    match result {
        Ok(framed) => {
            let mut response = Response::new(ResponseBody::Unary(UnaryBody::Message(framed)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            response
        }
        Err(error) => super::status_response(&error),
    }
}

/// Reads the body's one message and decodes it. The framing was checked by
/// [`GrpcBody`] as it arrived (one message, a valid flag, within the cap,
/// not cut short); what is left to refuse is a message that never came, an
/// encoding scopegate does not accept, and bytes that do not decode.
async fn read_message<Req, B>(headers: &HeaderMap, body: &mut GrpcBody<B>) -> Result<Req, Status>
where
    Req: prost::Message + Default,
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    // No compression is enabled: gRPC's answer to a compressed request is
    // UNIMPLEMENTED, naming what is accepted (as tonic does).
    match headers.get(GRPC_ENCODING).filter(|_| body.encoded()) {
        None => {}
        Some(v) if v.as_bytes() == b"identity" => {}
        Some(v) => {
            let name = String::from_utf8_lossy(v.as_bytes());
            let mut status = Status::unimplemented(format!(
                "Content is compressed with `{name}` which isn't supported"
            ));
            status.metadata_mut().insert(
                "grpc-accept-encoding",
                tonic::metadata::MetadataValue::from_static("identity"),
            );
            return Err(status);
        }
    }
    // Usually the whole message is one data frame, taken without a copy.
    // (Not `BodyExt::collect`: its buffer list is one more allocation per
    // call, ~280 instructions of a Get under callgrind.)
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(body_status)?;
        // GrpcBody refuses trailers; anything else that is not data is skipped.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(earlier) => {
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&data);
            }
        }
    }
    let bytes = first.unwrap_or_else(|| joined.freeze());
    if bytes.len() < PREFIX {
        return Err(invalid("the request carries no message"));
    }
    let [flag, a, b, c, d] = [bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]];
    if flag != 0 {
        return Err(invalid(
            "a compressed message needs a grpc-encoding other than identity",
        ));
    }
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    if bytes.len() - PREFIX != len {
        // GrpcBody's checks make this unreachable; fail closed all the same.
        return Err(invalid("the request is not one whole message"));
    }
    Req::decode(bytes.slice(PREFIX..))
        .map_err(|e| invalid(&format!("the request message does not decode: {e}")))
}

/// A body error as its status: GrpcBody's refusals are statuses already.
fn body_status(error: BoxError) -> Status {
    match error.downcast::<Status>() {
        Ok(status) => *status,
        Err(other) => Status::invalid_argument(format!("the request could not be read: {other}")),
    }
}

fn invalid(message: &str) -> Status {
    ApiError::invalid(message.to_owned()).grpc_status()
}

/// A message, framed: a zero flag, its length, its bytes.
fn encode<M: prost::Message>(message: &M) -> Result<Bytes, ApiError> {
    let len = message.encoded_len();
    let Ok(prefix) = u32::try_from(len) else {
        return Err(ApiError::new(
            ErrorCode::InternalServerError,
            "the response is too large to send",
        ));
    };
    let mut framed = BytesMut::with_capacity(PREFIX + len);
    framed.put_u8(0);
    framed.put_u32(prefix);
    message.encode_raw(&mut framed);
    Ok(framed.freeze())
}

/// A unary answer's body: its one framed message, then `grpc-status: 0`.
pub enum UnaryBody {
    Message(Bytes),
    Trailers,
    Done,
}

impl Body for UnaryBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match std::mem::replace(this, UnaryBody::Done) {
            UnaryBody::Message(data) => {
                *this = UnaryBody::Trailers;
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            UnaryBody::Trailers => {
                let mut trailers = HeaderMap::with_capacity(1);
                trailers.insert(GRPC_STATUS, HeaderValue::from_static("0"));
                Poll::Ready(Some(Ok(Frame::trailers(trailers))))
            }
            UnaryBody::Done => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, UnaryBody::Done)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
