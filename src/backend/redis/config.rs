//! `[backend] kind = "redis"`: the settings.

use std::time::Duration;

/// `[backend] kind = "redis"`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS).
    pub url: String,
    pub cluster: bool,
    /// Cluster seed nodes (URLs); empty: `url`.
    pub nodes: Vec<String>,
    /// Key prefix: gateways with different namespaces never see each other's keys.
    pub namespace: String,
    /// Multiplexed connections (per cluster: per node), used round-robin.
    pub connections: usize,
    /// Every Redis command must answer within this (else DEADLINE_EXCEEDED).
    pub command_timeout: Duration,
    pub connect_timeout: Duration,
    /// How often the cache registry is re-read.
    pub registry_refresh: Duration,
    /// Topics with subscribers on this gateway at once (each has a reader
    /// with a Redis connection of its own).
    pub max_topic_readers: usize,
    /// For rediss://: PEM root certificate(s) to trust instead of the system's.
    pub tls_ca: Option<Vec<u8>>,
}

impl RedisConfig {
    /// The defaults of `config.toml`, for `url`.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            cluster: false,
            nodes: Vec::new(),
            namespace: "scopegate".into(),
            connections: 1,
            command_timeout: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(1),
            registry_refresh: Duration::from_secs(1),
            max_topic_readers: 1000,
            tls_ca: None,
        }
    }
}

/// Never prints the URLs: they may hold a password.
impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"<redacted>")
            .field("cluster", &self.cluster)
            .field("nodes", &self.nodes.len())
            .field("namespace", &self.namespace)
            .field("connections", &self.connections)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("registry_refresh", &self.registry_refresh)
            .field("max_topic_readers", &self.max_topic_readers)
            .field("tls_ca", &self.tls_ca.is_some())
            .finish()
    }
}
