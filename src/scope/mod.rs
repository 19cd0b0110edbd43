//! Scope: what a credential grants, compiled once, evaluated on every request.
//!
//! - [`compile`] turns `permission_messages::Permissions` into a [`CompiledScope`],
//!   applying the issue-time validations of SPEC 3.3.
//! - [`CompiledScope::authorize`] decides SPEC 3.2 for one [`Operation`]: it is the
//!   one permission check of the whole gateway, it allocates nothing, and it is
//!   the only code that can make a [`Permit`].
//! - [`json`] reads and writes Momento's documented JSON shape of a scope.

mod compile;
pub mod json;
#[cfg(test)]
mod tests;

pub use compile::{ScopeError, ScopeLimits, compile};

use crate::operation::{Class, Keys, Operation, OperationKind, Target};

/// A compiled scope: superuser, or a list of explicit grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledScope(Grants);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Grants {
    SuperUser,
    /// Cache-item grants and topic grants are kept apart: one never grants the other.
    Explicit {
        items: Box<[Grant]>,
        topics: Box<[Grant]>,
    },
}

/// Capability bits. A grant holds the bits of its role; a need is one bit.
mod cap {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
    pub const READ_WRITE: u8 = 4;
    pub const PUBLISH: u8 = 8;
    pub const SUBSCRIBE: u8 = 16;
}

/// A compiled selector over a name or key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Selector {
    Any,
    Exact(Box<[u8]>),
    Prefix(Box<[u8]>),
}

impl Selector {
    #[inline]
    fn matches(&self, value: &[u8]) -> bool {
        match self {
            Selector::Any => true,
            Selector::Exact(exact) => **exact == *value,
            Selector::Prefix(prefix) => value.starts_with(prefix),
        }
    }
}

/// One permission, compiled: the capabilities of its role, a cache selector,
/// and a selector over item keys (for item grants) or topic names (for topic grants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    caps: u8,
    cache: Selector,
    within: Selector,
}

/// Proof that one operation was authorized, naming what it was authorized
/// for: its kind, its cache and its target (keys or topic), borrowed from the
/// request. Only [`CompiledScope::authorize`] makes one (the fields are
/// private), and backends take nothing else: they read the cache, keys and
/// topic from the permit, so a backend cannot be handed a key the
/// authorizer did not see.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Permit<'a> {
    kind: OperationKind,
    cache: &'a str,
    target: Target<'a>,
}

impl<'a> Permit<'a> {
    /// The kind of operation this permit was issued for.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    /// The cache (for the control plane, the cache it creates, deletes or
    /// flushes; empty for operations that have none).
    pub fn cache(&self) -> &'a str {
        self.cache
    }

    pub fn target(&self) -> Target<'a> {
        self.target
    }

    /// The one key of a single-key permit; `None` for any other target.
    pub fn key(&self) -> Option<&'a [u8]> {
        match self.target {
            Target::Keys(Keys::One(key)) => Some(key),
            _ => None,
        }
    }

    /// The topic of a topic permit.
    pub fn topic(&self) -> Option<&'a str> {
        match self.target {
            Target::Topic(topic) => Some(topic),
            _ => None,
        }
    }

    /// One single-key permit per key of this one, in order: the keys of a
    /// batch, each vouched for by the batch's authorization.
    pub fn each_key(&self) -> impl ExactSizeIterator<Item = Permit<'a>> + 'a {
        let this = *self;
        (0..self.key_count()).map(move |i| this.nth_key(i))
    }

    /// How many keys a key permit names (0 for any other).
    pub fn key_count(&self) -> usize {
        match self.target {
            Target::Keys(keys) => keys.len(),
            _ => 0,
        }
    }

    /// The single-key permit of the `i`-th key. Past the keys (a front's
    /// bug) it names no key, so every backend refuses it.
    pub fn nth_key(&self, i: usize) -> Permit<'a> {
        let target = match self.target {
            Target::Keys(keys) => keys
                .nth(i)
                .map_or(Target::None, |k| Target::Keys(Keys::One(k))),
            _ => Target::None,
        };
        Permit {
            kind: self.kind,
            cache: self.cache,
            target,
        }
    }
}

/// Why an operation is outside a scope. Each maps to PERMISSION_ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Denial {
    /// No permission names this cache.
    CacheNotGranted,
    /// The cache is granted, but not for this key (or key prefix).
    KeyNotGranted,
    /// The cache is granted, but not for this topic.
    TopicNotGranted,
    /// The cache and item or topic are granted, but the role lacks the capability.
    RoleNotGranted,
    /// Control plane and minting need a superuser credential.
    SuperUserRequired,
    /// The operation is malformed for its class (a front bug); fail closed.
    MalformedOperation,
}

impl Denial {
    /// A bounded label for metrics.
    pub const fn reason(self) -> &'static str {
        match self {
            Denial::CacheNotGranted => "cache_not_granted",
            Denial::KeyNotGranted => "key_not_granted",
            Denial::TopicNotGranted => "topic_not_granted",
            Denial::RoleNotGranted => "role_not_granted",
            Denial::SuperUserRequired => "superuser_required",
            Denial::MalformedOperation => "malformed_operation",
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Denial::CacheNotGranted => "not in scope: cache not granted",
            Denial::KeyNotGranted => "not in scope: key not granted",
            Denial::TopicNotGranted => "not in scope: topic not granted",
            Denial::RoleNotGranted => {
                "not in scope: the credential's role does not allow this operation"
            }
            Denial::SuperUserRequired => "only superuser credentials may do this",
            Denial::MalformedOperation => "operation refused",
        })
    }
}

/// How far a search got before it failed; the furthest stage names the denial.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    Nothing,
    Cache,
    Item,
}

impl CompiledScope {
    /// The superuser scope.
    pub const fn superuser() -> Self {
        CompiledScope(Grants::SuperUser)
    }

    pub fn is_superuser(&self) -> bool {
        matches!(self.0, Grants::SuperUser)
    }

    /// Decides whether this scope covers `op` (SPEC 3.2). Allocation-free.
    pub fn authorize<'a>(&self, op: &Operation<'a>) -> Result<Permit<'a>, Denial> {
        let permit = Permit {
            kind: op.kind,
            cache: op.cache,
            target: op.target,
        };
        let (items, topics) = match &self.0 {
            Grants::SuperUser => return Ok(permit),
            Grants::Explicit { items, topics } => (&**items, &**topics),
        };
        let cache = op.cache.as_bytes();
        match (op.kind.class(), op.target) {
            (Class::Read, Target::Keys(keys)) => all_keys(items, cache, keys, cap::READ),
            (Class::Write, Target::Keys(keys)) => all_keys(items, cache, keys, cap::WRITE),
            (Class::ReadWrite, Target::Keys(keys)) => all_keys(items, cache, keys, cap::READ_WRITE),
            (
                Class::ReadWriteFromSources,
                Target::Union {
                    destination,
                    sources,
                },
            ) => {
                let mut result = Ok(());
                sources.all(|key| {
                    result = item_granted(items, cache, key, cap::READ);
                    result.is_ok()
                });
                result.and_then(|()| item_granted(items, cache, destination, cap::READ_WRITE))
            }
            (Class::Publish, Target::Topic(topic)) => {
                topic_granted(topics, cache, topic, cap::PUBLISH)
            }
            (Class::Subscribe, Target::Topic(topic)) => {
                topic_granted(topics, cache, topic, cap::SUBSCRIBE)
            }
            (Class::SuperUser, _) => Err(Denial::SuperUserRequired),
            (Class::OwnCredential | Class::AnyCredential, Target::None) => Ok(()),
            _ => Err(Denial::MalformedOperation),
        }
        .map(|()| permit)
    }
}

/// All-of over keys; an operation with no key at all is refused (fail closed).
fn all_keys(grants: &[Grant], cache: &[u8], keys: Keys<'_>, need: u8) -> Result<(), Denial> {
    if keys.is_empty() {
        return Err(Denial::MalformedOperation);
    }
    let mut result = Ok(());
    keys.all(|key| {
        result = item_granted(grants, cache, key, need);
        result.is_ok()
    });
    result
}

/// Whether one grant alone covers (cache, key, need): grants are never combined.
fn item_granted(grants: &[Grant], cache: &[u8], key: &[u8], need: u8) -> Result<(), Denial> {
    search(grants, cache, key, need).map_err(|reached| match reached {
        Reached::Nothing => Denial::CacheNotGranted,
        Reached::Cache => Denial::KeyNotGranted,
        Reached::Item => Denial::RoleNotGranted,
    })
}

fn topic_granted(grants: &[Grant], cache: &[u8], topic: &str, need: u8) -> Result<(), Denial> {
    search(grants, cache, topic.as_bytes(), need).map_err(|reached| match reached {
        Reached::Nothing => Denial::CacheNotGranted,
        Reached::Cache => Denial::TopicNotGranted,
        Reached::Item => Denial::RoleNotGranted,
    })
}

/// Linear search for one grant covering (cache, value, need): about 4 ns per
/// grant, so ~100 ns for the default cap of 20 permissions (docs/PERFORMANCE.md,
/// `scope_match`). On failure, says how far the best grant got.
#[inline]
fn search(grants: &[Grant], cache: &[u8], value: &[u8], need: u8) -> Result<(), Reached> {
    let mut reached = Reached::Nothing;
    for grant in grants {
        if !grant.cache.matches(cache) {
            continue;
        }
        if !grant.within.matches(value) {
            reached = reached.max(Reached::Cache);
            continue;
        }
        if grant.caps & need != 0 {
            return Ok(());
        }
        reached = Reached::Item;
    }
    Err(reached)
}
