//! The classification table is the one routing table: every row's route
//! reaches a handler, and every handler records its request under the row its
//! path was classified as (no handler names its kind). Over real sockets, on
//! both fronts, with a superuser so that nothing is refused before dispatch.

#[macro_use]
mod support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use scopegate::operation::{Front, OperationKind};
use support::server::{h2, send, start};

/// The metric line prefix of requests recorded under `kind` on `front`.
fn recorded(metrics: &str, front: &str, kind: OperationKind) -> bool {
    let wanted = format!(
        "scopegate_requests_total{{front=\"{front}\",kind=\"{}\",",
        kind.name()
    );
    metrics.lines().any(|line| line.starts_with(&wanted))
}

/// Sends an empty gRPC message to `path`; returns `(grpc-status, grpc-message)`.
async fn empty_call(
    sender: &mut hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    addr: std::net::SocketAddr,
    path: &str,
    credential: &str,
) -> (String, String) {
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", credential)
        .header("cache", "default-cache")
        .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
        .unwrap();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sender.send_request(request),
    )
    .await
    .expect("answered")
    .unwrap();
    let (parts, body) = response.into_parts();
    let collected = tokio::time::timeout(std::time::Duration::from_secs(10), body.collect())
        .await
        .expect("the body ends")
        .unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let field = |name: &str| {
        parts
            .headers
            .get(name)
            .or_else(|| trailers.get(name))
            .map(|v| percent_decode(v.to_str().unwrap()))
            .unwrap_or_default()
    };
    (field("grpc-status"), field("grpc-message"))
}

/// `grpc-message` is percent-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(b) = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&text[i + 1..i + 3], 16).ok())
            .flatten()
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

both_backends! {
#[tokio::test]
async fn every_row_is_served_and_recorded_under_its_own_kind() {
    // The HTTP long poll answers at once when nothing comes.
    let s = start(|c| c.server.long_poll_timeout = std::time::Duration::from_millis(100)).await;
    let su = scopegate::token::unwrap_envelope(&s.superuser)
        .unwrap()
        .into_owned();
    let mut sender = h2(s.addr).await;
    for &kind in OperationKind::ALL {
        match kind.front() {
            Front::Grpc => {
                let (status, message) = empty_call(&mut sender, s.addr, kind.route(), &su).await;
                assert!(!status.is_empty(), "{kind:?}: no grpc-status");
                assert!(
                    !message.contains("not served by scopegate"),
                    "{kind:?} is a row but no handler serves it: {message}"
                );
            }
            Front::Http => {
                let (method, template) = kind.route().split_once(' ').unwrap();
                let path = template
                    .replace("{cache}", "default-cache")
                    .replace("{topic}", "t")
                    + "?key=k&ttl_seconds=60";
                let reply = send(
                    s.addr,
                    method,
                    &path,
                    &[("authorization", s.superuser.as_str())],
                    Bytes::from_static(b"v"),
                )
                .await;
                // A miss is a 404 too; what must not come is the router's.
                let body = String::from_utf8_lossy(&reply.body);
                assert!(!body.contains("no such route"), "{kind:?}: {body}");
                assert_ne!(reply.status, 405, "{kind:?}: {body}");
            }
        }
    }
    let metrics = s.metrics().await;
    for &kind in OperationKind::ALL {
        let front = match kind.front() {
            Front::Grpc => "grpc",
            Front::Http => "http",
        };
        assert!(
            recorded(&metrics, front, kind),
            "{kind:?} was not recorded under its row:\n{metrics}"
        );
    }
    // Nothing fell through to "unrouted".
    assert!(!metrics.contains(r#"kind="unrouted""#), "{metrics}");
    // A path outside the table is refused after authentication, unrouted.
    let (status, message) = empty_call(&mut sender, s.addr, "/cache_client.Scs/Nope", &su).await;
    assert_eq!(status, "12");
    assert!(message.contains("not served by scopegate"), "{message}");
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(
            r#"scopegate_requests_total{front="grpc",kind="unrouted",outcome="unimplemented"} 1"#
        ),
        "{metrics}"
    );
}
}
