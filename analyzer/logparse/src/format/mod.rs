//! Input formats, sniffing, and the reader that turns bytes into records.

pub mod azure;
pub mod cloudsql;
pub mod cloudwatch_export;
pub mod cnpg;
pub mod container;
pub mod csv;
mod csv_fast;
pub mod envelope;
pub mod heroku;
pub mod journal;
pub mod json;
pub mod json_array;
mod json_entry;
mod json_fast;
pub mod pgbouncer;
mod record_pool;
pub mod stitch;
pub mod syslog;
mod word_bytes;

use crate::buffer::ByteSource;
use crate::held::HeldBytes;
use crate::prefix::{infer_prefix, Closest, Prefix, RDS_PREFIX};
use crate::record::{LogRecord, Malformed};
use crate::time::parse_pg_timestamp;
use crate::Item;
use serde::Serialize;
use std::io::{self, Read};
use stitch::{LineIn, Stitcher};

/// The `--input-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Auto,
    Csv,
    Json,
    Stderr,
    Syslog,
    Rds,
    /// Google Cloud Logging `LogEntry` lines (Cloud SQL's `textPayload`).
    Cloudsql,
    /// CloudNativePG's JSON lines with a csvlog `record`.
    Cnpg,
    /// Azure Monitor rows of `PostgreSQLLogs`.
    Azure,
    /// Heroku logplex lines and drains.
    Heroku,
    /// Docker's json-file driver lines.
    Docker,
    /// CRI (containerd, CRI-O) container log lines.
    Cri,
    /// `journalctl -o short-iso`.
    Journald,
    /// `journalctl -o json`.
    #[serde(rename = "journald-json")]
    JournaldJson,
    /// CloudWatch Logs exported to S3.
    #[serde(rename = "cloudwatch-export")]
    CloudwatchExport,
    /// pgbouncer's own log: its own kind of input, see [`Opened`].
    Pgbouncer,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::Csv => "csv",
            InputFormat::Json => "json",
            InputFormat::Stderr => "stderr",
            InputFormat::Syslog => "syslog",
            InputFormat::Rds => "rds",
            InputFormat::Cloudsql => "cloudsql",
            InputFormat::Cnpg => "cnpg",
            InputFormat::Azure => "azure",
            InputFormat::Heroku => "heroku",
            InputFormat::Docker => "docker",
            InputFormat::Cri => "cri",
            InputFormat::Journald => "journald",
            InputFormat::JournaldJson => "journald-json",
            InputFormat::CloudwatchExport => "cloudwatch-export",
            InputFormat::Pgbouncer => "pgbouncer",
        }
    }
}

/// How much of the start of an input is looked at to pick a format and prefix.
const SNIFF_BYTES: usize = 256 * 1024;
/// What is read first when the format and prefix are given: enough for the
/// sample line. (A reader of a small range of a file reads little past it.)
const SAMPLE_BYTES: usize = 16 * 1024;
const SNIFF_LINES: usize = 2000;

/// The default cap on one record: statements of many MB exist, unbounded ones must not.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024 * 1024;

/// Why an input could not be read as a log.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("no log_line_prefix fits the first lines{}; first line: {sample:?}. Give the server's setting with --prefix '<log_line_prefix>' (SHOW log_line_prefix;)", closest_note(closest))]
    UnknownPrefix {
        sample: String,
        /// The candidate that parsed the most sampled lines.
        closest: Option<Closest>,
    },
    /// Nothing to detect a prefix from: the input has no byte at all. (A
    /// csv or json reader needs no detection; on an empty input it yields
    /// nothing.)
    #[error("the input is empty")]
    Empty,
    /// Reading failed before a prefix could be detected (a damaged
    /// compressed stream, say): that, not the prefix, is the cause.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A pgbouncer log given to a reader of PostgreSQL records
    /// ([`ReaderBuilder::open`] reads both).
    #[error("a pgbouncer log, not a PostgreSQL one")]
    Pgbouncer,
}

/// An input opened by [`ReaderBuilder::open`]: a PostgreSQL log, or a
/// pgbouncer log, whose lines are pgbouncer events and never records.
pub enum Opened {
    Postgres(LogReader),
    Pgbouncer(pgbouncer::PgbouncerReader),
}

fn closest_note(closest: &Option<Closest>) -> String {
    match closest {
        Some(Closest {
            prefix: Some(p),
            parsed,
            sampled,
        }) => format!(" (closest: '{p}' parsed {parsed} of {sampled} lines)"),
        Some(c) => format!(" (no candidate parsed any of {} lines)", c.sampled),
        None => String::new(),
    }
}

/// Why no prefix was detected in the first bytes of `src`.
fn undetected(src: &mut ByteSource, sample: String, closest: Closest) -> FormatError {
    match src.take_error() {
        Some(e) => FormatError::Io(e),
        None if src.at_eof() => FormatError::Empty,
        None => FormatError::UnknownPrefix {
            sample,
            closest: Some(closest),
        },
    }
}

/// The prefix given, or the one inferred from `lines`; true when inferred.
fn given_or_inferred<'a>(
    given: Option<&Prefix>,
    lines: impl Iterator<Item = &'a [u8]>,
) -> Result<(Prefix, bool), Closest> {
    match given {
        Some(p) => Ok((p.clone(), false)),
        None => infer_prefix(lines).map(|i| (i.prefix, true)),
    }
}

/// Builds a [`LogReader`] (format, prefix and limits), then opens inputs with it.
#[derive(Debug, Clone)]
pub struct ReaderBuilder {
    format: InputFormat,
    prefix: Option<Prefix>,
    max_record_bytes: usize,
    base_offset: u64,
}

impl Default for ReaderBuilder {
    fn default() -> Self {
        ReaderBuilder {
            format: InputFormat::Auto,
            prefix: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            base_offset: 0,
        }
    }
}

impl ReaderBuilder {
    pub fn new() -> ReaderBuilder {
        ReaderBuilder::default()
    }

    pub fn format(&mut self, f: InputFormat) -> &mut Self {
        self.format = f;
        self
    }

    /// The `log_line_prefix` for stderr and syslog input; detected when not set.
    pub fn prefix(&mut self, p: Option<Prefix>) -> &mut Self {
        self.prefix = p;
        self
    }

    pub fn max_record_bytes(&mut self, n: usize) -> &mut Self {
        self.max_record_bytes = n;
        self
    }

    /// Where the input starts in its file, for reading a file from the
    /// middle: records and malformed stretches then carry file offsets.
    pub fn base_offset(&mut self, offset: u64) -> &mut Self {
        self.base_offset = offset;
        self
    }

    /// Sniffs the start of `input` and returns a reader of PostgreSQL
    /// records for it; a pgbouncer log is [`FormatError::Pgbouncer`].
    pub fn build(&self, input: Box<dyn Read + Send>) -> Result<LogReader, FormatError> {
        match self.open(input)? {
            Opened::Postgres(r) => Ok(r),
            Opened::Pgbouncer(_) => Err(FormatError::Pgbouncer),
        }
    }

    /// A reader of PostgreSQL records for bytes held in memory, read in
    /// place (see [`crate::held`]).
    pub fn build_held(&self, blocks: Box<dyn HeldBytes>) -> Result<LogReader, FormatError> {
        match self.open_source(ByteSource::held(blocks, self.base_offset))? {
            Opened::Postgres(r) => Ok(r),
            Opened::Pgbouncer(_) => Err(FormatError::Pgbouncer),
        }
    }

    /// Sniffs the start of `input` and returns a reader for the kind of log it is.
    pub fn open(&self, input: Box<dyn Read + Send>) -> Result<Opened, FormatError> {
        self.open_source(ByteSource::with_base(input, self.base_offset))
    }

    fn open_source(&self, mut src: ByteSource) -> Result<Opened, FormatError> {
        let sniffs = match self.format {
            InputFormat::Auto => true,
            InputFormat::Stderr | InputFormat::Syslog => self.prefix.is_none(),
            InputFormat::Csv | InputFormat::Json | InputFormat::Rds => false,
            f if envelope::is_envelope(f) => self.prefix.is_none(),
            _ => false,
        };
        src.fill_to(if sniffs { SNIFF_BYTES } else { SAMPLE_BYTES })?;
        let head = src.available();
        let sample = first_line(head);
        let format = match self.format {
            InputFormat::Auto => sniff_format(head),
            f => f,
        };
        let max = self.max_record_bytes;
        let mut prefix_inferred = false;
        let inner = match format {
            InputFormat::Pgbouncer => {
                let r = pgbouncer::PgbouncerReader::new(src, max, current_year(), sample);
                return Ok(Opened::Pgbouncer(r));
            }
            InputFormat::Csv => Inner::Csv(csv::CsvReader::new(src, max)),
            InputFormat::Json => Inner::Json(json::JsonReader::new(src, max)),
            InputFormat::Stderr | InputFormat::Rds | InputFormat::Auto => {
                let found = match (&self.prefix, format) {
                    (None, InputFormat::Rds) => {
                        Ok((Prefix::parse(RDS_PREFIX).expect("valid"), false))
                    }
                    (given, _) => given_or_inferred(given.as_ref(), sniff_lines(head)),
                };
                let (prefix, inferred) = match found {
                    Ok(f) => f,
                    Err(closest) => return Err(undetected(&mut src, sample, closest)),
                };
                prefix_inferred = inferred;
                Inner::Stderr(src, Stitcher::new(prefix, max))
            }
            InputFormat::Syslog => {
                let year = current_year();
                let contents: Vec<Vec<u8>> = match self.prefix {
                    Some(_) => Vec::new(),
                    None => sniff_lines(head)
                        .filter_map(|l| syslog::parse_header(l, year))
                        .filter(|s| s.seq.is_none_or(|(_, chunk)| chunk == 1))
                        .map(|s| syslog::unescape(s.content).into_owned())
                        .collect(),
                };
                let found =
                    given_or_inferred(self.prefix.as_ref(), contents.iter().map(Vec::as_slice));
                let (prefix, inferred) = match found {
                    Ok(f) => f,
                    Err(closest) => return Err(undetected(&mut src, sample, closest)),
                };
                prefix_inferred = inferred;
                Inner::Syslog(src, Stitcher::new(prefix, max))
            }
            f => {
                let prefix = match &self.prefix {
                    Some(p) => Some(p.clone()),
                    None => match envelope::inner_prefix(f, head) {
                        envelope::InnerPrefix::NotNeeded => None,
                        envelope::InnerPrefix::Found(p) => {
                            prefix_inferred = true;
                            Some(p)
                        }
                        envelope::InnerPrefix::NotFound(inner, closest) => {
                            return Err(undetected(&mut src, inner, closest))
                        }
                    },
                };
                Inner::Envelope(envelope::EnvelopeReader::new(src, f, prefix, max))
            }
        };
        let format = if format == InputFormat::Auto {
            InputFormat::Stderr
        } else {
            format
        };
        let syslog_year = matches!(inner, Inner::Syslog(..)).then(current_year);
        Ok(Opened::Postgres(LogReader {
            inner,
            max,
            format,
            sample,
            done: false,
            syslog_year,
            prefix_inferred,
        }))
    }
}

enum Inner {
    Csv(csv::CsvReader),
    Json(json::JsonReader),
    Stderr(ByteSource, Stitcher),
    Syslog(ByteSource, Stitcher),
    Envelope(envelope::EnvelopeReader),
}

/// Reads records and malformed stretches from one input, in order.
pub struct LogReader {
    inner: Inner,
    max: usize,
    format: InputFormat,
    sample: String,
    done: bool,
    /// The year traditional syslog timestamps leave out; `None` for stderr.
    syslog_year: Option<i64>,
    /// The prefix was inferred from the lines, not given.
    prefix_inferred: bool,
}

impl LogReader {
    pub fn format(&self) -> InputFormat {
        self.format
    }

    /// The prefix in use for stderr and syslog input.
    pub fn prefix(&self) -> Option<&Prefix> {
        match &self.inner {
            Inner::Stderr(_, s) | Inner::Syslog(_, s) => Some(s.prefix()),
            Inner::Envelope(r) => r.prefix(),
            _ => None,
        }
    }

    /// Was the prefix inferred from the lines (not given by the caller or
    /// implied by the RDS format)?
    pub fn prefix_inferred(&self) -> bool {
        self.prefix_inferred
    }

    /// The first line of the input, for error messages.
    pub fn sample_line(&self) -> &str {
        &self.sample
    }

    /// Decompressed bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Csv(r) => r.source().bytes_read(),
            Inner::Json(r) => r.source().bytes_read(),
            Inner::Envelope(r) => r.source().bytes_read(),
            Inner::Stderr(s, _) | Inner::Syslog(s, _) => s.bytes_read(),
        }
    }

    /// The read error that ended this input early, if one did (the records
    /// before it have been returned).
    pub fn take_read_error(&mut self) -> Option<io::Error> {
        match &mut self.inner {
            Inner::Csv(r) => r.source_mut().take_error(),
            Inner::Json(r) => r.source_mut().take_error(),
            Inner::Envelope(r) => r.source_mut().take_error(),
            Inner::Stderr(s, _) | Inner::Syslog(s, _) => s.take_error(),
        }
    }

    /// The line the reader has reached, for reporting a read error.
    pub fn line_number(&self) -> u64 {
        match &self.inner {
            Inner::Csv(r) => r.source().line_number(),
            Inner::Json(r) => r.source().line_number(),
            Inner::Envelope(r) => r.source().line_number(),
            Inner::Stderr(s, _) | Inner::Syslog(s, _) => s.line_number(),
        }
    }

    /// Is something that starts before `offset` still to be returned by
    /// `next_item`? Only text logs hold records back (to join their
    /// DETAIL/STATEMENT lines); csv and json return each as it is read.
    pub fn unfinished_before(&self, offset: u64) -> bool {
        match &self.inner {
            Inner::Stderr(_, st) | Inner::Syslog(_, st) => st.unfinished_before(offset),
            _ => false,
        }
    }

    /// The next record or malformed stretch; `None` at the end of input.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        match &mut self.inner {
            Inner::Csv(r) => r.next_item(),
            Inner::Json(r) => r.next_item(),
            Inner::Envelope(r) => r.next_item(),
            Inner::Stderr(src, st) | Inner::Syslog(src, st) => {
                let text = TextInput::new(self.max, self.syslog_year, &mut self.done);
                text.next(src, st, Stitcher::pop)
            }
        }
    }

    /// [`LogReader::next_item`] into a record the caller keeps: the next
    /// record is written into `slot` (what it held is dropped or reused),
    /// so a caller reading many records moves none of them (a record is
    /// about 500 bytes). Stderr and syslog records are swapped in by
    /// their box, and the slot's old box is refilled by the reader later;
    /// csvlog rows and jsonlog lines are written into the slot's record,
    /// keeping its message buffer.
    pub fn next_into(&mut self, slot: &mut Box<LogRecord>) -> io::Result<Option<Next>> {
        if let Inner::Stderr(src, st) | Inner::Syslog(src, st) = &mut self.inner {
            let text = TextInput::new(self.max, self.syslog_year, &mut self.done);
            return text.next(src, st, |st| st.pop_into(slot));
        }
        let written = match &mut self.inner {
            Inner::Csv(r) => r.next_into(slot)?,
            Inner::Json(r) => r.next_into(slot)?,
            _ => return Ok(self.next_item()?.map(|item| into_slot(item, slot))),
        };
        Ok(written.map(|row| match row {
            Ok(()) => Next::Record,
            Err(m) => Next::Malformed(m),
        }))
    }
}

/// An item another reader made, moved into the caller's slot.
fn into_slot(item: Item, slot: &mut LogRecord) -> Next {
    match item {
        Item::Record(r) => {
            *slot = r;
            Next::Record
        }
        Item::Malformed(m) => Next::Malformed(m),
    }
}

/// What [`LogReader::next_into`] read.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// A record, now in the caller's slot.
    Record,
    Malformed(Malformed),
}

/// The line-by-line reading of a stderr or syslog input into its stitcher.
struct TextInput<'a> {
    max: usize,
    /// The year of traditional syslog timestamps; `None` for stderr.
    syslog_year: Option<i64>,
    /// The input's end was reached and the stitcher emptied.
    done: &'a mut bool,
}

impl<'a> TextInput<'a> {
    fn new(max: usize, syslog_year: Option<i64>, done: &'a mut bool) -> TextInput<'a> {
        TextInput {
            max,
            syslog_year,
            done,
        }
    }

    /// Feeds lines to `st` until `pop` takes something out of it.
    fn next<T>(
        self,
        src: &mut ByteSource,
        st: &mut Stitcher,
        mut pop: impl FnMut(&mut Stitcher) -> Option<T>,
    ) -> io::Result<Option<T>> {
        loop {
            if let Some(item) = pop(st) {
                return Ok(Some(item));
            }
            if *self.done {
                return Ok(None);
            }
            match src.next_line(self.max)? {
                Some(l) => {
                    let line = LineIn {
                        offset: l.offset,
                        ..LineIn::plain(l.number, l.bytes, l.terminated, l.too_long)
                    };
                    match self.syslog_year {
                        Some(y) => push_syslog_line(st, y, line),
                        None => st.push(line),
                    }
                }
                None => {
                    st.finish();
                    *self.done = true;
                }
            }
        }
    }
}

fn push_syslog_line(st: &mut Stitcher, year: i64, line: LineIn<'_>) {
    // A line that is too long comes with its head only, which still has
    // the daemon's header.
    let Some(sl) = syslog::parse_header(line.bytes, year) else {
        // Not from the daemon at all: the stitcher reports it.
        return st.push(line);
    };
    let content = syslog::unescape(sl.content);
    let later_chunk = sl.seq.is_some_and(|(_, chunk)| chunk > 1);
    st.push(LineIn {
        bytes: &content,
        pid_hint: Some(sl.pid),
        later_chunk,
        time_hint: sl.time,
        ..line
    });
}

fn current_year() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    1970 + secs / 31_556_952
}

fn first_line(head: &[u8]) -> String {
    let line = head
        .split(|&c| c == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
        .unwrap_or(&[]);
    let line = &line[..line.len().min(200)];
    String::from_utf8_lossy(line).into_owned()
}

fn sniff_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    // The last line may be cut by the sniff window.
    let complete = match memchr::memrchr(b'\n', head) {
        Some(i) => &head[..i],
        None => head,
    };
    complete
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take(SNIFF_LINES)
}

/// Picks csv, json, syslog, stderr, pgbouncer or an envelope from the first lines of an input.
pub fn sniff_format(head: &[u8]) -> InputFormat {
    if let Some(f) = envelope::sniff_array(head) {
        return f;
    }
    for line in sniff_lines(head)
        .filter(|l| !l.trim_ascii().is_empty())
        .take(20)
    {
        if pgbouncer::looks_like_pgbouncer(line) {
            return InputFormat::Pgbouncer;
        }
        if let Some(f) = envelope::sniff(line) {
            return f;
        }
        if line.starts_with(b"{") && memchr::memmem::find(line, b"\"error_severity\"").is_some() {
            return InputFormat::Json;
        }
        if let Some((_, n)) = parse_pg_timestamp(line) {
            if line.get(n) == Some(&b',') && memchr::memchr_iter(b',', line).count() >= 10 {
                return InputFormat::Csv;
            }
            return InputFormat::Stderr;
        }
        if syslog::looks_like_syslog(line) {
            return InputFormat::Syslog;
        }
    }
    InputFormat::Auto
}
