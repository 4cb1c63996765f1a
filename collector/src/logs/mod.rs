//! Log shipping: the server's log directory to CloudWatch Logs, one event
//! per record, resuming from a checkpoint after a restart or a crash with
//! nothing lost and nothing sent twice. The log files are the buffer: while
//! CloudWatch Logs is unreachable the checkpoint simply stays where it is.

pub mod checkpoint;
pub mod fetch;
pub mod ship;
pub mod signals;
pub mod tail;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pglog_logparse::{InputFormat, Prefix};
use tokio::sync::watch;

use crate::retry::Backoff;
use checkpoint::Checkpoint;
use ship::{batch_len, LogsClient};
use tail::Tailer;

#[derive(Debug, Clone)]
pub struct LogOptions {
    pub dir: PathBuf,
    pub group: String,
    pub retention_days: Option<i32>,
    pub state_dir: PathBuf,
    pub format: InputFormat,
    pub prefix: Option<Prefix>,
    pub poll: Duration,
    /// How long a file must be quiet before its last record counts as whole.
    pub hold: Duration,
    /// Statements at least this slow count as SlowQueries.
    pub slow_query_ms: f64,
    /// How long a request may take at first.
    pub attempt_timeout: Duration,
}

#[derive(Debug, Default)]
pub struct LogStats {
    pub events: AtomicU64,
    pub bytes: AtomicU64,
    pub malformed: AtomicU64,
    pub duplicates_skipped: AtomicU64,
    pub rejected: AtomicU64,
    /// PutLogEvents requests that timed out; their records are looked up
    /// in the stream before anything is sent again.
    pub timeouts: AtomicU64,
}

/// Ships until `stop` turns true (or, with `once`, until everything in the
/// directory now has been shipped). Returns how many records it last read
/// were left unshipped (0: it ended caught up).
pub async fn run(
    opts: LogOptions,
    sdk: aws_config::SdkConfig,
    instance: String,
    once: bool,
    mut stop: watch::Receiver<bool>,
    stats: Arc<LogStats>,
    counts: signals::LogCounts,
) -> anyhow::Result<u64> {
    let mut marks = Checkpoint::load(&opts.state_dir)?;
    std::fs::create_dir_all(&opts.state_dir)
        .map_err(|e| anyhow::anyhow!("state_dir {}: {e}", opts.state_dir.display()))?;
    if !opts.dir.is_dir() {
        anyhow::bail!("log_dir {}: not a directory", opts.dir.display());
    }
    let mut tailer = Tailer::new(
        opts.dir.clone(),
        opts.format,
        opts.prefix.clone(),
        instance,
        opts.hold,
    );
    tailer.slow_ms = opts.slow_query_ms;
    let mut client = LogsClient::new(
        &sdk,
        opts.group.clone(),
        opts.retention_days,
        opts.attempt_timeout,
    );
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    tracing::info!(dir = %opts.dir.display(), group = %opts.group, "shipping the server log");
    loop {
        let batches = tokio::task::block_in_place(|| tailer.poll(&marks))?;
        let mut unshipped: u64 = batches.iter().map(|b| b.events.len() as u64).sum();
        let mut failed = false;
        let mut shipped_any = false;
        'files: for batch in batches {
            let mut events = &batch.events[..];
            let since = events
                .iter()
                .map(|e| e.timestamp_ms)
                .min()
                .map(|t| t - 1000);
            let present = match client.open_stream(&batch.stream, since).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!("{e}");
                    failed = true;
                    break 'files;
                }
            };
            // A batch accepted just before a crash, before its checkpoint was
            // written: its records are in the stream already.
            let skip = present.map_or(0, |p| already_shipped(events, p));
            if skip > 0 {
                let end = events[skip - 1].end;
                tracing::info!(stream = %batch.stream, "{skip} records are in the stream already (shipped before the last stop, or by a request that timed out); not sending them again");
                unshipped -= skip as u64;
                stats
                    .duplicates_skipped
                    .fetch_add(skip as u64, Ordering::Relaxed);
                if let Some(mark) = tailer.shipped(&batch.key, end)? {
                    marks.files.insert(batch.key.clone(), mark);
                    marks.save(&opts.state_dir)?;
                }
                events = &events[skip..];
            }
            stats
                .malformed
                .fetch_add(batch.malformed, Ordering::Relaxed);
            while !events.is_empty() {
                let n = batch_len(events);
                let chunk = &events[..n];
                match client.put(&batch.stream, chunk).await {
                    Ok(_) => {}
                    Err(e) if e.timed_out => {
                        stats.timeouts.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            "{e}; the stream is read back before these {n} records are sent again"
                        );
                        failed = true;
                        break 'files;
                    }
                    Err(e) if e.retryable => {
                        tracing::warn!("{e}; will retry");
                        failed = true;
                        break 'files;
                    }
                    Err(e) => {
                        tracing::error!("{e}; {n} records of {} not shipped", batch.stream);
                        stats.rejected.fetch_add(n as u64, Ordering::Relaxed);
                    }
                }
                if let Some(mark) = tailer.shipped(&batch.key, chunk[n - 1].end)? {
                    marks.files.insert(batch.key.clone(), mark);
                    marks.save(&opts.state_dir)?;
                }
                for e in chunk {
                    if let Some(sig) = &e.signal {
                        counts.add(e.timestamp_ms, sig);
                    }
                }
                stats.events.fetch_add(n as u64, Ordering::Relaxed);
                stats.bytes.fetch_add(
                    chunk.iter().map(|e| e.message.len() as u64).sum(),
                    Ordering::Relaxed,
                );
                shipped_any = true;
                unshipped -= n as u64;
                events = &events[n..];
            }
        }
        let wait = if failed {
            backoff.next_delay()
        } else {
            backoff.reset();
            // --once waits out the hold for a last record not yet known
            // to be whole (a quiet file releases it).
            if once && !shipped_any && !tailer.holding {
                return Ok(0);
            }
            if shipped_any {
                Duration::ZERO
            } else {
                opts.poll
            }
        };
        if once && failed && backoff.attempts() > 5 {
            return Ok(unshipped.max(1));
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed(), if !once => return Ok(unshipped),
        }
    }
}

/// How many of `events`, from the first, are among `present` (the stream's
/// events, as time and text).
fn already_shipped(events: &[tail::LogEvent], present: Vec<(i64, String)>) -> usize {
    let mut left: HashMap<(i64, String), usize> = HashMap::new();
    for p in present {
        *left.entry(p).or_default() += 1;
    }
    let mut skip = 0;
    for e in events {
        match left.get_mut(&(e.timestamp_ms, e.message.clone())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                skip += 1;
            }
            _ => break,
        }
    }
    skip
}
