//! Deadlines that cannot overflow. Every duration setting is bounded at
//! validation, and deadline arithmetic saturates as well, so no value can
//! make a request panic (`Instant + Duration` panics on overflow).
//!
//! And the coarse clocks ([`unix_secs`], [`coarse_nanos`]): a GET hit read
//! five fine clocks, at 23 ns each on this project's VM; the checks in
//! seconds (a cached credential's expiry, a request head's deadline) read
//! the kernel's coarse clocks (6.5 ns), and the item's expiry is checked
//! against the request's start. A hit reads two fine clocks, for its
//! latency.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
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

/// `fut`, bounded to end by `started + limit`: `None` once that has passed.
///
/// The timer is armed only when `fut` first has to wait, and boxed: a
/// request that completes on its first poll (a memory-backend hit) reads no
/// clock and touches no timer wheel, and the request's future stays small
/// (an `async fn` would hold `fut` twice, and tokio's `Sleep` inline).
pub fn bounded<F: Future>(started: std::time::Instant, limit: Duration, fut: F) -> Bounded<F> {
    Bounded {
        fut,
        started,
        limit,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`bounded`].
    pub struct Bounded<F> {
        #[pin]
        fut: F,
        started: std::time::Instant,
        limit: Duration,
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
    }
}

impl<F: Future> Future for Bounded<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.fut.poll(cx) {
            return Poll::Ready(Some(output));
        }
        let (started, limit) = (*this.started, *this.limit);
        let timer = this.timer.get_or_insert_with(|| {
            let end = started
                .checked_add(limit)
                .unwrap_or_else(|| std_deadline(limit));
            Box::pin(tokio::time::sleep_until(end.into()))
        });
        timer.as_mut().poll(cx).map(|()| None)
    }
}

/// Seconds since the Unix epoch on the fine clock (0 if the clock is before
/// it): minting, revocation entries, everything off the request path.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds since the Unix epoch, for checks in whole seconds on the request
/// path (a cached credential's expiry and revocation): read from the
/// kernel's coarse clock, which is the time at the last scheduler tick and
/// costs a third of a fine read. Rounded up by one tick's length, so it is
/// never behind the fine clock (a credential minted a moment ago is never
/// "not yet valid"); it may be ahead by up to a tick (1-10 ms), so a
/// credential can be refused that much before its expiry second, never
/// accepted after it. 0 if the clock is before the epoch.
pub fn unix_secs() -> u64 {
    #[cfg(target_os = "linux")]
    {
        use rustix::time::{ClockId, clock_gettime};
        let now = clock_gettime(ClockId::RealtimeCoarse);
        let nanos = u64::try_from(now.tv_nsec).unwrap_or(0) + coarse_tick_nanos();
        u64::try_from(now.tv_sec).map_or(0, |secs| secs + nanos / 1_000_000_000)
    }
    #[cfg(not(target_os = "linux"))]
    {
        unix_now()
    }
}

/// A monotonic clock in nanoseconds, at a scheduler tick's resolution (1-10
/// ms), for deadlines of seconds (a request head's): the kernel's coarse
/// monotonic clock, a third of the cost of a fine read.
pub fn coarse_nanos() -> u64 {
    #[cfg(target_os = "linux")]
    {
        use rustix::time::{ClockId, clock_gettime};
        let now = clock_gettime(ClockId::MonotonicCoarse);
        let secs = u64::try_from(now.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
        secs.saturating_mul(1_000_000_000).saturating_add(nanos)
    }
    #[cfg(not(target_os = "linux"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(std::time::Instant::now);
        u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The coarse clocks' resolution (one scheduler tick), read once.
#[cfg(target_os = "linux")]
fn coarse_tick_nanos() -> u64 {
    static TICK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICK.get_or_init(|| {
        let res = rustix::time::clock_getres(rustix::time::ClockId::RealtimeCoarse);
        let nanos = u64::try_from(res.tv_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(res.tv_nsec).unwrap_or(0));
        // A tick of a second or more would be no clock to check expiry by.
        nanos.clamp(1, 999_999_999)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clocks_agree_with_the_fine_ones() {
        for _ in 0..1000 {
            let fine = unix_now();
            let coarse = unix_secs();
            // Never behind the fine clock read before it, at most a tick ahead.
            assert!(coarse >= fine, "{coarse} < {fine}");
            let after = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            assert!(coarse <= (after + Duration::from_millis(20)).as_secs());
        }
        let (a, b) = (coarse_nanos(), coarse_nanos());
        assert!(b >= a);
        let start = coarse_nanos();
        std::thread::sleep(Duration::from_millis(50));
        let waited = coarse_nanos() - start;
        assert!((30_000_000..1_000_000_000).contains(&waited), "{waited}");
    }

    #[tokio::test]
    async fn huge_durations_saturate_instead_of_panicking() {
        let far = deadline(Duration::MAX);
        assert!(far > tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600));
        assert!(std_deadline(Duration::MAX) > std::time::Instant::now());
        let near = deadline(Duration::from_secs(1));
        assert!(near <= tokio::time::Instant::now() + Duration::from_secs(1));
    }

    #[tokio::test]
    async fn bounded_counts_from_the_start_and_arms_only_when_waiting() {
        let started = std::time::Instant::now();
        // Ready on the first poll: served even with a deadline already past.
        assert_eq!(bounded(started, Duration::ZERO, async { 7 }).await, Some(7));
        // A future that waits is cut off at started + limit.
        let slow = tokio::time::sleep(Duration::from_secs(30));
        assert_eq!(
            bounded(started, Duration::from_millis(20), slow).await,
            None
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        // One that waits and finishes in time is served.
        let quick = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            3
        };
        assert_eq!(
            bounded(std::time::Instant::now(), Duration::from_secs(30), quick).await,
            Some(3)
        );
        // A huge limit saturates instead of panicking.
        assert_eq!(bounded(started, Duration::MAX, async { 1 }).await, Some(1));
    }
}
