//! A real scopegate server on 127.0.0.1:0, and a real HTTP client (hyper) to call it.
//!
//! A test written inside `both_backends!` (see `support/mod.rs`) runs twice
//! in the same `cargo test`: every server `start` builds in its `memory` copy
//! is on the memory backend, in its `redis` copy on the Redis backend (one
//! shared redis-server per test binary, a namespace per server). Elsewhere:
//! the memory backend.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use scopegate::app::App;
use scopegate::config::{Config, RedisConfig};
use scopegate::scope::json;
use scopegate::token::{self, CredentialKind, KeyRing, MintRequest, Origin};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Server {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub app: Arc<App>,
    pub keys: Arc<KeyRing>,
    /// A superuser API key (envelope).
    pub superuser: String,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<()>>,
}

thread_local! {
    /// The backend the test on this thread asked for (`both_backends!`).
    static ON_REDIS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True when the test running on this thread is a `redis` copy.
pub fn backend_is_redis() -> bool {
    ON_REDIS.with(std::cell::Cell::get)
}

/// Selects the backend of the servers this thread's test starts, until the
/// guard drops. (A `#[tokio::test]` body runs on the test's own thread, and
/// servers are started from the body.)
pub fn on_backend(redis: bool) -> OnBackend {
    ON_REDIS.with(|on| on.set(redis));
    OnBackend
}

pub struct OnBackend;

impl Drop for OnBackend {
    fn drop(&mut self) {
        ON_REDIS.with(|on| on.set(false));
    }
}

/// A Redis namespace no other server of this test run uses.
pub fn unique_namespace() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts the dev configuration on ephemeral ports; `adjust` may change it
/// first. In a `redis` copy of a test the config (as `adjust` sees
/// it) uses the shared redis-server with a namespace of its own.
pub async fn start(adjust: impl FnOnce(&mut Config)) -> Server {
    let server = start_unready(adjust).await;
    let on_redis = matches!(server.app.backend, scopegate::backend::Backend::Redis(_));
    assert!(
        on_redis || !backend_is_redis(),
        "a redis copy of a test started a server on another backend"
    );
    if on_redis {
        // The Redis backend connects in the background; wait as a load balancer would.
        server.wait_ready(Duration::from_secs(10)).await;
    }
    server
}

/// As [`start`], without waiting for the backend to be ready.
pub async fn start_unready(adjust: impl FnOnce(&mut Config)) -> Server {
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
    let (mut config, superuser) = scopegate::serve::dev_config(env).unwrap();
    if backend_is_redis() {
        config.redis = Some(RedisConfig {
            namespace: unique_namespace(),
            ..RedisConfig::new(super::redis::shared().url())
        });
    }
    adjust(&mut config);
    start_with(config, superuser, None).await
}

pub async fn start_with(
    config: Config,
    superuser: String,
    tls: Option<scopegate::server::TlsAcceptor>,
) -> Server {
    let listener = TcpListener::bind(config.listen).await.unwrap();
    let admin = TcpListener::bind(config.admin_listen).await.unwrap();
    let (addr, admin_addr) = (listener.local_addr().unwrap(), admin.local_addr().unwrap());
    let keys = Arc::clone(&config.keys);
    let app = App::new(config).expect("App::new");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(scopegate::server::run(
        Arc::clone(&app),
        listener,
        admin,
        tls,
        async {
            let _ = rx.await;
        },
    ));
    Server {
        addr,
        admin: admin_addr,
        app,
        keys,
        superuser,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl Server {
    /// Mints a credential with this server's key.
    pub fn mint(&self, scope: &str, disposable: bool, ttl: Option<u64>) -> String {
        let permissions = json::parse(scope).unwrap();
        let request = MintRequest {
            scope: &permissions,
            kind: if disposable {
                CredentialKind::Disposable
            } else {
                CredentialKind::ApiKey
            },
            ttl_secs: ttl,
            token_id: Some("tok-7"),
            subject: "tester",
            origin: Origin::Api,
        };
        let policy = self.app.auth.policy();
        token::mint(&self.keys, policy, "localhost", &request, token::unix_now())
            .unwrap()
            .envelope
    }

    /// Starts a graceful shutdown (as SIGTERM does).
    pub fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn get(&self, path: &str, credential: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = credential
            .map(|c| ("authorization", c))
            .into_iter()
            .collect();
        send(self.addr, "GET", path, &headers, Bytes::new()).await
    }

    pub async fn put(&self, path: &str, credential: &str, body: &[u8]) -> Reply {
        send(
            self.addr,
            "PUT",
            path,
            &[("authorization", credential)],
            Bytes::copy_from_slice(body),
        )
        .await
    }

    pub async fn delete(&self, path: &str, credential: &str) -> Reply {
        send(
            self.addr,
            "DELETE",
            path,
            &[("authorization", credential)],
            Bytes::new(),
        )
        .await
    }

    pub async fn publish(&self, path: &str, credential: &str, text: &str) -> Reply {
        let headers = [
            ("authorization", credential),
            ("content-type", "text/plain"),
        ];
        send(
            self.addr,
            "POST",
            path,
            &headers,
            Bytes::copy_from_slice(text.as_bytes()),
        )
        .await
    }

    /// Waits (polling every 20 ms) until the app is ready; panics after `limit`.
    pub async fn wait_ready(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.app.is_ready() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server is not ready within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The status of the admin port's /readyz.
    pub async fn readyz(&self) -> u16 {
        send(self.admin, "GET", "/readyz", &[], Bytes::new())
            .await
            .status
    }

    /// The admin port's /metrics text.
    pub async fn metrics(&self) -> String {
        String::from_utf8(
            send(self.admin, "GET", "/metrics", &[], Bytes::new())
                .await
                .body
                .to_vec(),
        )
        .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A response: status, headers, whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The JSON error code of the body.
    pub fn code(&self) -> String {
        let json: serde_json::Value = serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", self.body));
        json["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One HTTP/1.1 request on a fresh connection, bounded by 30 s.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Reply {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = build(method, &format!("http://{addr}{path}"), headers, body);
    finish(
        tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
            .await
            .expect("no hang")
            .unwrap(),
    )
    .await
}

/// One HTTP/2 request (prior knowledge, or over `io` from TLS).
pub async fn send_h2<I>(
    io: I,
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Reply
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = build(
        method,
        &format!("http://{authority}{path}"),
        headers,
        Bytes::new(),
    );
    finish(sender.send_request(request).await.unwrap()).await
}

fn build(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Full::new(body)).unwrap()
}

async fn finish(response: http::Response<hyper::body::Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// An HTTP/2 (prior knowledge) client connection to `addr`, driven in the
/// background: for requests the other helpers do not shape (raw gRPC frames,
/// streaming bodies).
pub async fn h2<B>(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<B>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// The same over HTTP/1.1.
pub async fn h1<B>(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

/// Percent-encodes a query value.
pub fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
