//! The TOML shapes of the config file, with every default. Validation is in
//! `validate.rs`; these types never leave the config module.

use std::path::PathBuf;

use serde::Deserialize;

use crate::token::Algorithm;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) admin: RawAdmin,
    #[serde(default)]
    pub(super) keys: Vec<RawKey>,
    #[serde(default)]
    pub(super) auth: RawAuth,
    #[serde(default)]
    pub(super) backend: RawBackend,
    #[serde(default)]
    pub(super) caches: Vec<RawCache>,
    /// The token vending endpoint (SPEC 8); absent: `/vend` does not exist.
    pub(super) vending: Option<RawVending>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawServer {
    pub(super) listen: String,
    pub(super) endpoint: String,
    pub(super) tls_cert_file: Option<PathBuf>,
    pub(super) tls_key_file: Option<PathBuf>,
    pub(super) max_connections: usize,
    pub(super) max_header_bytes: usize,
    pub(super) max_value_bytes: usize,
    pub(super) max_keys_per_request: usize,
    pub(super) worker_threads: usize,
    pub(super) header_read_timeout: String,
    pub(super) request_timeout: String,
    pub(super) long_poll_timeout: String,
    pub(super) shutdown_grace: String,
    pub(super) idle_timeout: String,
    pub(super) cors_origins: Vec<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "127.0.0.1:8080".into(),
            endpoint: "localhost".into(),
            tls_cert_file: None,
            tls_key_file: None,
            max_connections: 10_000,
            max_header_bytes: 16 * 1024,
            max_value_bytes: 5 * 1024 * 1024,
            max_keys_per_request: 1000,
            worker_threads: 0,
            header_read_timeout: "10s".into(),
            request_timeout: "30s".into(),
            long_poll_timeout: "25s".into(),
            shutdown_grace: "10s".into(),
            idle_timeout: "2m".into(),
            cors_origins: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAdmin {
    pub(super) listen: String,
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin {
            listen: "127.0.0.1:9090".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKey {
    pub(super) kid: String,
    pub(super) alg: Algorithm,
    pub(super) secret_file: Option<PathBuf>,
    pub(super) secret_env: Option<String>,
    pub(super) private_key_file: Option<PathBuf>,
    pub(super) private_key_env: Option<String>,
    pub(super) public_key_file: Option<PathBuf>,
    pub(super) public_key_env: Option<String>,
    /// AWS Secrets Manager secret names or ARNs (`aws_sm.rs`).
    pub(super) secret_aws_sm: Option<String>,
    pub(super) private_key_aws_sm: Option<String>,
    pub(super) public_key_aws_sm: Option<String>,
    pub(super) aws_region: Option<String>,
    pub(super) aws_endpoint_url: Option<String>,
    pub(super) aws_refresh: Option<String>,
    #[serde(default)]
    pub(super) signing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAuth {
    pub(super) leeway: String,
    pub(super) max_credential_bytes: usize,
    pub(super) max_disposable_lifetime: String,
    pub(super) max_api_key_lifetime: String,
    pub(super) max_permissions: usize,
    pub(super) verification_cache_entries: u64,
    pub(super) verification_cache_ttl: String,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            leeway: "0s".into(),
            max_credential_bytes: 8192,
            max_disposable_lifetime: "25h".into(),
            max_api_key_lifetime: "3650days".into(),
            max_permissions: 20,
            verification_cache_entries: 10_000,
            verification_cache_ttl: "5m".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawBackend {
    pub(super) kind: String,
    pub(super) max_bytes_per_cache: u64,
    pub(super) topic_replay: usize,
    pub(super) topic_replay_bytes: usize,
    pub(super) max_topics_per_cache: usize,
    pub(super) heartbeat: String,
    // Redis only.
    pub(super) url: String,
    pub(super) cluster: bool,
    pub(super) nodes: Vec<String>,
    pub(super) namespace: String,
    pub(super) connections: usize,
    pub(super) command_timeout: String,
    pub(super) connect_timeout: String,
    pub(super) registry_refresh: String,
    pub(super) tls_ca_file: Option<PathBuf>,
    pub(super) max_topic_readers: usize,
}

impl Default for RawBackend {
    fn default() -> Self {
        RawBackend {
            kind: "memory".into(),
            max_bytes_per_cache: 256 * 1024 * 1024,
            topic_replay: 1024,
            topic_replay_bytes: 16 * 1024 * 1024,
            max_topics_per_cache: 10_000,
            heartbeat: "5s".into(),
            url: "redis://127.0.0.1:6379".into(),
            cluster: false,
            nodes: Vec::new(),
            namespace: "scopegate".into(),
            connections: 1,
            command_timeout: "500ms".into(),
            connect_timeout: "1s".into(),
            registry_refresh: "1s".into(),
            tls_ca_file: None,
            max_topic_readers: 1000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawVending {
    pub(super) auth: Option<String>,
    pub(super) allow_open: bool,
    pub(super) vends_per_minute_per_identity: u32,
    pub(super) vends_per_minute_per_address: u32,
    // auth = "basic"
    pub(super) users_file: Option<PathBuf>,
    // auth = "oidc"
    pub(super) issuer: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) jwks_url: Option<String>,
    pub(super) jwks_file: Option<PathBuf>,
    pub(super) jwks_refresh: String,
    pub(super) jwks_min_refresh: String,
    pub(super) jwks_timeout: String,
    pub(super) jwks_max_bytes: usize,
    pub(super) groups_claim: String,
    pub(super) policies: Vec<RawPolicy>,
}

impl Default for RawVending {
    fn default() -> Self {
        RawVending {
            auth: None,
            allow_open: false,
            vends_per_minute_per_identity: 30,
            vends_per_minute_per_address: 60,
            users_file: None,
            issuer: None,
            audience: None,
            jwks_url: None,
            jwks_file: None,
            jwks_refresh: "5m".into(),
            jwks_min_refresh: "30s".into(),
            jwks_timeout: "5s".into(),
            jwks_max_bytes: 1024 * 1024,
            groups_claim: "groups".into(),
            policies: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) group: String,
    pub(super) scope: String,
    #[serde(default = "default_policy_ttl")]
    pub(super) ttl: String,
}

fn default_policy_ttl() -> String {
    "15m".into()
}
