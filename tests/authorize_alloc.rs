//! `authorize` allocates nothing: a counting global allocator around the call.
//! One test in this binary, so no other test thread allocates meanwhile.

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;

use momento_protos::cache_client::GetRequest;
use scopegate::operation::{Keys, Operation, OperationKind};
use scopegate::scope::{ScopeLimits, compile, json};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn authorize_allocates_nothing_allowed_or_denied() {
    let mut permissions = String::from(r#"{"permissions":["#);
    for i in 0..19 {
        permissions.push_str(&format!(
            r#"{{"role":"readwrite","cache":"c{i}","item":{{"keyPrefix":"p{i}/"}}}},"#
        ));
    }
    permissions.push_str(r#"{"role":"readonly","cache":"c","item":{"keyPrefix":"u/"}}]}"#);
    let scope = compile(&json::parse(&permissions).unwrap(), &ScopeLimits::default()).unwrap();
    let gets: Vec<GetRequest> = (0..20)
        .map(|i| GetRequest {
            cache_key: format!("u/{i}").into_bytes(),
        })
        .collect();
    let ops = [
        (Operation::key(OperationKind::Get, "c", b"u/1"), true),
        (
            Operation::keys(OperationKind::GetBatch, "c", Keys::Gets(&gets)),
            true,
        ),
        (Operation::key(OperationKind::Set, "c", b"u/1"), false),
        (Operation::key(OperationKind::Get, "c", b"x/1"), false),
        (Operation::topic(OperationKind::Publish, "c", "t"), false),
        (Operation::global(OperationKind::CreateCache), false),
    ];
    for (op, allowed) in &ops {
        let region = Region::new(GLOBAL);
        let result = black_box(&scope).authorize(black_box(op));
        let stats = region.change();
        assert_eq!(result.is_ok(), *allowed, "{op:?}");
        assert_eq!(
            (stats.allocations, stats.reallocations),
            (0, 0),
            "{op:?} allocated"
        );
    }
    // The counter works: a Vec allocation is seen.
    let region = Region::new(GLOBAL);
    black_box(vec![1u8; 16]);
    assert!(
        region.change().allocations >= 1,
        "the counting allocator counts"
    );
}
