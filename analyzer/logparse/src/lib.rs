//! Streaming parser for PostgreSQL server logs.
//!
//! Bytes (plain or compressed) become [`LogRecord`]s through a format reader
//! (csvlog, jsonlog, stderr or syslog with any `log_line_prefix`, RDS), and
//! records become typed [`Event`]s through a [`Classifier`]. Input that is not
//! a record comes out as [`Malformed`] with its line, never as a panic.
//!
//! ```no_run
//! use pglog_logparse::{source, Classifier, Item, ReaderBuilder};
//! let input = source::open("postgresql.csv".as_ref()).unwrap();
//! let mut reader = ReaderBuilder::new().build(input.reader).unwrap();
//! let mut classifier = Classifier::new();
//! while let Some(item) = reader.next_item().unwrap() {
//!     match item {
//!         Item::Record(r) => println!("{}", classifier.classify(r).kind.key()),
//!         Item::Malformed(m) => eprintln!("line {}: {}", m.line, m.reason),
//!     }
//! }
//! ```

pub mod buffer;
pub mod classify;
pub mod format;
pub mod held;
pub mod language;
pub mod message_format;
pub mod prefix;
pub mod record;
pub mod redact;
pub mod same;
pub mod source;
mod tables;
pub mod time;
pub mod translate;

pub use classify::{Classifier, Event, EventKind};
pub use format::{FormatError, InputFormat, LogReader, Next, Opened, ReaderBuilder};
pub use prefix::{Prefix, PrefixError};
pub use record::{LogRecord, Malformed, MalformedKind, Severity, Short, SqlState};

/// The comment every statement of pglog's own collector starts with, so the
/// analyzer and the collector's log metrics can leave them out.
pub const PGLOG_MARKER: &str = "/* pglog */";

/// Is this one of pglog's own statements?
pub fn is_own_query(sql: &str) -> bool {
    match sql.as_bytes().first() {
        // Nearly every statement starts with a visible ASCII byte: no
        // whitespace to trim.
        Some(b'!'..=b'~') => sql.starts_with(PGLOG_MARKER),
        _ => sql.trim_start().starts_with(PGLOG_MARKER),
    }
}

/// What a reader yields: a record, or a stretch of input that was not one.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Record(LogRecord),
    Malformed(Malformed),
}
