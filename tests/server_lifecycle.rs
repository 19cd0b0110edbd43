//! Connections and the process lifecycle, on raw sockets: graceful shutdown,
//! timeouts, size caps, disconnects, the connection cap, h2c and TLS.

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::server::{send, send_h2, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ALL: &str = r#"{"permissions":[{"role":"readwrite","cache":"*"},{"role":"publishsubscribe","cache":"*","topic":"*"}]}"#;

/// Reads until the peer closes or `limit` passes; returns what was read.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_accepts_nothing_new() {
    let mut s = start(|_| {}).await;
    let credential = s.mint(ALL, true, Some(60));
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT /cache/default-cache?key=k&ttl_seconds=60 HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\ncontent-length: 10\r\n\r\nhello"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.shut_down();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!s.app.is_ready(), "/readyz turns not ready while draining");
    // New connections are refused once draining.
    let refused = TcpStream::connect(s.addr).await;
    assert!(refused.is_err(), "the listener is closed");
    // The in-flight request completes.
    stream.write_all(b"world").await.unwrap();
    let reply = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 204"), "{reply}");
    let task = s.task.take().unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the server stops")
        .unwrap();
}

#[tokio::test]
async fn long_polls_are_told_when_the_server_drains() {
    let mut s = start(|_| {}).await;
    let credential = s.mint(ALL, true, Some(60));
    let poll = tokio::spawn({
        let (addr, c) = (s.addr, credential.clone());
        async move {
            send(
                addr,
                "GET",
                "/topics/default-cache/t",
                &[("authorization", &c)],
                Bytes::new(),
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.shut_down();
    let reply = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (reply.status, reply.code()),
        (503, "SERVER_UNAVAILABLE".into())
    );
}

#[tokio::test]
async fn slow_and_half_sent_requests_time_out() {
    let s = start(|c| {
        c.server.header_read_timeout = Duration::from_millis(500);
        c.server.request_timeout = Duration::from_millis(500);
    })
    .await;
    // Headers never finished: the connection is closed at the deadline;
    // the same behind the start of the HTTP/2 preface (served as HTTP/1:
    // only the whole preface is HTTP/2).
    for head in [
        &b"GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\n"[..],
        b"PRI / HTTP/1.1\r\nhost: x\r\n",
    ] {
        let started = std::time::Instant::now();
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        stream.write_all(head).await.unwrap();
        let reply = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert_cut_off(&reply, started);
    }
    // A head dripped a byte at a time (each wakes the connection) is cut off
    // at the same deadline, on a keep-alive connection's second request too.
    let credential = s.mint(ALL, true, Some(60));
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let first = format!(
        "GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\n\r\n"
    );
    stream.write_all(first.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 404"));
    let started = std::time::Instant::now();
    let mut closed = false;
    for byte in b"GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\nx-pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Cut off near the deadline, not after the whole drip (about 4.5 s).
    let reply = if closed {
        String::new()
    } else {
        read_until_closed(&mut stream, Duration::from_secs(5)).await
    };
    assert_cut_off(&reply, started);
    // A body that never arrives: the request times out with 504.
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "PUT /cache/default-cache?key=k&ttl_seconds=9 HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\ncontent-length: 10\r\n\r\nabc"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]);
    assert!(reply.starts_with("HTTP/1.1 504"), "{reply}");
    assert!(reply.contains("TIMEOUT_ERROR"));
    // Nothing was half-written.
    let get = s.get("/cache/default-cache?key=k", Some(&credential)).await;
    assert_eq!(get.status, 404);
}

#[tokio::test]
async fn oversized_headers_are_refused_before_they_are_buffered() {
    let s = start(|c| c.server.max_header_bytes = 4096).await;
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let reply = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_poll_leaks_no_subscription() {
    let s = start(|_| {}).await;
    let credential = s.mint(ALL, true, Some(60));
    for _ in 0..3 {
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        let head = format!(
            "GET /topics/default-cache/t HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The three streams above were dropped at the end of each loop iteration.
    let mut open = s.app.metrics.open_subscriptions();
    for _ in 0..40 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = s.app.metrics.open_subscriptions();
    }
    assert_eq!(open, 0);
    assert!(
        s.metrics().await.contains("scopegate_open_connections 0"),
        "the connections closed too"
    );
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let s = start(|c| c.server.max_connections = 1).await;
    let first = TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn({
        let addr = s.addr;
        async move { send(addr, "GET", "/cache/default-cache?key=k", &[], Bytes::new()).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second connection waits while the first holds the only slot"
    );
    drop(first);
    let reply = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn http2_prior_knowledge_on_the_same_port() {
    let s = start(|_| {}).await;
    let credential = s.mint(ALL, true, Some(60));
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let reply = send_h2(
        stream,
        &s.addr.to_string(),
        "GET",
        "/cache/default-cache?key=k",
        &[("authorization", &credential)],
    )
    .await;
    assert_eq!(
        (reply.status, reply.code()),
        (404, "NOT_FOUND_ERROR".into())
    );
    // gRPC requests are routed to the gRPC front, not the HTTP API: an RPC
    // outside the classification table is refused before any service sees it
    // (UNAUTHENTICATED without a credential; UNIMPLEMENTED with one).
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let grpc = send_h2(
        stream,
        &s.addr.to_string(),
        "POST",
        "/leaderboard.Leaderboard/GetRank",
        &[("content-type", "application/grpc")],
    )
    .await;
    assert_eq!(grpc.headers["grpc-status"], "16", "UNAUTHENTICATED");
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let grpc = send_h2(
        stream,
        &s.addr.to_string(),
        "POST",
        "/leaderboard.Leaderboard/GetRank",
        &[
            ("content-type", "application/grpc"),
            ("authorization", &credential),
        ],
    )
    .await;
    assert_eq!(grpc.headers["grpc-status"], "12", "UNIMPLEMENTED");
}

#[tokio::test]
async fn tls_with_alpn_h2_and_http11() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName};
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let files = scopegate::config::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    let acceptor = scopegate::server::load_tls(&files).unwrap();
    let env = [
        (
            "SCOPEGATE_SERVER_LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        (
            "SCOPEGATE_ADMIN_LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
    ];
    let (config, superuser) = scopegate::serve::dev_config(env).unwrap();
    let s = support::server::start_with(config, superuser, Some(acceptor)).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    for (alpn, expect_h2) in [(b"h2".to_vec(), true), (b"http/1.1".to_vec(), false)] {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        client.alpn_protocols = vec![alpn];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = TcpStream::connect(s.addr).await.unwrap();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol() == Some(b"h2"), expect_h2);
        let reply = if expect_h2 {
            send_h2(
                tls,
                "localhost",
                "GET",
                "/cache/default-cache?key=k",
                &[("authorization", &s.superuser)],
            )
            .await
        } else {
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let request = http::Request::get("/cache/default-cache?key=k")
                .header("host", "localhost")
                .header("authorization", &s.superuser)
                .body(http_body_util::Full::new(Bytes::new()))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            support::server::Reply {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body: Bytes::new(),
            }
        };
        assert_eq!(reply.status, 404, "a miss, through TLS");
    }
    // A plaintext request on the TLS port gets no answer.
    let mut plain = TcpStream::connect(s.addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        !read_until_closed(&mut plain, Duration::from_secs(5))
            .await
            .starts_with("HTTP/1.1 2")
    );
}

/// The head deadline runs from a head's first byte, not from the end of the
/// previous response: a keep-alive HTTP/1 connection idle for longer than
/// `header_read_timeout` is kept (until `idle_timeout`) and serves its next
/// request; one idle past `idle_timeout` is closed.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_the_head_deadline() {
    let s = start(|c| {
        c.server.header_read_timeout = Duration::from_millis(300);
        c.server.idle_timeout = Duration::from_secs(3);
    })
    .await;
    let credential = s.mint(ALL, true, Some(60));
    let request = format!(
        "GET /cache/default-cache?key=k HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\n\r\n"
    );
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    let mut buf = vec![0; 4096];
    for round in 0..2 {
        stream.write_all(request.as_bytes()).await.unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        let reply = String::from_utf8_lossy(&buf[..n]);
        assert!(reply.starts_with("HTTP/1.1 404"), "round {round}: {reply}");
        // Four head deadlines of silence.
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    // Idle past idle_timeout: closed.
    let started = std::time::Instant::now();
    let reply = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(reply.is_empty(), "{reply}");
    let closed = started.elapsed();
    assert!(
        closed > Duration::from_millis(1000) && closed < Duration::from_secs(6),
        "{closed:?}"
    );
}

#[tokio::test]
async fn silent_connections_do_not_hold_slots() {
    let s = start(|c| {
        c.server.max_connections = 1;
        c.server.header_read_timeout = Duration::from_millis(500);
    })
    .await;
    let _silent = TcpStream::connect(s.addr).await.unwrap();
    let reply = tokio::time::timeout(
        Duration::from_secs(5),
        send(
            s.addr,
            "GET",
            "/cache/default-cache?key=k",
            &[],
            Bytes::new(),
        ),
    )
    .await
    .expect("served once the silent client's slot is freed");
    assert_eq!(reply.status, 401);
}

/// A half-sent head's connection was closed (with a 408 at most) at the
/// head deadline, well before its slow sender would have finished.
fn assert_cut_off(reply: &str, started: std::time::Instant) {
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
