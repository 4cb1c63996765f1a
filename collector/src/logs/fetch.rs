//! Reads a CloudWatch Logs group back into log files, one per stream, so
//! `pglog analyze` reads them exactly as it reads local files: the groups
//! `pglog collect` writes (one event per record) and Amazon RDS / Aurora
//! PostgreSQL groups (`/aws/rds/instance/NAME/postgresql`, stderr lines with
//! RDS's prefix) alike.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;

use crate::retry::Backoff;
use crate::sink::aws::{classify, sdk_config, DEFAULT_ATTEMPT_TIMEOUT};

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub group: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub stream_prefix: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Default)]
pub struct Fetched {
    pub files: Vec<PathBuf>,
    pub events: u64,
}

/// Writes the group's events in the window into `dir`, a file per stream.
pub async fn fetch(opts: &FetchOptions, dir: &Path) -> anyhow::Result<Fetched> {
    let sdk = sdk_config(opts.region.as_deref(), DEFAULT_ATTEMPT_TIMEOUT).await;
    let client = Client::new(&sdk);
    let mut writers: HashMap<String, (PathBuf, BufWriter<std::fs::File>)> = HashMap::new();
    let mut token: Option<String> = None;
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut out = Fetched::default();
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(&opts.group)
            .start_time(opts.start_ms)
            .end_time(opts.end_ms)
            .set_log_stream_name_prefix(opts.stream_prefix.clone())
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                let err = classify("CloudWatch Logs FilterLogEvents", &e);
                if err.retryable && backoff.attempts() < 8 {
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
                anyhow::bail!("{err}");
            }
        };
        backoff.reset();
        for e in page.events() {
            let stream = e.log_stream_name().unwrap_or("events");
            if !writers.contains_key(stream) {
                let path = dir.join(file_name(stream, writers.len()));
                let file = std::fs::File::create(&path)?;
                writers.insert(stream.to_string(), (path, BufWriter::new(file)));
            }
            let (_, w) = writers.get_mut(stream).unwrap();
            let msg = e.message().unwrap_or("");
            w.write_all(msg.as_bytes())?;
            if !msg.ends_with('\n') {
                w.write_all(b"\n")?;
            }
            out.events += 1;
        }
        match page.next_token() {
            Some(t) if Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => break,
        }
    }
    for (_, (path, mut w)) in writers {
        w.flush()?;
        out.files.push(path);
    }
    out.files.sort();
    Ok(out)
}

/// A file name for a stream: its characters that are safe, and a number so
/// two streams never share one.
fn file_name(stream: &str, n: usize) -> String {
    let safe: String = stream
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{n:04}-{safe}.log")
}
