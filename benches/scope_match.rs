//! `CompiledScope::authorize`: the per-request permission check, with 1 and with
//! 20 permissions (the default cap; the matching permission last: the worst case).
//!
//! Run: `cargo bench --bench scope_match`. Figures and ratios: docs/PERFORMANCE.md.
//!
//! Current figures (medians of one run, 2 shared cores; only the ratios mean anything):
//!
//! Run of 2026-11-23 at 2b191a0 (load average ~1 during the run):
//!
//! | function                             | median  |
//! |--------------------------------------|---------|
//! | exact_key_1_perm                     | 17.9 ns |
//! | exact_key_20_perms                   | 108 ns  |
//! | prefix_1_perm                        | 17.8 ns |
//! | prefix_20_perms                      | 96.7 ns |
//! | denied_20_perms                      | 96.4 ns |
//! | keys_exist_20_keys_prefix_1_perm     | 214 ns  |
//! | keys_exist_20_keys_prefix_20_perms   | 1.88 µs |
//!
//! - 20 vs 1 permissions (match last): exact key 6.0x, prefix 5.4x.
//! - KeysExist x20 keys, 20 vs 1 permissions: 8.8x (keys x grants scanned).

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scopegate::CompiledScope;
use scopegate::operation::{Keys, Operation, OperationKind};
use scopegate::scope::{ScopeLimits, compile, json};

const CACHE: &str = "cache";
const KEY: &[u8] = b"prefix/key";

/// A scope of `others` non-matching permissions followed by the matching `item`.
///
/// The non-matching ones alternate between other caches (rejected on the cache
/// name) and the same cache with other keys or prefixes (rejected on the key),
/// so both selector comparisons are exercised before the match.
fn scope(others: usize, item: &str) -> CompiledScope {
    let mut permissions: Vec<String> = (0..others)
        .map(|i| {
            if i % 2 == 0 {
                format!(r#"{{"role":"readwrite","cache":"cache-{i}","item":{item}}}"#)
            } else {
                format!(
                    r#"{{"role":"readwrite","cache":"{CACHE}","item":{{"keyPrefix":"other-{i}/"}}}}"#
                )
            }
        })
        .collect();
    permissions.push(format!(
        r#"{{"role":"readwrite","cache":"{CACHE}","item":{item}}}"#
    ));
    let text = format!(r#"{{"permissions":[{}]}}"#, permissions.join(","));
    let parsed = json::parse(&text).expect("scope parses");
    compile(&parsed, &ScopeLimits::default()).expect("scope compiles")
}

fn scope_match(c: &mut Criterion) {
    let exact = r#"{"key":"prefix/key"}"#;
    let prefix = r#"{"keyPrefix":"prefix/"}"#;
    let exact_1 = scope(0, exact);
    let exact_20 = scope(19, exact);
    let prefix_1 = scope(0, prefix);
    let prefix_20 = scope(19, prefix);

    let get = Operation::key(OperationKind::Get, CACHE, KEY);
    let get_denied = Operation::key(OperationKind::Get, CACHE, b"nomatch/key");
    let keys: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("prefix/key-{i}").into_bytes())
        .collect();
    let keys_exist = Operation::keys(OperationKind::KeysExist, CACHE, Keys::List(&keys));

    for (name, scope) in [
        ("exact_1", &exact_1),
        ("exact_20", &exact_20),
        ("prefix_1", &prefix_1),
        ("prefix_20", &prefix_20),
    ] {
        assert!(scope.authorize(&get).is_ok(), "{name}: Get must be allowed");
    }
    assert!(
        prefix_20.authorize(&get_denied).is_err(),
        "prefix_20: the denied Get must be denied"
    );
    assert!(
        exact_20.authorize(&get_denied).is_err(),
        "exact_20: the denied Get must be denied"
    );
    assert!(
        prefix_1.authorize(&keys_exist).is_ok(),
        "KeysExist x20 must be allowed"
    );
    assert!(
        prefix_20.authorize(&keys_exist).is_ok(),
        "KeysExist x20 must be allowed"
    );

    let mut group = c.benchmark_group("scope_match");
    for (name, scope, op) in [
        ("exact_key_1_perm", &exact_1, &get),
        ("exact_key_20_perms", &exact_20, &get),
        ("prefix_1_perm", &prefix_1, &get),
        ("prefix_20_perms", &prefix_20, &get),
        ("denied_20_perms", &prefix_20, &get_denied),
        ("keys_exist_20_keys_prefix_1_perm", &prefix_1, &keys_exist),
        (
            "keys_exist_20_keys_prefix_20_perms",
            &prefix_20,
            &keys_exist,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(scope).authorize(black_box(op)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = scope_match
}
criterion_main!(benches);
