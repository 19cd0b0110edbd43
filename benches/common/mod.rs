//! Shared by the bench files (each is its own crate).

use std::time::Duration;

use criterion::Criterion;

/// 3 s of measurement after 1 s of warm-up per function: the three bench
/// files run in about a minute each on the 2-core machine.
pub fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}
