//! Key material from AWS Secrets Manager (SPEC 12): `secret_aws_sm`,
//! `private_key_aws_sm` and `public_key_aws_sm` name a secret (by name or
//! ARN) whose current value (`AWSCURRENT`: its SecretString, or a UTF-8
//! SecretBinary) is read like a key file: surrounding whitespace trimmed.
//!
//! Config validation is synchronous and runs both at start and inside the
//! reload task, so fetches run on a small runtime of their own (one thread,
//! made on first use) and the caller waits at most [`FETCH_TIMEOUT`].
//! Credentials come from the SDK's default chain (environment, profile, web
//! identity, ECS, IMDS).
//!
//! Values are cached for the whole process, in memory only, per (region,
//! endpoint, secret id): a load within the key's `aws_refresh` of the last
//! fetch reuses the cached value, so the 2 s reload poll does not call AWS.
//! A failed refresh keeps the last good value (logged without values, and
//! counted); it is tried again after another `aws_refresh`. Only a secret
//! never fetched yet makes the load fail.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};

use super::raw::RawKey;

/// The longest a fetch may take (connection, credentials, retries and all).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Bounds and default of `aws_refresh`.
pub const MIN_REFRESH: Duration = Duration::from_secs(10);
pub const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_REFRESH: &str = "5m";

/// Where a key's `*_aws_sm` secrets are read from, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Source {
    pub(super) region: String,
    /// `aws_endpoint_url`: `None` is the region's public endpoint.
    pub(super) endpoint: Option<String>,
    pub(super) refresh: Duration,
}

/// A secret's value. Never printed, never written anywhere.
#[derive(Clone)]
struct Value(Arc<str>);

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Value(..)")
    }
}

#[derive(Debug)]
struct Entry {
    value: Value,
    /// When it was last fetched, or last tried and failed.
    checked: Instant,
}

type SecretKey = (String, Option<String>, String);

static CACHE: LazyLock<Mutex<HashMap<SecretKey, Entry>>> = LazyLock::new(Default::default);
static FETCHED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// Fetches since start: (succeeded, failed). For `/metrics`.
pub fn fetch_counts() -> (u64, u64) {
    (
        FETCHED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed),
    )
}

/// The value of secret `id`, trimmed: from the cache while it is younger than
/// `source.refresh`, else fetched again (the last good value if that fails).
/// Errors name the secret and the AWS error, never a value.
pub(super) fn secret(id: &str, source: &Source) -> Result<String, String> {
    let key = (
        source.region.clone(),
        source.endpoint.clone(),
        id.to_owned(),
    );
    let cached = {
        let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&key)
            .map(|e| (e.value.clone(), e.checked.elapsed() < source.refresh))
    };
    if let Some((value, true)) = &cached {
        return Ok(value.0.to_string());
    }
    // The lock is not held across the fetch: a slow AWS stalls only this load.
    match fetch(id, source) {
        Ok(text) => {
            FETCHED.fetch_add(1, Ordering::Relaxed);
            let value = Value(Arc::from(text.trim()));
            let entry = Entry {
                value: value.clone(),
                checked: Instant::now(),
            };
            CACHE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, entry);
            Ok(value.0.to_string())
        }
        Err(e) => {
            FAILED.fetch_add(1, Ordering::Relaxed);
            let Some((value, _)) = cached else {
                return Err(format!("cannot fetch `{id}` from AWS Secrets Manager: {e}"));
            };
            tracing::warn!(
                secret = id,
                region = %source.region,
                error = %e,
                "AWS Secrets Manager refresh failed; the last fetched value stays"
            );
            if let Some(entry) = CACHE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(&key)
            {
                entry.checked = Instant::now();
            }
            Ok(value.0.to_string())
        }
    }
}

/// The fetches' runtime: one thread, for the life of the process (a runtime
/// in a static is never dropped, so never dropped inside another runtime).
fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("scopegate-aws-sm")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the AWS client's runtime: {e}"))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// One GetSecretValue, bounded by [`FETCH_TIMEOUT`]; callable from any
/// thread, inside a runtime or not.
fn fetch(id: &str, source: &Source) -> Result<String, String> {
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    let (id, source) = (id.to_owned(), source.clone());
    runtime()?.spawn(async move {
        let result = tokio::time::timeout(FETCH_TIMEOUT, get(&id, &source))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {FETCH_TIMEOUT:?}")));
        let _ = reply.send(result);
    });
    answer
        .recv_timeout(FETCH_TIMEOUT + Duration::from_secs(1))
        .unwrap_or_else(|_| Err(format!("no answer within {FETCH_TIMEOUT:?}")))
}

async fn get(id: &str, source: &Source) -> Result<String, String> {
    let client = client(source).await;
    let output = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| chain(&e))?;
    if let Some(text) = output.secret_string() {
        return Ok(text.to_owned());
    }
    let binary = output
        .secret_binary()
        .ok_or("the secret has no value (neither SecretString nor SecretBinary)")?;
    String::from_utf8(binary.as_ref().to_vec())
        .map_err(|_| "the secret's SecretBinary is not UTF-8 text".to_owned())
}

/// An error and its sources, one line (the SDK's own `DisplayErrorContext`
/// appends a multi-line Debug dump).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let line = e.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = e.source();
    }
    text
}

/// A client per (region, endpoint), kept: it holds the credentials cache.
async fn client(source: &Source) -> Client {
    type Clients = Mutex<HashMap<(String, Option<String>), Client>>;
    static CLIENTS: LazyLock<Clients> = LazyLock::new(Default::default);
    let key = (source.region.clone(), source.endpoint.clone());
    if let Some(client) = CLIENTS.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return client.clone();
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(source.region.clone()))
        .timeout_config(
            aws_sdk_secretsmanager::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(4))
                .build(),
        );
    if let Some(url) = &source.endpoint {
        loader = loader.endpoint_url(url);
    }
    let client = Client::new(&loader.load().await);
    CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(client)
        .clone()
}

/// A key's `aws_region`, `aws_endpoint_url` and `aws_refresh`, which go
/// with a `*_aws_sm` source (`aws_region` is then required).
pub(super) fn source(raw: &RawKey) -> Result<Option<Source>, String> {
    let any_aws = [
        &raw.secret_aws_sm,
        &raw.private_key_aws_sm,
        &raw.public_key_aws_sm,
    ]
    .iter()
    .any(|s| s.is_some());
    if !any_aws {
        if raw.aws_region.is_some() || raw.aws_endpoint_url.is_some() || raw.aws_refresh.is_some() {
            return Err("aws_region, aws_endpoint_url and aws_refresh go with \
                        secret_aws_sm, private_key_aws_sm or public_key_aws_sm"
                .into());
        }
        return Ok(None);
    }
    let region = match raw.aws_region.as_deref() {
        None => return Err("aws_region is required with an *_aws_sm key source".into()),
        Some(region) if !is_region(region) => {
            return Err(format!(
                "aws_region `{region}` is not a region like us-east-1"
            ));
        }
        Some(region) => region.to_owned(),
    };
    let endpoint = match raw.aws_endpoint_url.as_deref() {
        Some(url) if !is_endpoint(url) => {
            return Err(format!(
                "aws_endpoint_url `{url}` is not a URL like https://secretsmanager.us-east-1.amazonaws.com"
            ));
        }
        url => url.map(str::to_owned),
    };
    let text = raw.aws_refresh.as_deref().unwrap_or(DEFAULT_REFRESH);
    let refresh = match humantime::parse_duration(text) {
        Ok(d) if (MIN_REFRESH..=MAX_REFRESH).contains(&d) => d,
        Ok(_) => return Err("aws_refresh must be between 10s and 1day".into()),
        Err(_) => return Err(format!("aws_refresh `{text}` is not a duration like 5m")),
    };
    Ok(Some(Source {
        region,
        endpoint,
        refresh,
    }))
}

/// `aws_region`: like `us-east-1` (lowercase letters, digits, dashes).
fn is_region(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `aws_endpoint_url`: `http://` or `https://`, a host, no spaces.
fn is_endpoint(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https")
            && !rest.is_empty()
            && !rest.contains(char::is_whitespace)
    })
}
