//! `scopegate serve`: build the app from a config (or the dev defaults), bind,
//! say where it listens, and run until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::App;
use crate::config::{Config, ServerLimits};
use crate::scope::json;
use crate::token::{self, AuthPolicy, CredentialKind, KeyRing, MintRequest, Origin, RingKey};

/// The cache `serve --dev` creates.
pub const DEV_CACHE: &str = "default-cache";

/// Runs the gateway; returns when it has shut down.
pub fn serve(config: Option<&Path>, dev: bool) -> Result<(), String> {
    init_logging();
    // The file the key ring is reloaded from (SIGHUP, changed files).
    let reload_from = config.filter(|_| !dev).map(Path::to_path_buf);
    let (config, dev_credential) = if dev {
        let (config, credential) = dev_config(std::env::vars())?;
        (config, Some(credential))
    } else {
        let path = config.ok_or("give --config FILE or --dev")?;
        (
            Config::load(path).map_err(|e| format!("{}: {}", path.display(), e.0.join("; ")))?,
            None,
        )
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.server.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let tls = config.tls.as_ref().map(crate::server::load_tls).transpose()?;
        let shutdown = shutdown_signal()?;
        let listener = bind(config.listen, "server.listen").await?;
        let admin = bind(config.admin_listen, "admin.listen").await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (main_addr, admin_addr) = (local(&listener), local(&admin));
        println!(
            "scopegate listening on {scheme}://{main_addr} (HTTP API and gRPC), admin on http://{admin_addr}"
        );
        if let Some(credential) = dev_credential {
            let backend = if config.redis.is_some() { "Redis" } else { "memory" };
            print_dev_banner(&credential, main_addr, backend);
        }
        let app = App::new(config)?;
        if let Some(path) = reload_from {
            tokio::spawn(crate::reload::watch(std::sync::Arc::clone(&app), path));
        }
        tracing::info!(%main_addr, %admin_addr, "serving");
        crate::server::run(app, listener, admin, tls, shutdown).await;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn bind(addr: SocketAddr, name: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} ({name}): {e}"))
}

fn local(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .expect("a bound listener has an address (invariant)")
}

/// The zero-setup configuration: memory backend, `default-cache`, an ephemeral
/// HS256 key, 127.0.0.1:8080 and :9090 (or `SCOPEGATE_SERVER_LISTEN` and
/// `SCOPEGATE_ADMIN_LISTEN`). With `SCOPEGATE_BACKEND_URL`, the Redis backend
/// at that URL instead (the other Redis settings at their defaults). Returns
/// it with a superuser credential.
pub fn dev_config(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(Config, String), String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut admin_listen: SocketAddr = ([127, 0, 0, 1], 9090).into();
    let mut redis = None;
    for (name, value) in env {
        if name == "SCOPEGATE_BACKEND_URL" {
            crate::backend::redis::check_url(&value)
                .map_err(|e| format!("SCOPEGATE_BACKEND_URL: {e}"))?;
            redis = Some(crate::config::RedisConfig::new(value));
            continue;
        }
        let slot = match name.as_str() {
            "SCOPEGATE_SERVER_LISTEN" => &mut listen,
            "SCOPEGATE_ADMIN_LISTEN" => &mut admin_listen,
            _ => continue,
        };
        *slot = value
            .parse()
            .map_err(|_| format!("{name} `{value}` is not an address like 127.0.0.1:8080"))?;
    }
    let token::GeneratedKey::Secret(secret) = token::generate(token::Algorithm::HS256)? else {
        unreachable!("HS256 yields a secret")
    };
    let key = RingKey::hs256("dev", secret.as_bytes()).map_err(|e| e.to_string())?;
    let keys = Arc::new(KeyRing::new(vec![key], Some("dev")).map_err(|e| e.to_string())?);
    let config = Config {
        listen,
        endpoint: "localhost".into(),
        admin_listen,
        server: ServerLimits::default(),
        tls: None,
        keys: Arc::clone(&keys),
        auth: AuthPolicy::default(),
        backend: Default::default(),
        redis,
        caches: vec![DEV_CACHE.into()],
        cors_origins: Vec::new(),
        demo: true,
        vending: Some(dev_vending()?),
    };
    let request = MintRequest {
        scope: &json::superuser(),
        kind: CredentialKind::ApiKey,
        ttl_secs: None,
        token_id: None,
        subject: "dev",
        origin: Origin::Cli,
    };
    let minted = token::mint(
        &keys,
        &config.auth,
        &config.endpoint,
        &request,
        token::unix_now(),
    )
    .map_err(|e| e.to_string())?;
    Ok((config, minted.envelope))
}

/// Open token vending for the demo page: anyone gets a 15-minute token for
/// `default-cache` and its `chat-` topics.
fn dev_vending() -> Result<crate::vending::VendingConfig, String> {
    use crate::vending::{ANONYMOUS, VendAuth, VendingConfig, policy::Policy};
    let scope = format!(
        r#"{{"permissions":[{{"role":"readwrite","cache":"{DEV_CACHE}"}},
            {{"role":"publishsubscribe","cache":"{DEV_CACHE}","topic":{{"prefix":"chat-"}}}}]}}"#
    );
    let limits = AuthPolicy::default().scope;
    let policy = Policy::new(ANONYMOUS, &scope, 15 * 60, &limits)
        .map_err(|e| format!("the dev vending policy: {e}"))?;
    Ok(VendingConfig::new(VendAuth::Open, vec![policy]))
}

fn print_dev_banner(credential: &str, addr: SocketAddr, backend: &str) {
    println!(
        "dev mode: {backend} backend, cache `{DEV_CACHE}`, an ephemeral signing key (credentials die with this process)\n\
         superuser credential:\n{credential}\n\
         try:\n  curl -X PUT -H 'Authorization: {credential}' --data world 'http://{addr}/cache/{DEV_CACHE}?key=hello&ttl_seconds=300'\n\
         \x20 curl -H 'Authorization: {credential}' 'http://{addr}/cache/{DEV_CACHE}?key=hello'"
    );
}

/// Registers the SIGTERM and SIGINT handlers now (so a signal that arrives
/// right after the "listening" line is not lost to the default action) and
/// returns a future that resolves on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let register = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
    let mut terminate = register(SignalKind::terminate())?;
    let mut interrupt = register(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("shutdown signal received");
    })
}

/// Logs go to stderr; `SCOPEGATE_LOG` sets the filter (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCOPEGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
