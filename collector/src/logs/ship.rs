//! CloudWatch Logs: the group and streams made if missing, retention set,
//! and PutLogEvents batches within the API's limits. A batch is always a
//! prefix of a file's unshipped records, so one offset says what is done.
//!
//! PutLogEvents has no idempotency token, so a batch whose request timed
//! out (and may have been stored) is not simply sent again: the stream is
//! read back first, as after a crash, and the records already there are
//! skipped.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;

use super::tail::LogEvent;
use crate::retry::AttemptDeadline;
use crate::sink::aws::{attempt, classify};
use crate::sink::ShipError;

pub const MAX_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Each event costs its UTF-8 size plus this in the batch limit.
pub const EVENT_OVERHEAD: usize = 26;
/// Longest event message accepted (256 KiB less the overhead).
pub const MAX_EVENT_BYTES: usize = 262_144 - EVENT_OVERHEAD;
const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600 - 3600);
const MAX_AHEAD: Duration = Duration::from_secs(2 * 3600 - 60);
const MAX_SPAN_MS: i64 = 23 * 3600 * 1000;

pub struct LogsClient {
    client: Client,
    group: String,
    retention_days: Option<i32>,
    streams: HashSet<String>,
    group_ready: bool,
    deadline: AttemptDeadline,
}

/// How many of `events` (a prefix) go in the next request.
pub fn batch_len(events: &[LogEvent]) -> usize {
    let mut bytes = 0;
    let mut first_ts = None;
    for (i, e) in events.iter().enumerate() {
        let size = e.message.len().min(MAX_EVENT_BYTES) + EVENT_OVERHEAD;
        let first = *first_ts.get_or_insert(e.timestamp_ms);
        if i == MAX_EVENTS
            || bytes + size > MAX_BATCH_BYTES
            || (e.timestamp_ms - first).abs() > MAX_SPAN_MS
        {
            return i.max(1);
        }
        bytes += size;
    }
    events.len()
}

impl LogsClient {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        group: String,
        retention_days: Option<i32>,
        attempt_timeout: Duration,
    ) -> LogsClient {
        LogsClient {
            client: Client::new(sdk),
            group,
            retention_days,
            streams: HashSet::new(),
            group_ready: false,
            deadline: AttemptDeadline::new(attempt_timeout),
        }
    }

    /// Runs one request under the current deadline, which grows when a
    /// request times out and comes back down with fast answers.
    async fn timed<
        T,
        E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata + std::error::Error + 'static,
    >(
        &mut self,
        what: &str,
        request: impl std::future::Future<
            Output = Result<
                T,
                aws_sdk_cloudwatchlogs::error::SdkError<
                    E,
                    aws_sdk_cloudwatchlogs::config::http::HttpResponse,
                >,
            >,
        >,
    ) -> Result<T, ShipError> {
        let started = Instant::now();
        let out = attempt(what, self.deadline.current(), request).await;
        match &out {
            Ok(_) => self.deadline.answered(started.elapsed()),
            Err(e) if e.timed_out => self.deadline.timed_out(),
            Err(_) => {}
        }
        out
    }

    async fn ensure_group(&mut self) -> Result<(), ShipError> {
        if self.group_ready {
            return Ok(());
        }
        if let Err(e) = self
            .client
            .create_log_group()
            .log_group_name(&self.group)
            .send()
            .await
        {
            let exists = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception());
            // A least-privilege role (terraform/modules/pglog-collector) may
            // not create groups: the group is made with the infrastructure,
            // and a missing one shows up at CreateLogStream.
            let not_allowed = e
                .as_service_error()
                .and_then(aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata::code)
                .is_some_and(|c| c == "AccessDeniedException");
            if not_allowed {
                tracing::debug!(group = %self.group, "not allowed to create the log group; using it as it is");
            } else if !exists {
                return Err(classify("CloudWatch Logs CreateLogGroup", &e));
            }
        }
        if let Some(days) = self.retention_days {
            self.client
                .put_retention_policy()
                .log_group_name(&self.group)
                .retention_in_days(days)
                .send()
                .await
                .map_err(|e| classify("CloudWatch Logs PutRetentionPolicy", &e))?;
        }
        self.group_ready = true;
        Ok(())
    }

    /// Makes the stream if needed, the first time this run ships to it, and
    /// returns the events already in it from `since_ms` on (none when it
    /// is new), so a batch sent before a crash but not checkpointed is not
    /// sent twice. `None` when the stream was opened before in this run.
    pub async fn open_stream(
        &mut self,
        stream: &str,
        since_ms: Option<i64>,
    ) -> Result<Option<Vec<(i64, String)>>, ShipError> {
        self.ensure_group().await?;
        if self.streams.contains(stream) {
            return Ok(None);
        }
        let created = match self
            .client
            .create_log_stream()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) =>
            {
                false
            }
            Err(e) => return Err(classify("CloudWatch Logs CreateLogStream", &e)),
        };
        let mut present = Vec::new();
        if let (false, Some(since)) = (created, since_ms) {
            let mut token: Option<String> = None;
            loop {
                let request = self
                    .client
                    .get_log_events()
                    .log_group_name(&self.group)
                    .log_stream_name(stream)
                    .start_time(since)
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send();
                let out = self.timed("CloudWatch Logs GetLogEvents", request).await?;
                let n = out.events().len();
                present.extend(out.events().iter().map(|e| {
                    (
                        e.timestamp().unwrap_or(0),
                        e.message().unwrap_or("").to_string(),
                    )
                }));
                let next = out.next_forward_token().map(str::to_string);
                if n == 0 || next == token || present.len() > 4 * MAX_EVENTS {
                    break;
                }
                token = next;
            }
        }
        self.streams.insert(stream.to_string());
        Ok(Some(present))
    }

    /// Sends `events` (one batch, in file order) to `stream`. Events outside
    /// the accepted time window are left out and counted. After a timeout
    /// the stream counts as not opened, so the next [`Self::open_stream`]
    /// reads back what the request stored.
    pub async fn put(&mut self, stream: &str, events: &[LogEvent]) -> Result<usize, ShipError> {
        let now = super::signals::now_ms();
        let oldest = now - MAX_AGE.as_millis() as i64;
        let newest = now + MAX_AHEAD.as_millis() as i64;
        let mut out: Vec<InputLogEvent> = Vec::with_capacity(events.len());
        let mut skipped = 0;
        for e in events {
            if e.timestamp_ms < oldest || e.timestamp_ms > newest {
                skipped += 1;
                continue;
            }
            let msg = crate::text::clip_bytes(&e.message, MAX_EVENT_BYTES);
            out.push(
                InputLogEvent::builder()
                    .timestamp(e.timestamp_ms)
                    .message(msg)
                    .build()
                    .expect("timestamp and message set"),
            );
        }
        if skipped > 0 {
            tracing::warn!(stream, "{skipped} records outside CloudWatch Logs' window (14 days back, 2 hours ahead) left out");
        }
        if out.is_empty() {
            return Ok(skipped);
        }
        // The API wants a batch in time order; the file's order can differ
        // by a few milliseconds between backends.
        out.sort_by_key(|e| e.timestamp());
        let request = self
            .client
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .set_log_events(Some(out))
            .send();
        let resp = match self.timed("CloudWatch Logs PutLogEvents", request).await {
            Ok(r) => r,
            Err(e) => {
                if e.timed_out {
                    self.streams.remove(stream);
                }
                return Err(e);
            }
        };
        if let Some(r) = resp.rejected_log_events_info() {
            tracing::warn!(stream, "CloudWatch Logs rejected some events: {r:?}");
        }
        Ok(skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, len: usize) -> LogEvent {
        LogEvent {
            timestamp_ms: ts,
            message: "x".repeat(len),
            end: 0,
            signal: None,
        }
    }

    #[test]
    fn batches_stay_within_the_api_limits() {
        // 10,000 events at most.
        let small: Vec<LogEvent> = (0..12_000).map(|i| ev(i, 10)).collect();
        assert_eq!(batch_len(&small), MAX_EVENTS);
        // 1 MiB counting 26 bytes per event: 1000-byte events fit 1022 times.
        let big: Vec<LogEvent> = (0..2000).map(|i| ev(i, 1000)).collect();
        assert_eq!(batch_len(&big), MAX_BATCH_BYTES / (1000 + EVENT_OVERHEAD));
        // No batch spans more than 23 hours.
        let spread = vec![ev(0, 10), ev(3_600_000, 10), ev(24 * 3_600_000, 10)];
        assert_eq!(batch_len(&spread), 2);
        // An event over the event limit is cut to it, and counted so.
        let huge = vec![ev(0, 2 * MAX_BATCH_BYTES), ev(1, 10)];
        assert_eq!(batch_len(&huge), 2);
        let five: Vec<LogEvent> = (0..5).map(|i| ev(i, 2 * MAX_BATCH_BYTES)).collect();
        // Four cut events make exactly 1 MiB.
        assert_eq!(batch_len(&five), 4);
    }
}
