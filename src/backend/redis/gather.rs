//! Item reads gathered into few writes to Redis (auto-pipelining).
//!
//! redis-rs multiplexes concurrent commands on one connection, and writes
//! whatever is queued for it at once. But under tokio a command is queued
//! from its request's task, and the connection's task is woken into the
//! worker's LIFO slot and runs as soon as that request waits: every GET
//! then costs a write of its own, and a wake-up of Redis. A GET instead
//! joins the reads gathered so far; the first of them spawns a task that
//! yields once, so the other requests the workers have ready get to join,
//! then queues the whole batch on one connection in one poll and hands each
//! request its reply. redis-rs writes what is queued together, up to its
//! queue's 50 commands a write (for a cluster: per node).
//!
//! Nothing but the writes is shared: each read is its own command with its
//! own reply (a refusal of one key fails no other), answered in order on
//! its connection. A request that goes away drops its receiver; its GET is
//! still sent and its reply discarded. A batch holds at most the reads in
//! flight (bounded by `server.max_connections` and the streams each may
//! carry), each for at most the command timeout, which bounds every
//! request; the flush itself is bounded by twice that, so a request's own
//! timeout always comes first and a closed reply means only that the read
//! was never sent.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::{AsyncCommands, RedisResult};
use tokio::sync::oneshot;

use super::link::Conn;
use crate::metrics::BackendMetrics;

/// A read's reply: the value, or Redis's error.
pub(super) type Reply = RedisResult<Option<Vec<u8>>>;

/// The reads waiting for their batch to be queued.
pub(super) struct Gather {
    waiting: Mutex<Vec<Read>>,
    metrics: BackendMetrics,
}

struct Read {
    key: Vec<u8>,
    reply: oneshot::Sender<Reply>,
}

impl Gather {
    pub(super) fn new(metrics: BackendMetrics) -> Self {
        Gather {
            waiting: Mutex::default(),
            metrics,
        }
    }

    /// Adds a read of `key`; the receiver gets its reply. The first read of
    /// a batch spawns its flush on `conn`.
    pub(super) fn read(
        self: &Arc<Self>,
        key: Vec<u8>,
        conn: impl FnOnce() -> Conn,
        limit: Duration,
    ) -> oneshot::Receiver<Reply> {
        let (reply, receiver) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.push(Read { key, reply });
            waiting.len() == 1
        };
        if first {
            let batch = Batch(Some(Arc::clone(self)));
            tokio::spawn(flush(batch, conn(), limit));
        }
        receiver
    }
}

async fn flush(mut batch: Batch, conn: Conn, limit: Duration) {
    // Let the requests the workers have ready add their reads first.
    tokio::task::yield_now().await;
    // Every command is queued on the connection in this one poll: redis-rs
    // writes them together once this task waits.
    let reads = batch.take(true).into_iter().map(|read| {
        let mut conn = conn.clone();
        async move {
            let reply: Reply = conn.get(&read.key).await;
            let _ = read.reply.send(reply);
        }
    });
    let bound = limit.saturating_add(limit);
    let _ = tokio::time::timeout(bound, futures_util::future::join_all(reads)).await;
}

/// A flush's claim on the waiting reads, made before its task first runs.
/// A flush dropped before it takes them (its runtime stopping, even before
/// the task was polled) takes them as it goes: their requests fail at once
/// rather than wait out their timeout, and the next read starts a batch of
/// its own instead of joining one that no flush will send.
struct Batch(Option<Arc<Gather>>);

impl Batch {
    /// The waiting reads; counted as a batch when they are to be sent.
    fn take(&mut self, sending: bool) -> Vec<Read> {
        let Some(gather) = self.0.take() else {
            return Vec::new();
        };
        let mut waiting = gather
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The next batch is likely as large as this one (a spike's size is
        // not kept).
        let next = Vec::with_capacity(waiting.len().min(64));
        let reads = std::mem::replace(&mut *waiting, next);
        drop(waiting);
        if sending && !reads.is_empty() {
            gather.metrics.read_batch();
        }
        reads
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        drop(self.take(false));
    }
}
