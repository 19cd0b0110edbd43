//! What a connection's check (`serve_connection`) reads: the requests started
//! and in flight, and when the bytes of a request head that has not arrived
//! whole began to come in.
//!
//! The HTTP/1 head deadline (`server.header_read_timeout`, the slowloris
//! guard) is kept here rather than by hyper. hyper's own starts when it
//! begins waiting for the next head, so it also ran while a keep-alive
//! connection sat idle between requests and closed it after the head
//! timeout instead of `server.idle_timeout`; and it cost a boxed sleep and
//! clock reads on every request. Here the deadline runs until hyper has
//! parsed the head and the request starts, from:
//! - the connection's start, for its first head (after TLS, if any: a
//!   client that completes its handshake and sends nothing is dropped);
//! - the first byte of a later head that arrives with no request in flight
//!   (one clock read per head, none for an idle connection);
//! - the end of a response write the client was slow to take, when the
//!   next head arrived during it (the clock waits while the answer does).
//!
//! Bytes of a head that arrive while a request is still in flight (HTTP/1
//! pipelining) start no clock: such a connection is bounded by
//! `server.idle_timeout`, as an idle one is. The check refuses a head that
//! is late. An HTTP/2 connection is not followed once its preface is in.
//!
//! Everything is atomics, written on the request path without a lock. The
//! reads, writes and requests' starts of one HTTP/1 connection happen in its
//! one task, so the head's fields are consistent when the check reads them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `head_of` when no head is being read.
const NO_HEAD: u64 = u64::MAX;

/// A request is in flight until its response body is done, so an open
/// subscription keeps its connection busy.
pub(super) struct Activity {
    started: AtomicU64,
    in_flight: AtomicUsize,
    /// The `started` count when bytes arrived with no request in flight: a
    /// head is being read while no request has started since.
    head_of: AtomicU64,
    /// When that head's clock started, on `clock::coarse_nanos` (a tick's
    /// resolution is plenty for a deadline of seconds, and a coarse read is
    /// a third of the cost of a fine one, on every request).
    head_at: AtomicU64,
    /// A write is waiting for the client to take what was sent.
    sending: AtomicBool,
}

impl Activity {
    pub(super) fn new() -> Self {
        // The first head is expected from the start.
        Activity {
            started: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            head_of: AtomicU64::new(0),
            head_at: AtomicU64::new(crate::clock::coarse_nanos()),
            sending: AtomicBool::new(false),
        }
    }

    pub(super) fn begin(this: &Arc<Activity>) -> Busy {
        this.started.fetch_add(1, Ordering::Relaxed);
        this.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(this))
    }

    /// The requests started so far, or `None` while one is in flight.
    pub(super) fn quiet_at(&self) -> Option<u64> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(self.started.load(Ordering::Relaxed))
    }

    /// Bytes arrived: with no request in flight, they begin a head (unless
    /// the head they continue began already).
    fn arrived(&self) {
        let Some(started) = self.quiet_at() else {
            return;
        };
        if self.head_of.load(Ordering::Relaxed) == started {
            return;
        }
        self.start_head_clock(started);
    }

    fn start_head_clock(&self, started: u64) {
        self.head_at
            .store(crate::clock::coarse_nanos(), Ordering::Relaxed);
        self.head_of.store(started, Ordering::Release);
    }

    /// The connection is HTTP/2: no head of its is timed here.
    fn not_http1(&self) {
        self.head_of.store(NO_HEAD, Ordering::Release);
    }

    /// A write went out (`false`) or waits for the client (`true`). A head
    /// that came in while the client was slow to take an answer is timed
    /// from when the answer went out.
    fn sending(&self, waiting: bool) {
        if self.sending.load(Ordering::Relaxed) == waiting {
            return;
        }
        self.sending.store(waiting, Ordering::Relaxed);
        if !waiting
            && let Some(started) = self.quiet_at()
            && self.head_of.load(Ordering::Relaxed) == started
        {
            self.start_head_clock(started);
        }
    }

    /// Whether a head has been coming in for `limit` or longer with no
    /// request started (and no answer waiting for the client).
    pub(super) fn head_late(&self, limit: Duration) -> bool {
        let Some(started) = self.quiet_at() else {
            return false;
        };
        if self.head_of.load(Ordering::Acquire) != started || self.sending.load(Ordering::Relaxed) {
            return false;
        }
        let at = self.head_at.load(Ordering::Relaxed);
        Duration::from_nanos(crate::clock::coarse_nanos().saturating_sub(at)) >= limit
    }
}

/// One request in flight; dropped with its response body.
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A request's future, its response's body keeping the request counted as
/// in flight until it is sent (hyper's service future: no `async` block,
/// which would hold the request again).
pub(super) struct Served {
    pub(super) response: crate::api::Handle,
    pub(super) busy: Option<Busy>,
}

impl std::future::Future for Served {
    type Output =
        Result<http::Response<Tracked<crate::api::ResponseBody>>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let busy = &mut this.busy;
        let response = std::task::ready!(this.response.poll_wrapped(cx, |body| Tracked {
            body,
            _busy: busy.take(),
        }));
        Poll::Ready(Ok(response))
    }
}

/// A response body that keeps its request counted as in flight.
pub(super) struct Tracked<B> {
    body: B,
    _busy: Option<Busy>,
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// A connection's stream (plain, or TLS after its handshake), telling its
/// [`Activity`] when bytes arrive and when a write waits for the client. An
/// HTTP/2 connection, known by its whole preface (the rule hyper-util's
/// server picks HTTP/2 by), is not followed: its heads are frames, its idle
/// peers are pinged, and bytes arrive between its requests.
pub(super) struct Watched<I> {
    io: I,
    activity: Arc<Activity>,
    protocol: Protocol,
}

/// What the first bytes said: `Undecided(n)` while they are the first `n`
/// bytes of the HTTP/2 preface.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Protocol {
    Undecided(usize),
    Http1,
    Http2,
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

impl Protocol {
    fn after(self, bytes: &[u8]) -> Protocol {
        let Protocol::Undecided(mut matched) = self else {
            return self;
        };
        for &b in bytes {
            if PREFACE.get(matched) != Some(&b) {
                return Protocol::Http1;
            }
            matched += 1;
            if matched == PREFACE.len() {
                return Protocol::Http2;
            }
        }
        Protocol::Undecided(matched)
    }
}

impl<I> Watched<I> {
    pub(super) fn new(io: I, activity: Arc<Activity>) -> Self {
        Watched {
            io,
            activity,
            protocol: Protocol::Undecided(0),
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if matches!(polled, Poll::Ready(Ok(()))) && !new.is_empty() {
            let was = this.protocol;
            this.protocol = was.after(new);
            match (was, this.protocol) {
                (Protocol::Http2, _) => {}
                (_, Protocol::Http2) => this.activity.not_http1(),
                // Undecided counts as HTTP/1: a dripped preface is a late head.
                _ => this.activity.arrived(),
            }
        }
        polled
    }
}

impl<I> Watched<I> {
    fn wrote<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.activity.sending(polled.is_pending());
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = &mut this.io;
        let polled = super::coalesce::write(bufs, |one| Pin::new(&mut *io).poll_write(cx, one))
            .unwrap_or_else(|| Pin::new(&mut this.io).poll_write_vectored(cx, bufs));
        this.wrote(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_flush(cx);
        this.wrote(polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_is_its_whole_preface_however_it_arrives() {
        let start = Protocol::Undecided(0);
        assert_eq!(start.after(PREFACE), Protocol::Http2);
        assert_eq!(start.after(b"PUT /cache/c"), Protocol::Http1);
        assert_eq!(start.after(b"GET /"), Protocol::Http1);
        // hyper-util serves anything short of the whole preface as HTTP/1.
        assert_eq!(start.after(b"PRIX / HTTP/1.1\r\n"), Protocol::Http1);
        assert_eq!(start.after(b"PRI * HTTP/2.0\r\n\r\nSX"), Protocol::Http1);
        let dripped = PREFACE[..23]
            .iter()
            .fold(start, |p, b| p.after(std::slice::from_ref(b)));
        assert_eq!(dripped, Protocol::Undecided(23));
        assert_eq!(dripped.after(b"\n"), Protocol::Http2);
        assert_eq!(Protocol::Http1.after(PREFACE), Protocol::Http1);
    }

    #[test]
    fn a_head_is_late_only_while_it_is_coming_in_with_no_request_started() {
        let activity = Arc::new(Activity::new());
        let limit = Duration::ZERO;
        assert!(
            activity.head_late(limit),
            "the first head is due from the start"
        );
        assert!(!activity.head_late(Duration::from_secs(3600)));
        activity.arrived();
        assert!(activity.head_late(limit));
        let busy = Activity::begin(&activity);
        assert!(!activity.head_late(limit), "the request started");
        activity.arrived(); // its body
        drop(busy);
        assert!(!activity.head_late(limit), "idle between requests");
        activity.arrived();
        assert!(activity.head_late(limit), "the next head");
        // While an answer waits for the client, the head is not late; its
        // clock starts again when the answer has gone out.
        activity.sending(true);
        assert!(!activity.head_late(limit));
        let before = activity.head_at.load(Ordering::Relaxed);
        // Longer than a coarse clock tick (at most 10 ms).
        std::thread::sleep(Duration::from_millis(25));
        activity.sending(false);
        assert!(activity.head_at.load(Ordering::Relaxed) > before);
        assert!(activity.head_late(limit));
        // HTTP/2: no head is timed.
        activity.not_http1();
        assert!(!activity.head_late(limit));
    }

    /// hyper moves a request's future into its slot, and the answer out of
    /// it: under 128 bytes such moves are a few vector moves, over it each
    /// is a call to memcpy (docs/PERFORMANCE.md). What makes it large (a
    /// whole response held inline) is boxed.
    #[test]
    fn a_requests_future_is_moved_inline() {
        assert!(std::mem::size_of::<super::Served>() <= 128);
        assert!(std::mem::size_of::<crate::api::http::Answer>() <= 64);
    }
}
