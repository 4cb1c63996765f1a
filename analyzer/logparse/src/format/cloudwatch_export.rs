//! CloudWatch Logs exported to S3 by an export task (`CreateExportTask`):
//! each event on its own line as `<ISO 8601 time> <message>`, the time of
//! the event in UTC with milliseconds (`2026-11-23T09:00:00.000Z`). An RDS
//! event is one server message, so the lines after its first (DETAIL,
//! continuation lines) follow on their own lines without the time.

use super::envelope::{Payload, Text};
use crate::time::{parse_iso_timestamp, parse_pg_timestamp, LogTime};

/// The event time and the message, when the line starts an event.
fn split(line: &[u8]) -> Option<(LogTime, &[u8])> {
    let (time, n) = parse_iso_timestamp(line)?;
    if line.get(n - 1) != Some(&b'Z') {
        return None;
    }
    Some((time, line[n..].strip_prefix(b" ")?))
}

/// An event line whose message is a PostgreSQL log line.
pub(crate) fn looks_like_export(line: &[u8]) -> bool {
    split(line).is_some_and(|(_, message)| {
        parse_pg_timestamp(message).is_some() || parse_iso_timestamp(message).is_some()
    })
}

pub(crate) fn unwrap(line: &[u8]) -> Payload<'_> {
    match split(line) {
        Some((time, message)) => Payload::Text(Text {
            time: Some(time),
            ..Text::new(message)
        }),
        // A later line of a multi-line event.
        None => Payload::Text(Text::new(line)),
    }
}
