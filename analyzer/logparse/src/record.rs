//! One log entry, whatever format it came from.

use crate::time::LogTime;
use serde::Serialize;
use std::fmt;

/// Message severity as PostgreSQL prints it (`lc_messages=C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Debug5,
    Debug4,
    Debug3,
    Debug2,
    Debug1,
    Info,
    Notice,
    Warning,
    Log,
    Error,
    Fatal,
    Panic,
}

impl Severity {
    pub fn parse(s: &[u8]) -> Option<Severity> {
        Some(match s {
            b"LOG" => Severity::Log,
            b"ERROR" => Severity::Error,
            b"WARNING" => Severity::Warning,
            b"FATAL" => Severity::Fatal,
            b"NOTICE" => Severity::Notice,
            b"INFO" => Severity::Info,
            b"PANIC" => Severity::Panic,
            b"DEBUG" | b"DEBUG1" => Severity::Debug1,
            b"DEBUG2" => Severity::Debug2,
            b"DEBUG3" => Severity::Debug3,
            b"DEBUG4" => Severity::Debug4,
            b"DEBUG5" => Severity::Debug5,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug5 => "DEBUG5",
            Severity::Debug4 => "DEBUG4",
            Severity::Debug3 => "DEBUG3",
            Severity::Debug2 => "DEBUG2",
            Severity::Debug1 => "DEBUG1",
            Severity::Info => "INFO",
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
            Severity::Log => "LOG",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
            Severity::Panic => "PANIC",
        }
    }

    /// A translated severity (`FEHLER`, `ОШИБКА`) and the languages that write it.
    pub fn translated(word: &[u8]) -> Option<(Severity, u16)> {
        crate::language::words::SEVERITIES
            .iter()
            .find(|(w, _, _)| w.as_bytes() == word)
            .and_then(|&(_, en, mask)| Some((Severity::parse(en.as_bytes())?, mask)))
    }

    /// DEBUG1 to DEBUG5: developer diagnostics, logged only with
    /// `log_min_messages = debugN`.
    pub fn is_debug(self) -> bool {
        self <= Severity::Debug1
    }

    /// ERROR, FATAL and PANIC: the severities whose SQLSTATE is reported.
    pub fn is_error(self) -> bool {
        matches!(self, Severity::Error | Severity::Fatal | Severity::Panic)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A five-character SQLSTATE such as `23505`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SqlState([u8; 5]);

impl SqlState {
    pub fn parse(s: &[u8]) -> Option<SqlState> {
        let code: [u8; 5] = s.try_into().ok()?;
        code.iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            .then_some(SqlState(code))
    }

    /// A code as a log reports it: `00000` (successful completion, which
    /// jsonlog leaves out) counts as none.
    pub fn parse_reported(s: &[u8]) -> Option<SqlState> {
        SqlState::parse(s).filter(|c| &c.0 != b"00000")
    }

    /// Only for the compile-time table of inferred codes.
    pub const fn from_static(code: &'static [u8; 5]) -> SqlState {
        SqlState(*code)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits and letters get in.
        std::str::from_utf8(&self.0).unwrap_or("?????")
    }

    /// The two-character class, e.g. `23` for integrity constraint violations.
    pub fn class(&self) -> &str {
        &self.as_str()[..2]
    }
}

impl fmt::Debug for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SqlState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One log entry: a csv row, a jsonlog line, or a stderr/syslog message with
/// its continuation and DETAIL/HINT/CONTEXT/STATEMENT/QUERY lines.
/// Fields a format does not carry are `None`.
/// A short text field (names, tags, ids): kept inline up to 24 bytes, so
/// most records allocate only for their message and statement.
pub type Short = compact_str::CompactString;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    pub line: u64,
    /// Byte offset of the record's first line in the (decompressed) input.
    pub offset: u64,
    pub time: Option<LogTime>,
    pub pid: Option<u32>,
    /// The leader's pid for parallel workers (`leader_pid`, `%P`).
    pub leader_pid: Option<u32>,
    pub session_id: Option<Short>,
    pub session_line: Option<u64>,
    pub user: Option<Short>,
    pub database: Option<Short>,
    pub application: Option<Short>,
    /// Client address (`[local]` for Unix sockets), without the port.
    pub remote_host: Option<Short>,
    pub remote_port: Option<u16>,
    pub backend_type: Option<Short>,
    pub command_tag: Option<Short>,
    pub vxid: Option<Short>,
    pub txid: Option<u64>,
    pub query_id: Option<i64>,
    pub severity: Severity,
    /// The SQLSTATE the server wrote (csvlog, jsonlog, `%e`).
    pub sqlstate: Option<SqlState>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub context: Option<String>,
    /// The statement that caused the message (`STATEMENT:`, csv `query`).
    pub statement: Option<String>,
    /// Internal query (`QUERY:`, csv `internal_query`), e.g. from PL/pgSQL.
    pub internal_query: Option<String>,
    pub location: Option<String>,
    /// The language the record was written in (see [`crate::translate`]).
    #[serde(skip)]
    pub language: crate::language::RecordLanguage,
}

impl LogRecord {
    pub fn new(line: u64, severity: Severity, message: String) -> LogRecord {
        LogRecord {
            line,
            offset: 0,
            time: None,
            pid: None,
            leader_pid: None,
            session_id: None,
            session_line: None,
            user: None,
            database: None,
            application: None,
            remote_host: None,
            remote_port: None,
            backend_type: None,
            command_tag: None,
            vxid: None,
            txid: None,
            query_id: None,
            severity,
            sqlstate: None,
            message,
            detail: None,
            hint: None,
            context: None,
            statement: None,
            internal_query: None,
            location: None,
            language: Default::default(),
        }
    }

    /// Makes this the record [`LogRecord::new`] would make with an empty
    /// message, keeping the message's allocation: a reader that refills one
    /// record allocates nothing for most messages. A very long message's
    /// buffer is let go, so a record kept for reuse stays small.
    pub fn reset(&mut self, line: u64, severity: Severity) {
        /// The largest message buffer kept from one record to the next.
        const KEPT_MESSAGE_BYTES: usize = 16 * 1024;
        // Naming every field: a field added later cannot be left out here.
        let LogRecord {
            line: old_line,
            offset,
            time,
            pid,
            leader_pid,
            session_id,
            session_line,
            user,
            database,
            application,
            remote_host,
            remote_port,
            backend_type,
            command_tag,
            vxid,
            txid,
            query_id,
            severity: old_severity,
            sqlstate,
            message,
            detail,
            hint,
            context,
            statement,
            internal_query,
            location,
            language,
        } = self;
        *old_line = line;
        *offset = 0;
        *time = None;
        *pid = None;
        *leader_pid = None;
        *session_id = None;
        *session_line = None;
        *user = None;
        *database = None;
        *application = None;
        *remote_host = None;
        *remote_port = None;
        *backend_type = None;
        *command_tag = None;
        *vxid = None;
        *txid = None;
        *query_id = None;
        *old_severity = severity;
        *sqlstate = None;
        if message.capacity() > KEPT_MESSAGE_BYTES {
            *message = String::new();
        } else {
            message.clear();
        }
        *detail = None;
        *hint = None;
        *context = None;
        *statement = None;
        *internal_query = None;
        *location = None;
        *language = Default::default();
    }
}

/// Why a stretch of input was not a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// The input ended in the middle of a record.
    Truncated,
    /// Bytes that are not UTF-8 text.
    InvalidUtf8,
    /// Binary bytes, or a line that fits no record shape.
    Garbage,
    /// A record longer than the configured maximum.
    TooLong,
    /// A DETAIL/HINT/CONTEXT/STATEMENT/QUERY line or continuation with no parent record.
    Orphan,
    /// A csv row or json line whose fields are wrong.
    BadFields,
    /// A line another program wrote into the log (pg_ctl, an
    /// archive_command), or a blank line: not a record, not a damaged one.
    /// Its reason is the line's head.
    Foreign,
}

impl MalformedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::Truncated => "truncated",
            MalformedKind::InvalidUtf8 => "invalid_utf8",
            MalformedKind::Garbage => "garbage",
            MalformedKind::TooLong => "too_long",
            MalformedKind::Orphan => "orphan",
            MalformedKind::BadFields => "bad_fields",
            MalformedKind::Foreign => "foreign",
        }
    }
}

/// A stretch of input that could not be read as a record. `line` is where it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    pub line: u64,
    /// Byte offset where the stretch starts.
    pub offset: u64,
    pub kind: MalformedKind,
    /// What was wrong, short, for the user.
    pub reason: String,
}

impl Malformed {
    /// Reading failed at `line` (a cut compressed stream, a failing disk):
    /// what was read before is kept, and this marks where it stopped.
    pub fn reading_stopped(line: u64, offset: u64, e: &std::io::Error) -> Malformed {
        Malformed {
            line,
            offset,
            kind: MalformedKind::Truncated,
            reason: format!("reading stopped: {e}"),
        }
    }
}

/// Splits `host(port)` (`%r`) or `host:port` (csvlog `connection_from`).
pub fn split_host_port(s: &str) -> (Short, Option<u16>) {
    // Unix-socket clients, most of a local benchmark's: no port to look for.
    if s == "[local]" {
        return (Short::const_new("[local]"), None);
    }
    if let Some(inner) = s.strip_suffix(')') {
        if let Some((host, port)) = inner.rsplit_once('(') {
            if let Ok(p) = port.parse() {
                return (host.into(), Some(p));
            }
        }
    }
    if !s.starts_with('[') || s.contains("]:") {
        if let Some((host, port)) = s.rsplit_once(':') {
            if let Ok(p) = port.parse() {
                return (host.into(), Some(p));
            }
        }
    }
    (s.into(), None)
}
