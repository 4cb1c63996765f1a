//! Sinks: a bounded buffer in front of a [`Shipper`], drained in batches
//! within the shipper's limits, with retries on a jittered backoff. When
//! the buffer is full the oldest items are dropped, counted and logged, so
//! an outage costs the oldest data, never the collector.
//!
//! A batch that failed is retried alone, exactly as it was, until it is
//! acknowledged or rejected: an acknowledged batch is never sent again and
//! a retry never carries more than that batch. A request that timed out may
//! have been stored all the same (the answer was late, not lost); its retry
//! gets a longer deadline ([`AttemptDeadline`]) and is counted, so a
//! duplicate stays bounded to that one batch and shows on `/metrics`.

pub mod aws;
pub mod cloudwatch;
pub mod xray;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::retry::{AttemptDeadline, Backoff};

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
    /// The request went out but no answer came in time: the service may
    /// have stored it.
    pub timed_out: bool,
    pub message: String,
}

impl ShipError {
    /// A failure before or without a request reaching the service.
    pub fn new(retryable: bool, message: String) -> ShipError {
        ShipError {
            retryable,
            timed_out: false,
            message,
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait Shipper: Send + Sync + 'static {
    type Item: Send + 'static;
    const NAME: &'static str;
    fn limits(&self) -> BatchLimits;
    /// An upper estimate of the item's size in a request.
    fn size(&self, item: &Self::Item) -> usize;
    /// Sends one batch; a request not answered within `timeout` fails with
    /// `timed_out`.
    fn ship(
        &self,
        items: &[Self::Item],
        timeout: Duration,
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
    /// Batches sent again after a request that timed out: each may be
    /// stored twice where the service does not recognise a repeat.
    pub retries_after_timeout: AtomicU64,
    /// Items in those batches: the most that can be stored twice.
    pub resent_after_timeout: AtomicU64,
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
    /// `attempt_timeout`: how long a request may take at first (see
    /// [`AttemptDeadline`]).
    pub fn spawn<S: Shipper<Item = T>>(
        shipper: S,
        capacity: usize,
        attempt_timeout: Duration,
    ) -> SinkHandle<T> {
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
            retrying: Vec::new(),
            after_timeout: false,
            deadline: AttemptDeadline::new(attempt_timeout),
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

    /// Ships what is buffered, retrying until `deadline`, then stops;
    /// returns how many items were left undelivered.
    pub async fn close(self, deadline: Instant) -> u64 {
        drop(self.tx);
        let stats = self.stats.clone();
        let mut task = self.task;
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
        stats.buffered.load(Ordering::Relaxed)
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
    /// The batch whose last attempt failed, to be sent again alone.
    retrying: Vec<S::Item>,
    /// That attempt timed out.
    after_timeout: bool,
    deadline: AttemptDeadline,
}

impl<S: Shipper> Worker<S> {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg<S::Item>>) {
        loop {
            let wake = if self.pending() == 0 {
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
                        let _ = reply.send(self.pending() == 0);
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(wake) => { self.drain().await; }
            }
        }
        // Closing: keep trying until the caller's deadline aborts us.
        while self.pending() > 0 {
            if !self.drain().await {
                tokio::time::sleep_until(self.next_attempt).await;
            }
        }
    }

    fn push(&mut self, items: Vec<S::Item>) {
        for item in items {
            if self.pending() >= self.capacity {
                // The oldest are those of the batch waiting to be retried.
                if self.retrying.is_empty() {
                    self.buffer.pop_front();
                } else {
                    self.retrying.remove(0);
                }
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
        self.count_pending();
    }

    fn pending(&self) -> usize {
        self.buffer.len() + self.retrying.len()
    }

    fn count_pending(&self) {
        self.stats
            .buffered
            .store(self.pending() as u64, Ordering::Relaxed);
    }

    /// The failed batch if there is one, else the next batch cut from the
    /// front of the buffer within the shipper's limits.
    fn next_batch(&mut self) -> Vec<S::Item> {
        if !self.retrying.is_empty() {
            return std::mem::take(&mut self.retrying);
        }
        let limits = self.shipper.limits();
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
        self.buffer.drain(..n).collect()
    }

    /// Ships batches until nothing is pending (true) or an attempt fails
    /// in a way worth retrying (false: wait for `next_attempt`).
    async fn drain(&mut self) -> bool {
        while self.pending() > 0 {
            let resend = std::mem::take(&mut self.after_timeout);
            let batch = self.next_batch();
            let n = batch.len();
            let timeout = self.deadline.current();
            if resend {
                self.stats
                    .retries_after_timeout
                    .fetch_add(1, Ordering::Relaxed);
                self.stats
                    .resent_after_timeout
                    .fetch_add(n as u64, Ordering::Relaxed);
                tracing::warn!(
                    sink = S::NAME,
                    "sending the {n} items of the request that timed out again, alone, with a {timeout:?} deadline; if the first request was stored, these {n} are stored twice"
                );
            }
            // The batch in flight still counts as pending.
            self.stats
                .buffered
                .store((self.pending() + n) as u64, Ordering::Relaxed);
            let started = Instant::now();
            match self.shipper.ship(&batch, timeout).await {
                Ok(()) => {
                    self.deadline.answered(started.elapsed());
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
                    if e.timed_out {
                        self.deadline.timed_out();
                        self.after_timeout = true;
                    }
                    self.retrying = batch;
                    self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff.next_delay();
                    if self.backoff.attempts() == 1 || e.timed_out {
                        tracing::warn!(
                            sink = S::NAME,
                            "{e}; retrying these {n} items alone, {} items pending",
                            self.pending()
                        );
                    }
                    self.next_attempt = Instant::now() + delay;
                    self.count_pending();
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
            self.count_pending();
        }
        true
    }
}
