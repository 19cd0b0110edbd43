//! Classification: `OperationKind::from_grpc_path` over the table of SPEC 3.4.
//!
//! Run: `cargo bench --bench classify`. Figures and ratios: docs/PERFORMANCE.md.
//!
//! Current figures (medians of one run, 2 shared cores; only the ratios mean anything):
//!
//! Run of 2026-11-23 at 2b191a0 (load average ~1 during the run):
//!
//! | function                | median  |
//! |-------------------------|---------|
//! | hit_early               | 2.6 ns  |
//! | hit_late                | 5.3 ns  |
//! | miss                    | 5.8 ns  |
//! | classify_and_build_get  | 7.2 ns  |
//!
//! - hit_late / hit_early = 2.0x. All are a few ns: at this scale the spread
//!   between runs on this machine (1-3 ns) is as large as the differences.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scopegate::operation::{Operation, OperationKind};

/// The first row of the table.
const EARLY: &str = "/cache_client.Scs/Get";
/// The last gRPC row of the table.
const LATE: &str = "/auth.Auth/RefreshApiToken";
/// A real Momento RPC that is not in the table.
const MISS: &str = "/leaderboard.Leaderboard/GetRank";

fn classify(c: &mut Criterion) {
    assert_eq!(
        OperationKind::from_grpc_path(EARLY),
        Some(OperationKind::Get)
    );
    assert_eq!(
        OperationKind::from_grpc_path(LATE),
        Some(OperationKind::RefreshApiToken)
    );
    assert_eq!(OperationKind::from_grpc_path(MISS), None);

    let mut group = c.benchmark_group("classify");
    for (name, path) in [("hit_early", EARLY), ("hit_late", LATE), ("miss", MISS)] {
        group.bench_function(name, |b| {
            b.iter(|| OperationKind::from_grpc_path(black_box(path)))
        });
    }
    let key: &[u8] = b"prefix/key";
    group.bench_function("classify_and_build_get", |b| {
        b.iter(|| {
            OperationKind::from_grpc_path(black_box(EARLY))
                .map(|kind| Operation::key(kind, black_box("cache"), black_box(key)))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = classify
}
criterion_main!(benches);
