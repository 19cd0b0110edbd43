//! Listeners, connection limits, TLS, protocol routing and graceful shutdown.
//!
//! One port serves HTTP/1.1 and HTTP/2 (h2c with prior knowledge, or h2 by TLS
//! ALPN): hyper-util's `auto` builder reads the connection preface. Every phase
//! of a connection is bounded: connections by a semaphore (accepting waits when
//! it is full), the first byte, the TLS handshake and the request head by
//! `server.header_read_timeout`, the head's size by `server.max_header_bytes`,
//! idle HTTP/2 peers by keep-alive pings, and every request by
//! `server.request_timeout` (long polls and streams by their own rules).

mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use tls::{TlsAcceptor, load_tls};

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
    let grpc = crate::api::grpc::Grpc::new(Arc::clone(&app));
    let slots = Arc::new(Semaphore::new(app.limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, _) = tokio::select! {
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
        let grpc = grpc.clone();
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
                        serve_connection(stream, app, grpc, &builder, watcher).await;
                    }
                }
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        app.limits.header_read_timeout,
                        acceptor.accept(stream),
                    );
                    if let Ok(Ok(stream)) = handshake.await {
                        serve_connection(stream, app, grpc, &builder, watcher).await;
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
        .timer(TokioTimer::new())
        .header_read_timeout(app.limits.header_read_timeout)
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

async fn serve_connection<I>(
    io: I,
    app: Arc<App>,
    grpc: crate::api::grpc::Grpc,
    builder: &auto::Builder<TokioExecutor>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let (app, grpc) = (Arc::clone(&app), grpc.clone());
        async move { Ok::<_, Infallible>(crate::api::handle(&app, &grpc, req).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        // Clients that go away mid-request are routine.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
