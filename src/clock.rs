//! Deadlines that cannot overflow. Every duration setting is bounded at
//! validation, and deadline arithmetic saturates as well, so no value can
//! make a request panic (`Instant + Duration` panics on overflow).

use std::time::Duration;

/// Far enough to mean "never" for any deadline, and still representable.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + after`, saturating at about a century from now.
pub fn deadline(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// The same for `std::time::Instant` (the memory backend's expiry times).
pub fn std_deadline(after: Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn huge_durations_saturate_instead_of_panicking() {
        let far = deadline(Duration::MAX);
        assert!(far > tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600));
        assert!(std_deadline(Duration::MAX) > std::time::Instant::now());
        let near = deadline(Duration::from_secs(1));
        assert!(near <= tokio::time::Instant::now() + Duration::from_secs(1));
    }
}
