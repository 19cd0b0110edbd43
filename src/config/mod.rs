//! `config.toml` -> a validated [`Config`] (SPEC 9).
//!
//! Unknown keys are errors. Syntax errors stop at the first; every other
//! problem is collected so that one run of `check-config` reports them all.
//! Key material is never in the config text: it comes from the files,
//! environment variables or AWS Secrets Manager secrets the `[[keys]]`
//! entries name (relative paths are resolved against the config file's folder).
//!
//! Environment overrides: `SCOPEGATE_<SECTION>_<SETTING>` sets a scalar setting
//! of `[server]`, `[admin]`, `[auth]` or `[backend]` (for example
//! `SCOPEGATE_SERVER_LISTEN=0.0.0.0:8080`), as a sidecar sets them per pod. The
//! value is read as a TOML integer or boolean when it is one, else as a string,
//! and is validated like the file. Other `SCOPEGATE_` variables are left alone
//! (they may hold key material named by `secret_env`).

pub mod aws_sm;
mod raw;
mod validate;
mod vending;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::Limits as BackendLimits;
pub use crate::backend::redis::RedisConfig;
use crate::token::{AuthPolicy, KeyRing};
use validate::{DAY, HOUR, address, auth_policy, cache_names, cors_origins, duration, key_ring};

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The base endpoint written into envelopes.
    pub endpoint: String,
    pub admin_listen: SocketAddr,
    pub server: ServerLimits,
    pub tls: Option<TlsFiles>,
    pub keys: Arc<KeyRing>,
    pub auth: AuthPolicy,
    /// Limits of the memory backend; its topic settings (replay, heartbeat)
    /// apply to the Redis backend too.
    pub backend: BackendLimits,
    /// `Some`: the Redis backend (`[backend] kind = "redis"`); `None`: memory.
    pub redis: Option<RedisConfig>,
    pub caches: Vec<String>,
    /// Browser origins allowed to call the gateway (CORS); `*` is any.
    pub cors_origins: Vec<String>,
    /// Serve the demo page at `/demo` (`serve --dev` only).
    pub demo: bool,
    /// `[vending]`: the token vending endpoint (SPEC 8); `None`: no `/vend`.
    pub vending: Option<crate::vending::VendingConfig>,
}

/// Limits of the listener and of every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    pub max_connections: usize,
    /// Request line plus headers, per request.
    pub max_header_bytes: usize,
    /// Largest cache value or topic message.
    pub max_value_bytes: usize,
    /// Most keys one batch request (GetBatch, SetBatch, KeysExist) may name.
    pub max_keys_per_request: usize,
    /// Threads serving requests; `None`: one per CPU the process may use
    /// (tokio's default, which follows a cgroup's CPU quota).
    pub worker_threads: Option<usize>,
    pub header_read_timeout: Duration,
    /// Every request but long polls must finish within this.
    pub request_timeout: Duration,
    /// A long poll with nothing to deliver answers `{"items":[]}` after this.
    pub long_poll_timeout: Duration,
    /// On SIGTERM or SIGINT, in-flight requests get this long to finish.
    pub shutdown_grace: Duration,
    /// A connection with no request in flight for this long is closed
    /// (HTTP/2: GOAWAY), so idle peers do not hold connection slots.
    pub idle_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 10_000,
            max_header_bytes: 16 * 1024,
            max_value_bytes: 5 * 1024 * 1024,
            max_keys_per_request: 1000,
            worker_threads: None,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            long_poll_timeout: Duration::from_secs(25),
            shutdown_grace: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// PEM files of the TLS certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Every problem found in a config, one line each.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// The most `server.worker_threads` accepted.
pub const MAX_WORKER_THREADS: usize = 1024;

/// The largest `server.max_keys_per_request` accepted.
const MAX_KEYS_PER_REQUEST: usize = 100_000;

/// The sections whose scalar settings the environment may override.
const OVERRIDABLE: [&str; 4] = ["server", "admin", "auth", "backend"];

impl Config {
    /// Reads and validates the config at `path`, with this process's environment.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("{}: {e}", path.display())]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse_with_env(&text, base, std::env::vars())
    }

    /// Validates config text without environment overrides; relative key paths
    /// resolve against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, ConfigErrors> {
        Config::parse_with_env(text, base, std::iter::empty())
    }

    /// Validates config text with the given environment variables applied.
    pub fn parse_with_env(
        text: &str,
        base: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigErrors> {
        let syntax = |e: toml::de::Error| {
            let line = e
                .span()
                .map_or(0, |span| 1 + text[..span.start].matches('\n').count());
            ConfigErrors(vec![format!("line {line}: {}", e.message().trim())])
        };
        let mut table: toml::Table = toml::from_str(text).map_err(syntax)?;
        apply_env(&mut table, env);
        let raw: raw::Raw = table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigErrors(vec![without_values(e.message().trim())]))?;
        let mut errors = Vec::new();
        let listen = address(&raw.server.listen, "server.listen", &mut errors);
        let admin_listen = address(&raw.admin.listen, "admin.listen", &mut errors);
        if raw.server.endpoint.is_empty() || raw.server.endpoint.contains(char::is_whitespace) {
            errors.push("server.endpoint must be a host name without spaces".into());
        }
        let server = server_limits(&raw.server, &mut errors);
        let tls = match (&raw.server.tls_cert_file, &raw.server.tls_key_file) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: base.join(cert),
                key: base.join(key),
            }),
            (None, None) => None,
            _ => {
                errors.push("server.tls_cert_file and server.tls_key_file go together".into());
                None
            }
        };
        let backend = backend_limits(&raw.backend, &mut errors);
        let redis = match raw.backend.kind.as_str() {
            "memory" => None,
            "redis" => redis_config(&raw.backend, base, &mut errors),
            other => {
                errors.push(format!(
                    "backend.kind `{other}` is not supported (supported: memory, redis)"
                ));
                None
            }
        };
        let keys = key_ring(&raw.keys, base, &mut errors);
        let auth = auth_policy(&raw.auth, &mut errors);
        let caches = cache_names(&raw.caches, &mut errors);
        cors_origins(&raw.server.cors_origins, &mut errors);
        let vending = raw.vending.as_ref().and_then(|v| {
            let origins = &raw.server.cors_origins;
            vending::vending(v, auth.as_ref(), origins, base, &mut errors)
        });
        match (listen, admin_listen, server, backend, keys, auth) {
            (
                Some(listen),
                Some(admin_listen),
                Some(server),
                Some(backend),
                Some(keys),
                Some(auth),
            ) if errors.is_empty() => Ok(Config {
                listen,
                endpoint: raw.server.endpoint,
                admin_listen,
                server,
                tls,
                keys: Arc::new(keys),
                auth,
                backend,
                redis,
                caches,
                cors_origins: raw.server.cors_origins,
                demo: false,
                vending,
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }
}

/// A shape error with the quoted values left out: serde quotes the offending
/// value, which may be a secret (a Redis URL with a password given where a
/// list was expected). What was expected, and where, stays.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"...");
            }
            ('"', true) => quoted = false,
            (c, false) => out.push(c),
            (_, true) => {}
        }
    }
    out
}

/// A cache name `[[caches]]` and CreateCache accept: 1 to 255 characters,
/// none of them control characters.
pub fn is_cache_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && !name.chars().any(char::is_control)
}

/// Applies `SCOPEGATE_<SECTION>_<SETTING>` variables to the parsed table.
fn apply_env(table: &mut toml::Table, env: impl IntoIterator<Item = (String, String)>) {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("SCOPEGATE_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let Some((section, setting)) = rest.split_once('_') else {
            continue;
        };
        if !OVERRIDABLE.contains(&section) || setting.is_empty() {
            continue;
        }
        let value = match value.parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => match value.as_str() {
                "true" => toml::Value::Boolean(true),
                "false" => toml::Value::Boolean(false),
                _ => toml::Value::String(value),
            },
        };
        let section = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(section) = section {
            section.insert(setting.to_owned(), value);
        }
    }
}

fn server_limits(raw: &raw::RawServer, errors: &mut Vec<String>) -> Option<ServerLimits> {
    let header_read_timeout = duration(
        &raw.header_read_timeout,
        "server.header_read_timeout",
        HOUR,
        errors,
    );
    let request_timeout = duration(&raw.request_timeout, "server.request_timeout", HOUR, errors);
    let long_poll_timeout = duration(
        &raw.long_poll_timeout,
        "server.long_poll_timeout",
        HOUR,
        errors,
    );
    let shutdown_grace = duration(&raw.shutdown_grace, "server.shutdown_grace", HOUR, errors);
    let idle_timeout = duration(&raw.idle_timeout, "server.idle_timeout", DAY, errors);
    if raw.max_connections == 0 {
        errors.push("server.max_connections must be at least 1".into());
    }
    if !(1024..=1024 * 1024).contains(&raw.max_header_bytes) {
        errors.push("server.max_header_bytes must be between 1024 and 1048576".into());
    }
    if !(1..=64 * 1024 * 1024).contains(&raw.max_value_bytes) {
        errors.push("server.max_value_bytes must be between 1 and 67108864".into());
    }
    if !(1..=MAX_KEYS_PER_REQUEST).contains(&raw.max_keys_per_request) {
        errors.push(format!(
            "server.max_keys_per_request must be between 1 and {MAX_KEYS_PER_REQUEST}"
        ));
    }
    if raw.worker_threads > MAX_WORKER_THREADS {
        errors.push(format!(
            "server.worker_threads must be between 0 (one per CPU) and {MAX_WORKER_THREADS}"
        ));
    }
    Some(ServerLimits {
        max_connections: raw.max_connections,
        max_header_bytes: raw.max_header_bytes,
        max_value_bytes: raw.max_value_bytes,
        max_keys_per_request: raw.max_keys_per_request,
        worker_threads: (raw.worker_threads > 0).then_some(raw.worker_threads),
        header_read_timeout: header_read_timeout?,
        request_timeout: request_timeout?,
        long_poll_timeout: long_poll_timeout?,
        shutdown_grace: shutdown_grace?,
        idle_timeout: idle_timeout?,
    })
}

fn backend_limits(raw: &raw::RawBackend, errors: &mut Vec<String>) -> Option<BackendLimits> {
    if raw.max_bytes_per_cache < 1024 {
        errors.push("backend.max_bytes_per_cache must be at least 1024".into());
    }
    if !(1..=1_000_000).contains(&raw.topic_replay) {
        errors.push("backend.topic_replay must be between 1 and 1000000".into());
    }
    if raw.topic_replay_bytes == 0 {
        errors.push("backend.topic_replay_bytes must be at least 1".into());
    }
    if raw.max_topics_per_cache == 0 {
        errors.push("backend.max_topics_per_cache must be at least 1".into());
    }
    let heartbeat = duration(&raw.heartbeat, "backend.heartbeat", HOUR, errors);
    Some(BackendLimits {
        max_bytes_per_cache: raw.max_bytes_per_cache,
        topic_replay: raw.topic_replay,
        topic_replay_bytes: raw.topic_replay_bytes,
        max_topics_per_cache: raw.max_topics_per_cache,
        heartbeat: heartbeat?,
        // Set from `server.max_value_bytes` when the backend is built.
        ..BackendLimits::default()
    })
}

fn redis_config(
    raw: &raw::RawBackend,
    base: &Path,
    errors: &mut Vec<String>,
) -> Option<RedisConfig> {
    let command_timeout = duration(
        &raw.command_timeout,
        "backend.command_timeout",
        HOUR,
        errors,
    );
    let connect_timeout = duration(
        &raw.connect_timeout,
        "backend.connect_timeout",
        HOUR,
        errors,
    );
    let registry_refresh = duration(
        &raw.registry_refresh,
        "backend.registry_refresh",
        HOUR,
        errors,
    );
    let nodes = if raw.cluster && !raw.nodes.is_empty() {
        &raw.nodes
    } else {
        std::slice::from_ref(&raw.url)
    };
    for (i, url) in nodes.iter().enumerate() {
        // The message names the setting, never the URL: it may hold a password.
        if let Err(e) = crate::backend::redis::check_url(url) {
            let setting = if raw.cluster && !raw.nodes.is_empty() {
                format!("backend.nodes[{i}]")
            } else {
                "backend.url".to_owned()
            };
            errors.push(format!("{setting}: {e}"));
        }
    }
    if !raw.cluster && !raw.nodes.is_empty() {
        errors.push("backend.nodes is for cluster = true; one node is backend.url".into());
    }
    if raw.namespace.is_empty()
        || raw.namespace.len() > 64
        || raw.namespace.chars().any(char::is_control)
    {
        errors.push("backend.namespace must be 1 to 64 characters, no control characters".into());
    }
    if !(1..=100_000).contains(&raw.max_topic_readers) {
        errors.push("backend.max_topic_readers must be between 1 and 100000".into());
    }
    if !(1..=64).contains(&raw.connections) {
        errors.push("backend.connections must be between 1 and 64".into());
    }
    let tls_ca = match &raw.tls_ca_file {
        None => None,
        Some(path) => match std::fs::read(base.join(path)) {
            Ok(pem) if pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") => Some(pem),
            Ok(_) => {
                errors.push(format!(
                    "backend.tls_ca_file {}: no PEM certificate in it",
                    path.display()
                ));
                None
            }
            Err(e) => {
                errors.push(format!(
                    "backend.tls_ca_file: cannot read {}: {e}",
                    path.display()
                ));
                None
            }
        },
    };
    Some(RedisConfig {
        tls_ca,
        max_topic_readers: raw.max_topic_readers,
        url: raw.url.clone(),
        cluster: raw.cluster,
        nodes: raw.nodes.clone(),
        namespace: raw.namespace.clone(),
        connections: raw.connections,
        command_timeout: command_timeout?,
        connect_timeout: connect_timeout?,
        registry_refresh: registry_refresh?,
    })
}
