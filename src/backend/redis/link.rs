//! Links to Redis: a small pool of multiplexed connections (one node) or of
//! cluster connections, used round-robin; every command bounded by the
//! per-command timeout, timed and counted by command kind.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, IntoConnectionInfo, Pipeline, RedisError, RedisFuture, Value};

use super::RedisConfig;
use super::gather::Gather;
use crate::backend::BackendError;
use crate::metrics::BackendMetrics;

/// One connection: to a node or to a cluster. Cloning is cheap (both are
/// handles to a multiplexed connection that reconnects by itself).
#[derive(Clone)]
pub(super) enum Conn {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Node(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Node(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// How to open connections: for the pool, and dedicated ones for blocking reads.
enum Opener {
    Node(redis::Client),
    /// For a cluster: a client whose responses may take a blocking read's whole wait.
    Cluster {
        blocking: ClusterClient,
    },
}

/// The pool, the health flag and the command runner.
pub(super) struct Link {
    opener: Opener,
    pool: Vec<Conn>,
    next: AtomicUsize,
    up: AtomicBool,
    command_timeout: Duration,
    connect_timeout: Duration,
    gather: Arc<Gather>,
    pub(super) metrics: BackendMetrics,
}

/// Checks a `redis://` / `rediss://` URL without connecting. The error never
/// repeats the URL (it may hold a password).
pub fn check_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err("must be a redis:// or rediss:// URL".into());
    }
    redis::Client::open(url)
        .map(|_| ())
        .map_err(|e| format!("not a valid Redis URL ({:?})", e.kind()))
}

/// A connection whose peer vanished without a reset (a failover, a
/// partition) would otherwise hang until the kernel gives up on it, some
/// 15 minutes: with data unacknowledged for this long (the health probe
/// sends some every 200 ms) the kernel closes it, and it is made anew.
fn tcp_settings(config: &RedisConfig) -> redis::io::tcp::TcpSettings {
    let settings = redis::io::tcp::TcpSettings::default();
    #[cfg(target_os = "linux")]
    let settings =
        settings.set_user_timeout((config.command_timeout * 4).max(Duration::from_secs(2)));
    #[cfg(not(target_os = "linux"))]
    let _ = config;
    settings
}

fn certificates(ca: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.to_vec()),
    }
}

/// The command kind of the health probe.
pub(super) const PROBE: &str = "ping";

/// The longest a blocking read waits before it looks again.
pub(super) const BLOCK: Duration = Duration::from_secs(1);

impl Link {
    /// Sets up the pool. Connections are made lazily (in the background), so
    /// the gateway starts while Redis is still down and turns ready when it is up.
    pub(super) fn new(config: &RedisConfig, metrics: BackendMetrics) -> Result<Link, String> {
        if config.url.starts_with("rediss://")
            || config.nodes.iter().any(|n| n.starts_with("rediss://"))
        {
            // rediss:// builds its rustls config from the process default
            // provider; name the one the server uses (momento pulls in ring too).
            let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let error = |e: RedisError| format!("backend: cannot set up Redis ({:?})", e.kind());
        let (opener, pool) = if config.cluster {
            let nodes = if config.nodes.is_empty() {
                vec![config.url.clone()]
            } else {
                config.nodes.clone()
            };
            let builder = |response: Duration| {
                let mut builder =
                    ClusterClient::builder(nodes.clone()).tcp_settings(tcp_settings(config));
                if let Some(ca) = &config.tls_ca {
                    builder = builder.certs(certificates(ca));
                }
                builder
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(response)
                    // Fail fast and let the caller retry: a request is bounded
                    // by `command_timeout` anyway.
                    .retries(2)
                    .min_retry_wait(10)
                    .max_retry_wait(100)
                    .build()
                    .map_err(error)
            };
            let pool_client = builder(config.command_timeout)?;
            let blocking = builder(BLOCK + config.command_timeout)?;
            let pool = (0..config.connections)
                .map(|_| {
                    Conn::Cluster(
                        pool_client.get_pending_async_connection_with_config(
                            redis::cluster::ClusterConfig::new()
                                .set_connection_timeout(config.connect_timeout)
                                .set_response_timeout(config.command_timeout),
                        ),
                    )
                })
                .collect();
            (Opener::Cluster { blocking }, pool)
        } else {
            let info = config
                .url
                .as_str()
                .into_connection_info()
                .map_err(error)?
                .set_tcp_settings(tcp_settings(config));
            let client = match &config.tls_ca {
                Some(ca) => redis::Client::build_with_tls(info, certificates(ca)),
                None => redis::Client::open(info),
            }
            .map_err(error)?;
            // No response timeout of redis-rs's own: `run` bounds every
            // command (one timer per command, not two).
            let manager_config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(config.connect_timeout))
                .set_response_timeout(None)
                // One quick retry: while Redis is down a command fails at
                // once (503) instead of waiting out a backoff schedule, and the
                // next command after Redis returns reconnects.
                .set_number_of_retries(1)
                .set_min_delay(Duration::from_millis(10))
                .set_max_delay(Duration::from_millis(100));
            let pool = (0..config.connections)
                .map(|_| {
                    ConnectionManager::new_lazy_with_config(client.clone(), manager_config.clone())
                        .map(Conn::Node)
                        .map_err(error)
                })
                .collect::<Result<_, _>>()?;
            (Opener::Node(client), pool)
        };
        metrics.connections(config.connections as i64);
        Ok(Link {
            opener,
            pool,
            next: AtomicUsize::new(0),
            up: AtomicBool::new(false),
            command_timeout: config.command_timeout,
            connect_timeout: config.connect_timeout,
            gather: Arc::new(Gather::new(metrics.clone())),
            metrics,
        })
    }

    pub(super) fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Whether the last health probe (or command) reached Redis.
    pub(super) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Records the backend's state; returns whether it changed.
    pub(super) fn set_up(&self, up: bool) -> bool {
        self.metrics.up(up);
        self.up.swap(up, Ordering::AcqRel) != up
    }

    fn conn(&self) -> Conn {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pool.len();
        self.pool[i].clone()
    }

    /// Runs one command (or script, or transaction) on a pooled connection,
    /// bounded by the command timeout, and maps its failure.
    pub(super) async fn run<T, F>(
        &self,
        command: &'static str,
        call: impl FnOnce(Conn) -> F,
    ) -> Result<T, BackendError>
    where
        F: Future<Output = Result<T, RedisError>>,
    {
        self.answer(command, call(self.conn()).map(Some)).await
    }

    /// Reads one item's value (GET), gathered with the reads of other
    /// requests into few writes (see [`gather`](super::gather)); bounded,
    /// timed and mapped as `run`'s commands are.
    pub(super) async fn get(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, BackendError> {
        let reply = self.gather.read(key, || self.conn(), self.command_timeout);
        self.answer("get", reply.map(Result::ok)).await
    }

    /// Waits for a command's `reply` within the command timeout, times it,
    /// and maps its failure. A reply of `None`: the command was never sent
    /// (a gathered read whose flush was dropped as the runtime stopped),
    /// which is not Redis's failure and not counted as one.
    async fn answer<T>(
        &self,
        command: &'static str,
        reply: impl Future<Output = Option<Result<T, RedisError>>>,
    ) -> Result<T, BackendError> {
        let started = Instant::now();
        let result = tokio::time::timeout(self.command_timeout, reply).await;
        self.metrics.command(command, started.elapsed());
        match result {
            Ok(Some(Ok(value))) => Ok(value),
            Ok(Some(Err(e))) => Err(self.failed(command, &e)),
            Ok(None) => Err(BackendError::Unavailable(
                "the command was not sent: the server is stopping".into(),
            )),
            Err(_) => {
                self.metrics.error(command, "timeout");
                Err(BackendError::Timeout)
            }
        }
    }

    /// Runs a Lua script as `run` runs a command (by SHA, loading it once).
    pub(super) async fn eval<T: redis::FromRedisValue>(
        &self,
        command: &'static str,
        script: &redis::ScriptInvocation<'_>,
    ) -> Result<T, BackendError> {
        self.run(
            command,
            |mut c| async move { script.invoke_async(&mut c).await },
        )
        .await
    }

    /// Maps a Redis error; a lost connection also marks the backend down
    /// until the next successful probe.
    pub(super) fn failed(&self, command: &'static str, e: &RedisError) -> BackendError {
        if e.is_timeout() {
            self.metrics.error(command, "timeout");
            return BackendError::Timeout;
        }
        if e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || e.is_cluster_error()
        {
            if self.set_up(false) {
                tracing::warn!(command, "lost the connection to Redis; not ready");
            }
            self.metrics.error(command, "unreachable");
            return BackendError::Unavailable("the cache backend is unreachable".into());
        }
        match e.code() {
            // A type mismatch, and the refusals of the collection scripts:
            // the client's request, not the backend, so not counted as errors.
            Some("WRONGTYPE") => crate::backend::collection::wrong_type(),
            Some("SGTOOLARGE") => BackendError::ItemTooLarge,
            Some("SGNOTINT") => {
                BackendError::FailedPrecondition("the dictionary field is not an integer")
            }
            Some("SGOVERFLOW") => BackendError::FailedPrecondition("the increment overflows"),
            Some("SGNAN") => {
                BackendError::FailedPrecondition("the resulting score is not a number")
            }
            Some("OOM") => {
                self.metrics.error(command, "out_of_memory");
                BackendError::LimitExceeded("the cache backend is out of memory")
            }
            code => {
                // A refusal (NOPERM for a too-narrow ACL user, a wrong password,
                // a LOADING replica): by code, never with data. The health
                // probe logs it as a warning when the backend goes down.
                let code = code.unwrap_or("none");
                if command == PROBE && self.is_up() {
                    tracing::warn!(code, kind = ?e.kind(), "Redis refuses the health probe");
                } else {
                    tracing::debug!(command, code, kind = ?e.kind(), "Redis refused a command");
                }
                self.metrics.error(command, "refused");
                BackendError::Unavailable("the cache backend refused the request".into())
            }
        }
    }

    /// A connection of its own for blocking reads (XREAD BLOCK would hold up
    /// every command multiplexed behind it).
    pub(super) async fn dedicated(&self) -> Result<Conn, BackendError> {
        let opened = tokio::time::timeout(self.connect_timeout, async {
            match &self.opener {
                Opener::Node(client) => ConnectionManager::new_with_config(
                    client.clone(),
                    ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.connect_timeout))
                        .set_response_timeout(Some(BLOCK + self.command_timeout))
                        .set_number_of_retries(1),
                )
                .await
                .map(Conn::Node),
                Opener::Cluster { blocking } => {
                    blocking.get_async_connection().await.map(Conn::Cluster)
                }
            }
        })
        .await;
        match opened {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(self.failed("connect", &e)),
            Err(_) => Err(BackendError::Timeout),
        }
    }
}
