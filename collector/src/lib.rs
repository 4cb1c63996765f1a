//! `pglog collect`: runs the metric catalogue against one PostgreSQL server
//! on a schedule and ships the results to CloudWatch, X-Ray and a
//! Prometheus endpoint. [`run`] is the whole daemon; the binary only parses
//! flags and hands over a shutdown future.

mod atomic_file;
pub mod catalogue;
pub mod config;
pub mod cycle;
pub mod dashboard;
pub mod database_patterns;
pub mod databases;
pub mod error;
pub mod grafana;
pub mod logs;
pub mod pg;
pub mod pgbouncer;
pub mod prometheus;
pub mod retry;
pub mod series;
pub mod sink;
pub mod state;
mod text;
mod trace;

use std::future::Future;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::{Instant, MissedTickBehavior};

pub use config::{Config, ConfigError, Overrides};

use crate::cycle::Collector;
use crate::pg::{ConnectSpec, Source};
use crate::pgbouncer::Pgbouncer;
use crate::series::Datum;
use crate::sink::cloudwatch::CloudWatch;
use crate::sink::xray::{XRayApi, XRayDaemon};
use crate::sink::{Shipper, SinkHandle};

/// How long shutdown may spend flushing before it gives up.
pub const SHUTDOWN_BUDGET: Duration = Duration::from_millis(4500);

/// How a run ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub cycles: u64,
    /// The database answered the last cycle.
    pub up: bool,
    /// Queries that failed in the last cycle.
    pub failed_queries: usize,
    /// Everything collected was delivered before exit.
    pub delivered: bool,
}

impl Outcome {
    /// For `--once`: the cycle reached the database, ran every query and
    /// shipped it all.
    pub fn worked(&self) -> bool {
        self.up && self.failed_queries == 0 && self.delivered
    }
}

/// SIGHUP: each message on `requests` asks for the settings to be read
/// again, which `load` does (the config file, the metric file, the flags).
pub struct Reloads {
    pub requests: tokio::sync::mpsc::UnboundedReceiver<()>,
    pub load: Box<dyn Fn() -> Result<Config, ConfigError> + Send>,
}

/// Runs until `shutdown` resolves (or after one cycle with `once`), then
/// flushes what is buffered within [`SHUTDOWN_BUDGET`]. A reload request
/// applies the new settings between cycles, keeping buffers and counters.
pub async fn run(
    mut config: Config,
    shutdown: impl Future<Output = ()>,
    mut reloads: Reloads,
) -> anyhow::Result<Outcome> {
    let spec = ConnectSpec::parse(&config.dsn, config.password_env.as_deref())?;
    tracing::info!(url = %spec.url, instance = %config.instance, "collecting every {:?}", config.interval);
    let source = Source::new(spec, config.connect_timeout);
    let mut collector = Collector::new(
        source,
        config.catalogue.clone(),
        config.instance.clone(),
        config.interval,
    );
    collector.keep_state(state::StateFile::open(&config.state_dir, &config.instance));
    collector.set_databases(config.databases.clone(), config.connect_timeout);
    collector.set_pgbouncer(
        config
            .pgbouncer
            .as_ref()
            .map(|p| Pgbouncer::new(p, config.connect_timeout))
            .transpose()?,
    );
    let mut metric_infos = config.catalogue.metrics();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let log_stats = std::sync::Arc::new(logs::LogStats::default());
    let log_counts = logs::signals::LogCounts::default();
    let mut log_task = None;
    let mut metrics_sink: Option<SinkHandle<Datum>> = None;
    let mut trace_sink: Option<SinkHandle<String>> = None;
    let attempt = config.aws_attempt_timeout;
    if !config.dry_run {
        let backstop = attempt * retry::MAX_GROWTH;
        let sdk = sink::aws::sdk_config(config.region.as_deref(), backstop).await;
        if config.cloudwatch {
            let cw = CloudWatch::new(&sdk, config.namespace.clone(), config.storage_resolution);
            let unsent = health_check(&cw, &config).await?;
            let sink = SinkHandle::spawn(cw, config.buffer_max_datums, attempt);
            sink.send(unsent.into_iter().collect());
            metrics_sink = Some(sink);
        }
        if let Some(opts) = config.logs.clone() {
            let counts = log_counts.clone();
            let (sdk, instance, once, stop, stats) = (
                sdk.clone(),
                config.instance.clone(),
                config.once,
                stop_rx.clone(),
                log_stats.clone(),
            );
            log_task = Some(tokio::spawn(logs::run(
                opts, sdk, instance, once, stop, stats, counts,
            )));
        }
        if config.xray {
            // Segments are about 2 kB; keep as many cycles as datums allow.
            let capacity = (config.buffer_max_datums / 20).max(100);
            trace_sink = Some(match config.xray_daemon {
                Some(addr) => SinkHandle::spawn(
                    XRayDaemon::new(addr)
                        .await
                        .with_context(|| format!("xray_daemon {addr}"))?,
                    capacity,
                    attempt,
                ),
                None => SinkHandle::spawn(XRayApi::new(&sdk), capacity, attempt),
            });
        }
    }

    if config.dry_run && config.logs.is_some() {
        tracing::warn!("--dry-run: the log is not shipped");
    }
    let exposition = prometheus::Shared::default();
    if let Some(addr) = config.listen {
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| ConfigError::Invalid {
                    key: "listen".into(),
                    value: addr.to_string(),
                    expected: format!("a free address to listen on ({e})"),
                })?;
        let shared = exposition.clone();
        tokio::spawn(async move {
            if let Err(e) = prometheus::serve(listener, shared, stop_rx).await {
                tracing::error!("Prometheus endpoint stopped: {e}");
            }
        });
    }

    let mut outcome = Outcome::default();
    let mut ticker = new_ticker(config.interval);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(()) = reloads.requests.recv() => {
                if let Some(new) = reload(&config, &reloads, &mut collector) {
                    if new.interval != config.interval {
                        // The next cycle one new interval from now.
                        ticker = new_ticker(new.interval);
                        ticker.reset();
                    }
                    metric_infos = new.catalogue.metrics();
                    config = new;
                }
                continue;
            }
            _ = ticker.tick() => {}
        }
        let mut out = tokio::select! {
            out = collector.cycle() => out,
            _ = &mut shutdown => break,
        };
        // What the log shipper counted since the last cycle, per minute.
        out.datums.extend(log_counts.drain(&config.instance));
        outcome.cycles += 1;
        outcome.up = out.up;
        outcome.failed_queries = out.failed_queries;
        let extra = sink_metrics(
            metrics_sink.as_ref(),
            trace_sink.as_ref(),
            log_task.is_some().then_some(&*log_stats),
        );
        exposition.update(&out.datums, &out.not_due, &metric_infos, out.up, &extra);
        if config.dry_run {
            let doc = serde_json::json!({ "metrics": out.datums, "segments": [out.segment] });
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{doc}");
            let _ = stdout.flush();
        } else {
            if let Some(s) = &metrics_sink {
                s.send(out.datums);
            }
            if let Some(s) = &trace_sink {
                s.send(vec![out.segment.to_string()]);
            }
        }
        if config.once {
            break;
        }
    }

    let _ = stop_tx.send(true);
    collector.save_state();
    let deadline = Instant::now() + SHUTDOWN_BUDGET;
    let mut left = Undelivered::default();
    // The log shipper first, so the counts of its last records still go out
    // with the metrics.
    if let Some(task) = log_task {
        // With --once the log shipper stops by itself once caught up.
        let ended = if config.once {
            tokio::time::timeout(Duration::from_secs(300), task)
                .await
                .ok()
        } else {
            // It stops at its next poll; a write in flight gets two seconds.
            tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .ok()
        };
        match ended {
            Some(Ok(Ok(0))) => {}
            Some(Ok(Ok(n))) => {
                tracing::warn!("log shipping: not caught up");
                left.log_events = Some(n);
            }
            Some(Ok(Err(e))) => {
                tracing::error!("log shipping stopped: {e:#}");
                left.log_events = None;
                left.log_failed = true;
            }
            _ => left.log_failed = true,
        }
        tracing::info!(
            "log shipping: {} records shipped, {} not records, {} already shipped before",
            log_stats.events.load(Ordering::Relaxed),
            log_stats.malformed.load(Ordering::Relaxed),
            log_stats.duplicates_skipped.load(Ordering::Relaxed)
        );
    }
    let last_counts = log_counts.drain(&config.instance);
    if !last_counts.is_empty() {
        tracing::info!(
            "log metrics: {} datums from the last records",
            last_counts.len()
        );
    }
    let deadline = if config.once {
        Instant::now() + SHUTDOWN_BUDGET
    } else {
        deadline
    };
    if let Some(s) = metrics_sink {
        s.send(last_counts);
        let stats = s.stats.clone();
        left.datums = s.close(deadline).await;
        report_resent(
            &stats,
            "PutMetricData",
            "datums may be stored twice in CloudWatch",
        );
    }
    if let Some(s) = trace_sink {
        let stats = s.stats.clone();
        left.segments = s.close(deadline).await;
        report_resent(
            &stats,
            "PutTraceSegments",
            "segments were sent again under their ids",
        );
    }
    outcome.delivered = left.is_empty();
    if outcome.delivered {
        tracing::info!(
            "stopped after {} cycles; everything was delivered",
            outcome.cycles
        );
    } else {
        tracing::warn!(
            "stopped after {} cycles; exiting with data not delivered: {left}",
            outcome.cycles
        );
    }
    Ok(outcome)
}

/// At exit: how much was sent again after a timeout, if anything.
fn report_resent(stats: &sink::SinkStats, request: &str, consequence: &str) {
    let retries = stats.retries_after_timeout.load(Ordering::Relaxed);
    if retries > 0 {
        let items = stats.resent_after_timeout.load(Ordering::Relaxed);
        tracing::warn!("{retries} {request} requests were sent again after a timeout: up to {items} {consequence}");
    }
}

fn new_ticker(interval: Duration) -> tokio::time::Interval {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker
}

/// What shutdown could not deliver.
#[derive(Debug, Default)]
struct Undelivered {
    datums: u64,
    segments: u64,
    /// Records read but not shipped; the checkpoint keeps them for the next start.
    log_events: Option<u64>,
    /// The log shipper did not stop in time or stopped on an error.
    log_failed: bool,
}

impl Undelivered {
    fn is_empty(&self) -> bool {
        self.datums == 0
            && self.segments == 0
            && self.log_events.unwrap_or(0) == 0
            && !self.log_failed
    }
}

impl std::fmt::Display for Undelivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} datums, {} segments, ", self.datums, self.segments)?;
        match (self.log_events, self.log_failed) {
            (_, true) => write!(f, "log events: unknown (the log shipper did not finish); the checkpoint keeps them for the next start"),
            (Some(n), false) if n > 0 => write!(f, "{n} log events (the checkpoint keeps them for the next start)"),
            _ => write!(f, "0 log events"),
        }
    }
}

/// The sinks' counters as `/metrics` shows them.
fn sink_metrics(
    metrics: Option<&SinkHandle<Datum>>,
    traces: Option<&SinkHandle<String>>,
    logs: Option<&logs::LogStats>,
) -> Vec<(&'static str, &'static str, &'static str, f64)> {
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    let mut extra = Vec::new();
    if let Some(s) = metrics {
        let st = &s.stats;
        extra.extend(
            [
                ("pglog_cloudwatch_datums_dropped_total", "counter", "Datums dropped because the buffer was full", &st.dropped_full),
                ("pglog_cloudwatch_datums_buffered", "gauge", "Datums waiting to be shipped", &st.buffered),
                ("pglog_cloudwatch_retries_after_timeout_total", "counter", "PutMetricData requests sent again after one timed out; each may have stored its datums twice", &st.retries_after_timeout),
                ("pglog_cloudwatch_datums_resent_after_timeout_total", "counter", "Datums in those requests: the most that can be stored twice", &st.resent_after_timeout),
            ]
            .map(|(name, kind, help, v)| (name, kind, help, load(v))),
        );
    }
    if let Some(s) = traces {
        let st = &s.stats;
        extra.extend(
            [
                ("pglog_xray_segments_buffered", "gauge", "Segments waiting to be shipped", &st.buffered),
                ("pglog_xray_retries_after_timeout_total", "counter", "PutTraceSegments requests sent again after one timed out (X-Ray overwrites a segment sent again under its id)", &st.retries_after_timeout),
                ("pglog_xray_segments_resent_after_timeout_total", "counter", "Segments in those requests", &st.resent_after_timeout),
            ]
            .map(|(name, kind, help, v)| (name, kind, help, load(v))),
        );
    }
    if let Some(logs) = logs {
        extra.push((
            "pglog_logs_timeouts_total",
            "counter",
            "PutLogEvents requests that timed out; the stream is read back before their records are sent again",
            load(&logs.timeouts),
        ));
    }
    extra
}

/// Reads the settings again and applies what can change while running;
/// None (the running settings stay) when the new ones are wrong.
fn reload(old: &Config, reloads: &Reloads, collector: &mut Collector) -> Option<Config> {
    let new = match (reloads.load)() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("SIGHUP: the new settings are rejected, the running ones stay: {e}");
            return None;
        }
    };
    let connection_changed = old.dsn != new.dsn
        || old.password_env != new.password_env
        || old.connect_timeout != new.connect_timeout;
    if connection_changed {
        match ConnectSpec::parse(&new.dsn, new.password_env.as_deref()) {
            Ok(spec) => collector.set_source(Source::new(spec, new.connect_timeout)),
            Err(e) => {
                tracing::error!(
                    "SIGHUP: the new settings are rejected, the running ones stay: {e}"
                );
                return None;
            }
        }
    }
    if old.pgbouncer != new.pgbouncer || old.connect_timeout != new.connect_timeout {
        match new
            .pgbouncer
            .as_ref()
            .map(|p| Pgbouncer::new(p, new.connect_timeout))
            .transpose()
        {
            Ok(b) => collector.set_pgbouncer(b),
            Err(e) => {
                tracing::error!(
                    "SIGHUP: the new settings are rejected, the running ones stay: {e}"
                );
                return None;
            }
        }
    }
    let changes = old.changes(&new);
    if changes.is_empty() {
        tracing::info!("SIGHUP: settings read again; nothing changed");
        return Some(new);
    }
    for change in &changes {
        if change.live {
            tracing::info!("SIGHUP: {}", change.what);
        } else {
            tracing::warn!(
                "SIGHUP: {}; this takes effect at the next start",
                change.what
            );
        }
    }
    collector.set_catalogue(new.catalogue.clone());
    collector.set_interval(new.interval);
    collector.set_databases(new.databases.clone(), new.connect_timeout);
    // Keys that need a restart keep their running values.
    let mut applied = old.clone();
    applied.dsn = new.dsn;
    applied.password_env = new.password_env;
    applied.connect_timeout = new.connect_timeout;
    applied.pgbouncer = new.pgbouncer;
    applied.interval = new.interval;
    applied.databases = new.databases;
    applied.catalogue = new.catalogue;
    Some(applied)
}

/// One write before the first cycle: a datum that counts collector starts.
/// A rejected write (credentials, permissions, namespace) stops the start
/// with the reason; an unreachable endpoint only warns, and the datum is
/// returned to go out with the buffer. A write that timed out may have been
/// stored, so it is not sent again.
async fn health_check(cw: &CloudWatch, config: &Config) -> anyhow::Result<Option<Datum>> {
    let datum = Datum {
        metric: catalogue::COLLECTOR_STARTS.into(),
        unit: "Count".into(),
        value: 1.0,
        dimensions: vec![("DBInstance".into(), config.instance.clone())],
        timestamp: SystemTime::now(),
    };
    match cw.ship(std::slice::from_ref(&datum), config.aws_attempt_timeout).await {
        Ok(()) => {
            tracing::info!("CloudWatch health check passed (namespace {})", config.namespace);
            Ok(None)
        }
        Err(e) if e.timed_out => {
            tracing::warn!("CloudWatch health check: {e}; it may have been stored, so it is not sent again");
            Ok(None)
        }
        Err(e) if e.retryable => {
            tracing::warn!("CloudWatch health check: {e}; buffering until it answers");
            Ok(Some(datum))
        }
        Err(e) => Err(anyhow::anyhow!("CloudWatch health check failed: {e}; check the credentials, the cloudwatch:PutMetricData permission and the region")),
    }
}
