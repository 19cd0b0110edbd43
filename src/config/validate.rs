//! Validation of each section: every problem is pushed onto `errors`, so
//! that one run reports them all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawAuth, RawCache, RawKey};
use crate::scope::ScopeLimits;
use crate::token::{Algorithm, AuthPolicy, KeyRing, RingKey};

pub(super) fn address(text: &str, name: &str, errors: &mut Vec<String>) -> Option<SocketAddr> {
    text.parse()
        .map_err(|_| {
            errors.push(format!(
                "{name} `{text}` is not an address like 127.0.0.1:8080"
            ))
        })
        .ok()
}

pub(super) fn key_ring(raw: &[RawKey], base: &Path, errors: &mut Vec<String>) -> Option<KeyRing> {
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

pub(super) fn ring_key(raw: &RawKey, base: &Path, errors: &mut Vec<String>) -> Option<RingKey> {
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
pub(super) fn material(
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

/// Upper bounds of durations: every one has one, so no deadline computed
/// from a setting can overflow at run time (a `500000000000years` timeout
/// passed validation once and made every long poll panic).
pub(super) const HOUR: Duration = Duration::from_secs(3600);
pub(super) const DAY: Duration = Duration::from_secs(24 * 3600);
/// Credential lifetimes: a century, in seconds well inside every clock.
pub(super) const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A duration like `30s`, `5m` or `25h`, above zero and at most `max`.
pub(super) fn duration(
    text: &str,
    name: &str,
    max: Duration,
    errors: &mut Vec<String>,
) -> Option<Duration> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => {
            errors.push(format!("{name} must be longer than 0s"));
            None
        }
        Ok(d) if d > max => {
            errors.push(format!(
                "{name} must be at most {}",
                humantime::format_duration(max)
            ));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!(
                "{name} `{text}` is not a duration like 30s, 5m, 25h"
            ));
            None
        }
    }
}

pub(super) fn auth_policy(raw: &RawAuth, errors: &mut Vec<String>) -> Option<AuthPolicy> {
    // Leeway alone may be zero (its default).
    let leeway = match humantime::parse_duration(&raw.leeway) {
        Ok(d) if d > HOUR => {
            errors.push("auth.leeway must be at most 1h".into());
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!(
                "auth.leeway `{}` is not a duration like 0s, 30s",
                raw.leeway
            ));
            None
        }
    };
    let disposable = duration(
        &raw.max_disposable_lifetime,
        "auth.max_disposable_lifetime",
        CENTURY,
        errors,
    );
    let api_key = duration(
        &raw.max_api_key_lifetime,
        "auth.max_api_key_lifetime",
        CENTURY,
        errors,
    );
    let cache_ttl = duration(
        &raw.verification_cache_ttl,
        "auth.verification_cache_ttl",
        DAY,
        errors,
    );
    if !(256..=1024 * 1024).contains(&raw.max_credential_bytes) {
        errors.push("auth.max_credential_bytes must be between 256 and 1048576".into());
    }
    if !(1..=1000).contains(&raw.max_permissions) {
        errors.push("auth.max_permissions must be between 1 and 1000".into());
    }
    if raw.verification_cache_entries == 0 {
        errors.push("auth.verification_cache_entries must be at least 1".into());
    }
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

pub(super) fn cache_names(raw: &[RawCache], errors: &mut Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for cache in raw {
        let name = &cache.name;
        if !super::is_cache_name(name) {
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

/// `server.cors_origins`: `*`, or origins as browsers send them
/// (`scheme://host[:port]`, no path, no trailing slash).
pub(super) fn cors_origins(origins: &[String], errors: &mut Vec<String>) {
    for origin in origins {
        if origin == "*" {
            continue;
        }
        let well_formed = origin.split_once("://").is_some_and(|(scheme, rest)| {
            matches!(scheme, "http" | "https")
                && !rest.is_empty()
                && !rest.contains(['/', '?', '#', ' '])
        }) && http::HeaderValue::from_str(origin).is_ok();
        if !well_formed {
            errors.push(format!(
                "server.cors_origins: `{origin}` is not an origin like https://app.example.com or \"*\""
            ));
        }
    }
}
