//! Listeners, connection limits, TLS, protocol routing and graceful shutdown.
//!
//! One port serves HTTP/1.1 and HTTP/2 (h2c with prior knowledge, or h2 by TLS
//! ALPN): hyper-util's `auto` builder reads the connection preface. Every phase
//! of a connection is bounded: connections by a semaphore (accepting waits when
//! it is full), the first byte, the TLS handshake and the request head by
//! `server.header_read_timeout`, the head's size by `server.max_header_bytes`,
//! idle HTTP/2 peers by keep-alive pings, connections with nothing in flight
//! by `server.idle_timeout`, the request bytes a connection holds by its
//! budget (see `api::grpc`'s body checks), and every request by
//! `server.request_timeout` (long polls and streams by their own rules).
//! A connection's small vectored writes (a response's head and a short body)
//! go out as one buffer (`coalesce`).

mod activity;
mod coalesce;
mod side;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use tls::{TlsAcceptor, load_tls};

use activity::{Activity, Served, Watched};

use crate::app::App;

/// Serves the API on `listener` and the admin endpoints on `admin` until
/// `shutdown` resolves, then drains: readiness turns false, the listener
/// closes, long polls are told, and in-flight requests get
/// `server.shutdown_grace` to finish.
pub async fn run(
    app: Arc<App>,
    listener: TcpListener,
    admin: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let admin_task = tokio::spawn(crate::admin::run(Arc::clone(&app), admin));
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(builder(&app));
    // One set of services per server, shared: nothing is cloned per request.
    let grpc = Arc::new(crate::api::grpc::Grpc::new(Arc::clone(&app)));
    let slots = Arc::new(Semaphore::new(app.limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = Arc::clone(&app);
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let grpc = Arc::clone(&grpc);
        tokio::spawn(async move {
            let _open = app.metrics.connection();
            match tls {
                None => {
                    // A client that sends nothing must not hold a slot: wait
                    // for its first byte no longer than for a request head.
                    let mut first = [0u8; 1];
                    let peeked = tokio::time::timeout(
                        app.limits.header_read_timeout,
                        stream.peek(&mut first),
                    );
                    if matches!(peeked.await, Ok(Ok(n)) if n > 0) {
                        serve_connection(stream, peer, app, grpc, &builder, watcher).await;
                    }
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        app.limits.header_read_timeout,
                        acceptor.accept(stream),
                    );
                    if let Ok(Ok(stream)) = handshake.await {
                        serve_connection(stream, peer, app, grpc, &builder, watcher).await;
                    }
                }
            }
            drop(slot);
        });
    }
    tracing::info!("draining: no new connections; waiting for in-flight requests");
    app.drain();
    drop(listener);
    if tokio::time::timeout(app.limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
    admin_task.abort();
}

fn builder(app: &App) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // No hyper header-read timeout (its default would apply as soon as
        // a timer is set): the head deadline is the connection's check's
        // (see `activity`).
        .header_read_timeout(None)
        .max_buf_size(app.limits.max_header_bytes.max(8192));
    // HTTP/2 connections are pinged when idle and closed when the peer stops
    // answering, so a dead or silent peer does not keep its slot.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(std::time::Duration::from_secs(20)))
        .keep_alive_timeout(app.limits.header_read_timeout)
        .max_header_list_size(u32::try_from(app.limits.max_header_bytes).unwrap_or(u32::MAX));
    builder
}

/// Serves one connection until it ends, the server drains, or it has had no
/// request in flight for `server.idle_timeout` (then it is shut down
/// gracefully: HTTP/2 GOAWAY, HTTP/1 closed between requests).
async fn serve_connection<I>(
    io: I,
    peer: std::net::SocketAddr,
    app: Arc<App>,
    grpc: Arc<crate::api::grpc::Grpc>,
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let budget = Arc::new(Semaphore::new(crate::api::connection_budget(
        app.limits.max_value_bytes,
    )));
    let service = service_fn({
        let (app, activity) = (Arc::clone(&app), Arc::clone(&activity));
        move |req: http::Request<hyper::body::Incoming>| {
            let busy = Activity::begin(&activity);
            Served {
                response: crate::api::handle(&app, &grpc, peer, &budget, req),
                busy: Some(busy),
            }
        }
    });
    let io = Watched::new(io, Arc::clone(&activity));
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let drained = app.drained();
    tokio::pin!(drained);
    let (idle, head_limit) = (app.limits.idle_timeout, app.limits.header_read_timeout);
    // The check reads the head deadline and the idle clock at least every
    // quarter of each: a late head is refused up to a quarter late.
    let period = idle.min(head_limit) / 4;
    let mut check = tokio::time::interval(period.max(std::time::Duration::from_millis(50)));
    let mut closing = false;
    // The idle clock: since when the check has seen no request start or run.
    let (mut seen, mut quiet_since) = (None, Instant::now());
    // The drain signal and the check are polled only when one of them woke
    // the task, not on each of the connection's reads and writes.
    let side = side::Side::new();
    let result = std::future::poll_fn(|cx| {
        loop {
            if let Poll::Ready(result) = connection.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            if !side.due(cx) {
                return Poll::Pending;
            }
            let mut side_cx = side.context();
            let mut shutting = false;
            if !closing && drained.as_mut().poll(&mut side_cx).is_ready() {
                shutting = true;
            }
            // The tick runs while closing too: a half-read head keeps its
            // deadline.
            while check.poll_tick(&mut side_cx).is_ready() {
                if activity.head_late(head_limit) {
                    // Dropping the connection closes it: the slot is freed.
                    tracing::debug!("a request head did not arrive in time; closing");
                    return Poll::Ready(Ok(()));
                }
                if closing || shutting {
                    continue;
                }
                let now = activity.quiet_at();
                if now.is_none() || now != seen {
                    (seen, quiet_since) = (now, Instant::now());
                } else if quiet_since.elapsed() >= idle {
                    shutting = true;
                }
            }
            if !shutting {
                return Poll::Pending;
            }
            // The connection is polled again to begin its shutdown.
            connection.as_mut().graceful_shutdown();
            closing = true;
        }
    })
    .await;
    // The server's drain waits for every watcher to be dropped.
    drop(watcher);
    if let Err(e) = result {
        // Clients that go away mid-request are routine.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
