//! The fronts called as functions, axum's `oneshot` style: no socket, no
//! listener, a `Request<Full<Bytes>>` in and a response out, through the
//! same `api::handle` every connection calls. Table-driven over the HTTP API
//! and native gRPC.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use momento_protos::cache_client::{ECacheResult, GetRequest, GetResponse, SetRequest};
use prost::Message;
use scopegate::api::{self, grpc::Grpc};
use scopegate::app::App;
use tokio::sync::Semaphore;

/// Method, path, credential, body; the status and a part of the body wanted.
type HttpCase<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'static [u8],
    u16,
    &'a [u8],
);

/// The client address of every in-process request.
const LOOPBACK: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

struct Front {
    app: Arc<App>,
    grpc: Arc<Grpc>,
    budget: Arc<Semaphore>,
    superuser: String,
}

fn front() -> Front {
    let (config, superuser) = scopegate::serve::dev_config(Vec::new()).unwrap();
    let app = App::new(config).unwrap();
    let budget = Arc::new(Semaphore::new(api::connection_budget(
        app.limits.max_value_bytes,
    )));
    Front {
        grpc: Arc::new(Grpc::new(Arc::clone(&app))),
        app,
        budget,
        superuser,
    }
}

/// Status, headers (with a gRPC response's trailers folded in), body.
async fn call(f: &Front, req: Request<Full<Bytes>>) -> (u16, http::HeaderMap, Bytes) {
    let response = api::handle(&f.app, &f.grpc, LOOPBACK, &f.budget, req).await;
    let (mut parts, body) = response.into_parts();
    let collected = body.collect().await.unwrap();
    if let Some(trailers) = collected.trailers() {
        parts.headers.extend(trailers.clone());
    }
    (parts.status.as_u16(), parts.headers, collected.to_bytes())
}

fn http(
    method: &str,
    path: &str,
    credential: Option<&str>,
    body: &'static [u8],
) -> Request<Full<Bytes>> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = credential {
        req = req.header("authorization", c);
    }
    req.body(Full::new(Bytes::from_static(body))).unwrap()
}

fn grpc(path: &str, credential: &str, message: &impl Message) -> Request<Full<Bytes>> {
    let encoded = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(encoded.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(&encoded);
    Request::post(path)
        .version(http::Version::HTTP_2)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", credential)
        .header("cache", "default-cache")
        .body(Full::new(Bytes::from(framed)))
        .unwrap()
}

#[tokio::test]
async fn the_http_api_answers_in_process() {
    let f = front();
    let su = f.superuser.clone();
    let reader = {
        let permissions = scopegate::scope::json::parse(
            r#"{"permissions":[{"role":"readonly","cache":"default-cache"}]}"#,
        )
        .unwrap();
        let request = scopegate::token::MintRequest {
            scope: &permissions,
            kind: scopegate::token::CredentialKind::Disposable,
            ttl_secs: Some(600),
            token_id: None,
            subject: "reader",
            origin: scopegate::token::Origin::Api,
        };
        scopegate::token::mint(
            &f.app.auth.ring(),
            f.app.auth.policy(),
            "localhost",
            &request,
            scopegate::token::unix_now(),
        )
        .unwrap()
        .envelope
    };
    let cases: [HttpCase; 8] = [
        (
            "PUT",
            "/cache/default-cache?key=k&ttl_seconds=60",
            Some(&su),
            b"v",
            204,
            b"",
        ),
        (
            "GET",
            "/cache/default-cache?key=k",
            Some(&su),
            b"",
            200,
            b"v",
        ),
        (
            "GET",
            "/cache/default-cache?key=k",
            Some(&reader),
            b"",
            200,
            b"v",
        ),
        (
            "PUT",
            "/cache/default-cache?key=k&ttl_seconds=60",
            Some(&reader),
            b"w",
            403,
            b"PERMISSION_ERROR",
        ),
        (
            "GET",
            "/cache/default-cache?key=k",
            None,
            b"",
            401,
            b"AUTHENTICATION_ERROR",
        ),
        (
            "GET",
            "/cache/default-cache?key=k",
            Some("garbage"),
            b"",
            401,
            b"AUTHENTICATION_ERROR",
        ),
        ("GET", "/nowhere", Some(&su), b"", 404, b"no such route"),
        (
            "POST",
            "/cache/default-cache?key=k",
            Some(&su),
            b"",
            405,
            b"method not allowed",
        ),
    ];
    for (method, path, credential, body, status, contains) in cases {
        let (got, _, bytes) = call(&f, http(method, path, credential, body)).await;
        assert_eq!(got, status, "{method} {path}: {bytes:?}");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains(std::str::from_utf8(contains).unwrap()),
            "{method} {path}: {text}"
        );
    }
    // Recorded under its row, like any request off a socket.
    let metrics = String::from_utf8(f.app.metrics.render()).unwrap();
    assert!(
        metrics.contains(
            r#"scopegate_requests_total{front="http",kind="HttpCacheGet",outcome="ok"} 2"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn grpc_answers_in_process() {
    let f = front();
    let su = scopegate::token::unwrap_envelope(&f.superuser)
        .unwrap()
        .into_owned();
    let set = SetRequest {
        cache_key: b"k".to_vec(),
        cache_body: b"v".to_vec(),
        ttl_milliseconds: 60_000,
    };
    let (status, headers, _) = call(&f, grpc("/cache_client.Scs/Set", &su, &set)).await;
    assert_eq!(
        (status, headers.get("grpc-status").map(|v| v.as_bytes())),
        (200, Some(&b"0"[..]))
    );
    let get = GetRequest {
        cache_key: b"k".to_vec(),
    };
    let (_, headers, body) = call(&f, grpc("/cache_client.Scs/Get", &su, &get)).await;
    assert_eq!(headers["grpc-status"], "0");
    let reply = GetResponse::decode(&body[5..]).unwrap();
    assert_eq!(
        (reply.result, reply.cache_body.as_slice()),
        (ECacheResult::Hit as i32, &b"v"[..])
    );
    // Refusals, decided before the body is read or after it, by their codes.
    let cases = [
        ("/cache_client.Scs/Get", "garbage", "16"),
        ("/cache_client.Scs/Nope", su.as_str(), "12"),
        // A collection RPC on the scalar `k`: the wrong type.
        ("/cache_client.Scs/DictionaryGet", su.as_str(), "9"),
        ("/control_client.ScsControl/ListIndexes", su.as_str(), "12"),
    ];
    for (path, credential, code) in cases {
        let (_, headers, _) = call(&f, grpc(path, credential, &get)).await;
        assert_eq!(headers["grpc-status"], code, "{path}");
    }
}

/// A credential header holding a byte over 0x7f (obs-text, which hyper's
/// parser lets through) is not text: 401 / UNAUTHENTICATED on both fronts,
/// even when the rest of it is a valid credential this thread has just
/// verified (a verified credential is looked up by its bytes, before the
/// text check).
#[tokio::test]
async fn a_credential_that_is_not_ascii_is_refused_on_both_fronts() {
    let f = front();
    let mut req = http("GET", "/cache/default-cache?key=k", None, b"");
    let bearer = format!("Bearer {} ", f.superuser);
    req.headers_mut()
        .insert("authorization", bearer.parse().unwrap());
    let (status, _, _) = call(&f, req).await;
    assert_eq!(status, 404, "the valid credential, verified first");
    let mut bytes = f.superuser.clone().into_bytes();
    bytes.push(0xff);
    let value = http::HeaderValue::from_bytes(&bytes).unwrap();
    let mut req = http("GET", "/cache/default-cache?key=k", None, b"");
    req.headers_mut().insert("authorization", value.clone());
    let (status, _, body) = call(&f, req).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("AUTHENTICATION_ERROR") && text.contains("not text"),
        "{text}"
    );
    let get = GetRequest {
        cache_key: b"k".to_vec(),
    };
    let mut req = grpc("/cache_client.Scs/Get", "placeholder", &get);
    req.headers_mut().insert("authorization", value);
    let (_, headers, _) = call(&f, req).await;
    assert_eq!(headers["grpc-status"], "16");
    assert!(
        headers["grpc-message"]
            .to_str()
            .unwrap()
            .contains("not%20text"),
        "{headers:?}"
    );
}

/// An HTTP/1 GET on the memory backend is answered in hyper's call (its
/// value handed up, its response made when it is taken); over HTTP/2 the
/// same GET takes the boxed path. Both give the same answer, hit or miss,
/// with the same CORS headers, and both are recorded.
#[tokio::test]
async fn a_get_answered_at_once_is_the_boxed_paths_answer() {
    let (mut config, su) = scopegate::serve::dev_config(Vec::new()).unwrap();
    config.cors_origins = vec!["https://app.example".into()];
    let app = App::new(config).unwrap();
    let f = Front {
        grpc: Arc::new(Grpc::new(Arc::clone(&app))),
        budget: Arc::new(Semaphore::new(api::connection_budget(
            app.limits.max_value_bytes,
        ))),
        app,
        superuser: su.clone(),
    };
    let put = http(
        "PUT",
        "/cache/default-cache?key=k&ttl_seconds=60",
        Some(&su),
        b"value",
    );
    assert_eq!(call(&f, put).await.0, 204);
    let get = |key: &str, version| {
        let mut req = http(
            "GET",
            &format!("/cache/default-cache?key={key}"),
            Some(&su),
            b"",
        );
        *req.version_mut() = version;
        req.headers_mut()
            .insert("origin", "https://app.example".parse().unwrap());
        req
    };
    let mut answers = Vec::new();
    for version in [http::Version::HTTP_11, http::Version::HTTP_2] {
        let (status, headers, body) = call(&f, get("k", version)).await;
        assert_eq!((status, &body[..]), (200, &b"value"[..]), "{version:?}");
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://app.example"
        );
        assert_eq!(headers.get_all("vary").iter().count(), 1, "{version:?}");
        let (status, miss_headers, miss) = call(&f, get("absent", version)).await;
        assert_eq!(status, 404, "{version:?}");
        assert!(
            String::from_utf8_lossy(&miss).contains("NOT_FOUND_ERROR"),
            "{miss:?}"
        );
        assert_eq!(
            miss_headers["access-control-allow-origin"],
            "https://app.example"
        );
        answers.push((headers, body, miss_headers, miss));
    }
    assert_eq!(answers[0], answers[1]);
    let metrics = String::from_utf8(f.app.metrics.render()).unwrap();
    for outcome in ["ok\"} 2", "not_found\"} 2"] {
        let line = format!(
            r#"scopegate_requests_total{{front="http",kind="HttpCacheGet",outcome="{outcome}"#
        );
        assert!(metrics.contains(&line), "{line}\n{metrics}");
    }
}

/// A request answered at once is taken by the first poll; polled again (a
/// caller's mistake), it stays pending rather than answering twice.
#[tokio::test]
async fn an_answer_given_at_once_is_taken_once() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let f = front();
    let put = http(
        "PUT",
        "/cache/default-cache?key=k&ttl_seconds=60",
        Some(&f.superuser),
        b"v",
    );
    assert_eq!(call(&f, put).await.0, 204);
    let mut cx = Context::from_waker(Waker::noop());
    for (credential, status) in [(Some(f.superuser.as_str()), 200), (None, 401)] {
        let req = http("GET", "/cache/default-cache?key=k", credential, b"");
        let mut handle = api::handle(&f.app, &f.grpc, LOOPBACK, &f.budget, req);
        match std::pin::Pin::new(&mut handle).poll(&mut cx) {
            Poll::Ready(response) => assert_eq!(response.status().as_u16(), status),
            Poll::Pending => panic!("a GET on the memory backend is answered at once"),
        }
        assert!(std::pin::Pin::new(&mut handle).poll(&mut cx).is_pending());
    }
}
