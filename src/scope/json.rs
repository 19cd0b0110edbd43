//! Momento's documented JSON shape of a scope, to and from the protobuf model.
//!
//! ```json
//! {"permissions": [
//!   {"role": "readwrite", "cache": "orders", "item": {"keyPrefix": "user-1/"}},
//!   {"role": "subscribeonly", "cache": "*", "topic": {"prefix": "news-"}}
//! ]}
//! ```
//! - cache roles `readwrite | readonly | writeonly`; topic roles
//!   `publishsubscribe | subscribeonly | publishonly`;
//! - `cache`: `"*"` (all), a name, or `{"name": ...}`;
//! - `item` (absent or `"*"` = all items): `{"key"}`, `{"keyPrefix"}`, and for keys
//!   that are not UTF-8 `{"keyBase64"}`, `{"keyPrefixBase64"}` (standard base64);
//! - `topic`: `"*"`, a name, `{"name"}`, or `{"prefix"}` (alias `{"namePrefix"}`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use momento_protos::permission_messages::{
    CacheRole, ExplicitPermissions, Permissions, PermissionsType, SuperUserPermissions, TopicRole,
    permissions, permissions_type,
};
use permissions_type::{
    All, CacheItemSelector, CachePermissions, CacheSelector, TopicPermissions, TopicSelector,
    cache_item_selector, cache_permissions, cache_selector, topic_permissions, topic_selector,
};
use serde_json::{Map, Value, json};

/// Parses a scope in Momento's JSON shape. The error says which permission and field is wrong.
pub fn parse(text: &str) -> Result<Permissions, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("scope is not JSON: {e}"))?;
    let object = value.as_object().ok_or("scope must be a JSON object")?;
    only_fields(object, &["permissions"], "scope")?;
    let list = object
        .get("permissions")
        .and_then(Value::as_array)
        .ok_or("scope needs a `permissions` array")?;
    let permissions = list
        .iter()
        .enumerate()
        .map(|(i, p)| permission(p).map_err(|e| format!("permission {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Permissions {
        kind: Some(permissions::Kind::Explicit(ExplicitPermissions {
            permissions,
        })),
    })
}

/// The superuser scope.
pub fn superuser() -> Permissions {
    Permissions {
        kind: Some(permissions::Kind::SuperUser(
            SuperUserPermissions::SuperUser as i32,
        )),
    }
}

fn permission(value: &Value) -> Result<PermissionsType, String> {
    use permissions_type::Kind;
    let object = value.as_object().ok_or("must be an object")?;
    let role = object
        .get("role")
        .and_then(Value::as_str)
        .ok_or("needs a string `role`")?;
    let kind = if let Some(role) = cache_role(role) {
        only_fields(object, &["role", "cache", "item"], "a cache permission")?;
        Kind::CachePermissions(CachePermissions {
            role: role as i32,
            cache: Some(match cache(object)? {
                None => cache_permissions::Cache::AllCaches(All {}),
                Some(s) => cache_permissions::Cache::CacheSelector(s),
            }),
            cache_item: Some(match item(object.get("item"))? {
                None => cache_permissions::CacheItem::AllItems(All {}),
                Some(s) => cache_permissions::CacheItem::ItemSelector(s),
            }),
        })
    } else if let Some(role) = topic_role(role) {
        only_fields(object, &["role", "cache", "topic"], "a topic permission")?;
        Kind::TopicPermissions(TopicPermissions {
            role: role as i32,
            cache: Some(match cache(object)? {
                None => topic_permissions::Cache::AllCaches(All {}),
                Some(s) => topic_permissions::Cache::CacheSelector(s),
            }),
            topic: Some(match topic(object.get("topic"))? {
                None => topic_permissions::Topic::AllTopics(All {}),
                Some(s) => topic_permissions::Topic::TopicSelector(s),
            }),
        })
    } else {
        return Err(format!(
            "unknown role `{role}` (expected readwrite, readonly, writeonly, \
             publishsubscribe, subscribeonly or publishonly)"
        ));
    };
    Ok(PermissionsType { kind: Some(kind) })
}

fn cache_role(role: &str) -> Option<CacheRole> {
    match role {
        "readwrite" => Some(CacheRole::CacheReadWrite),
        "readonly" => Some(CacheRole::CacheReadOnly),
        "writeonly" => Some(CacheRole::CacheWriteOnly),
        _ => None,
    }
}

fn topic_role(role: &str) -> Option<TopicRole> {
    match role {
        "publishsubscribe" => Some(TopicRole::TopicReadWrite),
        "subscribeonly" => Some(TopicRole::TopicReadOnly),
        "publishonly" => Some(TopicRole::TopicWriteOnly),
        _ => None,
    }
}

/// `None` means all caches.
fn cache(object: &Map<String, Value>) -> Result<Option<CacheSelector>, String> {
    let name = match object
        .get("cache")
        .ok_or("needs `cache` (\"*\" for all caches)")?
    {
        Value::String(s) if s == "*" => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Object(o) if o.len() == 1 => o
            .get("name")
            .and_then(Value::as_str)
            .ok_or("`cache` object takes `name`")?
            .to_owned(),
        _ => return Err("`cache` must be \"*\", a name, or {\"name\": ...}".into()),
    };
    Ok(Some(CacheSelector {
        kind: Some(cache_selector::Kind::CacheName(name)),
    }))
}

/// `None` means all items.
fn item(value: Option<&Value>) -> Result<Option<CacheItemSelector>, String> {
    use cache_item_selector::Kind;
    let kind = match value {
        None => return Ok(None),
        Some(Value::String(s)) if s == "*" => return Ok(None),
        Some(Value::Object(o)) if o.len() == 1 => {
            let (field, v) = o.iter().next().ok_or("empty `item`")?;
            let v = v.as_str().ok_or("`item` values are strings")?;
            match field.as_str() {
                "key" => Kind::Key(v.as_bytes().to_vec()),
                "keyPrefix" => Kind::KeyPrefix(v.as_bytes().to_vec()),
                "keyBase64" => Kind::Key(base64(v)?),
                "keyPrefixBase64" => Kind::KeyPrefix(base64(v)?),
                other => return Err(format!("unknown `item` field `{other}`")),
            }
        }
        Some(_) => {
            return Err(
                "`item` must be \"*\" or one of key, keyPrefix, keyBase64, keyPrefixBase64".into(),
            );
        }
    };
    Ok(Some(CacheItemSelector { kind: Some(kind) }))
}

/// `None` means all topics.
fn topic(value: Option<&Value>) -> Result<Option<TopicSelector>, String> {
    use topic_selector::Kind;
    let kind = match value.ok_or("needs `topic` (\"*\" for all topics)")? {
        Value::String(s) if s == "*" => return Ok(None),
        Value::String(s) => Kind::TopicName(s.clone()),
        Value::Object(o) if o.len() == 1 => {
            let (field, v) = o.iter().next().ok_or("empty `topic`")?;
            let v = v.as_str().ok_or("`topic` values are strings")?.to_owned();
            match field.as_str() {
                "name" => Kind::TopicName(v),
                "prefix" | "namePrefix" => Kind::TopicNamePrefix(v),
                other => return Err(format!("unknown `topic` field `{other}`")),
            }
        }
        _ => return Err("`topic` must be \"*\", a name, {\"name\"} or {\"prefix\"}".into()),
    };
    Ok(Some(TopicSelector { kind: Some(kind) }))
}

fn base64(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|_| "bad base64 in `item`".to_owned())
}

fn only_fields(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(field) => Err(format!("unknown field `{field}` in {what}")),
        None => Ok(()),
    }
}

/// Renders a scope in the same JSON shape (`"superuser"` for the superuser scope).
/// Malformed parts are rendered as `null` rather than guessed at.
pub fn render(scope: &Permissions) -> Value {
    use permissions_type::Kind;
    let list = match &scope.kind {
        Some(permissions::Kind::SuperUser(_)) => return json!("superuser"),
        Some(permissions::Kind::Explicit(e)) => &e.permissions,
        None => return Value::Null,
    };
    let rendered: Vec<Value> = list
        .iter()
        .map(|p| match &p.kind {
            Some(Kind::CachePermissions(c)) => render_cache_permission(c),
            Some(Kind::TopicPermissions(t)) => render_topic_permission(t),
            Some(Kind::FunctionPermissions(_)) => json!({"role": "function"}),
            None => Value::Null,
        })
        .collect();
    json!({ "permissions": rendered })
}

fn render_cache_permission(p: &CachePermissions) -> Value {
    let role = match CacheRole::try_from(p.role) {
        Ok(CacheRole::CacheReadWrite) => "readwrite",
        Ok(CacheRole::CacheReadOnly) => "readonly",
        Ok(CacheRole::CacheWriteOnly) => "writeonly",
        Ok(CacheRole::CachePermitNone) => "none",
        Err(_) => "unknown",
    };
    let cache = match &p.cache {
        Some(cache_permissions::Cache::AllCaches(_)) => json!("*"),
        Some(cache_permissions::Cache::CacheSelector(s)) => render_cache_name(s),
        None => Value::Null,
    };
    let item = match &p.cache_item {
        None | Some(cache_permissions::CacheItem::AllItems(_)) => json!("*"),
        Some(cache_permissions::CacheItem::ItemSelector(s)) => match &s.kind {
            None => json!("*"),
            Some(cache_item_selector::Kind::Key(k)) => bytes("key", k),
            Some(cache_item_selector::Kind::KeyPrefix(k)) => bytes("keyPrefix", k),
        },
    };
    json!({"role": role, "cache": cache, "item": item})
}

fn render_topic_permission(p: &TopicPermissions) -> Value {
    let role = match TopicRole::try_from(p.role) {
        Ok(TopicRole::TopicReadWrite) => "publishsubscribe",
        Ok(TopicRole::TopicReadOnly) => "subscribeonly",
        Ok(TopicRole::TopicWriteOnly) => "publishonly",
        Ok(TopicRole::TopicPermitNone) => "none",
        Err(_) => "unknown",
    };
    let cache = match &p.cache {
        Some(topic_permissions::Cache::AllCaches(_)) => json!("*"),
        Some(topic_permissions::Cache::CacheSelector(s)) => render_cache_name(s),
        None => Value::Null,
    };
    let topic = match &p.topic {
        Some(topic_permissions::Topic::AllTopics(_)) => json!("*"),
        Some(topic_permissions::Topic::TopicSelector(s)) => match &s.kind {
            Some(topic_selector::Kind::TopicName(n)) => name(n),
            Some(topic_selector::Kind::TopicNamePrefix(n)) => json!({"prefix": n}),
            None => Value::Null,
        },
        None => Value::Null,
    };
    json!({"role": role, "cache": cache, "topic": topic})
}

fn render_cache_name(s: &CacheSelector) -> Value {
    match &s.kind {
        Some(cache_selector::Kind::CacheName(n)) => name(n),
        None => Value::Null,
    }
}

/// A cache or topic name: the bare string, except a name that is literally
/// `*`, which the bare form would turn into "all" (a cache named `*` must not
/// widen into every cache when a displayed scope is minted again).
fn name(n: &str) -> Value {
    if n == "*" {
        json!({ "name": n })
    } else {
        json!(n)
    }
}

/// `{"key": "text"}`, or `{"keyBase64": "..."}` when the bytes are not UTF-8.
fn bytes(field: &str, value: &[u8]) -> Value {
    match std::str::from_utf8(value) {
        Ok(text) => json!({ field: text }),
        Err(_) => json!({ format!("{field}Base64"): STANDARD.encode(value) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_selector() {
        let text = r#"{"permissions":[
            {"role":"readwrite","cache":"orders","item":{"keyPrefix":"u/"}},
            {"role":"readonly","cache":"*","item":{"key":"k"}},
            {"role":"writeonly","cache":"c","item":{"keyBase64":"/w=="}},
            {"role":"publishsubscribe","cache":"c","topic":"t"},
            {"role":"subscribeonly","cache":"*","topic":{"prefix":"news-"}},
            {"role":"publishonly","cache":"c","topic":"*"}]}"#;
        let scope = parse(text).unwrap();
        let rendered = render(&scope);
        assert_eq!(parse(&rendered.to_string()).unwrap(), scope);
        assert_eq!(
            rendered["permissions"][2]["item"],
            json!({"keyBase64": "/w=="})
        );
        assert_eq!(rendered["permissions"][1]["item"], json!({"key": "k"}));
    }

    #[test]
    fn names_what_is_wrong() {
        for (text, expected) in [
            ("[]", "scope must be a JSON object"),
            ("{}", "scope needs a `permissions` array"),
            (r#"{"permissions":[],"x":1}"#, "unknown field `x` in scope"),
            (
                r#"{"permissions":[{"role":"admin","cache":"*"}]}"#,
                "permission 0: unknown role `admin`",
            ),
            (
                r#"{"permissions":[{"role":"readonly"}]}"#,
                "permission 0: needs `cache`",
            ),
            (
                r#"{"permissions":[{"role":"readonly","cache":"*","topic":"t"}]}"#,
                "unknown field `topic`",
            ),
            (
                r#"{"permissions":[{"role":"publishonly","cache":"*"}]}"#,
                "needs `topic`",
            ),
            (
                r#"{"permissions":[{"role":"readonly","cache":"*","item":{"k":"v"}}]}"#,
                "unknown `item` field `k`",
            ),
            (
                r#"{"permissions":[{"role":"readonly","cache":7}]}"#,
                "`cache` must be",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    /// parse(render(s)) == s for every scope parse accepts, over names and
    /// keys chosen to look like syntax (`*`, empty, braces, quotes, non-UTF-8);
    /// the fuzz target `scope_json` checks the same over arbitrary input.
    #[test]
    fn every_parsed_scope_round_trips_exactly() {
        let names = [
            "*",
            "**",
            " *",
            "a",
            "{\"name\":\"x\"}",
            "\"",
            "ünï",
            "\u{0}",
            "prefix",
        ];
        let mut selectors: Vec<(String, String)> = Vec::new();
        for n in names {
            let n = serde_json::to_string(n).unwrap();
            selectors.push((format!("{{\"name\":{n}}}"), format!("{{\"name\":{n}}}")));
            selectors.push((n.clone(), format!("{{\"prefix\":{n}}}")));
        }
        selectors.push(("\"*\"".into(), "\"*\"".into()));
        let items = [
            "\"*\"",
            r#"{"key":"*"}"#,
            r#"{"keyPrefix":"*"}"#,
            r#"{"keyBase64":"/w=="}"#,
            r#"{"keyPrefixBase64":"KiI="}"#,
        ];
        let mut checked = 0;
        for (cache, topic) in &selectors {
            for item in items {
                let text = format!(
                    r#"{{"permissions":[{{"role":"readonly","cache":{cache},"item":{item}}},{{"role":"publishonly","cache":{cache},"topic":{topic}}}]}}"#
                );
                let scope = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                let rendered = render(&scope).to_string();
                assert_eq!(parse(&rendered).unwrap(), scope, "{text} -> {rendered}");
                checked += 1;
            }
        }
        assert!(checked > 50);
        // The widening that once happened: a cache and a topic named `*`.
        let named = parse(r#"{"permissions":[{"role":"readonly","cache":{"name":"*"}},{"role":"subscribeonly","cache":"c","topic":{"name":"*"}}]}"#).unwrap();
        let rendered = render(&named);
        assert_eq!(rendered["permissions"][0]["cache"], json!({"name": "*"}));
        assert_eq!(rendered["permissions"][1]["topic"], json!({"name": "*"}));
    }

    #[test]
    fn renders_superuser_as_a_word() {
        assert_eq!(render(&superuser()), json!("superuser"));
    }
}
