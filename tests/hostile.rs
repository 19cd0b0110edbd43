//! Hostile clients (what an attack probe found), one regression test per
//! finding, each asserting the precise status: two credentials in one
//! request, a scope whose displayed form widened it, durations that
//! overflowed at run time, a refused upload that closed its connection
//! silently, and gRPC framing the client got wrong.
//! Resource bounds (memory per connection, idle slots) are in
//! `connection_bounds.rs`, alone in their binary so RSS readings are clean.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use support::server::{Server, send, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CACHE: &str = "default-cache";
const READONLY: &str = r#"{"permissions":[{"role":"readonly","cache":"*"}]}"#;

/// The inner JWT of an envelope (garbage stays garbage).
fn jwt(envelope: &str) -> String {
    scopegate::token::unwrap_envelope(envelope)
        .map_or_else(|_| envelope.to_owned(), |jwt| jwt.into_owned())
}

/// One gRPC request over a fresh h2c connection: `frames` is the raw body,
/// `trailers` optional request trailers. Returns the grpc-status.
async fn grpc_raw(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    trailers: Option<http::HeaderMap>,
) -> String {
    grpc_frames(s, path, headers, vec![body], trailers)
        .await
        .status
}

/// What a raw gRPC call was answered: its status (from the head or the
/// trailers), the response head and the body's bytes.
struct RawAnswer {
    status: String,
    head: http::HeaderMap,
    body: Bytes,
}

/// [`grpc_raw`] with the body sent as the given data frames, one by one.
async fn grpc_frames(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
    chunks: Vec<Vec<u8>>,
    trailers: Option<http::HeaderMap>,
) -> RawAnswer {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    let mut sender = support::server::h2(s.addr).await;
    let mut request = http::Request::post(format!("http://{}{path}", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut frames: Vec<_> = chunks
        .into_iter()
        .map(|chunk| Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(chunk))))
        .collect();
    if let Some(trailers) = trailers {
        frames.push(Ok(Frame::trailers(trailers)));
    }
    let request = request
        .body(StreamBody::new(futures::stream::iter(frames)))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .expect("no hang")
        .unwrap();
    let head = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let status = head
        .get("grpc-status")
        .or(trailers.get("grpc-status"))
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("a grpc-status");
    RawAnswer {
        status,
        head,
        body: collected.to_bytes(),
    }
}

/// A gRPC message: flag, big-endian length, payload.
fn message(flag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn get_key(key: &str) -> Vec<u8> {
    prost::Message::encode_to_vec(&momento_protos::cache_client::GetRequest {
        cache_key: key.as_bytes().to_vec(),
    })
}

/// Finding 2: two credentials in one request are INVALID_ARGUMENT, whichever
/// comes first and whatever they are, on both fronts.
#[tokio::test]
async fn two_credentials_in_one_request_are_refused() {
    let s = start(|_| {}).await;
    let (su, ro) = (s.superuser.clone(), s.mint(READONLY, true, Some(60)));
    let path = format!("/cache/{CACHE}?key=k&ttl_seconds=60");
    for (first, second) in [
        (su.as_str(), "garbage"),
        ("garbage", su.as_str()),
        (ro.as_str(), su.as_str()),
        (su.as_str(), su.as_str()),
    ] {
        let reply = send(
            s.addr,
            "PUT",
            &path,
            &[("authorization", first), ("authorization", second)],
            Bytes::from_static(b"v"),
        )
        .await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "INVALID_ARGUMENT_ERROR".to_owned()),
            "HTTP"
        );
        let status = grpc_raw(
            &s,
            "/cache_client.Scs/Get",
            &[
                ("authorization", &jwt(first)),
                ("authorization", &jwt(second)),
                ("cache", CACHE),
            ],
            message(0, &get_key("k")),
            None,
        )
        .await;
        assert_eq!(status, "3", "gRPC");
    }
    // One is fine.
    let reply = send(
        s.addr,
        "PUT",
        &path,
        &[("authorization", &su)],
        Bytes::from_static(b"v"),
    )
    .await;
    assert_eq!(reply.status, 204);
}

/// Finding 3: what `token inspect` displays, minted again, grants exactly the
/// same: a cache or topic literally named `*` stays that one name.
#[tokio::test]
async fn a_displayed_scope_minted_again_grants_no_more() {
    let s = start(|c| c.caches.push("other".into())).await;
    let scope = r#"{"permissions":[{"role":"readwrite","cache":{"name":"*"}},{"role":"publishsubscribe","cache":"default-cache","topic":{"name":"*"}}]}"#;
    let original = s.mint(scope, true, Some(60));
    let shown = scopegate::token::inspect(&original).unwrap().scope.unwrap();
    let displayed = scopegate::scope::json::render(&shown).to_string();
    let again = s.mint(&displayed, true, Some(60));
    for token in [&original, &again] {
        let reply = s.get("/cache/other?key=k", Some(token)).await;
        assert_eq!(reply.status, 403, "{displayed}");
        let reply = s.publish("/topics/default-cache/news", token, "x").await;
        assert_eq!(reply.status, 403, "{displayed}");
        let reply = s.publish("/topics/default-cache/*", token, "x").await;
        assert_eq!(reply.status, 204, "the topic named `*` itself");
    }
}

/// Finding 4: a duration that would overflow a deadline is refused by
/// validation (exit 64 at start, before binding), for every duration setting.
#[test]
fn durations_that_would_overflow_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k1.secret"),
        "a-secret-of-at-least-thirty-two-bytes!!",
    )
    .unwrap();
    let keys =
        "[[keys]]\nkid = \"k1\"\nalg = \"HS256\"\nsecret_file = \"k1.secret\"\nsigning = true\n";
    for (section, setting) in [
        ("server", "header_read_timeout"),
        ("server", "request_timeout"),
        ("server", "long_poll_timeout"),
        ("server", "shutdown_grace"),
        ("server", "idle_timeout"),
        ("auth", "leeway"),
        ("auth", "max_disposable_lifetime"),
        ("auth", "max_api_key_lifetime"),
        ("auth", "verification_cache_ttl"),
        ("backend", "heartbeat"),
        ("backend", "command_timeout"),
        ("backend", "connect_timeout"),
        ("backend", "registry_refresh"),
    ] {
        // The Redis settings are validated when the backend is Redis.
        let redis = if section == "backend" {
            "kind = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n"
        } else {
            ""
        };
        let text = format!("[{section}]\n{redis}{setting} = \"500000000000years\"\n{keys}");
        let errors = scopegate::config::Config::parse(&text, dir.path())
            .map(|_| ())
            .unwrap_err()
            .0;
        let name = format!("{section}.{setting}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&name) && e.contains("at most")),
            "{name}: {errors:?}"
        );
    }
}

/// Finding 5: a refusal sent before an upload is read says `Connection:
/// close` (hyper then closes the HTTP/1.1 connection), so the client does not
/// send its next request into a closed socket.
#[tokio::test]
async fn an_early_refusal_of_an_upload_announces_the_close() {
    let s = start(|_| {}).await;
    let text = refused_upload(
        s.addr,
        &format!("PUT /cache/{CACHE}?key=k&ttl_seconds=60 HTTP/1.1\r\nhost: x\r\n"),
    )
    .await;
    assert!(text.starts_with("http/1.1 401"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    // A GET (answered while hyper hands it over, on the memory backend)
    // that declares a body is refused the same way (there hyper announces
    // the close too: the unread body is dropped with the request).
    let text = refused_upload(
        s.addr,
        &format!("GET /cache/{CACHE}?key=k HTTP/1.1\r\nhost: x\r\nauthorization: garbage\r\n"),
    )
    .await;
    assert!(text.starts_with("http/1.1 401"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    // A request without a body keeps its connection (no close announced).
    let reply = s
        .get(&format!("/cache/{CACHE}?key=k"), Some("garbage"))
        .await;
    assert_eq!(reply.status, 401);
    assert!(!reply.headers.contains_key("connection"));
}

/// Sends `head` (its lines, without the blank line) declaring a 100,000-byte
/// body and 1,000 bytes of it; the whole answer once the server closes the
/// connection, lowercased.
async fn refused_upload(addr: std::net::SocketAddr, head: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("{head}content-length: 100000\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b'v'; 1000]).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8_lossy(&response).to_ascii_lowercase()
}

/// Finding 7: framing the client got wrong is INVALID_ARGUMENT (SPEC 4), not
/// INTERNAL; a second message on a unary RPC and request trailers (where a
/// credential or a `cache` could hide) are refused, not ignored.
#[tokio::test]
async fn bad_grpc_framing_is_invalid_argument() {
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let head = [("authorization", su.as_str()), ("cache", CACHE)];
    let good = message(0, &get_key("k"));
    let case =
        |name: &'static str, body: Vec<u8>, extra: &'static [(&'static str, &'static str)]| {
            (name, body, extra)
        };
    let mut truncated = good.clone();
    truncated.pop();
    let mut two = good.clone();
    two.extend_from_slice(&good);
    for (name, body, extra) in [
        case("truncated", truncated, &[]),
        case("prefix only, cut", vec![0, 0, 0], &[]),
        case(
            "compressed without grpc-encoding",
            message(1, &get_key("k")),
            &[],
        ),
        case("flag byte 2", message(2, &get_key("k")), &[]),
        case("a second message", two, &[]),
        case("no message", Vec::new(), &[]),
        case(
            "a message that does not decode",
            message(0, &[0xff, 0xff, 0xff]),
            &[],
        ),
        case(
            "compressed with the identity encoding",
            message(1, &get_key("k")),
            &[("grpc-encoding", "identity")],
        ),
    ] {
        let mut headers = head.to_vec();
        headers.extend_from_slice(extra);
        let status = grpc_raw(&s, "/cache_client.Scs/Get", &headers, body, None).await;
        assert_eq!(status, "3", "{name}");
    }
    let mut trailers = http::HeaderMap::new();
    trailers.insert("authorization", "x".parse().unwrap());
    let status = grpc_raw(
        &s,
        "/cache_client.Scs/Get",
        &head,
        good.clone(),
        Some(trailers),
    )
    .await;
    assert_eq!(status, "3", "request trailers");
    // A compressed message with an encoding scopegate does not accept:
    // UNIMPLEMENTED, as gRPC specifies.
    // It names what is accepted, as gRPC specifies.
    let mut headers = head.to_vec();
    headers.push(("grpc-encoding", "gzip"));
    let answer = grpc_frames(
        &s,
        "/cache_client.Scs/Get",
        &headers,
        vec![message(1, b"x")],
        None,
    )
    .await;
    assert_eq!(answer.status, "12");
    assert_eq!(answer.head["grpc-accept-encoding"], "identity");
    // The well-formed request is served.
    let status = grpc_raw(&s, "/cache_client.Scs/Get", &head, good, None).await;
    assert_eq!(status, "0");
}

/// A unary call's message may arrive in pieces (a prefix split across data
/// frames, a payload byte by byte): it is joined, served, and answered as
/// gRPC frames it: `application/grpc`, one message, then `grpc-status: 0`.
#[tokio::test]
async fn a_unary_message_in_pieces_is_served_and_framed() {
    use momento_protos::cache_client::{ECacheResult, GetResponse, SetRequest};
    let s = start(|_| {}).await;
    let su = jwt(&s.superuser);
    let head = [("authorization", su.as_str()), ("cache", CACHE)];
    let set = prost::Message::encode_to_vec(&SetRequest {
        cache_key: b"pieces".to_vec(),
        cache_body: b"joined value".to_vec(),
        ttl_milliseconds: 60_000,
    });
    let set = message(0, &set);
    // The prefix cut after two bytes, then the rest a byte at a time.
    let mut chunks = vec![set[..2].to_vec()];
    chunks.extend(set[2..].iter().map(|b| vec![*b]));
    let answer = grpc_frames(&s, "/cache_client.Scs/Set", &head, chunks, None).await;
    assert_eq!(answer.status, "0");
    let get = message(0, &get_key("pieces"));
    let chunks = vec![get[..3].to_vec(), get[3..].to_vec()];
    let answer = grpc_frames(&s, "/cache_client.Scs/Get", &head, chunks, None).await;
    assert_eq!(answer.status, "0");
    assert_eq!(answer.head["content-type"], "application/grpc");
    // Exactly one uncompressed message, as long as its prefix says.
    let body = answer.body;
    assert_eq!(body[0], 0, "not compressed");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    assert_eq!(body.len(), 5 + len, "one message, nothing after it");
    let response: GetResponse = prost::Message::decode(&body[5..]).unwrap();
    assert_eq!(response.result, ECacheResult::Hit as i32);
    assert_eq!(response.cache_body, b"joined value");
}

/// Finding 1 (the part without a memory reading): an unauthenticated gRPC
/// request is answered from its head, while its body is still arriving.
#[tokio::test]
async fn an_unauthenticated_upload_is_refused_before_its_body_arrives() {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    let s = start(|_| {}).await;
    let mut sender = support::server::h2(s.addr).await;
    // Declares a 4 MB message, sends 5 bytes of it, then nothing more.
    let mut prefix = vec![0u8];
    prefix.extend_from_slice(&(4_000_000u32).to_be_bytes());
    let body = futures::stream::iter([Ok::<_, std::convert::Infallible>(Frame::data(
        Bytes::from(prefix),
    ))])
    .chain(futures::stream::pending());
    let request = http::Request::post(format!("http://{}/cache_client.Scs/Set", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("cache", CACHE)
        .body(StreamBody::new(body))
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(2), sender.send_request(request))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert_eq!(response.headers()["grpc-status"], "16");
}
