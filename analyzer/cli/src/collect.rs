//! `pglog collect` and `pglog metrics`: logging, the runtime and signals
//! around the collector library.

use std::io::Write;

use crate::cli::{CollectArgs, DashboardArgs, ListFormat, MetricsCommand, PrometheusRulesArgs};

/// `--once` ran but something did not work (exit status 1).
#[derive(Debug, thiserror::Error)]
#[error("the cycle did not fully work")]
pub struct CycleFailed;

pub fn run(args: &CollectArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PGLOG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let once = config.once;
    let reload_args = args.clone();
    let outcome = runtime.block_on(async move {
        let reloads = pglog_collector::Reloads {
            requests: reload_requests(),
            load: Box::new(move || reload_args.to_config()),
        };
        pglog_collector::run(config, shutdown_signal(), reloads).await
    })?;
    // Tasks still running (a stuck connection attempt) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    if once && !outcome.worked() {
        eprintln!(
            "pglog: the cycle did not fully work: database {}, {} failed queries, {}",
            if outcome.up { "up" } else { "down" },
            outcome.failed_queries,
            if outcome.delivered {
                "all delivered"
            } else {
                "not all delivered"
            }
        );
        return Err(CycleFailed.into());
    }
    Ok(())
}

/// SIGHUP, as systemd's `ExecReload` sends it: read the settings again.
fn reload_requests() -> tokio::sync::mpsc::UnboundedReceiver<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reading the settings again");
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    rx
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping: flushing what is buffered");
}

pub fn metrics(command: &MetricsCommand) -> anyhow::Result<()> {
    let MetricsCommand::List { format, metrics } = command;
    let catalogue = pglog_collector::catalogue::Catalogue::with_user_file(metrics.as_deref())?;
    let list = catalogue.metrics();
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        ListFormat::Text => {
            for m in &list {
                let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
                writeln!(
                    out,
                    "{:<34} {:<13} {:<8} [{}] on {}",
                    m.name,
                    m.unit,
                    format!("{:?}", m.kind).to_lowercase(),
                    m.dimensions.join(", "),
                    roles.join("+")
                )?;
                writeln!(out, "    {}", m.help)?;
            }
        }
    }
    Ok(())
}

pub fn dashboard(args: &DashboardArgs) -> anyhow::Result<()> {
    use pglog_collector::dashboard;
    let layout = dashboard::layout(&pglog_collector::catalogue::Catalogue::built_in())?;
    let value = if args.grafana {
        pglog_collector::grafana::dashboard(&pglog_collector::catalogue::Catalogue::built_in())?
    } else if args.layout {
        serde_json::to_value(&layout)?
    } else {
        let region = match args.region.clone() {
            Some(r) => r,
            None => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(pglog_collector::sink::aws::default_region())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--region: give the region of the metrics (none in AWS_REGION or the AWS profile)"
                    )
                })?,
        };
        dashboard::body(&layout, &args.namespace, &region, &args.instances)?
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &value)?;
    writeln!(out)?;
    Ok(())
}

pub fn prometheus_rules(args: &PrometheusRulesArgs) -> anyhow::Result<()> {
    use pglog_collector::prometheus::rules;
    let catalogue = pglog_collector::catalogue::Catalogue::with_user_file(args.metrics.as_deref())?;
    let file = rules::rules(&catalogue, &args.to_options())?;
    for why in &file.left_out {
        eprintln!("pglog: left out: {why}");
    }
    let yaml = file.to_yaml(&format!(
        "Written by pglog prometheus-rules {} from the metric catalogue.",
        env!("CARGO_PKG_VERSION")
    ));
    match &args.output {
        Some(path) => std::fs::write(path, yaml)
            .map_err(|e| anyhow::anyhow!("--output {}: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(yaml.as_bytes())?,
    }
    Ok(())
}

/// Downloads a CloudWatch Logs group's window into `dir`; the event count.
pub fn fetch_group(
    opts: &pglog_collector::logs::fetch::FetchOptions,
    dir: &std::path::Path,
) -> anyhow::Result<u64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let got = runtime.block_on(pglog_collector::logs::fetch::fetch(opts, dir))?;
    Ok(got.events)
}
