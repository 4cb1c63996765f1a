//! `pglog collect`: runs the metric catalogue against one PostgreSQL server
//! on a schedule and ships the results to CloudWatch, X-Ray and a
//! Prometheus endpoint. [`run`] is the whole daemon; the binary only parses
//! flags and hands over a shutdown future.

pub mod catalogue;
pub mod config;
pub mod cycle;
pub mod dashboard;
pub mod logs;
pub mod pg;
pub mod prometheus;
pub mod retry;
pub mod series;
pub mod sink;

use std::future::Future;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::{Instant, MissedTickBehavior};

pub use config::{Config, ConfigError, Overrides};

use crate::cycle::Collector;
use crate::pg::{ConnectSpec, Source};
use crate::series::Datum;
use crate::sink::cloudwatch::CloudWatch;
use crate::sink::xray::{XRayApi, XRayDaemon};
use crate::sink::{Shipper, SinkHandle};

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary (AWS limits are in bytes).
pub(crate) fn clip_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

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

/// Runs until `shutdown` resolves (or after one cycle with `once`), then
/// flushes what is buffered within [`SHUTDOWN_BUDGET`].
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<Outcome> {
    let spec = ConnectSpec::parse(&config.dsn, config.password_env.as_deref())?;
    tracing::info!(url = %spec.url, instance = %config.instance, "collecting every {:?}", config.interval);
    let source = Source::new(spec, config.connect_timeout);
    let mut collector = Collector::new(
        source,
        config.catalogue.clone(),
        config.instance.clone(),
        config.interval,
    );
    let metric_infos = config.catalogue.metrics();

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let log_stats = std::sync::Arc::new(logs::LogStats::default());
    let log_counts = logs::signals::LogCounts::default();
    let mut log_task = None;
    let mut metrics_sink: Option<SinkHandle<Datum>> = None;
    let mut trace_sink: Option<SinkHandle<String>> = None;
    if !config.dry_run {
        let sdk = sink::aws::sdk_config(config.region.as_deref()).await;
        if config.cloudwatch {
            let cw = CloudWatch::new(&sdk, config.namespace.clone(), config.storage_resolution);
            health_check(&cw, &config).await?;
            metrics_sink = Some(SinkHandle::spawn(cw, config.buffer_max_datums));
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
                ),
                None => SinkHandle::spawn(XRayApi::new(&sdk), capacity),
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
    let mut ticker = tokio::time::interval(config.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
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
        let mut extra = Vec::new();
        if let Some(s) = &metrics_sink {
            extra.push((
                "pglog_cloudwatch_datums_dropped_total",
                "counter",
                "Datums dropped because the buffer was full",
                s.stats.dropped_full.load(Ordering::Relaxed) as f64,
            ));
            extra.push((
                "pglog_cloudwatch_datums_buffered",
                "gauge",
                "Datums waiting to be shipped",
                s.stats.buffered.load(Ordering::Relaxed) as f64,
            ));
        }
        exposition.update(&out.datums, &metric_infos, out.up, &extra);
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
    let deadline = Instant::now() + SHUTDOWN_BUDGET;
    let mut delivered = true;
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
            Some(Ok(Ok(true))) => {}
            Some(Ok(Ok(false))) => {
                tracing::warn!("log shipping: not caught up");
                delivered = false;
            }
            Some(Ok(Err(e))) => {
                tracing::error!("log shipping stopped: {e:#}");
                delivered = false;
            }
            _ => delivered = false,
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
        delivered &= s.close(deadline).await;
    }
    if let Some(s) = trace_sink {
        delivered &= s.close(deadline).await;
    }
    if !delivered {
        tracing::warn!("exiting with data not delivered");
    }
    outcome.delivered = delivered;
    Ok(outcome)
}

/// One write before the first cycle: a datum that counts collector starts.
/// A rejected write (credentials, permissions, namespace) stops the start
/// with the reason; an unreachable endpoint only warns, as the buffer will
/// carry the data until it answers.
async fn health_check(cw: &CloudWatch, config: &Config) -> anyhow::Result<()> {
    let datum = Datum {
        metric: catalogue::COLLECTOR_STARTS.into(),
        unit: "Count".into(),
        value: 1.0,
        dimensions: vec![("DBInstance".into(), config.instance.clone())],
        timestamp: SystemTime::now(),
    };
    match cw.ship(&[datum]).await {
        Ok(()) => {
            tracing::info!("CloudWatch health check passed (namespace {})", config.namespace);
            Ok(())
        }
        Err(e) if e.retryable => {
            tracing::warn!("CloudWatch health check: {e}; buffering until it answers");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("CloudWatch health check failed: {e}; check the credentials, the cloudwatch:PutMetricData permission and the region")),
    }
}
