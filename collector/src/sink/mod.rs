//! Sinks: a bounded buffer in front of a [`Shipper`], drained in batches
//! within the shipper's limits, with retries on a jittered backoff. When
//! the buffer is full the oldest items are dropped, counted and logged, so
//! an outage costs the oldest data, never the collector.

pub mod aws;
pub mod cloudwatch;
pub mod xray;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::retry::Backoff;

/// What one request may carry.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ShipError {
    /// Throttling, 5xx, timeouts and connection failures are retried;
    /// anything else (a rejected request) would fail again.
    pub retryable: bool,
    pub message: String,
}

#[allow(async_fn_in_trait)]
pub trait Shipper: Send + Sync + 'static {
    type Item: Send + 'static;
    const NAME: &'static str;
    fn limits(&self) -> BatchLimits;
    /// An upper estimate of the item's size in a request.
    fn size(&self, item: &Self::Item) -> usize;
    fn ship(
        &self,
        items: &[Self::Item],
    ) -> impl std::future::Future<Output = Result<(), ShipError>> + Send;
}

/// Counters a sink keeps, read by the Prometheus endpoint and logs.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub shipped: AtomicU64,
    pub dropped_full: AtomicU64,
    pub rejected: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub buffered: AtomicU64,
}

enum Msg<T> {
    Items(Vec<T>),
    Flush(oneshot::Sender<bool>),
}

pub struct SinkHandle<T> {
    tx: mpsc::UnboundedSender<Msg<T>>,
    task: tokio::task::JoinHandle<()>,
    pub stats: Arc<SinkStats>,
}

impl<T: Send + 'static> SinkHandle<T> {
    pub fn spawn<S: Shipper<Item = T>>(shipper: S, capacity: usize) -> SinkHandle<T> {
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(SinkStats::default());
        let worker = Worker {
            shipper,
            buffer: VecDeque::new(),
            capacity,
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(30)),
            next_attempt: Instant::now(),
            stats: stats.clone(),
            dropping: false,
        };
        let task = tokio::spawn(worker.run(rx));
        SinkHandle { tx, task, stats }
    }

    pub fn send(&self, items: Vec<T>) {
        let _ = self.tx.send(Msg::Items(items));
    }

    /// Tries to ship everything buffered now; true when nothing is left.
    pub async fn flush(&self) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(reply)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Ships what is buffered, retrying until `deadline`, then stops.
    pub async fn close(self, deadline: Instant) -> bool {
        drop(self.tx);
        let stats = self.stats.clone();
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
        stats.buffered.load(Ordering::Relaxed) == 0
    }
}

struct Worker<S: Shipper> {
    shipper: S,
    buffer: VecDeque<S::Item>,
    capacity: usize,
    backoff: Backoff,
    next_attempt: Instant,
    stats: Arc<SinkStats>,
    dropping: bool,
}

impl<S: Shipper> Worker<S> {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg<S::Item>>) {
        loop {
            let wake = if self.buffer.is_empty() {
                Instant::now() + Duration::from_secs(3600)
            } else {
                self.next_attempt
            };
            tokio::select! {
                biased;
                msg = rx.recv() => match msg {
                    Some(Msg::Items(items)) => self.push(items),
                    Some(Msg::Flush(reply)) => {
                        self.drain().await;
                        let _ = reply.send(self.buffer.is_empty());
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake) => { self.drain().await; }
            }
        }
        // Closing: keep trying until the caller's deadline aborts us.
        while !self.buffer.is_empty() {
            if !self.drain().await {
                tokio::time::sleep_until(self.next_attempt).await;
            }
        }
    }

    fn push(&mut self, items: Vec<S::Item>) {
        for item in items {
            if self.buffer.len() >= self.capacity {
                self.buffer.pop_front();
                let n = self.stats.dropped_full.fetch_add(1, Ordering::Relaxed) + 1;
                if !self.dropping {
                    tracing::warn!(
                        sink = S::NAME,
                        "buffer full ({} items): dropping the oldest ({n} dropped so far)",
                        self.capacity
                    );
                    self.dropping = true;
                }
            }
            self.buffer.push_back(item);
        }
        self.stats
            .buffered
            .store(self.buffer.len() as u64, Ordering::Relaxed);
    }

    /// Ships batches until the buffer is empty (true) or an attempt fails
    /// in a way worth retrying (false: wait for `next_attempt`).
    async fn drain(&mut self) -> bool {
        let limits = self.shipper.limits();
        while !self.buffer.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            for item in self.buffer.iter() {
                let size = self.shipper.size(item);
                if n == limits.max_items || (n > 0 && bytes + size > limits.max_bytes) {
                    break;
                }
                n += 1;
                bytes += size;
            }
            let batch: Vec<S::Item> = self.buffer.drain(..n).collect();
            match self.shipper.ship(&batch).await {
                Ok(()) => {
                    self.stats.shipped.fetch_add(n as u64, Ordering::Relaxed);
                    if self.backoff.attempts() > 0 {
                        tracing::info!(
                            sink = S::NAME,
                            "shipping again after {} failed attempts",
                            self.backoff.attempts()
                        );
                    }
                    self.backoff.reset();
                    self.dropping = false;
                }
                Err(e) if e.retryable => {
                    // Put the batch back in front, in order.
                    for item in batch.into_iter().rev() {
                        self.buffer.push_front(item);
                    }
                    self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff.next_delay();
                    if self.backoff.attempts() == 1 {
                        tracing::warn!(
                            sink = S::NAME,
                            "{e}; retrying, {} items buffered",
                            self.buffer.len()
                        );
                    }
                    self.next_attempt = Instant::now() + delay;
                    self.stats
                        .buffered
                        .store(self.buffer.len() as u64, Ordering::Relaxed);
                    return false;
                }
                Err(e) => {
                    self.stats.rejected.fetch_add(n as u64, Ordering::Relaxed);
                    tracing::error!(
                        sink = S::NAME,
                        "{e}; {n} items dropped (the request would fail again)"
                    );
                }
            }
            self.stats
                .buffered
                .store(self.buffer.len() as u64, Ordering::Relaxed);
        }
        true
    }
}
