//! SPEC 3: every row of the classification table allowed and denied, union and
//! all-of semantics, exact and prefix keys, non-UTF-8 keys, and every 3.3 validation.

use momento_protos::cache_client::sorted_set_union_store_request::Source;
use momento_protos::cache_client::{GetRequest, SetRequest};
use momento_protos::permission_messages::{
    CacheRole, ExplicitPermissions, Permissions, PermissionsType, TopicRole, permissions,
    permissions_type,
};

use super::*;
use crate::operation::{Keys, OperationKind, SourceKeys, Target};

fn scope(json: &str) -> CompiledScope {
    compile(&super::json::parse(json).unwrap(), &ScopeLimits::default()).unwrap()
}

fn perm(role: &str, cache: &str, rest: &str) -> String {
    format!(r#"{{"permissions":[{{"role":"{role}","cache":"{cache}"{rest}}}]}}"#)
}

/// The class of every operation, written out independently of the table in
/// operation/mod.rs, straight from SPEC 3.4.
#[test]
fn the_table_matches_the_spec() {
    use Class::*;
    let spec: &[(&str, Class)] = &[
        ("Get", Read),
        ("GetWithHash", Read),
        ("ItemGetTtl", Read),
        ("ItemGetType", Read),
        ("GetBatch", Read),
        ("KeysExist", Read),
        ("DictionaryGet", Read),
        ("DictionaryFetch", Read),
        ("DictionaryLength", Read),
        ("SetFetch", Read),
        ("SetSample", Read),
        ("SetContains", Read),
        ("SetLength", Read),
        ("ListFetch", Read),
        ("ListLength", Read),
        ("SortedSetFetch", Read),
        ("SortedSetGetScore", Read),
        ("SortedSetGetRank", Read),
        ("SortedSetLength", Read),
        ("SortedSetLengthByScore", Read),
        ("Set", Write),
        ("Delete", Write),
        ("SetBatch", Write),
        ("DictionarySet", Write),
        ("DictionaryDelete", Write),
        ("SetUnion", Write),
        ("SetDifference", Write),
        ("SortedSetPut", Write),
        ("SortedSetRemove", Write),
        ("SetIf", ReadWrite),
        ("SetIfHash", ReadWrite),
        ("SetIfNotExists", ReadWrite),
        ("Increment", ReadWrite),
        ("UpdateTtl", ReadWrite),
        ("DictionaryIncrement", ReadWrite),
        ("SetPop", ReadWrite),
        ("ListPushFront", ReadWrite),
        ("ListPushBack", ReadWrite),
        ("ListConcatenateFront", ReadWrite),
        ("ListConcatenateBack", ReadWrite),
        ("ListPopFront", ReadWrite),
        ("ListPopBack", ReadWrite),
        ("ListRemove", ReadWrite),
        ("ListErase", ReadWrite),
        ("ListRetain", ReadWrite),
        ("SortedSetIncrement", ReadWrite),
        ("SortedSetUnionStore", ReadWriteFromSources),
        ("Publish", Publish),
        ("Subscribe", Subscribe),
        ("CreateCache", SuperUser),
        ("DeleteCache", SuperUser),
        ("ListCaches", SuperUser),
        ("FlushCache", SuperUser),
        ("CreateSigningKey", SuperUser),
        ("RevokeSigningKey", SuperUser),
        ("ListSigningKeys", SuperUser),
        ("CreateIndex", SuperUser),
        ("DeleteIndex", SuperUser),
        ("ListIndexes", SuperUser),
        ("GenerateDisposableToken", SuperUser),
        ("GenerateApiToken", SuperUser),
        ("RefreshApiToken", OwnCredential),
        ("Ping", AnyCredential),
        ("HttpCacheGet", Read),
        ("HttpCachePut", Write),
        ("HttpCacheDelete", Write),
        ("HttpTopicPublish", Publish),
        ("HttpTopicSubscribe", Subscribe),
    ];
    assert_eq!(
        spec.len(),
        OperationKind::ALL.len(),
        "a row was added or lost"
    );
    for &(name, class) in spec {
        let kind = OperationKind::ALL
            .iter()
            .find(|k| k.name() == name)
            .expect(name);
        assert_eq!(kind.class(), class, "{name}");
    }
}

/// The operation a test uses for `kind`: cache `c`, key or topic `k`.
fn op(kind: OperationKind) -> Operation<'static> {
    static SOURCES: [Source; 0] = [];
    match kind.class() {
        Class::Publish | Class::Subscribe => Operation::topic(kind, "c", "k"),
        Class::ReadWriteFromSources => Operation {
            kind,
            cache: "c",
            target: Target::Union {
                destination: b"k",
                sources: SourceKeys(&SOURCES),
            },
        },
        Class::SuperUser | Class::OwnCredential | Class::AnyCredential => Operation::global(kind),
        _ => Operation::key(kind, "c", b"k"),
    }
}

/// For every row: which roles allow it, and which denial every other scope gets.
#[test]
fn every_row_is_allowed_and_denied_as_the_spec_says() {
    let item_roles = ["readwrite", "readonly", "writeonly"];
    let topic_roles = ["publishsubscribe", "subscribeonly", "publishonly"];
    let superuser = CompiledScope::superuser();
    for &kind in OperationKind::ALL {
        let op = op(kind);
        assert!(
            superuser.authorize(&op).is_ok(),
            "superuser may do {kind:?}"
        );
        let allowed_roles: &[&str] = match kind.class() {
            Class::Read => &["readwrite", "readonly"],
            Class::Write => &["readwrite", "writeonly"],
            Class::ReadWrite | Class::ReadWriteFromSources => &["readwrite"],
            Class::Publish => &["publishsubscribe", "publishonly"],
            Class::Subscribe => &["publishsubscribe", "subscribeonly"],
            Class::SuperUser | Class::OwnCredential | Class::AnyCredential => &[],
        };
        let topic_op = matches!(kind.class(), Class::Publish | Class::Subscribe);
        for role in item_roles {
            let exact = scope(&perm(role, "c", r#","item":{"key":"k"}"#));
            let all = scope(&perm(role, "*", ""));
            let other_cache = scope(&perm(role, "d", ""));
            let other_key = scope(&perm(role, "c", r#","item":{"key":"j"}"#));
            let result = exact.authorize(&op);
            match kind.class() {
                Class::SuperUser => assert_eq!(result, Err(Denial::SuperUserRequired), "{kind:?}"),
                Class::OwnCredential | Class::AnyCredential => assert!(result.is_ok(), "{kind:?}"),
                // Cache permissions never grant topics: the cache is not granted for topics.
                _ if topic_op => {
                    assert_eq!(result, Err(Denial::CacheNotGranted), "{kind:?} {role}")
                }
                _ if allowed_roles.contains(&role) => {
                    assert_eq!(result.map(|p| p.kind()), Ok(kind), "{kind:?} {role}");
                    assert!(all.authorize(&op).is_ok(), "{kind:?} {role} on all caches");
                    assert_eq!(other_cache.authorize(&op), Err(Denial::CacheNotGranted));
                    assert_eq!(other_key.authorize(&op), Err(Denial::KeyNotGranted));
                }
                _ => assert_eq!(result, Err(Denial::RoleNotGranted), "{kind:?} {role}"),
            }
        }
        for role in topic_roles {
            let exact = scope(&perm(role, "c", r#","topic":"k""#));
            let prefix = scope(&perm(role, "c", r#","topic":{"prefix":"k"}"#));
            let other_topic = scope(&perm(role, "c", r#","topic":"j""#));
            let result = exact.authorize(&op);
            match kind.class() {
                Class::SuperUser => assert_eq!(result, Err(Denial::SuperUserRequired)),
                Class::OwnCredential | Class::AnyCredential => assert!(result.is_ok()),
                // Topic permissions never grant cache items.
                _ if !topic_op => {
                    assert_eq!(result, Err(Denial::CacheNotGranted), "{kind:?} {role}")
                }
                _ if allowed_roles.contains(&role) => {
                    assert!(result.is_ok(), "{kind:?} {role}");
                    assert!(prefix.authorize(&op).is_ok(), "{kind:?} {role} by prefix");
                    assert_eq!(other_topic.authorize(&op), Err(Denial::TopicNotGranted));
                }
                _ => assert_eq!(result, Err(Denial::RoleNotGranted), "{kind:?} {role}"),
            }
        }
    }
}

#[test]
fn every_key_of_a_multi_key_operation_must_be_granted() {
    let s = scope(
        r#"{"permissions":[
        {"role":"readwrite","cache":"c","item":{"keyPrefix":"u/"}},
        {"role":"readonly","cache":"c","item":{"key":"shared"}}]}"#,
    );
    let keys = |list: &[&[u8]]| list.iter().map(|k| k.to_vec()).collect::<Vec<_>>();
    let ok = keys(&[b"u/1", b"u/2", b"shared"]);
    let bad = keys(&[b"u/1", b"x/2"]);
    let exists = |k: &'_ [Vec<u8>]| {
        s.authorize(&Operation::keys(
            OperationKind::KeysExist,
            "c",
            Keys::List(k),
        ))
        .map(|_| ())
    };
    // Union over permissions: each key may be granted by a different permission.
    assert_eq!(exists(&ok), Ok(()));
    assert_eq!(exists(&bad), Err(Denial::KeyNotGranted));
    assert_eq!(
        exists(&[]),
        Err(Denial::MalformedOperation),
        "no key at all is refused"
    );
    let gets: Vec<GetRequest> = ok
        .iter()
        .map(|k| GetRequest {
            cache_key: k.clone(),
        })
        .collect();
    assert!(
        s.authorize(&Operation::keys(
            OperationKind::GetBatch,
            "c",
            Keys::Gets(&gets)
        ))
        .is_ok()
    );
    // SetBatch needs W on every key: `shared` is read-only.
    let sets: Vec<SetRequest> = ok
        .iter()
        .map(|k| SetRequest {
            cache_key: k.clone(),
            cache_body: vec![],
            ttl_milliseconds: 1,
        })
        .collect();
    let set_batch = Operation::keys(OperationKind::SetBatch, "c", Keys::Sets(&sets));
    assert_eq!(s.authorize(&set_batch), Err(Denial::RoleNotGranted));
    assert!(
        s.authorize(&Operation::keys(
            OperationKind::SetBatch,
            "c",
            Keys::Sets(&sets[..2])
        ))
        .is_ok()
    );
}

#[test]
fn permissions_are_never_combined_to_satisfy_read_write() {
    // Overlapping but different selectors (identical ones with different roles
    // are refused at issue time): key `k` gets R from one and W from the other.
    let s = scope(
        r#"{"permissions":[
        {"role":"readonly","cache":"c"},
        {"role":"writeonly","cache":"*","item":{"keyPrefix":"k"}}]}"#,
    );
    assert!(
        s.authorize(&Operation::key(OperationKind::Get, "c", b"k"))
            .is_ok()
    );
    assert!(
        s.authorize(&Operation::key(OperationKind::Set, "c", b"k"))
            .is_ok()
    );
    for kind in [
        OperationKind::SetIf,
        OperationKind::Increment,
        OperationKind::UpdateTtl,
    ] {
        assert_eq!(
            s.authorize(&Operation::key(kind, "c", b"k")),
            Err(Denial::RoleNotGranted)
        );
    }
}

#[test]
fn sorted_set_union_store_needs_rw_on_the_destination_and_r_on_every_source() {
    let s = scope(
        r#"{"permissions":[
        {"role":"readwrite","cache":"c","item":{"key":"dest"}},
        {"role":"readonly","cache":"c","item":{"keyPrefix":"src/"}}]}"#,
    );
    let sources = |names: &[&str]| -> Vec<Source> {
        names
            .iter()
            .map(|n| Source {
                set_name: n.as_bytes().to_vec(),
                weight: 1.0,
            })
            .collect()
    };
    let union = |dest: &'static [u8], src: &[Source]| {
        let target = Target::Union {
            destination: dest,
            sources: SourceKeys(src),
        };
        let op = Operation {
            kind: OperationKind::SortedSetUnionStore,
            cache: "c",
            target,
        };
        s.authorize(&op).map(|_| ())
    };
    assert_eq!(union(b"dest", &sources(&["src/a", "src/b"])), Ok(()));
    assert_eq!(
        union(b"dest", &sources(&["src/a", "other"])),
        Err(Denial::KeyNotGranted)
    );
    assert_eq!(
        union(b"src/a", &sources(&["src/b"])),
        Err(Denial::RoleNotGranted)
    );
    assert_eq!(
        union(b"elsewhere", &sources(&["src/b"])),
        Err(Denial::KeyNotGranted)
    );
    // A readwrite grant on the sources alone does not make a read-only destination writable.
    let wrong = Operation {
        kind: OperationKind::SortedSetUnionStore,
        cache: "c",
        target: Target::Keys(Keys::One(b"dest")),
    };
    assert_eq!(s.authorize(&wrong), Err(Denial::MalformedOperation));
}

#[test]
fn exact_and_prefix_selectors_compare_bytes() {
    let s = scope(
        r#"{"permissions":[
        {"role":"readonly","cache":"c","item":{"key":"exact"}},
        {"role":"readonly","cache":"c","item":{"keyPrefix":"pre/"}}]}"#,
    );
    let get = |key: &[u8]| {
        s.authorize(&Operation::key(OperationKind::Get, "c", key))
            .map(|_| ())
    };
    assert_eq!(get(b"exact"), Ok(()));
    assert_eq!(get(b"exact2"), Err(Denial::KeyNotGranted));
    assert_eq!(get(b"exac"), Err(Denial::KeyNotGranted));
    assert_eq!(get(b"EXACT"), Err(Denial::KeyNotGranted));
    assert_eq!(get(b"pre/"), Ok(()));
    assert_eq!(get(b"pre/deep/key"), Ok(()));
    assert_eq!(get(b"pre"), Err(Denial::KeyNotGranted));
    assert_eq!(get(b"xpre/"), Err(Denial::KeyNotGranted));
    // Cache names are exact, case-sensitive, never prefixes.
    for cache in ["C", "c2", ""] {
        assert_eq!(
            s.authorize(&Operation::key(OperationKind::Get, cache, b"exact")),
            Err(Denial::CacheNotGranted)
        );
    }
}

#[test]
fn byte_keys_that_are_not_utf8() {
    let s = scope(
        r#"{"permissions":[
        {"role":"readwrite","cache":"c","item":{"keyPrefixBase64":"/wA="}},
        {"role":"readonly","cache":"c","item":{"keyBase64":"gICA"}}]}"#,
    );
    let get = |key: &[u8]| {
        s.authorize(&Operation::key(OperationKind::Get, "c", key))
            .map(|_| ())
    };
    let set = |key: &[u8]| {
        s.authorize(&Operation::key(OperationKind::Set, "c", key))
            .map(|_| ())
    };
    assert_eq!(set(&[0xff, 0x00, 0xfe]), Ok(()));
    assert_eq!(set(&[0xff, 0x01]), Err(Denial::KeyNotGranted));
    assert_eq!(get(&[0x80, 0x80, 0x80]), Ok(()));
    assert_eq!(set(&[0x80, 0x80, 0x80]), Err(Denial::RoleNotGranted));
    // The UTF-8 replacement of an invalid byte is a different key.
    assert_eq!(get("\u{fffd}".as_bytes()), Err(Denial::KeyNotGranted));
}

#[test]
fn the_denial_names_how_far_the_closest_permission_got() {
    let s = scope(
        r#"{"permissions":[
        {"role":"readonly","cache":"c","item":{"key":"k"}},
        {"role":"readwrite","cache":"c","item":{"key":"other"}}]}"#,
    );
    assert_eq!(
        s.authorize(&Operation::key(OperationKind::Set, "c", b"k")),
        Err(Denial::RoleNotGranted)
    );
    assert_eq!(
        s.authorize(&Operation::key(OperationKind::Set, "c", b"zzz")),
        Err(Denial::KeyNotGranted)
    );
    assert_eq!(
        s.authorize(&Operation::key(OperationKind::Set, "d", b"k")),
        Err(Denial::CacheNotGranted)
    );
}

#[test]
fn operations_malformed_for_their_class_are_refused() {
    let s = CompiledScope::superuser();
    assert!(
        s.authorize(&Operation::topic(OperationKind::Get, "c", "t"))
            .is_ok(),
        "superuser allows all"
    );
    let rw = scope(
        r#"{"permissions":[{"role":"readwrite","cache":"*"},{"role":"publishsubscribe","cache":"*","topic":"*"}]}"#,
    );
    for op in [
        Operation::topic(OperationKind::Get, "c", "t"),
        Operation::key(OperationKind::Publish, "c", b"k"),
        Operation::global(OperationKind::Set),
        Operation::key(OperationKind::RefreshApiToken, "c", b"k"),
    ] {
        assert_eq!(rw.authorize(&op), Err(Denial::MalformedOperation), "{op:?}");
    }
}

// ---- SPEC 3.3: issue-time validation -------------------------------------------------

fn explicit(list: Vec<PermissionsType>) -> Permissions {
    Permissions {
        kind: Some(permissions::Kind::Explicit(ExplicitPermissions {
            permissions: list,
        })),
    }
}

fn cache_perm(
    role: CacheRole,
    cache: Option<&str>,
    item: Option<permissions_type::cache_item_selector::Kind>,
) -> PermissionsType {
    use permissions_type::*;
    PermissionsType {
        kind: Some(Kind::CachePermissions(CachePermissions {
            role: role as i32,
            cache: Some(match cache {
                None => cache_permissions::Cache::AllCaches(All {}),
                Some(n) => cache_permissions::Cache::CacheSelector(CacheSelector {
                    kind: Some(cache_selector::Kind::CacheName(n.into())),
                }),
            }),
            cache_item: item.map(|k| {
                cache_permissions::CacheItem::ItemSelector(CacheItemSelector { kind: Some(k) })
            }),
        })),
    }
}

fn topic_perm(
    role: TopicRole,
    topic: Option<permissions_type::topic_selector::Kind>,
) -> PermissionsType {
    use permissions_type::*;
    PermissionsType {
        kind: Some(Kind::TopicPermissions(TopicPermissions {
            role: role as i32,
            cache: Some(topic_permissions::Cache::AllCaches(All {})),
            topic: topic
                .map(|k| topic_permissions::Topic::TopicSelector(TopicSelector { kind: Some(k) })),
        })),
    }
}

#[test]
fn issue_time_validations() {
    use permissions_type::cache_item_selector::Kind as Item;
    use permissions_type::topic_selector::Kind as Topic;
    let limits = ScopeLimits::default();
    let rw = |item| cache_perm(CacheRole::CacheReadWrite, Some("c"), item);
    let many = |n: usize| {
        explicit(
            (0..n)
                .map(|i| rw(Some(Item::Key(format!("k{i}").into_bytes()))))
                .collect(),
        )
    };
    let cases: Vec<(&str, Permissions, ScopeError)> = vec![
        ("no kind", Permissions { kind: None }, ScopeError::Missing),
        (
            "unknown superuser value",
            Permissions {
                kind: Some(permissions::Kind::SuperUser(3)),
            },
            ScopeError::UnknownSuperUser,
        ),
        ("empty list", explicit(vec![]), ScopeError::Empty),
        (
            "21 permissions",
            many(21),
            ScopeError::TooMany { count: 21, max: 20 },
        ),
        (
            "permission without kind",
            explicit(vec![PermissionsType { kind: None }]),
            ScopeError::MissingKind { index: 0 },
        ),
        (
            "unknown role",
            explicit(vec![PermissionsType {
                kind: match rw(None).kind {
                    Some(permissions_type::Kind::CachePermissions(mut c)) => {
                        c.role = 9;
                        Some(permissions_type::Kind::CachePermissions(c))
                    }
                    k => k,
                },
            }]),
            ScopeError::UnknownRole { index: 0 },
        ),
        (
            "empty key",
            explicit(vec![rw(Some(Item::Key(vec![])))]),
            ScopeError::EmptyKey { index: 0 },
        ),
        (
            "empty key prefix",
            explicit(vec![rw(None), rw(Some(Item::KeyPrefix(vec![])))]),
            ScopeError::EmptyKeyPrefix { index: 1 },
        ),
        (
            "empty cache name",
            explicit(vec![cache_perm(CacheRole::CacheReadOnly, Some(""), None)]),
            ScopeError::EmptyCacheName { index: 0 },
        ),
        (
            "empty topic prefix",
            explicit(vec![topic_perm(
                TopicRole::TopicReadOnly,
                Some(Topic::TopicNamePrefix(String::new())),
            )]),
            ScopeError::EmptyTopicPrefix { index: 0 },
        ),
        (
            "empty topic name",
            explicit(vec![topic_perm(
                TopicRole::TopicReadOnly,
                Some(Topic::TopicName(String::new())),
            )]),
            ScopeError::EmptyTopicName { index: 0 },
        ),
        (
            "missing topic",
            explicit(vec![topic_perm(TopicRole::TopicReadOnly, None)]),
            ScopeError::MissingTopic { index: 0 },
        ),
        (
            "same selectors, different roles",
            explicit(vec![
                cache_perm(
                    CacheRole::CacheReadOnly,
                    Some("c"),
                    Some(Item::Key(b"k".to_vec())),
                ),
                cache_perm(CacheRole::CacheReadWrite, Some("d"), None),
                cache_perm(
                    CacheRole::CacheWriteOnly,
                    Some("c"),
                    Some(Item::Key(b"k".to_vec())),
                ),
            ]),
            ScopeError::ConflictingRoles {
                first: 0,
                second: 2,
            },
        ),
    ];
    for (name, permissions, expected) in cases {
        assert_eq!(compile(&permissions, &limits), Err(expected), "{name}");
    }
    assert!(
        compile(&many(20), &limits).is_ok(),
        "20 permissions are allowed"
    );
    assert!(
        compile(
            &many(21),
            &ScopeLimits {
                max_permissions: 21
            }
        )
        .is_ok(),
        "the cap is configurable"
    );
    // Same selectors with the same role are merely redundant; a cache and a topic
    // permission on the same names are different resources.
    let redundant = explicit(vec![
        rw(None),
        rw(None),
        topic_perm(TopicRole::TopicReadOnly, None),
    ]);
    assert!(matches!(
        compile(&redundant, &limits),
        Err(ScopeError::MissingTopic { index: 2 })
    ));
    let fine = explicit(vec![rw(None), rw(None)]);
    assert!(compile(&fine, &limits).is_ok());
}

#[test]
fn permit_none_roles_grant_nothing() {
    let s = compile(
        &explicit(vec![cache_perm(CacheRole::CachePermitNone, None, None)]),
        &ScopeLimits::default(),
    )
    .unwrap();
    assert_eq!(
        s.authorize(&Operation::key(OperationKind::Get, "c", b"k")),
        Err(Denial::CacheNotGranted)
    );
}

#[test]
fn a_permit_names_exactly_what_was_authorized() {
    let s = scope(&perm("readwrite", "c", r#","item":{"keyPrefix":"u/"}"#));
    let permit = s
        .authorize(&Operation::key(OperationKind::Set, "c", b"u/1"))
        .unwrap();
    assert_eq!(
        (permit.kind(), permit.cache(), permit.key()),
        (OperationKind::Set, "c", Some(&b"u/1"[..]))
    );
    assert_eq!(permit.topic(), None);
    let gets = [
        GetRequest {
            cache_key: b"u/1".to_vec(),
        },
        GetRequest {
            cache_key: b"u/2".to_vec(),
        },
    ];
    let batch = s
        .authorize(&Operation::keys(
            OperationKind::GetBatch,
            "c",
            Keys::Gets(&gets),
        ))
        .unwrap();
    // A batch permit names no single key: a backend cannot take it for one.
    assert_eq!(batch.key(), None);
    let each: Vec<_> = batch.each_key().map(|p| (p.cache(), p.key())).collect();
    assert_eq!(each, [("c", Some(&b"u/1"[..])), ("c", Some(&b"u/2"[..]))]);
    // Past the keys: a permit for nothing, which every backend refuses.
    assert_eq!(batch.nth_key(2).key(), None);
    assert_eq!(batch.nth_key(2).target(), Target::None);
    let topic = scope(&perm("publishsubscribe", "c", r#","topic":"t""#))
        .authorize(&Operation::topic(OperationKind::Publish, "c", "t"))
        .unwrap();
    assert_eq!(
        (topic.cache(), topic.topic(), topic.key()),
        ("c", Some("t"), None)
    );
    assert_eq!(topic.key_count(), 0);
}
