//! Shared by the fuzz targets: the test key ring, a structured scope generator,
//! and a reference model of SPEC 3.2 that `CompiledScope::authorize` is checked
//! against.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use momento_protos::permission_messages::{
    CacheRole, ExplicitPermissions, Permissions, PermissionsType, TopicRole, permissions,
    permissions_type,
};
use permissions_type::{
    All, CacheItemSelector, CachePermissions, CacheSelector, FunctionPermissions, TopicPermissions,
    TopicSelector, cache_item_selector, cache_permissions, cache_selector, topic_permissions,
    topic_selector,
};
use scopegate::operation::{Class, Keys, SourceKeys, Target};
use scopegate::scope::ScopeLimits;
use scopegate::token::{
    Algorithm, AuthPolicy, GeneratedKey, KeyRing, RevocationList, RingKey, generate,
};
use scopegate::{Authenticator, CompiledScope, Denial, Operation, OperationKind};
use sha2::Sha256;

/// The fuzzers' clock: every verification runs at this epoch second, so runs
/// are reproducible and hand-written seeds stay valid.
pub const NOW: u64 = 1_800_000_000;
/// Clock skew of the fuzzers' policy: non-zero, so leeway arithmetic is exercised.
pub const LEEWAY: u64 = 30;
/// The HS256 secret of kid `k1`, the ring's signing key.
pub const SECRET: &[u8] = b"scopegate-fuzz-k1-secret-0123456789abcdef";
/// The HS256 secret of kid `k2`, a verify-only key of the same ring.
pub const SECRET2: &[u8] = b"scopegate-fuzz-k2-secret-0123456789abcdef";

/// kid `k1` (HS256, signing), `k2` (HS256), `e1` (EdDSA, a fresh key pair).
pub fn ring() -> Arc<KeyRing> {
    static RING: OnceLock<Arc<KeyRing>> = OnceLock::new();
    Arc::clone(RING.get_or_init(|| {
        let GeneratedKey::Ed25519 { private_pem, .. } =
            generate(Algorithm::EdDSA).expect("system randomness")
        else {
            unreachable!("EdDSA yields a key pair")
        };
        let keys = vec![
            RingKey::hs256("k1", SECRET).unwrap(),
            RingKey::hs256("k2", SECRET2).unwrap(),
            RingKey::ed25519("e1", Some(&private_pem), None).unwrap(),
        ];
        Arc::new(KeyRing::new(keys, Some("k1")).unwrap())
    }))
}

pub fn policy() -> AuthPolicy {
    AuthPolicy {
        leeway_secs: LEEWAY,
        cache_entries: 64,
        ..AuthPolicy::default()
    }
}

/// A fresh authenticator (its own revocation list and verification cache).
pub fn authenticator() -> (Authenticator, Arc<RevocationList>) {
    let revocations = Arc::new(RevocationList::default());
    let auth = Authenticator::new(ring(), policy(), Arc::clone(&revocations));
    (auth, revocations)
}

/// `b64(header) "." b64(claims) "." b64(HMAC-SHA256(secret, ...))`.
pub fn sign_hs256(header: &[u8], claims: &[u8], secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = hs256(input.as_bytes(), secret);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

pub fn hs256(message: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

// ---------------------------------------------------------------------------
// Structured scopes.

/// A name from a small pool (so that selectors and operations collide often),
/// or any string.
#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    Pool(u8),
    Free(String),
}

const NAMES: &[&str] = &[
    "c",
    "orders",
    "*",
    "default-cache",
    "user-1/",
    "user-1/prefs",
    "",
    "chat-",
    "chat-1",
    "é",
    "{name}",
];

impl Name {
    pub fn text(&self) -> String {
        match self {
            Name::Pool(i) => NAMES[*i as usize % NAMES.len()].to_owned(),
            Name::Free(s) => s.clone(),
        }
    }
}

/// Key bytes: a pool name, or any bytes (not UTF-8 too).
#[derive(Arbitrary, Debug, Clone)]
pub enum KeyBytes {
    Pool(u8),
    Free(Vec<u8>),
}

impl KeyBytes {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            KeyBytes::Pool(i) if *i == 255 => vec![0xff, 0x00],
            KeyBytes::Pool(i) => NAMES[*i as usize % NAMES.len()].as_bytes().to_vec(),
            KeyBytes::Free(b) => b.clone(),
        }
    }
}

/// A role number: mostly the valid ones (0 to 3), sometimes anything.
#[derive(Arbitrary, Debug, Clone)]
pub enum Role {
    Known(u8),
    Any(i32),
}

impl Role {
    fn value(&self) -> i32 {
        match self {
            Role::Known(r) => i32::from(*r % 4),
            Role::Any(r) => *r,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ArbCache {
    Missing,
    All,
    NoKind,
    Named(Name),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ArbItem {
    Missing,
    All,
    NoKind,
    Key(KeyBytes),
    Prefix(KeyBytes),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ArbTopic {
    Missing,
    All,
    NoKind,
    Name(Name),
    Prefix(Name),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ArbPermission {
    Cache {
        role: Role,
        cache: ArbCache,
        item: ArbItem,
    },
    Topic {
        role: Role,
        cache: ArbCache,
        topic: ArbTopic,
    },
    Function,
    NoKind,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum ArbScope {
    SuperUser(i32),
    /// `SuperUser(0)`, the valid superuser value.
    ValidSuperUser,
    Explicit(Vec<ArbPermission>),
    Missing,
}

impl ArbCache {
    fn cache_selector(&self) -> Option<Option<CacheSelector>> {
        match self {
            ArbCache::Missing => None,
            ArbCache::All => Some(None),
            ArbCache::NoKind => Some(Some(CacheSelector { kind: None })),
            ArbCache::Named(n) => Some(Some(CacheSelector {
                kind: Some(cache_selector::Kind::CacheName(n.text())),
            })),
        }
    }
}

impl ArbPermission {
    pub fn to_proto(&self) -> PermissionsType {
        use permissions_type::Kind;
        let kind = match self {
            ArbPermission::NoKind => None,
            ArbPermission::Function => Some(Kind::FunctionPermissions(FunctionPermissions {
                role: 1,
                cache: None,
                function: None,
            })),
            ArbPermission::Cache { role, cache, item } => {
                Some(Kind::CachePermissions(CachePermissions {
                    role: role.value(),
                    cache: cache.cache_selector().map(|s| match s {
                        None => cache_permissions::Cache::AllCaches(All {}),
                        Some(s) => cache_permissions::Cache::CacheSelector(s),
                    }),
                    cache_item: match item {
                        ArbItem::Missing => None,
                        ArbItem::All => Some(cache_permissions::CacheItem::AllItems(All {})),
                        ArbItem::NoKind => Some(cache_permissions::CacheItem::ItemSelector(
                            CacheItemSelector { kind: None },
                        )),
                        ArbItem::Key(k) => Some(cache_permissions::CacheItem::ItemSelector(
                            CacheItemSelector {
                                kind: Some(cache_item_selector::Kind::Key(k.bytes())),
                            },
                        )),
                        ArbItem::Prefix(k) => Some(cache_permissions::CacheItem::ItemSelector(
                            CacheItemSelector {
                                kind: Some(cache_item_selector::Kind::KeyPrefix(k.bytes())),
                            },
                        )),
                    },
                }))
            }
            ArbPermission::Topic { role, cache, topic } => {
                Some(Kind::TopicPermissions(TopicPermissions {
                    role: role.value(),
                    cache: cache.cache_selector().map(|s| match s {
                        None => topic_permissions::Cache::AllCaches(All {}),
                        Some(s) => topic_permissions::Cache::CacheSelector(s),
                    }),
                    topic: match topic {
                        ArbTopic::Missing => None,
                        ArbTopic::All => Some(topic_permissions::Topic::AllTopics(All {})),
                        ArbTopic::NoKind => {
                            Some(topic_permissions::Topic::TopicSelector(TopicSelector {
                                kind: None,
                            }))
                        }
                        ArbTopic::Name(n) => {
                            Some(topic_permissions::Topic::TopicSelector(TopicSelector {
                                kind: Some(topic_selector::Kind::TopicName(n.text())),
                            }))
                        }
                        ArbTopic::Prefix(n) => {
                            Some(topic_permissions::Topic::TopicSelector(TopicSelector {
                                kind: Some(topic_selector::Kind::TopicNamePrefix(n.text())),
                            }))
                        }
                    },
                }))
            }
        };
        PermissionsType { kind }
    }
}

impl ArbScope {
    pub fn to_proto(&self) -> Permissions {
        let kind = match self {
            ArbScope::Missing => None,
            ArbScope::SuperUser(v) => Some(permissions::Kind::SuperUser(*v)),
            ArbScope::ValidSuperUser => Some(permissions::Kind::SuperUser(0)),
            ArbScope::Explicit(list) => Some(permissions::Kind::Explicit(ExplicitPermissions {
                permissions: list.iter().map(ArbPermission::to_proto).collect(),
            })),
        };
        Permissions { kind }
    }
}

// ---------------------------------------------------------------------------
// The reference model of SPEC 3.2: an operation is allowed when one
// permission alone names its cache, covers its key (or topic) and has a role
// with the capability. Straight from the protobuf, no compilation.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
    ReadWrite,
    Publish,
    Subscribe,
}

fn cache_matches_item(p: &CachePermissions, cache: &[u8]) -> bool {
    match &p.cache {
        Some(cache_permissions::Cache::AllCaches(_)) => true,
        Some(cache_permissions::Cache::CacheSelector(CacheSelector {
            kind: Some(cache_selector::Kind::CacheName(n)),
        })) => n.as_bytes() == cache,
        _ => false,
    }
}

fn cache_matches_topic(p: &TopicPermissions, cache: &[u8]) -> bool {
    match &p.cache {
        Some(topic_permissions::Cache::AllCaches(_)) => true,
        Some(topic_permissions::Cache::CacheSelector(CacheSelector {
            kind: Some(cache_selector::Kind::CacheName(n)),
        })) => n.as_bytes() == cache,
        _ => false,
    }
}

/// Whether the explicit scope `p` (which compiled) allows `need` on `key` of `cache`.
pub fn model_item(p: &Permissions, cache: &[u8], key: &[u8], need: Need) -> bool {
    let Some(permissions::Kind::Explicit(e)) = &p.kind else {
        return false;
    };
    e.permissions.iter().any(|perm| {
        let Some(permissions_type::Kind::CachePermissions(c)) = &perm.kind else {
            return false;
        };
        let caps: &[Need] = match CacheRole::try_from(c.role) {
            Ok(CacheRole::CacheReadWrite) => &[Need::Read, Need::Write, Need::ReadWrite],
            Ok(CacheRole::CacheReadOnly) => &[Need::Read],
            Ok(CacheRole::CacheWriteOnly) => &[Need::Write],
            _ => &[],
        };
        let within = match &c.cache_item {
            None | Some(cache_permissions::CacheItem::AllItems(_)) => true,
            Some(cache_permissions::CacheItem::ItemSelector(s)) => match &s.kind {
                None => true,
                Some(cache_item_selector::Kind::Key(k)) => k.as_slice() == key,
                Some(cache_item_selector::Kind::KeyPrefix(k)) => key.starts_with(k),
            },
        };
        caps.contains(&need) && cache_matches_item(c, cache) && within
    })
}

/// Whether the explicit scope `p` allows `need` on `topic` of `cache`.
pub fn model_topic(p: &Permissions, cache: &[u8], topic: &[u8], need: Need) -> bool {
    let Some(permissions::Kind::Explicit(e)) = &p.kind else {
        return false;
    };
    e.permissions.iter().any(|perm| {
        let Some(permissions_type::Kind::TopicPermissions(t)) = &perm.kind else {
            return false;
        };
        let caps: &[Need] = match TopicRole::try_from(t.role) {
            Ok(TopicRole::TopicReadWrite) => &[Need::Publish, Need::Subscribe],
            Ok(TopicRole::TopicReadOnly) => &[Need::Subscribe],
            Ok(TopicRole::TopicWriteOnly) => &[Need::Publish],
            _ => &[],
        };
        let within = match &t.topic {
            Some(topic_permissions::Topic::AllTopics(_)) => true,
            Some(topic_permissions::Topic::TopicSelector(s)) => match &s.kind {
                Some(topic_selector::Kind::TopicName(n)) => n.as_bytes() == topic,
                Some(topic_selector::Kind::TopicNamePrefix(n)) => topic.starts_with(n.as_bytes()),
                None => false,
            },
            None => false,
        };
        caps.contains(&need) && cache_matches_topic(t, cache) && within
    })
}

/// Every name and key the scope mentions, a byte more and a byte less: the
/// operations most likely to sit on a selector's edge.
pub fn harvest(p: &Permissions) -> (Vec<String>, Vec<Vec<u8>>) {
    let mut names: Vec<String> = ["c", "orders", "*", "", "x"].map(String::from).to_vec();
    let mut keys: Vec<Vec<u8>> = vec![b"k".to_vec(), b"*".to_vec(), vec![0xff]];
    let add_name = |names: &mut Vec<String>, n: &str| {
        names.push(n.to_owned());
        names.push(format!("{n}x"));
        let mut shorter = n.to_owned();
        shorter.pop();
        names.push(shorter);
    };
    let add_key = |keys: &mut Vec<Vec<u8>>, k: &[u8]| {
        keys.push(k.to_vec());
        let mut longer = k.to_vec();
        longer.push(b'x');
        keys.push(longer);
        if !k.is_empty() {
            keys.push(k[..k.len() - 1].to_vec());
        }
    };
    if let Some(permissions::Kind::Explicit(e)) = &p.kind {
        for perm in &e.permissions {
            let cache = match &perm.kind {
                Some(permissions_type::Kind::CachePermissions(CachePermissions {
                    cache: Some(cache_permissions::Cache::CacheSelector(s)),
                    ..
                }))
                | Some(permissions_type::Kind::TopicPermissions(TopicPermissions {
                    cache: Some(topic_permissions::Cache::CacheSelector(s)),
                    ..
                })) => s.kind.as_ref(),
                _ => None,
            };
            if let Some(cache_selector::Kind::CacheName(n)) = cache {
                add_name(&mut names, n);
            }
            match &perm.kind {
                Some(permissions_type::Kind::CachePermissions(CachePermissions {
                    cache_item: Some(cache_permissions::CacheItem::ItemSelector(s)),
                    ..
                })) => match &s.kind {
                    Some(cache_item_selector::Kind::Key(k))
                    | Some(cache_item_selector::Kind::KeyPrefix(k)) => add_key(&mut keys, k),
                    None => {}
                },
                Some(permissions_type::Kind::TopicPermissions(TopicPermissions {
                    topic: Some(topic_permissions::Topic::TopicSelector(s)),
                    ..
                })) => match &s.kind {
                    Some(topic_selector::Kind::TopicName(n))
                    | Some(topic_selector::Kind::TopicNamePrefix(n)) => {
                        add_name(&mut names, n);
                        add_key(&mut keys, n.as_bytes());
                    }
                    None => {}
                },
                _ => {}
            }
        }
    }
    names.sort();
    names.dedup();
    keys.sort();
    keys.dedup();
    // Bounded work per input.
    names.truncate(24);
    keys.truncate(24);
    (names, keys)
}

fn need_of(class: Class) -> Option<Need> {
    match class {
        Class::Read => Some(Need::Read),
        Class::Write => Some(Need::Write),
        Class::ReadWrite => Some(Need::ReadWrite),
        Class::Publish => Some(Need::Publish),
        Class::Subscribe => Some(Need::Subscribe),
        _ => None,
    }
}

/// Checks `compiled` (compiled from `p`) against the reference model on every
/// operation kind, over the names and keys the scope mentions.
pub fn check_authorization(p: &Permissions, compiled: &CompiledScope) {
    let superuser = compiled.is_superuser();
    let (names, keys) = harvest(p);
    let mut seen: Vec<(Class, OperationKind)> = Vec::new();
    for &kind in OperationKind::ALL {
        let class = kind.class();
        // Authorization depends on the class alone: the first kind of each
        // class is checked in full, every other kind against it at a few points.
        if let Some(&(_, first)) = seen.iter().find(|(c, _)| *c == class) {
            for cache in names.iter().take(4) {
                for key in keys.iter().take(4) {
                    let op = |k| Operation::key(k, cache, key);
                    assert_eq!(
                        compiled.authorize(&op(kind)).map(|p| p.kind() == kind),
                        compiled.authorize(&op(first)).map(|p| p.kind() == first),
                        "{kind:?} and {first:?} (both {class:?}) disagree"
                    );
                    if let Ok(topic) = std::str::from_utf8(key) {
                        let op = |k| Operation::topic(k, cache, topic);
                        assert_eq!(
                            compiled.authorize(&op(kind)).is_ok(),
                            compiled.authorize(&op(first)).is_ok(),
                            "{kind:?} and {first:?} (both {class:?}) disagree on topics"
                        );
                    }
                }
            }
            continue;
        }
        seen.push((class, kind));
        match class {
            Class::SuperUser => {
                let got = compiled.authorize(&Operation::global(kind));
                if superuser {
                    assert!(got.is_ok(), "superuser refused {kind:?}: {got:?}");
                } else {
                    assert_eq!(
                        got.err(),
                        Some(Denial::SuperUserRequired),
                        "a non-superuser scope was granted control-plane/minting op {kind:?}"
                    );
                }
                // A control-plane op dressed up with a cache and a key is still refused.
                let dressed = compiled.authorize(&Operation::key(kind, "c", b"k"));
                assert_eq!(
                    dressed.is_ok(),
                    superuser,
                    "{kind:?} with a key: {dressed:?}"
                );
            }
            Class::OwnCredential | Class::AnyCredential => {
                assert!(compiled.authorize(&Operation::global(kind)).is_ok());
            }
            Class::Read | Class::Write | Class::ReadWrite => {
                let need = need_of(class).unwrap();
                for cache in &names {
                    for key in &keys {
                        let got = compiled.authorize(&Operation::key(kind, cache, key));
                        let want = superuser || model_item(p, cache.as_bytes(), key, need);
                        assert_eq!(
                            got.is_ok(),
                            want,
                            "{kind:?} cache={cache:?} key={key:?}: authorize said {got:?}"
                        );
                        if let Err(d) = got {
                            assert!(matches!(
                                d,
                                Denial::CacheNotGranted
                                    | Denial::KeyNotGranted
                                    | Denial::RoleNotGranted
                            ));
                        }
                        // The same op as a topic op is malformed, never allowed.
                        if !superuser {
                            let wrong = compiled.authorize(&Operation::topic(kind, cache, "t"));
                            assert_eq!(wrong.err(), Some(Denial::MalformedOperation));
                        }
                    }
                    // All-of over several keys: allowed iff each one is.
                    if !superuser && keys.len() >= 2 {
                        let list = &keys[..2];
                        let got = compiled
                            .authorize(&Operation::keys(kind, cache, Keys::List(list)))
                            .is_ok();
                        let want = list
                            .iter()
                            .all(|k| compiled.authorize(&Operation::key(kind, cache, k)).is_ok());
                        assert_eq!(got, want, "{kind:?} on {cache:?} over {list:?}");
                    }
                    // No key at all: refused (fail closed).
                    if !superuser {
                        let none: &[Vec<u8>] = &[];
                        let got =
                            compiled.authorize(&Operation::keys(kind, cache, Keys::List(none)));
                        assert_eq!(got.err(), Some(Denial::MalformedOperation));
                    }
                }
            }
            Class::Publish | Class::Subscribe => {
                let need = need_of(class).unwrap();
                for cache in &names {
                    for topic in &names {
                        let got = compiled.authorize(&Operation::topic(kind, cache, topic));
                        let want =
                            superuser || model_topic(p, cache.as_bytes(), topic.as_bytes(), need);
                        assert_eq!(
                            got.is_ok(),
                            want,
                            "{kind:?} cache={cache:?} topic={topic:?}: authorize said {got:?}"
                        );
                        if !superuser {
                            // Topic grants never grant items, and vice versa.
                            let wrong =
                                compiled.authorize(&Operation::key(kind, cache, topic.as_bytes()));
                            assert_eq!(wrong.err(), Some(Denial::MalformedOperation));
                        }
                    }
                }
            }
            Class::ReadWriteFromSources => {
                use momento_protos::cache_client::sorted_set_union_store_request::Source;
                for cache in names.iter().take(8) {
                    let sources: Vec<Source> = keys
                        .iter()
                        .take(2)
                        .map(|k| Source {
                            set_name: k.clone(),
                            weight: 1.0,
                        })
                        .collect();
                    let destination = keys.last().unwrap();
                    let op = Operation {
                        kind,
                        cache,
                        target: Target::Union {
                            destination,
                            sources: SourceKeys(&sources),
                        },
                    };
                    let got = compiled.authorize(&op).is_ok();
                    let want = superuser
                        || (model_item(p, cache.as_bytes(), destination, Need::ReadWrite)
                            && sources
                                .iter()
                                .all(|s| model_item(p, cache.as_bytes(), &s.set_name, Need::Read)));
                    assert_eq!(got, want, "union store on {cache:?}: {op:?}");
                }
            }
        }
    }
}

/// Roomy limits for targets that check meaning rather than limits.
pub fn roomy_limits() -> ScopeLimits {
    ScopeLimits {
        max_permissions: 1000,
    }
}
