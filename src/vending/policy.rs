//! Vending policies: one per group, a scope template in the CLI's scope JSON
//! plus a lifetime. `{sub}` and `{group}` in cache names, keys, key prefixes,
//! topics and topic prefixes are replaced by the caller's values.
//!
//! Substitution happens on the parsed JSON tree, never on text, and the values
//! may not hold characters a template reads as structure, so a value can
//! neither add a permission nor turn a name into a wildcard.

use momento_protos::permission_messages::{
    CacheRole, ExplicitPermissions, Permissions, PermissionsType, TopicRole, permissions,
    permissions_type,
};
use serde_json::Value;

use super::VendError;
use crate::scope::{ScopeLimits, compile, json};

/// The longest value a placeholder takes, in bytes (SPEC 8).
pub const MAX_VALUE_BYTES: usize = 128;
/// The value `{sub}` takes when a template is compiled at config time.
const SAMPLE_SUB: &str = "sample-subject";

/// One `[[vending.policies]]` entry, validated.
#[derive(Clone, Debug)]
pub struct Policy {
    pub group: String,
    /// The scope JSON with its placeholders, parsed.
    template: Value,
    pub ttl_secs: u64,
    /// Whether `{sub}` appears: only then must the subject be usable as a value.
    uses_sub: bool,
}

impl Policy {
    /// Parses and checks a template: JSON in the scope shape, placeholders only
    /// where names go, and a scope that compiles with sample values.
    pub fn new(
        group: &str,
        scope: &str,
        ttl_secs: u64,
        limits: &ScopeLimits,
    ) -> Result<Policy, String> {
        check_value(group).map_err(|why| format!("group name {why}"))?;
        let template: Value =
            serde_json::from_str(scope).map_err(|e| format!("scope is not JSON: {e}"))?;
        let mut uses_sub = false;
        check_placeholders(&template, None, &mut uses_sub)?;
        let policy = Policy {
            group: group.to_owned(),
            template,
            ttl_secs,
            uses_sub,
        };
        let sample = policy.render(SAMPLE_SUB).map_err(|e| e.to_string())?;
        compile(&sample, limits).map_err(|e| format!("scope: {e}"))?;
        Ok(policy)
    }

    /// The scope for a caller whose subject is `sub`.
    pub fn render(&self, sub: &str) -> Result<Permissions, VendError> {
        if self.uses_sub {
            check_value(sub).map_err(|why| {
                VendError::Forbidden(format!(
                    "the identity's subject {why}, so {{sub}} cannot be filled in"
                ))
            })?;
        }
        let mut value = self.template.clone();
        substitute(&mut value, None, sub, &self.group)?;
        json::parse(&value.to_string()).map_err(|e| VendError::Forbidden(format!("scope: {e}")))
    }
}

/// The union of the scopes of every policy that applies, and the shortest
/// lifetime among them. `None` when no policy applies.
///
/// Two grants of the same resources (same cache and item or topic selectors)
/// are merged when one role includes the other (readwrite includes readonly
/// and writeonly); readonly with writeonly is refused, because the only
/// single role covering both, readwrite, also grants conditional writes that
/// neither group grants.
pub fn union<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
    sub: &str,
    limits: &ScopeLimits,
) -> Result<Option<(Permissions, u64)>, VendError> {
    let mut merged: Vec<PermissionsType> = Vec::new();
    let mut ttl: Option<u64> = None;
    for policy in policies {
        ttl = Some(ttl.map_or(policy.ttl_secs, |t| t.min(policy.ttl_secs)));
        let Some(permissions::Kind::Explicit(explicit)) = policy.render(sub)?.kind else {
            // json::parse only makes explicit scopes.
            return Err(VendError::Forbidden(
                "a policy scope is not explicit".into(),
            ));
        };
        for permission in explicit.permissions {
            merge(&mut merged, permission)?;
        }
    }
    let Some(ttl) = ttl else { return Ok(None) };
    let scope = Permissions {
        kind: Some(permissions::Kind::Explicit(ExplicitPermissions {
            permissions: merged,
        })),
    };
    compile(&scope, limits).map_err(|e| {
        VendError::Forbidden(format!(
            "the union of this identity's group policies is not a valid scope: {e}"
        ))
    })?;
    Ok(Some((scope, ttl)))
}

/// Adds `next` to `merged`, merging it with a grant of the same resources.
fn merge(merged: &mut Vec<PermissionsType>, next: PermissionsType) -> Result<(), VendError> {
    let (next_role, next_topic) = role(&next);
    let same = merged.iter().position(|p| {
        let (_, topic) = role(p);
        topic == next_topic && without_role(p) == without_role(&next)
    });
    let Some(i) = same else {
        merged.push(next);
        return Ok(());
    };
    let (role_there, _) = role(&merged[i]);
    let read_write = if next_topic {
        TopicRole::TopicReadWrite as i32
    } else {
        CacheRole::CacheReadWrite as i32
    };
    if role_there == next_role || role_there == read_write {
        Ok(())
    } else if next_role == read_write {
        merged[i] = next;
        Ok(())
    } else {
        Err(VendError::Forbidden(
            "this identity's groups grant the same resources with different roles \
             (read-only and write-only); give one group a readwrite policy instead"
                .into(),
        ))
    }
}

/// The role of a permission, and whether it is a topic permission.
fn role(p: &PermissionsType) -> (i32, bool) {
    use permissions_type::Kind;
    match &p.kind {
        Some(Kind::CachePermissions(c)) => (c.role, false),
        Some(Kind::TopicPermissions(t)) => (t.role, true),
        _ => (-1, false),
    }
}

/// The permission with its role cleared: equal for grants of the same resources.
fn without_role(p: &PermissionsType) -> PermissionsType {
    use permissions_type::Kind;
    let mut p = p.clone();
    match &mut p.kind {
        Some(Kind::CachePermissions(c)) => c.role = 0,
        Some(Kind::TopicPermissions(t)) => t.role = 0,
        _ => {}
    }
    p
}

/// Why `value` cannot fill a placeholder, if it cannot.
pub fn check_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("is empty")
    } else if value.len() > MAX_VALUE_BYTES {
        Err("is longer than 128 bytes")
    } else if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '{' | '}' | '"' | '\\' | '/'))
    {
        Err("contains one of { } \" \\ / or a control character")
    } else {
        Ok(())
    }
}

/// Fields whose strings take no placeholders: a role, and base64 keys (a
/// placeholder there would be substituted into encoded bytes).
fn literal_field(field: Option<&str>) -> bool {
    matches!(field, Some("role" | "keyBase64" | "keyPrefixBase64"))
}

/// Checks that braces only appear as `{sub}` or `{group}`, and only where a
/// name goes.
fn check_placeholders(
    value: &Value,
    field: Option<&str>,
    uses_sub: &mut bool,
) -> Result<(), String> {
    match value {
        Value::String(s) => {
            let rest = s.replace("{sub}", "").replace("{group}", "");
            if rest.contains(['{', '}']) {
                return Err(format!(
                    "`{s}`: the only placeholders are {{sub}} and {{group}}"
                ));
            }
            if literal_field(field) && rest.len() != s.len() {
                return Err(format!("`{}` takes no placeholders", field.unwrap_or("")));
            }
            *uses_sub |= s.contains("{sub}");
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_placeholders(v, field, uses_sub)),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check_placeholders(v, Some(k), uses_sub)),
        _ => Ok(()),
    }
}

/// Replaces the placeholders in every name. A name that becomes `*` (which
/// would mean "all") is refused.
fn substitute(
    value: &mut Value,
    field: Option<&str>,
    sub: &str,
    group: &str,
) -> Result<(), VendError> {
    match value {
        Value::String(s) if !literal_field(field) && s.contains('{') => {
            let filled = s.replace("{sub}", sub).replace("{group}", group);
            if filled == "*" {
                return Err(VendError::Forbidden(
                    "a placeholder value would make a name a wildcard".into(),
                ));
            }
            *s = filled;
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| substitute(v, field, sub, group)),
        Value::Object(map) => map
            .iter_mut()
            .try_for_each(|(k, v)| substitute(v, Some(k), sub, group)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(group: &str, scope: &str, ttl: u64) -> Policy {
        Policy::new(group, scope, ttl, &ScopeLimits::default()).unwrap()
    }

    fn rendered(scope: &Permissions) -> String {
        json::render(scope).to_string()
    }

    #[test]
    fn placeholders_are_filled_in_names_only() {
        let p = policy(
            "players",
            r#"{"permissions":[{"role":"readwrite","cache":"c-{group}","item":{"keyPrefix":"{sub}/"}},
               {"role":"publishsubscribe","cache":"chat","topic":{"prefix":"room-{sub}-"}}]}"#,
            60,
        );
        let text = rendered(&p.render("alice").unwrap());
        assert!(
            text.contains("c-players") && text.contains("alice/") && text.contains("room-alice-"),
            "{text}"
        );
    }

    #[test]
    fn bad_values_and_templates_are_refused() {
        let p = policy(
            "g",
            r#"{"permissions":[{"role":"readonly","cache":"{sub}"}]}"#,
            60,
        );
        for bad in ["", "a/b", "a\"b", "a{b", "a\\b", "a\nb", &"x".repeat(129)] {
            assert!(
                matches!(p.render(bad), Err(VendError::Forbidden(_))),
                "{bad:?}"
            );
        }
        assert!(
            p.render("*").is_err(),
            "a subject `*` must not become all caches"
        );
        let limits = ScopeLimits::default();
        let unknown = r#"{"permissions":[{"role":"readonly","cache":"{user}"}]}"#;
        assert!(Policy::new("g", unknown, 60, &limits).is_err());
        let in_role = r#"{"permissions":[{"role":"{sub}","cache":"c"}]}"#;
        assert!(Policy::new("g", in_role, 60, &limits).is_err());
        assert!(
            Policy::new(
                "a/b",
                r#"{"permissions":[{"role":"readonly","cache":"c"}]}"#,
                60,
                &limits
            )
            .is_err()
        );
        let empty_prefix =
            r#"{"permissions":[{"role":"readonly","cache":"c","item":{"keyPrefix":""}}]}"#;
        assert!(Policy::new("g", empty_prefix, 60, &limits).is_err());
    }

    #[test]
    fn the_union_merges_included_roles_and_refuses_disjoint_ones() {
        let limits = ScopeLimits::default();
        let ro = policy(
            "ro",
            r#"{"permissions":[{"role":"readonly","cache":"c"}]}"#,
            600,
        );
        let rw = policy(
            "rw",
            r#"{"permissions":[{"role":"readwrite","cache":"c"}]}"#,
            60,
        );
        let wo = policy(
            "wo",
            r#"{"permissions":[{"role":"writeonly","cache":"c"}]}"#,
            60,
        );
        let (scope, ttl) = union([&ro, &rw], "s", &limits).unwrap().unwrap();
        assert_eq!(ttl, 60, "the shortest lifetime");
        let text = rendered(&scope);
        assert!(
            text.contains("readwrite") && !text.contains("readonly"),
            "{text}"
        );
        assert!(matches!(
            union([&ro, &wo], "s", &limits),
            Err(VendError::Forbidden(_))
        ));
        assert!(union([], "s", &limits).unwrap().is_none());
    }
}
