//! jsonlog (PostgreSQL 15+): one JSON object per line; newlines inside values
//! are escaped, so a line is always a whole record.

use super::json_entry::JsonEntry;
use crate::buffer::ByteSource;
use crate::record::{LogRecord, Malformed, MalformedKind, Severity, SqlState};
use crate::time::TimeCache;
use crate::Item;
use std::borrow::Cow;
use std::io;

pub struct JsonReader {
    src: ByteSource,
    max_record: usize,
    /// Consecutive lines mostly share their second and zone.
    times: TimeCache,
}

impl JsonReader {
    pub fn new(src: ByteSource, max_record: usize) -> JsonReader {
        JsonReader {
            src,
            max_record,
            times: TimeCache::new(),
        }
    }

    pub fn source(&self) -> &ByteSource {
        &self.src
    }

    pub fn source_mut(&mut self) -> &mut ByteSource {
        &mut self.src
    }

    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        let mut r = LogRecord::new(0, Severity::Log, String::new());
        Ok(self.next_into(&mut r)?.map(|line| match line {
            Ok(()) => Item::Record(r),
            Err(m) => Item::Malformed(m),
        }))
    }

    /// The next line's record written into `slot` (`Ok`; its message
    /// buffer is reused), or the malformed line (`Err`, `slot` untouched);
    /// `None` at the end of input.
    pub fn next_into(&mut self, slot: &mut LogRecord) -> io::Result<Option<Result<(), Malformed>>> {
        let Some(line) = self.src.next_line(self.max_record)? else {
            return Ok(None);
        };
        let number = line.number;
        let offset = line.offset;
        if line.too_long {
            return Ok(Some(Err(malformed(
                number,
                offset,
                MalformedKind::TooLong,
                "line longer than the record size limit",
            ))));
        }
        // jsonlog writes no blank line: one is foreign.
        if line.bytes.trim_ascii().is_empty() {
            return Ok(Some(Err(malformed(
                number,
                offset,
                MalformedKind::Foreign,
                "",
            ))));
        }
        Ok(Some(
            match fill_entry(slot, number, line.bytes, &mut self.times) {
                Ok(()) => {
                    slot.offset = offset;
                    Ok(())
                }
                Err((kind, why)) => Err(malformed(number, offset, kind, why)),
            },
        ))
    }
}

fn malformed(line: u64, offset: u64, kind: MalformedKind, why: &str) -> Malformed {
    Malformed {
        line,
        offset,
        kind,
        reason: why.to_string(),
    }
}

/// One jsonlog line as a record: read by the fast path when the line has
/// the server's own shape, else by serde_json; the same either way.
pub(crate) fn parse_entry(
    line: u64,
    bytes: &[u8],
    times: &mut TimeCache,
) -> Result<LogRecord, (MalformedKind, &'static str)> {
    let mut r = LogRecord::new(line, Severity::Log, String::new());
    fill_entry(&mut r, line, bytes, times)?;
    Ok(r)
}

/// [`parse_entry`] into `r` (its message buffer kept); `r` is untouched
/// on `Err`.
fn fill_entry(
    r: &mut LogRecord,
    line: u64,
    bytes: &[u8],
    times: &mut TimeCache,
) -> Result<(), (MalformedKind, &'static str)> {
    let text = as_text(bytes)?;
    let mut entry = JsonEntry::default();
    if !super::json_fast::scan_into(text, &mut entry) {
        entry = full_entry(bytes)?;
    }
    fill(r, line, &entry, times)
}

/// [`parse_entry`] with serde_json only: what the fast path must equal
/// (differential tests and the fuzz target).
pub fn parse_line_full(
    line: u64,
    bytes: &[u8],
) -> Result<LogRecord, (MalformedKind, &'static str)> {
    to_record(
        line,
        full_entry(as_text(bytes)?.as_bytes())?,
        &mut TimeCache::new(),
    )
}

fn to_record(
    line: u64,
    e: JsonEntry<'_>,
    times: &mut TimeCache,
) -> Result<LogRecord, (MalformedKind, &'static str)> {
    let mut r = LogRecord::new(line, Severity::Log, String::new());
    fill(&mut r, line, &e, times)?;
    Ok(r)
}

/// [`parse_entry`] with the fast path only: `None` where it leaves the
/// line to serde_json (differential tests and the fuzz target).
pub fn parse_line_fast(
    line: u64,
    bytes: &[u8],
) -> Option<Result<LogRecord, (MalformedKind, &'static str)>> {
    let entry = super::json_fast::scan(std::str::from_utf8(bytes).ok()?)?;
    Some(to_record(line, entry, &mut TimeCache::new()))
}

fn as_text(bytes: &[u8]) -> Result<&str, (MalformedKind, &'static str)> {
    // simdutf8 checks a line of ASCII in a fraction of std's instructions.
    simdutf8::basic::from_utf8(bytes)
        .map_err(|_| (MalformedKind::InvalidUtf8, "bytes that are not UTF-8"))
}

fn full_entry(bytes: &[u8]) -> Result<JsonEntry<'_>, (MalformedKind, &'static str)> {
    serde_json::from_slice(bytes).map_err(|err| {
        if err.is_eof() {
            (MalformedKind::Truncated, "the JSON object is cut short")
        } else {
            (MalformedKind::BadFields, "not a jsonlog object")
        }
    })
}

/// `r` refilled from one entry; untouched on `Err`.
fn fill(
    r: &mut LogRecord,
    line: u64,
    e: &JsonEntry<'_>,
    times: &mut TimeCache,
) -> Result<(), (MalformedKind, &'static str)> {
    // jsonlog writes the English severity whatever lc_messages says; a
    // translated one is read all the same.
    let (severity, words) = match Severity::parse(e.error_severity.as_bytes()) {
        Some(s) => (s, 0),
        None => crate::record::Severity::translated(e.error_severity.as_bytes())
            .ok_or((MalformedKind::BadFields, super::csv::UNKNOWN_SEVERITY))?,
    };
    let own = |v: &Option<Cow<'_, str>>| present(v).map(str::to_owned);
    let short = |v: &Option<Cow<'_, str>>| present(v).map(crate::record::Short::from);
    let time = match e.timestamp.as_deref() {
        Some(t) => Some(
            times
                .parse_pg_timestamp(t.as_bytes())
                .ok_or((MalformedKind::BadFields, "timestamp is not a timestamp"))?
                .0,
        ),
        None => None,
    };
    r.reset(line, severity);
    r.message.push_str(&e.message);
    r.language.words = words;
    r.time = time;
    r.user = short(&e.user);
    r.database = short(&e.dbname);
    r.pid = e.pid;
    r.remote_host = short(&e.remote_host);
    r.remote_port = e.remote_port.and_then(|p| u16::try_from(p).ok());
    r.session_id = short(&e.session_id);
    r.session_line = e.line_num;
    r.command_tag = short(&e.ps);
    r.vxid = short(&e.vxid);
    r.txid = e.txid.filter(|&t| t != 0);
    r.sqlstate = e
        .state_code
        .as_deref()
        .and_then(|s| SqlState::parse_reported(s.as_bytes()));
    r.detail = own(&e.detail);
    r.hint = own(&e.hint);
    r.internal_query = own(&e.internal_query);
    r.context = own(&e.context);
    r.statement = own(&e.statement);
    r.location = match (
        present(&e.func_name),
        present(&e.file_name),
        e.file_line_num,
    ) {
        (Some(f), Some(file), Some(n)) => Some(format!("{f}, {file}:{n}")),
        _ => None,
    };
    r.application = short(&e.application_name);
    r.backend_type = short(&e.backend_type);
    r.leader_pid = e.leader_pid;
    r.query_id = e.query_id.filter(|&q| q != 0);
    Ok(())
}

/// The text of a field that is there and not empty.
fn present<'s>(v: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    v.as_deref().filter(|s| !s.is_empty())
}
