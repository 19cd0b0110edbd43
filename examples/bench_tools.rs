//! Helpers for `scripts/load.sh`.
//!
//! - `baseline ADDR FILE`: a minimal hyper server on the same stack as
//!   scopegate (tokio multi-thread, hyper-util auto builder) that answers every
//!   request with the bytes of FILE: the ceiling scopegate's figures are
//!   compared with.
//! - `urls CONFIG BASE_URL COUNT SCOPE_JSON`: prints COUNT URLs, each with a
//!   freshly minted credential in `token=`, so every request is a cold
//!   verification.
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
                    async move { Ok::<_, Infallible>(http::Response::new(Full::new(body))) }
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
