//! Config text -> `Config::parse` (TOML syntax, shape, and the validation that
//! reports every error at once), with a key folder holding real key files so
//! configs that name `k1.secret` and friends can validate.
//!
//! Properties: nothing panics; when a config is accepted, every duration in it
//! (server limits, backend heartbeat, auth lifetimes, leeway and cache TTL,
//! Redis timeouts) can be added to `std::time::Instant::now()`,
//! `tokio::time::Instant::now()` and `SystemTime::now()` without overflow
//! (a `long_poll_timeout = "500000000000years"` once passed validation and
//! made requests panic), and the numeric limits are in their documented
//! ranges; no error message contains key material or a Redis URL with a
//! password in it.
//!
//! An input whose first line is `#env NAME=VALUE NAME=VALUE` is also parsed
//! with those `SCOPEGATE_*` overrides.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use scopegate::config::{Config, ConfigErrors};

const K1_SECRET: &str = "fuzz-k1-secret-Jq8vT2mXw9LpR4sN7bY3cZ6d";
const K2_SECRET: &str = "fuzz-k2-secret-Hd5kW1nQz8VtG3eP0aM6uYr2";

/// The folder relative key paths resolve against: `k1.secret`, `k2.secret`,
/// `short.secret` (too short), `e1.pem` + `e1.pub.pem` (an Ed25519 pair),
/// `ca.pem` (a PEM certificate block, for `tls_ca_file`).
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("scopegate-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scopegate::token::GeneratedKey::Ed25519 {
            private_pem,
            public_pem,
        } = scopegate::token::generate(scopegate::token::Algorithm::EdDSA).unwrap()
        else {
            unreachable!()
        };
        for (name, text) in [
            ("k1.secret", format!("{K1_SECRET}\n")),
            ("k2.secret", K2_SECRET.to_owned()),
            ("short.secret", "too-short".to_owned()),
            ("e1.pem", private_pem),
            ("e1.pub.pem", public_pem),
            (
                "ca.pem",
                "-----BEGIN CERTIFICATE-----\nMIIBfuzz\n-----END CERTIFICATE-----\n".to_owned(),
            ),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    })
}

/// Whether every `*_file` setting names a plain file of the key folder.
/// File names are the operator's, not a client's: the harness keeps the
/// fuzzer from reading `/dev/zero` or the rest of the machine.
fn files_are_local(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => t.iter().all(|(k, v)| {
            let plain = |s: &str| {
                !s.is_empty()
                    && !s.starts_with('.')
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            };
            let ok_here = !k.ends_with("_file") || v.as_str().is_none_or(plain);
            ok_here && files_are_local(v)
        }),
        toml::Value::Array(a) => a.iter().all(files_are_local),
        _ => true,
    }
}

/// Redis URLs with a password (`user:pass@`), which must never be printed.
fn secret_urls(table: &toml::Table) -> Vec<String> {
    let Some(backend) = table.get("backend").and_then(|b| b.as_table()) else {
        return Vec::new();
    };
    let mut urls: Vec<String> = backend
        .get("url")
        .and_then(|u| u.as_str())
        .map(|u| vec![u.to_owned()])
        .unwrap_or_default();
    if let Some(nodes) = backend.get("nodes").and_then(|n| n.as_array()) {
        urls.extend(nodes.iter().filter_map(|n| n.as_str()).map(str::to_owned));
    }
    urls.retain(|u| u.len() >= 16 && u.contains('@'));
    urls
}

fn check_duration(name: &str, d: Duration, may_be_zero: bool) {
    assert!(may_be_zero || !d.is_zero(), "{name} is zero");
    assert!(
        Instant::now().checked_add(d).is_some(),
        "{name} = {d:?} overflows std::time::Instant"
    );
    assert!(
        tokio::time::Instant::now().checked_add(d).is_some(),
        "{name} = {d:?} overflows tokio::time::Instant"
    );
    assert!(
        SystemTime::now().checked_add(d).is_some(),
        "{name} = {d:?} overflows SystemTime"
    );
    // Deadlines are also taken a few times over (e.g. 4 x command_timeout).
    assert!(d.checked_mul(4).is_some(), "{name} = {d:?} x 4 overflows");
}

fn check_accepted(config: &Config) {
    let s = &config.server;
    check_duration("server.header_read_timeout", s.header_read_timeout, false);
    check_duration("server.request_timeout", s.request_timeout, false);
    check_duration("server.long_poll_timeout", s.long_poll_timeout, false);
    check_duration("server.shutdown_grace", s.shutdown_grace, false);
    check_duration("server.idle_timeout", s.idle_timeout, false);
    check_duration("backend.heartbeat", config.backend.heartbeat, false);
    let a = &config.auth;
    check_duration("auth.leeway", Duration::from_secs(a.leeway_secs), true);
    check_duration(
        "auth.max_disposable_lifetime",
        Duration::from_secs(a.max_disposable_lifetime_secs),
        false,
    );
    check_duration(
        "auth.max_api_key_lifetime",
        Duration::from_secs(a.max_api_key_lifetime_secs),
        false,
    );
    check_duration("auth.verification_cache_ttl", a.cache_ttl, false);
    // Epoch-second arithmetic of minting and verification stays in range.
    let now = scopegate::token::unix_now();
    for secs in [
        a.leeway_secs,
        a.max_disposable_lifetime_secs,
        a.max_api_key_lifetime_secs,
    ] {
        assert!(
            now.checked_add(secs)
                .and_then(|t| t.checked_add(a.leeway_secs))
                .is_some()
        );
    }
    if let Some(r) = &config.redis {
        check_duration("backend.command_timeout", r.command_timeout, false);
        check_duration("backend.connect_timeout", r.connect_timeout, false);
        check_duration("backend.registry_refresh", r.registry_refresh, false);
        assert!((1..=64).contains(&r.connections));
        assert!((1..=100_000).contains(&r.max_topic_readers));
        assert!(!r.namespace.is_empty());
    }
    assert!(s.max_connections >= 1);
    assert!((1024..=1024 * 1024).contains(&s.max_header_bytes));
    assert!((1..=64 * 1024 * 1024).contains(&s.max_value_bytes));
    assert!((256..=1024 * 1024).contains(&a.max_credential_bytes));
    assert!((1..=1000).contains(&a.scope.max_permissions));
    assert!(a.cache_entries >= 1);
    assert!((1..=1_000_000).contains(&config.backend.topic_replay));
    assert!(config.backend.max_bytes_per_cache >= 1024);
    assert!(!config.endpoint.is_empty() && !config.endpoint.contains(char::is_whitespace));
    for cache in &config.caches {
        assert!(scopegate::config::is_cache_name(cache));
    }
    let mut names = config.caches.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), config.caches.len(), "a cache declared twice");
}

fn check_errors(errors: &ConfigErrors, text: &str, urls: &[String]) {
    assert!(!errors.0.is_empty(), "refused with no error");
    // Only when the text cannot spell the secret or the URL elsewhere (a
    // kid or a cache name is echoed, rightly, and libFuzzer learns strings
    // from comparisons): no escapes, the secret absent, the URL there once.
    if text.contains('\\') {
        return;
    }
    for line in &errors.0 {
        for secret in [K1_SECRET, K2_SECRET] {
            if !text.contains(secret) {
                assert!(
                    !line.contains(secret),
                    "an error prints key material: {line}"
                );
            }
        }
        for url in urls {
            if text.matches(url.as_str()).count() == 1 {
                assert!(
                    !line.contains(url.as_str()),
                    "an error prints a Redis URL: {line}"
                );
            }
        }
    }
}

fn run(text: &str, env: Vec<(String, String)>) {
    let table: Option<toml::Table> = toml::from_str(text).ok();
    let mut urls = Vec::new();
    if let Some(table) = &table {
        if !files_are_local(&toml::Value::Table(table.clone())) {
            return;
        }
        urls = secret_urls(table);
    }
    // Environment values may name a file too (tls_ca_file), and set the URL.
    if env
        .iter()
        .any(|(k, _)| k.to_ascii_uppercase().ends_with("_FILE"))
    {
        return;
    }
    urls.extend(
        env.iter()
            .filter(|(k, v)| {
                k.eq_ignore_ascii_case("SCOPEGATE_BACKEND_URL") && v.len() >= 16 && v.contains('@')
            })
            .map(|(_, v)| v.clone()),
    );
    let result = if env.is_empty() {
        Config::parse(text, base())
    } else {
        Config::parse_with_env(text, base(), env)
    };
    match result {
        Ok(config) => check_accepted(&config),
        Err(errors) => check_errors(&errors, text, &urls),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    run(text, Vec::new());
    if let Some(rest) = text.strip_prefix("#env ") {
        let first = rest.lines().next().unwrap_or("");
        let env = first
            .split(' ')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        run(text, env);
    }
});
