//! Deadlines that cannot overflow. Every duration setting is bounded at
//! validation, and deadline arithmetic saturates as well, so no value can
//! make a request panic (`Instant + Duration` panics on overflow).

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
