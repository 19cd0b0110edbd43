//! `permission_messages::Permissions` -> [`CompiledScope`], with SPEC 3.3's validations.
//!
//! The same function runs when a credential is minted (errors are
//! INVALID_ARGUMENT) and when one is verified (errors are AUTHENTICATION_ERROR,
//! reason `bad_scope`), so a scope that could not be issued is never honoured.

use momento_protos::permission_messages::{
    CacheRole, ExplicitPermissions, Permissions, PermissionsType, SuperUserPermissions, TopicRole,
    permissions, permissions_type,
};
use permissions_type::{cache_item_selector, cache_selector, topic_selector};

use super::{CompiledScope, Grant, Grants, Selector, cap};

/// Limits that apply to every scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeLimits {
    /// The most permissions one explicit scope may list (SPEC 3.3, default 20).
    pub max_permissions: usize,
}

impl Default for ScopeLimits {
    fn default() -> Self {
        ScopeLimits {
            max_permissions: 20,
        }
    }
}

/// Why a scope is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope has no kind (neither superuser nor explicit)")]
    Missing,
    #[error("unknown superuser permission value")]
    UnknownSuperUser,
    #[error("explicit scope lists no permissions")]
    Empty,
    #[error("scope lists {count} permissions; at most {max} are allowed")]
    TooMany { count: usize, max: usize },
    #[error("permission {index} has no kind")]
    MissingKind { index: usize },
    #[error("permission {index} has an unknown role")]
    UnknownRole { index: usize },
    #[error("permission {index} names no cache (use all caches or a cache name)")]
    MissingCache { index: usize },
    #[error("permission {index} has an empty cache name")]
    EmptyCacheName { index: usize },
    #[error("permission {index} has an empty key")]
    EmptyKey { index: usize },
    #[error("permission {index} has an empty key prefix")]
    EmptyKeyPrefix { index: usize },
    #[error("permission {index} names no topic (use all topics, a topic name or a prefix)")]
    MissingTopic { index: usize },
    #[error("permission {index} has an empty topic name")]
    EmptyTopicName { index: usize },
    #[error("permission {index} has an empty topic prefix")]
    EmptyTopicPrefix { index: usize },
    #[error("permissions {first} and {second} select the same resources with different roles")]
    ConflictingRoles { first: usize, second: usize },
}

/// Validates and compiles a scope.
pub fn compile(scope: &Permissions, limits: &ScopeLimits) -> Result<CompiledScope, ScopeError> {
    match &scope.kind {
        None => Err(ScopeError::Missing),
        Some(permissions::Kind::SuperUser(value)) => {
            if *value == SuperUserPermissions::SuperUser as i32 {
                Ok(CompiledScope::superuser())
            } else {
                Err(ScopeError::UnknownSuperUser)
            }
        }
        Some(permissions::Kind::Explicit(explicit)) => compile_explicit(explicit, limits),
    }
}

/// A permission before its role is turned into capabilities: kept to find
/// two permissions with the same selectors and different roles.
struct Compiled {
    index: usize,
    topic: bool,
    role: i32,
    cache: Selector,
    within: Selector,
}

fn compile_explicit(
    explicit: &ExplicitPermissions,
    limits: &ScopeLimits,
) -> Result<CompiledScope, ScopeError> {
    let list = &explicit.permissions;
    if list.is_empty() {
        return Err(ScopeError::Empty);
    }
    if list.len() > limits.max_permissions {
        return Err(ScopeError::TooMany {
            count: list.len(),
            max: limits.max_permissions,
        });
    }
    let mut compiled = Vec::with_capacity(list.len());
    for (index, permission) in list.iter().enumerate() {
        if let Some(one) = compile_one(index, permission)? {
            compiled.push(one);
        }
    }
    for (i, a) in compiled.iter().enumerate() {
        for b in &compiled[i + 1..] {
            if a.topic == b.topic && a.cache == b.cache && a.within == b.within && a.role != b.role
            {
                return Err(ScopeError::ConflictingRoles {
                    first: a.index,
                    second: b.index,
                });
            }
        }
    }
    let mut items = Vec::new();
    let mut topics = Vec::new();
    for c in compiled {
        let caps = capabilities(c.topic, c.role);
        if caps == 0 {
            continue; // PermitNone: grants nothing.
        }
        let grant = Grant {
            caps,
            cache: c.cache,
            within: c.within,
        };
        let list = if c.topic { &mut topics } else { &mut items };
        if !list.contains(&grant) {
            list.push(grant);
        }
    }
    Ok(CompiledScope(Grants::Explicit {
        items: items.into_boxed_slice(),
        topics: topics.into_boxed_slice(),
    }))
}

fn compile_one(index: usize, permission: &PermissionsType) -> Result<Option<Compiled>, ScopeError> {
    use permissions_type::{Kind, cache_permissions, topic_permissions};
    match &permission.kind {
        None => Err(ScopeError::MissingKind { index }),
        // Function permissions grant nothing a cache or topic operation needs.
        Some(Kind::FunctionPermissions(_)) => Ok(None),
        Some(Kind::CachePermissions(p)) => {
            CacheRole::try_from(p.role).map_err(|_| ScopeError::UnknownRole { index })?;
            let cache = match &p.cache {
                None => return Err(ScopeError::MissingCache { index }),
                Some(cache_permissions::Cache::AllCaches(_)) => Selector::Any,
                Some(cache_permissions::Cache::CacheSelector(s)) => cache_name(index, s)?,
            };
            let within = match &p.cache_item {
                None | Some(cache_permissions::CacheItem::AllItems(_)) => Selector::Any,
                Some(cache_permissions::CacheItem::ItemSelector(s)) => match &s.kind {
                    None => Selector::Any,
                    Some(cache_item_selector::Kind::Key(k)) if k.is_empty() => {
                        return Err(ScopeError::EmptyKey { index });
                    }
                    Some(cache_item_selector::Kind::Key(k)) => Selector::Exact(k.as_slice().into()),
                    Some(cache_item_selector::Kind::KeyPrefix(k)) if k.is_empty() => {
                        return Err(ScopeError::EmptyKeyPrefix { index });
                    }
                    Some(cache_item_selector::Kind::KeyPrefix(k)) => {
                        Selector::Prefix(k.as_slice().into())
                    }
                },
            };
            Ok(Some(Compiled {
                index,
                topic: false,
                role: p.role,
                cache,
                within,
            }))
        }
        Some(Kind::TopicPermissions(p)) => {
            TopicRole::try_from(p.role).map_err(|_| ScopeError::UnknownRole { index })?;
            let cache = match &p.cache {
                None => return Err(ScopeError::MissingCache { index }),
                Some(topic_permissions::Cache::AllCaches(_)) => Selector::Any,
                Some(topic_permissions::Cache::CacheSelector(s)) => cache_name(index, s)?,
            };
            let within = match &p.topic {
                None => return Err(ScopeError::MissingTopic { index }),
                Some(topic_permissions::Topic::AllTopics(_)) => Selector::Any,
                Some(topic_permissions::Topic::TopicSelector(s)) => match &s.kind {
                    None => return Err(ScopeError::MissingTopic { index }),
                    Some(topic_selector::Kind::TopicName(n)) if n.is_empty() => {
                        return Err(ScopeError::EmptyTopicName { index });
                    }
                    Some(topic_selector::Kind::TopicName(n)) => {
                        Selector::Exact(n.as_bytes().into())
                    }
                    Some(topic_selector::Kind::TopicNamePrefix(n)) if n.is_empty() => {
                        return Err(ScopeError::EmptyTopicPrefix { index });
                    }
                    Some(topic_selector::Kind::TopicNamePrefix(n)) => {
                        Selector::Prefix(n.as_bytes().into())
                    }
                },
            };
            Ok(Some(Compiled {
                index,
                topic: true,
                role: p.role,
                cache,
                within,
            }))
        }
    }
}

fn cache_name(index: usize, s: &permissions_type::CacheSelector) -> Result<Selector, ScopeError> {
    match &s.kind {
        None => Err(ScopeError::MissingCache { index }),
        Some(cache_selector::Kind::CacheName(n)) if n.is_empty() => {
            Err(ScopeError::EmptyCacheName { index })
        }
        Some(cache_selector::Kind::CacheName(n)) => Ok(Selector::Exact(n.as_bytes().into())),
    }
}

/// The capabilities a role grants (SPEC 3.2). Roles were validated before.
fn capabilities(topic: bool, role: i32) -> u8 {
    if topic {
        match TopicRole::try_from(role) {
            Ok(TopicRole::TopicReadWrite) => cap::PUBLISH | cap::SUBSCRIBE,
            Ok(TopicRole::TopicReadOnly) => cap::SUBSCRIBE,
            Ok(TopicRole::TopicWriteOnly) => cap::PUBLISH,
            Ok(TopicRole::TopicPermitNone) | Err(_) => 0,
        }
    } else {
        match CacheRole::try_from(role) {
            Ok(CacheRole::CacheReadWrite) => cap::READ | cap::WRITE | cap::READ_WRITE,
            Ok(CacheRole::CacheReadOnly) => cap::READ,
            Ok(CacheRole::CacheWriteOnly) => cap::WRITE,
            Ok(CacheRole::CachePermitNone) | Err(_) => 0,
        }
    }
}
