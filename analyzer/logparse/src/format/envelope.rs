//! Logs that arrive inside another service's envelope: Cloud Logging JSON,
//! CloudNativePG JSON, Azure Log Analytics rows, Heroku logplex, container
//! runtimes' json-file and CRI lines, journald, CloudWatch Logs exports.
//! Each envelope line (or element of a JSON array of them) is opened by its
//! format's `unwrap` (one file per format); the stderr lines inside go to
//! the same [`Stitcher`] as a plain stderr log, and records carried as
//! fields (CNPG's csvlog fields, jsonlog lines) come out as they are.

use super::stitch::{LineIn, Stitcher};
use super::{
    azure, cloudsql, cloudwatch_export, cnpg, container, heroku, journal, json_array, InputFormat,
};
use crate::buffer::ByteSource;
use crate::prefix::{infer_prefix, Closest, Prefix};
use crate::record::{LogRecord, Malformed, MalformedKind};
use crate::time::LogTime;
use crate::Item;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io;

/// What one envelope line holds.
pub(crate) enum Payload<'a> {
    /// Server output in the stderr format: one line, or several joined by `\n`.
    Text(Text<'a>),
    /// A whole record, carried as fields.
    Record(Box<LogRecord>),
    /// An envelope line that carries no server output (journalctl's
    /// `-- Boot --` banner, another program's line in the same stream):
    /// a foreign line.
    Skip,
    /// Not a line of this envelope.
    Bad(MalformedKind, &'static str),
}

pub(crate) struct Text<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub pid: Option<u32>,
    pub time: Option<LogTime>,
    /// The runtime split a long line: the next piece continues it (CRI `P`,
    /// a json-file `log` without its newline).
    pub partial: bool,
    /// A later `[N-M]` chunk of a message split by PostgreSQL's syslog writer.
    pub later_chunk: bool,
}

impl<'a> Text<'a> {
    pub fn new(bytes: impl Into<Cow<'a, [u8]>>) -> Text<'a> {
        Text {
            bytes: bytes.into(),
            pid: None,
            time: None,
            partial: false,
            later_chunk: false,
        }
    }
}

/// A JSON envelope line that did not parse.
pub(crate) fn bad_json(line: &[u8], e: &serde_json::Error, why: &'static str) -> Payload<'static> {
    if std::str::from_utf8(line).is_err() {
        Payload::Bad(MalformedKind::InvalidUtf8, "bytes that are not UTF-8")
    } else if e.is_eof() {
        Payload::Bad(MalformedKind::Truncated, "the JSON object is cut short")
    } else {
        Payload::Bad(MalformedKind::BadFields, why)
    }
}

/// An envelope's RFC 3339 time field.
pub(crate) fn iso_time(field: Option<&str>) -> Option<LogTime> {
    crate::time::parse_iso_timestamp(field?.as_bytes()).map(|(t, _)| t)
}

pub(crate) fn cow_bytes(s: Cow<'_, str>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
        Cow::Owned(o) => Cow::Owned(o.into_bytes()),
    }
}

/// Is `format` one read by this module?
pub fn is_envelope(format: InputFormat) -> bool {
    matches!(
        format,
        InputFormat::Cloudsql
            | InputFormat::Cnpg
            | InputFormat::Azure
            | InputFormat::Heroku
            | InputFormat::Docker
            | InputFormat::Cri
            | InputFormat::Journald
            | InputFormat::JournaldJson
            | InputFormat::CloudwatchExport
    )
}

pub(crate) fn unwrap(format: InputFormat, number: u64, line: &[u8]) -> Payload<'_> {
    match format {
        InputFormat::Cloudsql => cloudsql::unwrap(number, line),
        InputFormat::Cnpg => cnpg::unwrap(number, line),
        InputFormat::Azure => azure::unwrap(line),
        InputFormat::Heroku => heroku::unwrap(line),
        InputFormat::Docker => container::unwrap_docker(line),
        InputFormat::Cri => container::unwrap_cri(line),
        InputFormat::Journald => journal::unwrap_short(line),
        InputFormat::JournaldJson => journal::unwrap_json(line),
        InputFormat::CloudwatchExport => cloudwatch_export::unwrap(line),
        _ => Payload::Bad(MalformedKind::Garbage, "not an envelope format"),
    }
}

/// The envelope a line belongs to, for `--input-format auto`.
pub fn sniff(line: &[u8]) -> Option<InputFormat> {
    if line.starts_with(b"{") {
        let has = |key: &[u8]| memchr::memmem::find(line, key).is_some();
        // A LogEntry may carry a CloudNativePG line in its jsonPayload.
        return if has(b"\"textPayload\"") || (has(b"\"jsonPayload\"") && has(b"\"logName\"")) {
            Some(InputFormat::Cloudsql)
        } else if has(b"\"logging_pod\"") || (has(b"\"logger\"") && has(b"\"record\"")) {
            Some(InputFormat::Cnpg)
        } else if has(b"\"__REALTIME_TIMESTAMP\"") && has(b"\"MESSAGE\"") {
            Some(InputFormat::JournaldJson)
        } else if has(b"\"log\"") && has(b"\"stream\"") {
            Some(InputFormat::Docker)
        } else if azure::looks_like_azure(line) {
            Some(InputFormat::Azure)
        } else {
            None
        };
    }
    if container::looks_like_cri(line) {
        Some(InputFormat::Cri)
    } else if heroku::looks_like_heroku(line) {
        Some(InputFormat::Heroku)
    } else if journal::looks_like_short_iso(line) {
        Some(InputFormat::Journald)
    } else if cloudwatch_export::looks_like_export(line) {
        Some(InputFormat::CloudwatchExport)
    } else {
        None
    }
}

/// The stderr prefix inside an envelope, from the unwrapped sniff lines.
pub(crate) enum InnerPrefix {
    /// The envelope carries records as fields only: no prefix is needed.
    NotNeeded,
    Found(Prefix),
    /// No prefix fits; the first unwrapped line, for the error message.
    NotFound(String, Closest),
}

/// The envelope of a JSON array's first element (`gcloud logging read
/// --format=json`, `az monitor log-analytics query`).
pub fn sniff_array(head: &[u8]) -> Option<InputFormat> {
    if !json_array::is_array(head) {
        return None;
    }
    sniff(json_array::head_elements(head).find(|e| !e.is_empty())?)
}

pub(crate) fn inner_prefix(format: InputFormat, head: &[u8]) -> InnerPrefix {
    if json_array::is_array(head) {
        inner_prefix_of(format, json_array::head_elements(head))
    } else {
        inner_prefix_of(format, super::sniff_lines(head))
    }
}

fn inner_prefix_of<'a>(format: InputFormat, lines: impl Iterator<Item = &'a [u8]>) -> InnerPrefix {
    let mut texts: Vec<Vec<u8>> = Vec::new();
    // The pieces of a line split by a runtime, joined.
    let mut pieces: Vec<u8> = Vec::new();
    let mut records = 0usize;
    for (i, line) in lines.enumerate() {
        let payload = unwrap(format, i as u64 + 1, line);
        records += usize::from(matches!(payload, Payload::Record(_)));
        if let Payload::Text(t) = payload {
            if t.partial {
                pieces.extend_from_slice(&t.bytes);
                continue;
            }
            let whole: Cow<'_, [u8]> = if pieces.is_empty() {
                t.bytes
            } else {
                pieces.extend_from_slice(&t.bytes);
                Cow::Owned(std::mem::take(&mut pieces))
            };
            if inner_record(0, &whole).is_some() {
                records += 1;
            } else if !t.later_chunk {
                texts.extend(text_lines(&whole).map(<[u8]>::to_vec));
            }
        }
    }
    if texts.is_empty() {
        return InnerPrefix::NotNeeded;
    }
    match infer_prefix(texts.iter().map(Vec::as_slice)) {
        Ok(inferred) => InnerPrefix::Found(inferred.prefix),
        // Records carried as fields, and some damaged lines among them
        // that read as text: those are reported one by one.
        Err(_) if records > 0 => InnerPrefix::NotNeeded,
        Err(closest) => InnerPrefix::NotFound(super::first_line(&texts[0]), closest),
    }
}

/// The lines of a payload: without the final newline a runtime keeps, and
/// without a CR.
fn text_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// A payload that is itself a JSON log line: a jsonlog record, or a
/// CloudNativePG line, as a container runtime, journald or a logging agent
/// wraps the JSON a server or CloudNativePG writes to its stdout.
pub(crate) fn inner_record(number: u64, bytes: &[u8]) -> Option<Payload<'static>> {
    let json = bytes.trim_ascii();
    if !json.starts_with(b"{") {
        return None;
    }
    if sniff(json) == Some(InputFormat::Cnpg) {
        return Some(match cnpg::unwrap(number, json) {
            Payload::Record(r) => Payload::Record(r),
            Payload::Bad(kind, why) => Payload::Bad(kind, why),
            // The instance manager's own lines.
            Payload::Skip | Payload::Text(_) => Payload::Skip,
        });
    }
    if memchr::memmem::find(json, b"\"error_severity\"").is_some() {
        return Some(
            match super::json::parse_entry(number, json, &mut crate::time::TimeCache::new()) {
                Ok(r) => Payload::Record(Box::new(r)),
                Err((kind, why)) => Payload::Bad(kind, why),
            },
        );
    }
    None
}

/// Reads one enveloped input: envelope lines in, records and malformed
/// stretches out as they are complete.
pub struct EnvelopeReader {
    src: ByteSource,
    format: InputFormat,
    /// `None` when the envelope carries records as fields only.
    stitcher: Option<Stitcher>,
    max: usize,
    /// Items made without the stitcher: records carried as fields, and
    /// envelope lines that are not the envelope's.
    direct: VecDeque<Item>,
    partial: Partial,
    /// The input is one JSON array of envelope objects, not one per line.
    array: bool,
    done: bool,
}

/// The pieces of a line a runtime split, joined until its last piece.
#[derive(Default)]
struct Partial {
    bytes: Vec<u8>,
    /// The line and offset of the first piece.
    start: Option<(u64, u64)>,
    /// Over the record size limit: the rest is dropped.
    overflowed: bool,
}

impl EnvelopeReader {
    pub fn new(
        src: ByteSource,
        format: InputFormat,
        prefix: Option<Prefix>,
        max: usize,
    ) -> EnvelopeReader {
        EnvelopeReader {
            array: json_array::is_array(src.available()),
            src,
            format,
            stitcher: prefix.map(|p| Stitcher::new(p, max)),
            max,
            direct: VecDeque::new(),
            partial: Partial::default(),
            done: false,
        }
    }

    pub fn source(&self) -> &ByteSource {
        &self.src
    }

    pub fn source_mut(&mut self) -> &mut ByteSource {
        &mut self.src
    }

    pub fn prefix(&self) -> Option<&Prefix> {
        self.stitcher.as_ref().map(Stitcher::prefix)
    }

    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        loop {
            if let Some(item) = self.stitcher.as_mut().and_then(Stitcher::pop) {
                return Ok(Some(item));
            }
            if let Some(item) = self.direct.pop_front() {
                return Ok(Some(item));
            }
            if self.done {
                return Ok(None);
            }
            if self.array {
                self.next_element()?;
                continue;
            }
            let Some(l) = self.src.next_line(self.max)? else {
                self.finish();
                continue;
            };
            let mut out = Out {
                stitcher: self.stitcher.as_mut(),
                direct: &mut self.direct,
                partial: &mut self.partial,
                max: self.max,
            };
            if l.too_long {
                out.malformed(
                    l.number,
                    l.offset,
                    MalformedKind::TooLong,
                    "line longer than the record size limit",
                );
                continue;
            }
            if l.bytes.trim_ascii().is_empty() {
                continue;
            }
            let bytes = l.bytes.strip_suffix(b"\r").unwrap_or(l.bytes);
            out.envelope(self.format, l.number, l.offset, l.terminated, bytes);
        }
    }

    /// Reads the next element of a JSON array input.
    fn next_element(&mut self) -> io::Result<()> {
        let mut out = Out {
            stitcher: self.stitcher.as_mut(),
            direct: &mut self.direct,
            partial: &mut self.partial,
            max: self.max,
        };
        match json_array::next_element(&mut self.src, self.max)? {
            None => self.finish(),
            Some(json_array::Element::Object {
                number,
                offset,
                len,
            }) => {
                let bytes = &self.src.available()[..len];
                out.envelope(self.format, number, offset, true, bytes);
                self.src.consume(len);
            }
            Some(json_array::Element::TooLong { number, offset }) => out.malformed(
                number,
                offset,
                MalformedKind::TooLong,
                "array element longer than the record size limit",
            ),
            Some(json_array::Element::Broken { number, offset }) => out.malformed(
                number,
                offset,
                MalformedKind::BadFields,
                "a JSON string in this array element is not closed on its line",
            ),
            Some(json_array::Element::Garbage {
                number,
                offset,
                len,
            }) => {
                out.malformed(
                    number,
                    offset,
                    MalformedKind::Garbage,
                    "not a JSON object in the array",
                );
                self.src.consume(len);
            }
        }
        Ok(())
    }

    fn finish(&mut self) {
        if let Some((line, offset)) = self.partial.start.take() {
            // The input ends before the runtime's last piece of a line.
            let bytes = std::mem::take(&mut self.partial.bytes);
            let mut out = Out {
                stitcher: self.stitcher.as_mut(),
                direct: &mut self.direct,
                partial: &mut self.partial,
                max: self.max,
            };
            out.push_lines(line, offset, false, &Text::new(bytes));
        }
        if let Some(st) = self.stitcher.as_mut() {
            st.finish();
        }
        self.done = true;
    }
}

/// Where unwrapped lines go (the reader's fields, borrowed apart from its source).
struct Out<'r> {
    stitcher: Option<&'r mut Stitcher>,
    direct: &'r mut VecDeque<Item>,
    partial: &'r mut Partial,
    max: usize,
}

impl Out<'_> {
    /// One envelope line (or array element).
    fn envelope(
        &mut self,
        format: InputFormat,
        line: u64,
        offset: u64,
        terminated: bool,
        bytes: &[u8],
    ) {
        match unwrap(format, line, bytes) {
            Payload::Text(t) => self.text(line, offset, terminated, t),
            Payload::Record(mut r) => {
                r.offset = offset;
                self.direct.push_back(Item::Record(*r));
            }
            // Not the server's: counted apart, with its head to show.
            Payload::Skip => {
                let head = &bytes[..bytes.len().min(super::stitch::FOREIGN_SAMPLE_BYTES)];
                let text = String::from_utf8_lossy(head);
                self.malformed(line, offset, MalformedKind::Foreign, &text)
            }
            Payload::Bad(kind, why) => self.malformed(line, offset, kind, why),
        }
    }

    fn malformed(&mut self, line: u64, offset: u64, kind: MalformedKind, why: &str) {
        self.direct.push_back(Item::Malformed(Malformed {
            line,
            offset,
            kind,
            reason: why.to_string(),
        }));
    }

    fn text(&mut self, line: u64, offset: u64, terminated: bool, t: Text<'_>) {
        if t.partial || self.partial.start.is_some() {
            return self.piece(line, offset, terminated, t);
        }
        self.push_lines(line, offset, terminated, &t);
    }

    /// One piece of a split line: kept until the last piece comes.
    fn piece(&mut self, line: u64, offset: u64, terminated: bool, t: Text<'_>) {
        let (first_line, first_offset) = *self.partial.start.get_or_insert((line, offset));
        if !self.partial.overflowed {
            if self.partial.bytes.len() + t.bytes.len() > self.max {
                self.partial.overflowed = true;
                self.partial.bytes = Vec::new();
            } else {
                self.partial.bytes.extend_from_slice(&t.bytes);
            }
        }
        if t.partial {
            return;
        }
        self.partial.start = None;
        let whole = std::mem::take(&mut self.partial.bytes);
        if std::mem::take(&mut self.partial.overflowed) {
            return self.malformed(
                first_line,
                first_offset,
                MalformedKind::TooLong,
                "line longer than the record size limit",
            );
        }
        let joined = Text {
            bytes: Cow::Owned(whole),
            ..t
        };
        self.push_lines(first_line, first_offset, terminated, &joined);
    }

    fn push_lines(&mut self, line: u64, offset: u64, terminated: bool, t: &Text<'_>) {
        match inner_record(line, &t.bytes) {
            None => {}
            Some(Payload::Record(mut r)) => {
                r.offset = offset;
                return self.direct.push_back(Item::Record(*r));
            }
            Some(Payload::Bad(kind, why)) => return self.malformed(line, offset, kind, why),
            Some(_) => return,
        }
        let Some(st) = self.stitcher.as_deref_mut() else {
            return self.malformed(
                line,
                offset,
                MalformedKind::Garbage,
                "a text line in a log whose first lines carry records as fields",
            );
        };
        for (i, bytes) in text_lines(&t.bytes).enumerate() {
            st.push(LineIn {
                number: line,
                offset,
                bytes,
                terminated,
                too_long: false,
                pid_hint: t.pid,
                later_chunk: t.later_chunk && i == 0,
                time_hint: t.time,
            });
        }
    }
}
