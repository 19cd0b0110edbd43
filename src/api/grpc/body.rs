//! The body of a gRPC request, checked as it arrives, before it is decoded
//! ([`super::unary`]'s codec, or tonic's for the streams and other services).
//!
//! Every Momento RPC sends exactly one request message (unary, or the request
//! of a server stream), so the framing is checked here and refused with
//! INVALID_ARGUMENT (SPEC 4): a flag byte other than 0 or 1, a compressed
//! message without `grpc-encoding`, a second message, request trailers (so no
//! credential or `cache` can hide there), a body that ends mid-message; and a
//! message over the RPC's size cap is RESOURCE_EXHAUSTED before it is read.
//!
//! The connection's budget bounds what its requests hold at once: a message's
//! whole length (from its 5-byte prefix) is reserved from the connection's
//! semaphore before any of it is passed on, and given back when the body is
//! dropped. A request waits for room (HTTP/2 flow control then stalls the
//! sender) but never holds part of a reservation while it waits, and the
//! budget fits the largest message, so requests cannot deadlock each other.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;

use crate::api::BoxError;
use crate::error::{ApiError, ErrorCode, Limit};

/// Length of a gRPC message prefix: a flag byte and a big-endian u32 length.
const PREFIX: usize = 5;

/// `B` is the body as it came (hyper's `Incoming`), or as gRPC-Web's
/// translation yields it.
pub struct GrpcBody<B> {
    inner: B,
    budget: PollSemaphore,
    held: Option<OwnedSemaphorePermit>,
    /// The RPC's message cap, and the limit SDKs are told it is.
    max_message: usize,
    cap: Limit,
    /// The request names a `grpc-encoding`, so a compressed flag is tonic's
    /// to accept or refuse (UNIMPLEMENTED: no compression is enabled).
    encoded: bool,
    prefix: [u8; PREFIX],
    prefix_len: usize,
    /// Bytes of the current message still to come.
    remaining: usize,
    messages: u32,
    /// A frame read whose message's reservation is not granted yet.
    waiting: Option<(Frame<Bytes>, u32)>,
}

impl<B> GrpcBody<B> {
    pub fn new(
        inner: B,
        budget: Arc<Semaphore>,
        (max_message, cap): (usize, Limit),
        encoded: bool,
    ) -> Self {
        GrpcBody {
            inner,
            budget: PollSemaphore::new(budget),
            held: None,
            max_message,
            cap,
            encoded,
            prefix: [0; PREFIX],
            prefix_len: 0,
            remaining: 0,
            messages: 0,
            waiting: None,
        }
    }

    /// Follows the framing through `data`; returns the bytes to reserve for
    /// the message whose prefix completes in it.
    fn scan(&mut self, data: &[u8]) -> Result<u32, ApiError> {
        let mut need = 0;
        let mut i = 0;
        while i < data.len() {
            if self.remaining > 0 {
                let take = self.remaining.min(data.len() - i);
                self.remaining -= take;
                i += take;
                continue;
            }
            self.prefix[self.prefix_len] = data[i];
            self.prefix_len += 1;
            i += 1;
            if self.prefix_len < PREFIX {
                continue;
            }
            self.prefix_len = 0;
            self.messages += 1;
            if self.messages > 1 {
                return Err(ApiError::invalid("a request carries exactly one message"));
            }
            match self.prefix[0] {
                0 => {}
                1 if self.encoded => {}
                1 => {
                    return Err(ApiError::invalid(
                        "a compressed message needs a grpc-encoding header",
                    ));
                }
                _ => return Err(ApiError::invalid("invalid gRPC message flag")),
            }
            let [_, a, b, c, d] = self.prefix;
            let len = u32::from_be_bytes([a, b, c, d]);
            if len as usize > self.max_message {
                let what = match self.cap {
                    Limit::RequestSize => "the request is over the request limit",
                    _ => "the item size is over the limit",
                };
                return Err(ApiError {
                    limit: Some(self.cap),
                    ..ApiError::new(
                        ErrorCode::LimitExceededError,
                        format!("{what} of {} bytes", self.max_message),
                    )
                });
            }
            self.remaining = len as usize;
            need = len;
        }
        Ok(need)
    }

    /// Whether the request names a `grpc-encoding`.
    pub fn encoded(&self) -> bool {
        self.encoded
    }

    fn keep(&mut self, permit: OwnedSemaphorePermit) {
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
    }
}

fn refuse(error: ApiError) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    Poll::Ready(Some(Err(Box::new(error.grpc_status()))))
}

impl<B> Body for GrpcBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            if let Some((frame, need)) = this.waiting.take() {
                match this.budget.poll_acquire_many(cx, need) {
                    Poll::Pending => {
                        this.waiting = Some((frame, need));
                        return Poll::Pending;
                    }
                    Poll::Ready(Some(permit)) => {
                        this.keep(permit);
                        return Poll::Ready(Some(Ok(frame)));
                    }
                    // The semaphore is never closed (invariant); fail closed.
                    Poll::Ready(None) => {
                        return refuse(ApiError::new(
                            ErrorCode::ServerUnavailable,
                            "the connection is closing",
                        ));
                    }
                }
            }
            let frame = match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None if this.prefix_len > 0 || this.remaining > 0 => {
                    return refuse(ApiError::invalid("the request ends inside a message"));
                }
                None => return Poll::Ready(None),
                // A body that could not be read (bad gRPC-Web base64, a
                // client that went away): the client's side.
                Some(Err(e)) => {
                    return refuse(ApiError::invalid(format!(
                        "the request body could not be read: {e}"
                    )));
                }
                Some(Ok(frame)) => frame,
            };
            let Some(data) = frame.data_ref() else {
                return refuse(ApiError::invalid("request trailers are not accepted"));
            };
            let need = match this.scan(data) {
                Ok(need) => need,
                Err(e) => return refuse(e),
            };
            if need == 0 {
                return Poll::Ready(Some(Ok(frame)));
            }
            this.waiting = Some((frame, need));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.waiting.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
