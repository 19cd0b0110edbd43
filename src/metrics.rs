//! Typed metrics over an explicit Prometheus registry.
//!
//! Labels are bounded: front, operation kind, outcome, reason. Never a key, a
//! cache name, a topic or a subject.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The process's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    denials: IntCounterVec,
    latency: HistogramVec,
    backend_errors: IntCounterVec,
    verification_cache_hits: IntCounter,
    verification_cache_misses: IntCounter,
    open_connections: IntGauge,
    open_subscriptions: IntGauge,
    revocations: IntGauge,
    revocations_refused: IntCounter,
    key_reloads: IntCounterVec,
    aws_sm_fetches: IntCounterVec,
    backend: BackendMetrics,
    /// `requests` and `latency` resolved once per label set, by index (a
    /// label lookup hashes the values and takes a lock; this is an atomic load).
    resolved: std::sync::Arc<Resolved>,
}

/// Index bounds of [`Metrics::record_request`]'s label sets.
pub const MAX_FRONTS: usize = 2;
pub const MAX_KINDS: usize = 128;
pub const MAX_OUTCOMES: usize = 16;

struct Resolved {
    requests: Box<[std::sync::OnceLock<IntCounter>]>,
    latency: Box<[std::sync::OnceLock<prometheus::Histogram>]>,
}

impl Resolved {
    fn new() -> Self {
        Resolved {
            requests: (0..MAX_FRONTS * MAX_KINDS * MAX_OUTCOMES)
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            latency: (0..MAX_FRONTS * MAX_KINDS)
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }
}

/// One request's labels, with the indices that name them (each below its
/// `MAX_*`; an index out of range falls back to a label lookup).
pub struct RequestLabels<'a> {
    pub front: (usize, &'a str),
    pub kind: (usize, &'a str),
    pub outcome: (usize, &'a str),
}

/// What a backend that talks to a server reports: command latency and
/// failures by command kind (a small fixed set), whether the server is
/// reachable, and connections. Cheap to clone.
#[derive(Clone)]
pub struct BackendMetrics {
    latency: HistogramVec,
    /// `latency` resolved once for the hot commands (a label lookup hashes
    /// and locks; this is a short scan of static names).
    hot: std::sync::Arc<[(&'static str, prometheus::Histogram)]>,
    errors: IntCounterVec,
    up: IntGauge,
    connections: IntGaugeVec,
    read_batches: prometheus::IntCounter,
}

impl BackendMetrics {
    pub fn command(&self, command: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        match self.hot.iter().find(|(name, _)| *name == command) {
            Some((_, histogram)) => histogram.observe(seconds),
            None => self.latency.with_label_values(&[command]).observe(seconds),
        }
    }

    pub fn error(&self, command: &'static str, error: &'static str) {
        self.errors.with_label_values(&[command, error]).inc();
    }

    pub fn up(&self, up: bool) {
        self.up.set(i64::from(up));
    }

    /// Pooled (multiplexed) connections.
    pub fn connections(&self, n: i64) {
        self.connections.with_label_values(&["pool"]).set(n);
    }

    /// One batch of gathered item reads queued on a connection (the `get`
    /// commands counted over the batches: the reads per batch).
    pub fn read_batch(&self) {
        self.read_batches.inc();
    }

    /// Counts a dedicated (blocking-read) connection until the guard drops.
    pub fn reader(&self) -> Held {
        let gauge = self.connections.with_label_values(&["topic_reader"]);
        gauge.inc();
        Held(gauge)
    }
}

/// Holds one unit of a gauge (an open connection or subscription) until dropped.
pub struct Held(IntGauge);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("scopegate".into()), None)
            .expect("a static, valid prefix (invariant)");
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Requests by front, operation kind and outcome.",
            ),
            &["front", "kind", "outcome"],
        )
        .expect("static metric definition (invariant)");
        let denials = IntCounterVec::new(
            Opts::new(
                "denials_total",
                "Refused requests by reason and operation kind.",
            ),
            &["reason", "kind"],
        )
        .expect("static metric definition (invariant)");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Request latency by front and kind.",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["front", "kind"],
        )
        .expect("static metric definition (invariant)");
        let backend_errors = IntCounterVec::new(
            Opts::new(
                "backend_errors_total",
                "Backend failures by operation kind.",
            ),
            &["kind"],
        )
        .expect("static metric definition (invariant)");
        let hits = IntCounter::new("verification_cache_hits_total", "Verification cache hits.")
            .expect("static metric definition (invariant)");
        let misses = IntCounter::new(
            "verification_cache_misses_total",
            "Verification cache misses.",
        )
        .expect("static metric definition (invariant)");
        let connections = IntGauge::new("open_connections", "Open client connections.")
            .expect("static metric definition (invariant)");
        let subscriptions = IntGauge::new("open_subscriptions", "Open topic subscriptions.")
            .expect("static metric definition (invariant)");
        let key_reloads = IntCounterVec::new(
            Opts::new(
                "key_reloads_total",
                "Key ring reloads: replaced, or refused (the old ring stayed).",
            ),
            &["result"],
        )
        .expect("static metric definition (invariant)");
        let aws_sm_fetches = IntCounterVec::new(
            Opts::new(
                "aws_sm_fetches_total",
                "Key material fetches from AWS Secrets Manager: ok, or failed (a failed \
                 refresh keeps the last fetched value).",
            ),
            &["result"],
        )
        .expect("static metric definition (invariant)");
        let revocations = IntGauge::new("revocations", "Live revocation-list entries.")
            .expect("static metric definition (invariant)");
        let revocations_refused = IntCounter::new(
            "revocations_refused_total",
            "Revocations refused because the list was full.",
        )
        .expect("static metric definition (invariant)");
        let backend_latency = HistogramVec::new(
            HistogramOpts::new(
                "backend_command_duration_seconds",
                "Backend (Redis) command latency by command kind.",
            )
            .buckets(vec![
                0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                0.25, 0.5, 1.0, 2.5,
            ]),
            &["command"],
        )
        .expect("static metric definition (invariant)");
        let backend = BackendMetrics {
            hot: [
                "get",
                "set",
                "delete",
                "item",
                "set_if",
                "increment",
                "update_ttl",
            ]
            .map(|name| (name, backend_latency.with_label_values(&[name])))
            .into(),
            latency: backend_latency,
            errors: IntCounterVec::new(
                Opts::new(
                    "backend_command_errors_total",
                    "Backend (Redis) command failures by command kind and error.",
                ),
                &["command", "error"],
            )
            .expect("static metric definition (invariant)"),
            up: IntGauge::new(
                "backend_up",
                "1 while the backend answers its health probe (the memory backend always).",
            )
            .expect("static metric definition (invariant)"),
            connections: IntGaugeVec::new(
                Opts::new(
                    "backend_connections",
                    "Backend connections: the multiplexed pool and dedicated topic readers.",
                ),
                &["kind"],
            )
            .expect("static metric definition (invariant)"),
            read_batches: prometheus::IntCounter::new(
                "backend_read_batches_total",
                "Batches of concurrent item reads (GET) queued on a Redis connection together.",
            )
            .expect("static metric definition (invariant)"),
        };
        backend.up.set(1);
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(denials.clone()),
            Box::new(latency.clone()),
            Box::new(backend_errors.clone()),
            Box::new(hits.clone()),
            Box::new(misses.clone()),
            Box::new(connections.clone()),
            Box::new(subscriptions.clone()),
            Box::new(revocations.clone()),
            Box::new(revocations_refused.clone()),
            Box::new(key_reloads.clone()),
            Box::new(aws_sm_fetches.clone()),
            Box::new(backend.latency.clone()),
            Box::new(backend.errors.clone()),
            Box::new(backend.up.clone()),
            Box::new(backend.connections.clone()),
            Box::new(backend.read_batches.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once (invariant)");
        }
        Metrics {
            registry,
            requests,
            denials,
            latency,
            backend_errors,
            verification_cache_hits: hits,
            verification_cache_misses: misses,
            open_connections: connections,
            open_subscriptions: subscriptions,
            revocations,
            revocations_refused,
            key_reloads,
            aws_sm_fetches,
            backend,
            resolved: std::sync::Arc::new(Resolved::new()),
        }
    }

    /// A key ring reload that replaced the ring, or was refused.
    pub fn key_reload(&self, replaced: bool) {
        let result = if replaced { "replaced" } else { "refused" };
        self.key_reloads.with_label_values(&[result]).inc();
    }

    /// The revocation list's size after a revocation, and whether it was refused.
    pub fn revocations(&self, live: usize, refused: bool) {
        self.revocations
            .set(i64::try_from(live).unwrap_or(i64::MAX));
        if refused {
            self.revocations_refused.inc();
        }
    }

    /// The backend's own metrics.
    pub fn backend(&self) -> BackendMetrics {
        self.backend.clone()
    }

    /// Records one finished request by indexed labels: the same series as
    /// [`request`](Self::request), without a label lookup after the first.
    pub fn record_request(&self, labels: &RequestLabels<'_>, elapsed: Duration) {
        let (f, k, o) = (labels.front.0, labels.kind.0, labels.outcome.0);
        if f >= MAX_FRONTS || k >= MAX_KINDS || o >= MAX_OUTCOMES {
            return self.request(labels.front.1, labels.kind.1, labels.outcome.1, elapsed);
        }
        let series = (f * MAX_KINDS + k) * MAX_OUTCOMES + o;
        self.resolved.requests[series]
            .get_or_init(|| {
                self.requests
                    .with_label_values(&[labels.front.1, labels.kind.1, labels.outcome.1])
            })
            .inc();
        self.resolved.latency[f * MAX_KINDS + k]
            .get_or_init(|| {
                self.latency
                    .with_label_values(&[labels.front.1, labels.kind.1])
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one finished request.
    pub fn request(&self, front: &str, kind: &str, outcome: &str, elapsed: Duration) {
        self.requests
            .with_label_values(&[front, kind, outcome])
            .inc();
        self.latency
            .with_label_values(&[front, kind])
            .observe(elapsed.as_secs_f64());
    }

    /// Records a refusal (authentication or authorization) by reason.
    pub fn deny(&self, reason: &str, kind: &str) {
        self.denials.with_label_values(&[reason, kind]).inc();
    }

    /// A request the backend failed (unreachable or slow), by operation.
    pub fn backend_error(&self, kind: &str) {
        self.backend_errors.with_label_values(&[kind]).inc();
    }

    /// Brings the verification-cache counters up to the authenticator's totals.
    pub fn sync_verification_cache(&self, hits: u64, misses: u64) {
        for (counter, total) in [
            (&self.verification_cache_hits, hits),
            (&self.verification_cache_misses, misses),
        ] {
            let delta = total.saturating_sub(counter.get());
            counter.inc_by(delta);
        }
    }

    /// Brings the AWS Secrets Manager fetch counters up to the process's
    /// totals (`config::aws_sm::fetch_counts`).
    pub fn sync_aws_sm_fetches(&self, ok: u64, failed: u64) {
        for (result, total) in [("ok", ok), ("failed", failed)] {
            let counter = self.aws_sm_fetches.with_label_values(&[result]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }

    /// Counts an open connection until the returned guard is dropped.
    pub fn connection(&self) -> Held {
        self.open_connections.inc();
        Held(self.open_connections.clone())
    }

    /// Counts an open subscription until the returned guard is dropped.
    pub fn subscription(&self) -> Held {
        self.open_subscriptions.inc();
        Held(self.open_subscriptions.clone())
    }

    /// Client connections open now.
    pub fn open_connections(&self) -> i64 {
        self.open_connections.get()
    }

    /// Subscriptions open now.
    pub fn open_subscriptions(&self) -> i64 {
        self.open_subscriptions.get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed families (invariant).
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
