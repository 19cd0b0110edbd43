//! Item reads gathered into one write to Redis (auto-pipelining).
//!
//! redis-rs multiplexes concurrent commands on one connection, and writes
//! whatever is queued for it at once. But under tokio a command is queued
//! from its request's task, and the connection's task is woken into the
//! worker's LIFO slot and runs as soon as that request waits: every GET
//! then costs a write of its own, and a wake-up of Redis. A GET instead
//! joins the reads gathered so far; the first of them spawns a task that
//! yields once, so the other requests the workers have ready get to join,
//! then queues the whole batch in one poll (one write, one wake-up of
//! Redis) and hands each request its reply.
//!
//! Nothing but the write is shared: each read is its own command with its
//! own reply (a refusal of one key fails no other), answered in order on
//! its connection. A request that goes away drops its receiver and its
//! reply is discarded. The batch is as large as the requests in flight,
//! which the server's limits bound; the flush is bounded by the command
//! timeout, as every request is.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::{AsyncCommands, RedisResult};
use tokio::sync::oneshot;

use super::link::Conn;
use crate::metrics::BackendMetrics;

/// A read's reply: the value, or Redis's error.
pub(super) type Reply = RedisResult<Option<Vec<u8>>>;

/// The reads waiting for their batch to be queued.
#[derive(Default)]
pub(super) struct Gather {
    waiting: Mutex<Vec<Read>>,
}

struct Read {
    key: Vec<u8>,
    reply: oneshot::Sender<Reply>,
}

impl Gather {
    /// Adds a read of `key`; the receiver gets its reply. The first read of
    /// a batch spawns its flush on `conn`.
    pub(super) fn read(
        self: &Arc<Self>,
        key: Vec<u8>,
        conn: impl FnOnce() -> Conn,
        limit: Duration,
        metrics: &BackendMetrics,
    ) -> oneshot::Receiver<Reply> {
        let (reply, receiver) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            waiting.push(Read { key, reply });
            waiting.len() == 1
        };
        if first {
            metrics.read_batch();
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
    let reads = batch.take().into_iter().map(|read| {
        let mut conn = conn.clone();
        async move {
            let reply: Reply = conn.get(&read.key).await;
            let _ = read.reply.send(reply);
        }
    });
    let _ = tokio::time::timeout(limit, futures_util::future::join_all(reads)).await;
}

/// A flush's claim on the waiting reads, made before its task first runs.
/// A flush dropped before it takes them (its runtime stopping, even before
/// the task was polled) takes them as it goes: their requests fail at once
/// rather than wait out their timeout, and the next read starts a batch of
/// its own instead of joining one that no flush will send.
struct Batch(Option<Arc<Gather>>);

impl Batch {
    fn take(&mut self) -> Vec<Read> {
        let Some(gather) = self.0.take() else {
            return Vec::new();
        };
        let mut waiting = gather
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The next batch is likely as large as this one.
        let next = Vec::with_capacity(waiting.len());
        std::mem::replace(&mut *waiting, next)
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        drop(self.take());
    }
}
