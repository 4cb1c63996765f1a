//! The systemd journal, as `journalctl` prints it:
//! - `-o short-iso` (and `short-iso-precise`): a syslog-style line
//!   `2026-11-23T10:00:00+0000 host postgres[1234]: <line>`, with banners
//!   such as `-- Boot 1a2b... --` between;
//! - `-o json`: one entry per line, the server's line in `MESSAGE` (a JSON
//!   array of byte values when it is not valid UTF-8 or holds control
//!   characters), the process in `_PID`, the time in `__REALTIME_TIMESTAMP`
//!   (microseconds since the epoch).
//!
//! A server run under systemd without the logging collector writes stderr,
//! which journald stores line by line; one that logs to syslog numbers its
//! chunks `[N-M]`, which both forms keep.

use super::envelope::{Payload, Text};
use super::syslog::{parse_header, split_sequence};
use crate::record::MalformedKind;
use crate::time::LogTime;
use serde::Deserialize;
use std::borrow::Cow;

/// Entries of the service manager itself (`Starting PostgreSQL...`).
fn is_service_manager(ident: &[u8]) -> bool {
    ident == b"systemd"
}

fn is_banner(line: &[u8]) -> bool {
    line.starts_with(b"-- ") && line.trim_ascii_end().ends_with(b" --")
}

pub(crate) fn looks_like_short_iso(line: &[u8]) -> bool {
    if is_banner(line) {
        return line.starts_with(b"-- Journal begins")
            || line.starts_with(b"-- Logs begin")
            || line.starts_with(b"-- Boot ");
    }
    // short-iso writes the offset without a colon, as rsyslog never does.
    let no_colon = crate::time::parse_iso_timestamp(line).is_some_and(|(_, n)| {
        n >= 5
            && matches!(line[n - 5], b'+' | b'-')
            && line[n - 4..n].iter().all(u8::is_ascii_digit)
    });
    no_colon && parse_header(line, 2026).is_some()
}

pub(crate) fn unwrap_short(line: &[u8]) -> Payload<'_> {
    if is_banner(line) {
        return Payload::Skip;
    }
    let Some(sl) = parse_header(line, 2026) else {
        return Payload::Bad(MalformedKind::Garbage, "not a journalctl short-iso line");
    };
    if is_service_manager(sl.ident) {
        return Payload::Skip;
    }
    Payload::Text(Text {
        pid: Some(sl.pid),
        time: sl.time,
        later_chunk: sl.seq.is_some_and(|(_, chunk)| chunk > 1),
        ..Text::new(sl.content)
    })
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, rename = "MESSAGE")]
    message: Option<Message<'a>>,
    #[serde(borrow, rename = "_PID")]
    pid: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "__REALTIME_TIMESTAMP")]
    realtime: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "SYSLOG_IDENTIFIER")]
    identifier: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Message<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Bytes(Vec<u8>),
}

pub(crate) fn unwrap_json(line: &[u8]) -> Payload<'_> {
    let entry: Entry = match serde_json::from_slice(line) {
        Ok(e) => e,
        Err(e) => return super::envelope::bad_json(line, &e, "not a journal entry"),
    };
    if entry
        .identifier
        .as_deref()
        .is_some_and(|i| is_service_manager(i.as_bytes()))
    {
        return Payload::Skip;
    }
    let bytes: Cow<'_, [u8]> = match entry.message {
        Some(Message::Text(t)) => super::envelope::cow_bytes(t),
        Some(Message::Bytes(b)) => Cow::Owned(b),
        // journalctl writes `null` for a field over its size limit.
        None => {
            return Payload::Bad(
                MalformedKind::TooLong,
                "a journal entry without its MESSAGE (too large for journalctl)",
            )
        }
    };
    let time = entry
        .realtime
        .and_then(|us| us.parse::<i64>().ok())
        .map(|us| LogTime {
            epoch_ms: us / 1000,
            zone_known: true,
            offset_min: None,
        });
    let pid = entry.pid.and_then(|p| p.parse().ok());
    let (seq, skip) = {
        let (seq, content) = split_sequence(&bytes);
        (seq, bytes.len() - content.len())
    };
    let later_chunk = seq.is_some_and(|(_, chunk)| chunk > 1);
    let content = match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(&b[skip..]),
        Cow::Owned(mut o) => {
            o.drain(..skip);
            Cow::Owned(o)
        }
    };
    Payload::Text(Text {
        pid,
        time,
        later_chunk,
        ..Text::new(content)
    })
}
