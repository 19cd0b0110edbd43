//! A connection's side futures (the drain signal, the check's tick) polled
//! only when one of them woke its task.
//!
//! A connection's task wakes on every read and write of every request; a
//! `select!` over the connection and its side futures polls all of them on
//! each wake (a watch receiver, an interval's timer, the random start): about
//! 400 instructions a request for futures that are due a few times a
//! minute. The side futures are polled with a waker of their own instead,
//! which notes that one of them is due and wakes the task.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Waker};

use futures_util::task::AtomicWaker;

/// The side futures' waker, shared with the connection's task.
pub struct SideWake {
    /// Whether a side future woke since they were last polled.
    due: AtomicBool,
    /// The connection's task.
    task: AtomicWaker,
}

impl std::task::Wake for SideWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.due.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// The waker the side futures are polled with, and the flag it sets.
pub struct Side {
    shared: Arc<SideWake>,
    waker: Waker,
}

impl Side {
    /// Side futures that are due their first poll (which registers them).
    pub fn new() -> Self {
        let shared = Arc::new(SideWake {
            due: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        Side {
            waker: Waker::from(Arc::clone(&shared)),
            shared,
        }
    }

    /// Whether the side futures are due a poll, the task being `cx`'s: its
    /// waker is registered before the flag is read, so a wake in between
    /// is not lost.
    pub fn due(&self, cx: &Context<'_>) -> bool {
        self.shared.task.register(cx.waker());
        self.shared.due.swap(false, Ordering::AcqRel)
    }

    /// The context to poll the side futures with.
    pub fn context(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::Poll;

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_side_wake_marks_the_side_due_and_wakes_the_task() {
        let count = Arc::new(Count(0.into()));
        let task = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&task);
        let side = Side::new();
        assert!(side.due(&cx), "the first poll registers the side futures");
        assert!(!side.due(&cx), "nothing woke them since");

        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let mut changed = pin!(rx.changed());
        assert!(changed.as_mut().poll(&mut side.context()).is_pending());
        assert!(!side.due(&cx));
        tx.send(true).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the task was woken");
        assert!(side.due(&cx), "the side is due its poll");
        assert!(matches!(
            changed.as_mut().poll(&mut side.context()),
            Poll::Ready(Ok(()))
        ));
        assert!(!side.due(&cx));
    }
}
