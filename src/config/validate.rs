//! Validation of each section: every problem is pushed onto `errors`, so
//! that one run reports them all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::aws_sm;
use super::raw::{RawAuth, RawCache, RawKey};
use crate::scope::ScopeLimits;
use crate::token::{Algorithm, AuthPolicy, KeyError, KeyRing, RingKey};

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
    let secret = Sources {
        file: &raw.secret_file,
        env: &raw.secret_env,
        aws_sm: &raw.secret_aws_sm,
    };
    let private = Sources {
        file: &raw.private_key_file,
        env: &raw.private_key_env,
        aws_sm: &raw.private_key_aws_sm,
    };
    let public = Sources {
        file: &raw.public_key_file,
        env: &raw.public_key_env,
        aws_sm: &raw.public_key_aws_sm,
    };
    let aws = match aws_sm::source(raw) {
        Ok(aws) => aws,
        Err(e) => {
            errors.push(context(e));
            return None;
        }
    };
    let aws = aws.as_ref();
    let result = match raw.alg {
        Algorithm::HS256 => {
            if private.any() || public.any() {
                Err(
                    "HS256 keys take secret_file, secret_env or secret_aws_sm, not key files"
                        .into(),
                )
            } else {
                material(&secret, "secret", base, aws).and_then(|text| {
                    let text =
                        text.ok_or("HS256 needs secret_file, secret_env or secret_aws_sm")?;
                    RingKey::hs256(kid, text.as_bytes())
                        .map_err(|e| format!("{}: {e}", secret.name("secret")))
                })
            }
        }
        Algorithm::EdDSA => {
            if secret.any() {
                Err("EdDSA keys take private_key_* and/or public_key_*, not a secret".into())
            } else {
                let private_pem = material(&private, "private_key", base, aws);
                let public_pem = material(&public, "public_key", base, aws);
                private_pem.and_then(|private_pem| {
                    let public_pem = public_pem?;
                    RingKey::ed25519(kid, private_pem.as_deref(), public_pem.as_deref()).map_err(
                        |e| match e {
                            KeyError::BadPrivateKey => {
                                format!("{}: {e}", private.name("private_key"))
                            }
                            KeyError::BadPublicKey => format!("{}: {e}", public.name("public_key")),
                            e => e.to_string(),
                        },
                    )
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

/// Where one piece of key material may come from: `<what>_file`,
/// `<what>_env` or `<what>_aws_sm`, at most one of them.
pub(super) struct Sources<'a> {
    pub(super) file: &'a Option<PathBuf>,
    pub(super) env: &'a Option<String>,
    pub(super) aws_sm: &'a Option<String>,
}

impl Sources<'_> {
    fn any(&self) -> bool {
        self.file.is_some() || self.env.is_some() || self.aws_sm.is_some()
    }

    /// The setting the material came from, for messages: `secret_aws_sm
    /// `name``, `secret_file path`, `secret_env `VAR``.
    fn name(&self, what: &str) -> String {
        match (self.file, self.env, self.aws_sm) {
            (Some(path), _, _) => format!("{what}_file {}", path.display()),
            (_, Some(var), _) => format!("{what}_env `{var}`"),
            (_, _, Some(id)) => format!("{what}_aws_sm `{id}`"),
            _ => what.to_owned(),
        }
    }
}

/// Reads key material from one of `<what>_file`, `<what>_env` or
/// `<what>_aws_sm` (`aws` is the key's validated AWS settings), trimmed.
pub(super) fn material(
    sources: &Sources<'_>,
    what: &str,
    base: &Path,
    aws: Option<&aws_sm::Source>,
) -> Result<Option<String>, String> {
    let text = match (sources.file, sources.env, sources.aws_sm) {
        (None, None, None) => return Ok(None),
        (Some(path), None, None) => {
            let path = base.join(path);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {what}_file {}: {e}", path.display()))?
        }
        (None, Some(var), None) => std::env::var(var)
            .map_err(|_| format!("{what}_env names `{var}`, which is not set (or not UTF-8)"))?,
        (None, None, Some(id)) => {
            if id.is_empty() || id.len() > 2048 || id.contains(char::is_control) {
                return Err(format!(
                    "{what}_aws_sm must be a secret name or ARN (1 to 2048 characters)"
                ));
            }
            let aws = aws.ok_or("aws_region is required with an *_aws_sm key source")?;
            let value = aws_sm::secret(id, aws).map_err(|e| format!("{what}_aws_sm: {e}"))?;
            if value.is_empty() {
                return Err(format!("{what}_aws_sm: the secret `{id}` is empty"));
            }
            value
        }
        _ => {
            return Err(format!(
                "set one of {what}_file, {what}_env or {what}_aws_sm, not several"
            ));
        }
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
