//! Helpers for `scripts/load.sh`.
//!
//! - `baseline ADDR FILE`: a minimal hyper server on the same stack as
//!   scopegate (tokio multi-thread, hyper-util auto builder) that answers every
//!   request with the bytes of FILE as `application/octet-stream` (the
//!   gateway's GET hit, byte for byte but the date): the ceiling
//!   scopegate's figures are compared with.
//! - `urls CONFIG BASE_URL COUNT SCOPE_JSON`: prints COUNT URLs, each with a
//!   freshly minted credential in `token=`, so every request is a cold
//!   verification.
//! - `grpc-baseline ADDR FILE`: the gRPC counterpart of `baseline`: answers
//!   every request with the same encoded `GetResponse` (a hit holding FILE).
//! - `grpc-load URL CREDENTIAL get|set SECONDS CONCURRENCY`: drives
//!   `cache_client.Scs` Get or Set of key `hot` in cache `bench` with tonic over
//!   one HTTP/2 channel (as the SDKs do) for a bounded time; prints one JSON
//!   line: requests per second, p50 and p99 in ms, errors.
//! - `verify-loop cold|warm N`: verifies one HS256 token N times, cold
//!   (`verify_at` + authorize) or warm (cache hit + authorize). Run under
//!   `valgrind --tool=callgrind` at N and 2N: the difference in instructions,
//!   divided by N, is a per-operation cost that other load on the machine
//!   cannot disturb.

use std::convert::Infallible;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use scopegate::config::Config;
use scopegate::scope::json;
use scopegate::token::{self, CredentialKind, MintRequest, Origin};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("baseline") if args.len() == 4 => baseline(&args[2], &args[3]),
        Some("urls") if args.len() == 6 => urls(&args[2], &args[3], &args[4], &args[5]),
        Some("verify-loop") if args.len() == 4 => verify_loop(&args[2], &args[3]),
        Some("grpc-baseline") if args.len() == 4 => grpc_baseline(&args[2], &args[3]),
        Some("grpc-load") if args.len() == 7 => grpc_load(&args[2..]),
        _ => Err(
            "usage: bench_tools baseline ADDR FILE | urls CONFIG BASE_URL COUNT SCOPE_JSON".into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn baseline(addr: &str, file: &str) -> Result<(), String> {
    let body = Bytes::from(std::fs::read(file).map_err(|e| e.to_string())?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "baseline listening on http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        // The GET hit's answer as the gateway (and HAProxy
                        // in load.sh) sends it: the value and its type.
                        let mut response = http::Response::new(Full::new(body));
                        response.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/octet-stream"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn urls(config: &str, base: &str, count: &str, scope: &str) -> Result<(), String> {
    let config = Config::load(Path::new(config)).map_err(|e| e.to_string())?;
    let count: usize = count.parse().map_err(|_| "COUNT must be a number")?;
    let scope = json::parse(scope)?;
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut out = String::new();
    for _ in 0..count {
        let request = MintRequest {
            scope: &scope,
            kind: CredentialKind::Disposable,
            ttl_secs: Some(3600),
            token_id: None,
            subject: "load",
            origin: Origin::Api,
        };
        let minted = token::mint(
            &config.keys,
            &config.auth,
            &config.endpoint,
            &request,
            token::unix_now(),
        )
        .map_err(|e| e.to_string())?;
        // The JWT is URL-safe as it is; no encoding needed.
        out.push_str(&format!("{base}{separator}token={}\n", minted.jwt));
    }
    print!("{out}");
    Ok(())
}

fn verify_loop(mode: &str, count: &str) -> Result<(), String> {
    use scopegate::operation::{Operation, OperationKind};
    use scopegate::token::{AuthPolicy, Authenticator, KeyRing, RevocationList, RingKey};
    use std::hint::black_box;
    use std::sync::Arc;
    let count: u64 = count.parse().map_err(|_| "N must be a number")?;
    let key =
        RingKey::hs256("k1", b"0123456789abcdef0123456789abcdef").map_err(|e| e.to_string())?;
    let ring = Arc::new(KeyRing::new(vec![key], Some("k1")).map_err(|e| e.to_string())?);
    let policy = AuthPolicy::default();
    let scope = json::parse(
        r#"{"permissions":[{"role":"readwrite","cache":"cache","item":{"keyPrefix":"prefix/"}}]}"#,
    )?;
    let now = token::unix_now();
    let request = MintRequest {
        scope: &scope,
        kind: CredentialKind::Disposable,
        ttl_secs: Some(3600),
        token_id: Some("bench"),
        subject: "bench",
        origin: Origin::Api,
    };
    let jwt = token::mint(&ring, &policy, "localhost", &request, now)
        .map_err(|e| e.to_string())?
        .jwt;
    let auth = Authenticator::new(ring, policy, Arc::new(RevocationList::default()));
    let op = Operation::key(OperationKind::Get, "cache", b"prefix/key");
    auth.authenticate_at(&jwt, now).map_err(|e| e.to_string())?;
    for _ in 0..count {
        let verified = match mode {
            "cold" => Arc::new(
                auth.verify_at(black_box(&jwt), now)
                    .map_err(|e| e.to_string())?,
            ),
            _ => auth
                .authenticate_at(black_box(&jwt), now)
                .map_err(|e| e.to_string())?,
        };
        black_box(
            verified
                .scope
                .authorize(black_box(&op))
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(())
}

fn grpc_baseline(addr: &str, file: &str) -> Result<(), String> {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    use momento_protos::cache_client::{ECacheResult, GetResponse};
    use prost::Message;
    let value = std::fs::read(file).map_err(|e| e.to_string())?;
    let message = GetResponse {
        result: ECacheResult::Hit as i32,
        cache_body: value,
        message: String::new(),
    };
    let encoded = message.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
    frame.extend_from_slice(&encoded);
    let frame = Bytes::from(frame);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "grpc baseline listening on http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let frame = frame.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let frame = frame.clone();
                    async move {
                        // Read the request like any gRPC server would before answering.
                        let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
                            Ok(Frame::data(frame.clone())),
                            Ok(Frame::trailers(trailers)),
                        ];
                        let body = StreamBody::new(futures_lite_iter(frames));
                        let mut response = http::Response::new(body);
                        response.headers_mut().insert(
                            "content-type",
                            http::HeaderValue::from_static("application/grpc"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// A stream over a vector, without another dependency.
fn futures_lite_iter<T: Unpin>(
    items: Vec<T>,
) -> tonic::codegen::tokio_stream::Iter<std::vec::IntoIter<T>> {
    tonic::codegen::tokio_stream::iter(items)
}

fn grpc_load(args: &[String]) -> Result<(), String> {
    use momento_protos::cache_client::scs_client::ScsClient;
    use momento_protos::cache_client::{GetRequest, SetRequest};
    use std::time::{Duration, Instant};
    let (url, credential, mode) = (args[0].clone(), args[1].clone(), args[2].clone());
    let seconds: u64 = args[3].parse().map_err(|_| "SECONDS must be a number")?;
    let concurrency: usize = args[4]
        .parse()
        .map_err(|_| "CONCURRENCY must be a number")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let channel = tonic::transport::Endpoint::from_shared(url)
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let mut client = ScsClient::new(channel.clone());
            let (credential, mode) = (credential.clone(), mode.clone());
            tasks.push(tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    let ok = if mode == "set" {
                        let body = SetRequest {
                            cache_key: b"hot".to_vec(),
                            cache_body: vec![b'v'; 100],
                            ttl_milliseconds: 3_600_000,
                        };
                        client.set(request(body, &credential)).await.is_ok()
                    } else {
                        client
                            .get(request(
                                GetRequest {
                                    cache_key: b"hot".to_vec(),
                                },
                                &credential,
                            ))
                            .await
                            .is_ok()
                    };
                    if ok {
                        latencies.push(begun.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            }));
        }
        let (mut latencies, mut errors) = (Vec::new(), 0);
        for task in tasks {
            let (l, e) = task.await.map_err(|e| e.to_string())?;
            latencies.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        println!(
            "{{\"rps\": {:.0}, \"p50\": {:.3}, \"p99\": {:.3}, \"ok\": {}, \"errors\": {}}}",
            latencies.len() as f64 / elapsed,
            pick(0.50),
            pick(0.99),
            latencies.len(),
            errors
        );
        Ok(())
    })
}

fn request<T>(message: T, credential: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = credential.parse() {
        request.metadata_mut().insert("authorization", value);
    }
    if let Ok(value) = "bench".parse() {
        request.metadata_mut().insert("cache", value);
    }
    request
}
