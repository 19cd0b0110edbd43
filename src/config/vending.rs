//! `[vending]` (SPEC 8) -> [`VendingConfig`]: every problem is one error.
//! The users file and a `jwks_file` are read here, so a bad one stops the
//! gateway before it binds; a plain-text password is named by its line only.

use std::path::Path;

use super::raw::{RawPolicy, RawVending};
use super::validate::{HOUR, duration};
use crate::token::AuthPolicy;
use crate::vending::basic::Users;
use crate::vending::jwks::{JwksSource, JwksUrl, KeySet};
use crate::vending::oidc::OidcConfig;
use crate::vending::policy::Policy;
use crate::vending::{ANONYMOUS, VendAuth, VendingConfig};

/// Validates `[vending]`; `auth` is `None` when `[auth]` itself is invalid
/// (its errors are reported already, and the checks that need it are skipped).
pub(super) fn vending(
    raw: &RawVending,
    auth: Option<&AuthPolicy>,
    cors_origins: &[String],
    base: &Path,
    errors: &mut Vec<String>,
) -> Option<VendingConfig> {
    let mode = raw.auth.as_deref().unwrap_or("");
    let chosen = match mode {
        "open" => {
            if !raw.allow_open {
                errors.push(
                    "vending.auth = \"open\" gives a token to anyone: it is refused unless \
                     vending.allow_open = true (development only)"
                        .into(),
                );
            }
            Some(VendAuth::Open)
        }
        "basic" => basic(raw, base, errors).map(VendAuth::Basic),
        "oidc" => oidc(raw, base, errors).map(VendAuth::Oidc),
        "" => {
            errors.push("vending.auth is required: \"open\", \"basic\" or \"oidc\"".into());
            None
        }
        other => {
            errors.push(format!(
                "vending.auth `{other}` is not supported (supported: open, basic, oidc)"
            ));
            None
        }
    };
    misplaced(raw, mode, errors);
    if mode != "open" && cors_origins.iter().any(|o| o == "*") {
        errors.push(
            "server.cors_origins = [\"*\"] is only allowed with vending.auth = \"open\": \
             name the origins that may ask for tokens"
                .into(),
        );
    }
    for (setting, value) in [
        (
            "vends_per_minute_per_identity",
            raw.vends_per_minute_per_identity,
        ),
        (
            "vends_per_minute_per_address",
            raw.vends_per_minute_per_address,
        ),
    ] {
        if !(1..=1_000_000).contains(&value) {
            errors.push(format!("vending.{setting} must be between 1 and 1000000"));
        }
    }
    let policies = policies(&raw.policies, mode, auth, errors);
    Some(VendingConfig {
        auth: chosen?,
        policies,
        per_identity: raw.vends_per_minute_per_identity,
        per_address: raw.vends_per_minute_per_address,
    })
}

fn basic(raw: &RawVending, base: &Path, errors: &mut Vec<String>) -> Option<Users> {
    let Some(path) = &raw.users_file else {
        errors.push("vending.auth = \"basic\" needs vending.users_file".into());
        return None;
    };
    Users::load(&base.join(path))
        .map_err(|file_errors| errors.extend(file_errors))
        .ok()
}

fn oidc(raw: &RawVending, base: &Path, errors: &mut Vec<String>) -> Option<OidcConfig> {
    let mut required = |value: &Option<String>, name: &str| match value.as_deref() {
        Some(v) if !v.is_empty() => Some(v.to_owned()),
        _ => {
            errors.push(format!("vending.auth = \"oidc\" needs vending.{name}"));
            None
        }
    };
    let issuer = required(&raw.issuer, "issuer");
    let audience = required(&raw.audience, "audience");
    let (source, initial) = match (&raw.jwks_url, &raw.jwks_file) {
        (Some(url), None) => match JwksUrl::parse(url) {
            Ok(url) => (Some(JwksSource::Url(url)), None),
            Err(why) => {
                errors.push(format!("vending.jwks_url {why}"));
                (None, None)
            }
        },
        (None, Some(file)) => {
            let path = base.join(file);
            let keys = std::fs::read(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|bytes| KeySet::parse(&bytes));
            match keys {
                Ok(keys) => (Some(JwksSource::File(path)), Some(keys)),
                Err(why) => {
                    errors.push(format!("vending.jwks_file: {why}"));
                    (None, None)
                }
            }
        }
        _ => {
            errors.push(
                "vending.auth = \"oidc\" needs one of vending.jwks_url and vending.jwks_file"
                    .into(),
            );
            (None, None)
        }
    };
    let refresh = duration(&raw.jwks_refresh, "vending.jwks_refresh", 24 * HOUR, errors);
    let min_refresh = duration(
        &raw.jwks_min_refresh,
        "vending.jwks_min_refresh",
        HOUR,
        errors,
    );
    let timeout = duration(&raw.jwks_timeout, "vending.jwks_timeout", HOUR, errors);
    if !(64..=16 * 1024 * 1024).contains(&raw.jwks_max_bytes) {
        errors.push("vending.jwks_max_bytes must be between 64 and 16777216".into());
    }
    if raw.groups_claim.is_empty() {
        errors.push("vending.groups_claim must name a claim".into());
    }
    Some(OidcConfig {
        issuer: issuer?,
        audience: audience?,
        source: source?,
        initial,
        groups_claim: raw.groups_claim.clone(),
        refresh: refresh?,
        min_refresh: min_refresh?,
        timeout: timeout?,
        max_bytes: raw.jwks_max_bytes,
    })
}

/// Settings of another mode are errors, not silently ignored.
fn misplaced(raw: &RawVending, mode: &str, errors: &mut Vec<String>) {
    if mode != "basic" && raw.users_file.is_some() {
        errors.push("vending.users_file is for auth = \"basic\"".into());
    }
    if mode != "oidc" {
        let set = [
            ("issuer", raw.issuer.is_some()),
            ("audience", raw.audience.is_some()),
            ("jwks_url", raw.jwks_url.is_some()),
            ("jwks_file", raw.jwks_file.is_some()),
        ];
        for (name, _) in set.iter().filter(|(_, set)| *set) {
            errors.push(format!("vending.{name} is for auth = \"oidc\""));
        }
    }
    if mode != "open" && raw.allow_open {
        errors.push("vending.allow_open is for auth = \"open\"".into());
    }
}

fn policies(
    raw: &[RawPolicy],
    mode: &str,
    auth: Option<&AuthPolicy>,
    errors: &mut Vec<String>,
) -> Vec<Policy> {
    if raw.is_empty() {
        errors.push("[vending] needs at least one [[vending.policies]]".into());
    }
    let mut out: Vec<Policy> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let at = format!("vending.policies[{i}] (group `{}`)", p.group);
        if out.iter().any(|o| o.group == p.group) {
            errors.push(format!(
                "{at}: the group has another policy; one policy per group"
            ));
            continue;
        }
        if mode == "open" && p.group != ANONYMOUS {
            errors.push(format!(
                "{at}: in open mode every caller is in the group `{ANONYMOUS}` only, so this policy never applies"
            ));
        }
        let Some(ttl) = duration(
            &p.ttl,
            &format!("{at} ttl"),
            super::validate::CENTURY,
            errors,
        ) else {
            continue;
        };
        let Some(auth) = auth else { continue };
        if ttl.as_secs() > auth.max_disposable_lifetime_secs {
            errors.push(format!(
                "{at}: ttl is longer than auth.max_disposable_lifetime"
            ));
            continue;
        }
        match Policy::new(&p.group, &p.scope, ttl.as_secs(), &auth.scope) {
            Ok(policy) => out.push(policy),
            Err(why) => errors.push(format!("{at}: {why}")),
        }
    }
    out
}
