//! The admin listener: `/metrics` (Prometheus text), `/livez`, `/readyz`, and
//! the revocation API (`/v1/revocations`, superuser only).

mod revocations;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;

/// Admin connections open at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;
/// The longest an admin connection may stay open.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Serves the admin endpoints until the task is aborted.
pub async fn run(app: Arc<App>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let app = Arc::clone(&app);
                async move {
                    let response = if req.uri().path() == revocations::PATH {
                        revocations::handle(&app, req).await
                    } else {
                        respond(&app, req.uri().path())
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, connection).await;
        });
    }
}

fn respond(app: &App, path: &str) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/metrics" => {
            let (hits, misses) = app.auth.cache_stats();
            app.metrics.sync_verification_cache(hits, misses);
            let (ok, failed) = crate::config::aws_sm::fetch_counts();
            app.metrics.sync_aws_sm_fetches(ok, failed);
            (
                StatusCode::OK,
                "text/plain; version=0.0.4",
                Bytes::from(app.metrics.render()),
            )
        }
        "/livez" => (StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
        "/readyz" if app.is_ready() => {
            (StatusCode::OK, "text/plain", Bytes::from_static(b"ready\n"))
        }
        "/readyz" if app.is_draining() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            Bytes::from_static(b"draining\n"),
        ),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            Bytes::from_static(b"backend unavailable\n"),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
