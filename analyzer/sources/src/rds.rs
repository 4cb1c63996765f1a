//! An RDS instance's log files as streams: DescribeDBLogFiles page by page
//! (Marker), kept when last written within the window, then each file read
//! portion by portion with DownloadDBLogFilePortion (Marker and
//! AdditionalDataPending) as the analyzer reads it. RDS for PostgreSQL
//! writes its stderr log with the prefix `%t:%r:%u@%d:[%p]:`, which the
//! analyzer recognises (`--input-format rds`).

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_rds::Client;
use bytes::Bytes;
use pglog_analyzer::StreamInput;

use crate::aws::{explain, with_retries};
use crate::chunks::{self, ChunkReader};
use crate::{Aws, SourceError};

/// One log file of the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub name: String,
    pub size: Option<u64>,
    /// Milliseconds since the epoch.
    pub last_written_ms: Option<i64>,
}

/// The instance's log files last written within `since` of now (all when
/// `None`), oldest first, as streams named `rds://INSTANCE/FILE`.
pub fn log_files(
    aws: &Arc<Aws>,
    instance: &str,
    since: Option<Duration>,
) -> Result<Vec<StreamInput>, SourceError> {
    let client = Client::new(&aws.sdk);
    let mut files = aws.block_on(describe(&client, instance))?;
    if let Some(since) = since {
        files.retain(|f| written_within(f, since, SystemTime::now()));
    }
    if files.is_empty() {
        return Err(SourceError::NoLogFiles {
            instance: instance.to_string(),
            window: since.map_or(String::new(), |d| {
                format!(
                    " last written within --since {}",
                    humantime::format_duration(d)
                )
            }),
        });
    }
    files.sort_by_key(|f| (f.last_written_ms, f.name.clone()));
    Ok(files
        .into_iter()
        .map(|f| {
            let aws = Arc::clone(aws);
            let client = client.clone();
            let instance = instance.to_string();
            StreamInput::new(format!("rds://{instance}/{}", f.name), f.size, move || {
                open(&aws, &client, &instance, &f.name).map(|r| Box::new(r) as Box<dyn Read + Send>)
            })
        })
        .collect())
}

/// Was the file last written within `since` before `now`? A file whose
/// time RDS does not give is kept.
fn written_within(f: &LogFile, since: Duration, now: SystemTime) -> bool {
    let from = now
        .checked_sub(since)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    f.last_written_ms.is_none_or(|t| t >= from)
}

async fn describe(client: &Client, instance: &str) -> Result<Vec<LogFile>, SourceError> {
    let mut files = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = with_retries("RDS DescribeDBLogFiles", || {
            client
                .describe_db_log_files()
                .db_instance_identifier(instance)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|e| SourceError::Aws {
            target: format!("RDS instance {instance}"),
            problem: explain("RDS DescribeDBLogFiles", &e, "rds:DescribeDBLogFiles"),
        })?;
        for f in page.describe_db_log_files() {
            let Some(name) = f.log_file_name() else {
                continue;
            };
            files.push(LogFile {
                name: name.to_string(),
                size: f.size().and_then(|s| u64::try_from(s).ok()),
                last_written_ms: f.last_written(),
            });
        }
        match page.marker() {
            Some(m) if !m.is_empty() && Some(m) != marker.as_deref() => {
                marker = Some(m.to_string())
            }
            _ => break,
        }
    }
    Ok(files)
}

/// One portion of a file: its text, and where the next starts if any.
struct Portion {
    data: Bytes,
    next: Option<String>,
}

async fn portion(
    client: &Client,
    instance: &str,
    file: &str,
    marker: &str,
) -> Result<Portion, String> {
    let got = with_retries("RDS DownloadDBLogFilePortion", || {
        client
            .download_db_log_file_portion()
            .db_instance_identifier(instance)
            .log_file_name(file)
            .marker(marker)
            .send()
    })
    .await
    .map_err(|e| {
        explain(
            "RDS DownloadDBLogFilePortion",
            &e,
            "rds:DownloadDBLogFilePortion",
        )
    })?;
    let next = match (got.additional_data_pending(), got.marker()) {
        (Some(true), Some(m)) if m != marker => Some(m.to_string()),
        _ => None,
    };
    Ok(Portion {
        data: Bytes::from(got.log_file_data.unwrap_or_default()),
        next,
    })
}

/// Fetches the first portion now (so a refusal is the open's error), the
/// rest as the reader takes them.
fn open(aws: &Aws, client: &Client, instance: &str, file: &str) -> io::Result<ChunkReader> {
    let first = aws
        .block_on(portion(client, instance, file, "0"))
        .map_err(io::Error::other)?;
    let (tx, reader) = chunks::channel();
    let (client, instance, file) = (client.clone(), instance.to_string(), file.to_string());
    aws.handle().spawn(async move {
        let mut next = first.next.clone();
        if tx.send(Ok(first.data)).await.is_err() {
            return;
        }
        while let Some(marker) = next {
            let got = portion(&client, &instance, &file, &marker).await;
            let chunk = match got {
                Ok(p) => {
                    next = p.next;
                    Ok(p.data)
                }
                Err(e) => {
                    next = None;
                    Err(io::Error::other(format!(
                        "rds://{instance}/{file}: the download broke off at marker {marker}: {e}"
                    )))
                }
            };
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
    });
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_keeps_the_files_written_within_it() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |secs_ago: u64| LogFile {
            name: format!("error/postgresql.log.{secs_ago}"),
            size: Some(1),
            last_written_ms: Some((1_800_000_000 - secs_ago as i64) * 1000),
        };
        let day = Duration::from_secs(86_400);
        assert!(written_within(&at(0), day, now));
        assert!(written_within(&at(86_400), day, now));
        assert!(!written_within(&at(86_401), day, now));
        let unknown = LogFile {
            last_written_ms: None,
            ..at(0)
        };
        assert!(written_within(&unknown, day, now));
    }
}
