//! `config.toml` -> a validated [`Config`] (SPEC 9).
//!
//! Unknown keys are errors. Syntax errors stop at the first; every other
//! problem is collected so that one run of `check-config` reports them all.
//! Key material is never in the config text: it comes from the files or
//! environment variables the `[[keys]]` entries name (relative paths are
//! resolved against the config file's folder).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::scope::ScopeLimits;
use crate::token::{Algorithm, AuthPolicy, KeyRing, RingKey};

/// A validated configuration.
#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// The base endpoint written into envelopes.
    pub endpoint: String,
    pub admin_listen: SocketAddr,
    pub keys: Arc<KeyRing>,
    pub auth: AuthPolicy,
    pub caches: Vec<String>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    keys: Vec<RawKey>,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    backend: RawBackend,
    #[serde(default)]
    caches: Vec<RawCache>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    listen: String,
    endpoint: String,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "127.0.0.1:8080".into(),
            endpoint: "localhost".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAdmin {
    listen: String,
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
struct RawKey {
    kid: String,
    alg: Algorithm,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
    private_key_file: Option<PathBuf>,
    private_key_env: Option<String>,
    public_key_file: Option<PathBuf>,
    public_key_env: Option<String>,
    #[serde(default)]
    signing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAuth {
    leeway: String,
    max_credential_bytes: usize,
    max_disposable_lifetime: String,
    max_api_key_lifetime: String,
    max_permissions: usize,
    verification_cache_entries: u64,
    verification_cache_ttl: String,
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
struct RawBackend {
    kind: String,
}

impl Default for RawBackend {
    fn default() -> Self {
        RawBackend {
            kind: "memory".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    name: String,
}

impl Config {
    /// Reads and validates the config at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("{}: {e}", path.display())]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base)
    }

    /// Validates config text; relative key paths resolve against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, ConfigErrors> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |span| 1 + text[..span.start].matches('\n').count());
            ConfigErrors(vec![format!("line {line}: {}", e.message().trim())])
        })?;
        let mut errors = Vec::new();
        let listen = address(&raw.server.listen, "server.listen", &mut errors);
        let admin_listen = address(&raw.admin.listen, "admin.listen", &mut errors);
        if raw.server.endpoint.is_empty() || raw.server.endpoint.contains(char::is_whitespace) {
            errors.push("server.endpoint must be a host name without spaces".into());
        }
        if raw.backend.kind != "memory" {
            errors.push(format!(
                "backend.kind `{}` is not supported by this build (supported: memory)",
                raw.backend.kind
            ));
        }
        let keys = key_ring(&raw.keys, base, &mut errors);
        let auth = auth_policy(&raw.auth, &mut errors);
        let caches = cache_names(&raw.caches, &mut errors);
        match (listen, admin_listen, keys, auth) {
            (Some(listen), Some(admin_listen), Some(keys), Some(auth)) if errors.is_empty() => {
                Ok(Config {
                    listen,
                    endpoint: raw.server.endpoint,
                    admin_listen,
                    keys: Arc::new(keys),
                    auth,
                    caches,
                })
            }
            _ => Err(ConfigErrors(errors)),
        }
    }
}

fn address(text: &str, name: &str, errors: &mut Vec<String>) -> Option<SocketAddr> {
    text.parse()
        .map_err(|_| {
            errors.push(format!(
                "{name} `{text}` is not an address like 127.0.0.1:8080"
            ))
        })
        .ok()
}

fn key_ring(raw: &[RawKey], base: &Path, errors: &mut Vec<String>) -> Option<KeyRing> {
    if raw.is_empty() {
        errors.push("no [[keys]]: at least one key is needed to verify credentials".into());
        return None;
    }
    let signing: Vec<&str> = raw
        .iter()
        .filter(|k| k.signing)
        .map(|k| k.kid.as_str())
        .collect();
    if signing.len() > 1 {
        errors.push(format!(
            "keys {} are all marked signing; at most one key signs",
            signing.join(", ")
        ));
    }
    let before = errors.len();
    let keys: Vec<RingKey> = raw
        .iter()
        .filter_map(|k| ring_key(k, base, errors))
        .collect();
    if errors.len() > before {
        return None;
    }
    KeyRing::new(keys, signing.first().copied())
        .map_err(|e| errors.push(format!("keys: {e}")))
        .ok()
}

fn ring_key(raw: &RawKey, base: &Path, errors: &mut Vec<String>) -> Option<RingKey> {
    let kid = &raw.kid;
    if kid.is_empty()
        || kid.len() > 64
        || !kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        errors.push(format!(
            "key `{kid}`: kid must be 1 to 64 of A-Z a-z 0-9 - _ ."
        ));
        return None;
    }
    let context = |e: String| format!("key `{kid}`: {e}");
    let result = match raw.alg {
        Algorithm::HS256 => {
            if raw.private_key_file.is_some()
                || raw.private_key_env.is_some()
                || raw.public_key_file.is_some()
                || raw.public_key_env.is_some()
            {
                Err("HS256 keys take secret_file or secret_env, not key files".into())
            } else {
                material(&raw.secret_file, &raw.secret_env, "secret", base).and_then(|secret| {
                    let secret = secret.ok_or("HS256 needs secret_file or secret_env")?;
                    RingKey::hs256(kid, secret.as_bytes()).map_err(|e| e.to_string())
                })
            }
        }
        Algorithm::EdDSA => {
            if raw.secret_file.is_some() || raw.secret_env.is_some() {
                Err("EdDSA keys take private_key_* and/or public_key_*, not a secret".into())
            } else {
                let private = material(
                    &raw.private_key_file,
                    &raw.private_key_env,
                    "private_key",
                    base,
                );
                let public = material(
                    &raw.public_key_file,
                    &raw.public_key_env,
                    "public_key",
                    base,
                );
                private.and_then(|private| {
                    let public = public?;
                    RingKey::ed25519(kid, private.as_deref(), public.as_deref())
                        .map_err(|e| e.to_string())
                })
            }
        }
    };
    let key = result.map_err(|e| errors.push(context(e))).ok()?;
    if raw.signing && !key.can_sign() {
        errors.push(context("marked signing but has no private key".into()));
        return None;
    }
    Some(key)
}

/// Reads key material from `<what>_file` or `<what>_env` (not both), trimmed.
fn material(
    file: &Option<PathBuf>,
    env: &Option<String>,
    what: &str,
    base: &Path,
) -> Result<Option<String>, String> {
    let text = match (file, env) {
        (Some(_), Some(_)) => return Err(format!("set {what}_file or {what}_env, not both")),
        (None, None) => return Ok(None),
        (Some(path), None) => {
            let path = base.join(path);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {what}_file {}: {e}", path.display()))?
        }
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| format!("{what}_env names `{var}`, which is not set (or not UTF-8)"))?,
    };
    Ok(Some(text.trim().to_owned()))
}

fn auth_policy(raw: &RawAuth, errors: &mut Vec<String>) -> Option<AuthPolicy> {
    let mut duration = |text: &str, name: &str| {
        humantime::parse_duration(text)
            .map_err(|_| {
                errors.push(format!(
                    "auth.{name} `{text}` is not a duration like 30s, 5m, 25h"
                ))
            })
            .ok()
    };
    let leeway = duration(&raw.leeway, "leeway");
    let disposable = duration(&raw.max_disposable_lifetime, "max_disposable_lifetime");
    let api_key = duration(&raw.max_api_key_lifetime, "max_api_key_lifetime");
    let cache_ttl = duration(&raw.verification_cache_ttl, "verification_cache_ttl");
    if !(256..=1024 * 1024).contains(&raw.max_credential_bytes) {
        errors.push("auth.max_credential_bytes must be between 256 and 1048576".into());
    }
    if !(1..=1000).contains(&raw.max_permissions) {
        errors.push("auth.max_permissions must be between 1 and 1000".into());
    }
    if raw.verification_cache_entries == 0 {
        errors.push("auth.verification_cache_entries must be at least 1".into());
    }
    let positive = |d: Option<Duration>, name: &str, errors: &mut Vec<String>| {
        if d.is_some_and(|d| d.is_zero()) {
            errors.push(format!("auth.{name} must be longer than 0s"));
        }
        d
    };
    let disposable = positive(disposable, "max_disposable_lifetime", errors);
    let api_key = positive(api_key, "max_api_key_lifetime", errors);
    let cache_ttl = positive(cache_ttl, "verification_cache_ttl", errors);
    Some(AuthPolicy {
        max_credential_bytes: raw.max_credential_bytes,
        leeway_secs: leeway?.as_secs(),
        max_disposable_lifetime_secs: disposable?.as_secs(),
        max_api_key_lifetime_secs: api_key?.as_secs(),
        scope: ScopeLimits {
            max_permissions: raw.max_permissions,
        },
        cache_entries: raw.verification_cache_entries,
        cache_ttl: cache_ttl?,
    })
}

fn cache_names(raw: &[RawCache], errors: &mut Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for cache in raw {
        let name = &cache.name;
        if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
            errors.push(format!(
                "caches: `{name}` must be 1 to 255 characters, none of them control characters"
            ));
        } else if names.contains(name) {
            errors.push(format!("caches: `{name}` is declared twice"));
        } else {
            names.push(name.clone());
        }
    }
    names
}
