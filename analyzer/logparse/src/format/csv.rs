//! csvlog: one record per csv row, fields quoted with embedded newlines.
//! Rows are split by a fast path (csv_fast.rs) for the shapes the server
//! writes (fields bare, or quoted with `""` escapes, rows ending in `\n`);
//! anything else goes to `csv-core`, which decides. A row whose fields do not fit the csvlog
//! layout is counted as malformed and reading resumes at the next line that
//! starts with a timestamp, so one bad row never swallows good ones.

use super::csv_fast::{fast_row, Fast, Span, Spans};
use crate::buffer::ByteSource;
use crate::record::{LogRecord, Malformed, MalformedKind, Severity, Short, SqlState};
use crate::time::{parse_pg_timestamp, TimeCache};
use crate::Item;
use std::io;

/// csvlog has 23 columns up to PostgreSQL 12, 24 in 13 (`backend_type`) and
/// 26 from 14 (`leader_pid`, `query_id`).
const MIN_FIELDS: usize = 23;
const MAX_FIELDS: usize = 26;
/// A severity neither English nor in a translation table.
pub(crate) const UNKNOWN_SEVERITY: &str =
    "unknown error_severity (a language pglog has no table for? lc_messages = 'C' logs in English)";

pub struct CsvReader {
    src: ByteSource,
    /// Reused across rows: building one is far costlier than reading a row.
    rdr: csv_core::Reader,
    max_record: usize,
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// The fast path's output, kept apart from csv-core's fixed-size buffers.
    fast_copy: Vec<u8>,
    fast_spans: Spans<{ MAX_FIELDS + 1 }>,
    times: TimeCache,
}

impl CsvReader {
    pub fn new(src: ByteSource, max_record: usize) -> CsvReader {
        CsvReader {
            src,
            rdr: csv_core::Reader::new(),
            max_record,
            // Grown on demand: a reader of a small range needs little.
            fields: vec![0; 4 * 1024],
            ends: vec![0; MAX_FIELDS + 8],
            fast_copy: Vec::with_capacity(4096),
            fast_spans: Spans::new(),
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
        Ok(self.next_into(&mut r)?.map(|row| match row {
            Ok(()) => Item::Record(r),
            Err(m) => Item::Malformed(m),
        }))
    }

    /// The next row written into `slot` (`Ok`; its message buffer is
    /// reused), or the malformed stretch read instead of a row (`Err`,
    /// `slot` left in any state); `None` at the end of input.
    pub fn next_into(&mut self, slot: &mut LogRecord) -> io::Result<Option<Result<(), Malformed>>> {
        if self.src.available().is_empty() && !self.src.fill_more()? {
            return Ok(None);
        }
        // csvlog writes no blank line: one is foreign.
        if let Some(n) = leading_newline(self.src.available()) {
            let line = self.src.line_number();
            let offset = self.src.offset();
            self.src.consume(n);
            return Ok(Some(Err(Malformed {
                line,
                offset,
                kind: MalformedKind::Foreign,
                reason: String::new(),
            })));
        }
        self.read_row(slot).map(Some)
    }

    fn read_row(&mut self, slot: &mut LogRecord) -> io::Result<Result<(), Malformed>> {
        let line = self.src.line_number();
        let offset = self.src.offset();
        loop {
            let avail = self.src.available();
            match fast_row(avail, &mut self.fast_copy, &mut self.fast_spans) {
                Fast::Row(n) if n <= self.max_record => {
                    let mut fields = [""; MAX_FIELDS];
                    let spans = self.fast_spans.as_slice();
                    let nf = fast_fields(&avail[..n], &self.fast_copy, spans, &mut fields);
                    let times = &mut self.times;
                    return match nf.and_then(|nf| fill(slot, line, &fields[..nf], times)) {
                        Ok(()) => {
                            slot.offset = offset;
                            self.src.consume(n);
                            Ok(Ok(()))
                        }
                        Err(e) => self.bad(line, offset, n, e),
                    };
                }
                Fast::NeedMore if avail.len() <= self.max_record && !self.src.exhausted() => {
                    self.src.fill_more()?;
                }
                _ => break,
            }
        }
        let (mut scanned, mut nout, mut nend) = (0usize, 0usize, 0usize);
        loop {
            if scanned > self.max_record {
                return self.bad(
                    line,
                    offset,
                    scanned,
                    (
                        MalformedKind::TooLong,
                        "row longer than the record size limit",
                    ),
                );
            }
            if scanned == self.src.available().len() && !self.src.exhausted() {
                self.src.fill_more()?;
                continue;
            }
            // Empty input here means the end of input, which ends the last row.
            let input = &self.src.available()[scanned..];
            let (res, nin, o, e) =
                self.rdr
                    .read_record(input, &mut self.fields[nout..], &mut self.ends[nend..]);
            scanned += nin;
            nout += o;
            nend += e;
            use csv_core::ReadRecordResult as R;
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    let len = self.fields.len();
                    self.fields.resize(len * 2, 0);
                }
                R::OutputEndsFull => {
                    if nend > MAX_FIELDS {
                        return self.bad(
                            line,
                            offset,
                            scanned,
                            (MalformedKind::BadFields, "more fields than csvlog has"),
                        );
                    }
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                R::Record if scanned > self.max_record => continue,
                R::Record => {
                    let raw = &self.src.available()[..scanned];
                    if raw.last() != Some(&b'\n') {
                        return self.bad(line, offset, scanned, CUT_SHORT);
                    }
                    let fields = split_fields(&self.fields, &self.ends[..nend]);
                    let times = &mut self.times;
                    return match fields.and_then(|(f, nf)| fill(slot, line, &f[..nf], times)) {
                        Ok(()) => {
                            slot.offset = offset;
                            self.src.consume(scanned);
                            Ok(Ok(()))
                        }
                        Err(e) => self.bad(line, offset, scanned, e),
                    };
                }
                R::End => {
                    return self.bad(line, offset, scanned, CUT_SHORT);
                }
            }
        }
    }

    /// Skips the bad row's first line and any following lines that do not
    /// start a row, then reports them as one malformed stretch.
    fn bad(
        &mut self,
        line: u64,
        offset: u64,
        scanned: usize,
        (kind, why): RowError,
    ) -> io::Result<Result<(), Malformed>> {
        // The reader may be inside a quoted field; start clean.
        self.rdr.reset();
        let avail = self.src.available();
        let first_line_end =
            memchr::memchr(b'\n', &avail[..scanned.min(avail.len())]).map(|i| i + 1);
        match first_line_end {
            Some(n) => self.src.consume(n),
            None => {
                let n = avail.len().min(scanned.max(1));
                self.src.consume(n)
            }
        }
        self.skip_to_row_start()?;
        Ok(Err(Malformed {
            line,
            offset,
            kind,
            reason: why.to_string(),
        }))
    }

    fn skip_to_row_start(&mut self) -> io::Result<()> {
        loop {
            self.src.fill_to(64)?;
            let avail = self.src.available();
            if avail.is_empty()
                || parse_pg_timestamp(avail).is_some_and(|(_, n)| avail.get(n) == Some(&b','))
            {
                return Ok(());
            }
            match memchr::memchr(b'\n', avail) {
                Some(i) => self.src.consume(i + 1),
                None => {
                    let n = avail.len();
                    self.src.consume(n);
                    if !self.src.fill_more()? {
                        return Ok(());
                    }
                }
            }
        }
    }
}

type Fields<'a> = ([&'a str; MAX_FIELDS], usize);
type RowError = (MalformedKind, &'static str);

const CUT_SHORT: RowError = (
    MalformedKind::Truncated,
    "the input ends in the middle of this row",
);
const NOT_UTF8: RowError = (MalformedKind::InvalidUtf8, "bytes that are not UTF-8");
const NOT_CSVLOG: RowError = (
    MalformedKind::BadFields,
    "the row does not have the csvlog columns",
);

/// The fields of a row the fast path split, into `fields` (in place: the
/// array is large to return); their number. One UTF-8 check for the row
/// and one for the unescaped copies.
fn fast_fields<'a>(
    row: &'a [u8],
    copy: &'a [u8],
    spans: &[Span],
    fields: &mut [&'a str; MAX_FIELDS],
) -> Result<usize, RowError> {
    if !(MIN_FIELDS..=MAX_FIELDS).contains(&spans.len()) {
        return Err(NOT_CSVLOG);
    }
    // simdutf8 checks a typical row (a few hundred ASCII bytes) in a
    // fraction of std's instructions.
    let row = simdutf8::basic::from_utf8(row).map_err(|_| NOT_UTF8)?;
    let copy = simdutf8::basic::from_utf8(copy).map_err(|_| NOT_UTF8)?;
    for (f, s) in fields.iter_mut().zip(spans) {
        let text = if s.copied { copy } else { row };
        *f = text.get(s.start..s.end).ok_or(NOT_UTF8)?;
    }
    Ok(spans.len())
}

/// The fields csv-core wrote into `buf`, ending at `ends`.
fn split_fields<'a>(buf: &'a [u8], ends: &[usize]) -> Result<Fields<'a>, RowError> {
    let nfields = ends.len();
    if !(MIN_FIELDS..=MAX_FIELDS).contains(&nfields) {
        return Err(NOT_CSVLOG);
    }
    // One UTF-8 check for the whole row; a field boundary inside a
    // character would mean the row was not UTF-8 either.
    let text = std::str::from_utf8(&buf[..ends[nfields - 1]]).map_err(|_| NOT_UTF8)?;
    let mut fields = [""; MAX_FIELDS];
    let mut start = 0;
    for (f, &end) in fields.iter_mut().zip(ends) {
        *f = text.get(start..end).ok_or(NOT_UTF8)?;
        start = end;
    }
    Ok((fields, nfields))
}

/// A record from one row's fields.
pub(crate) fn build_record(line: u64, fields: &[&str]) -> Result<LogRecord, RowError> {
    let mut r = LogRecord::new(line, Severity::Log, String::new());
    fill(&mut r, line, fields, &mut TimeCache::new())?;
    Ok(r)
}

/// `r` refilled from one row's fields (its message buffer kept), its
/// log_time read through the reader's cache; `r` is untouched on `Err`.
fn fill(
    r: &mut LogRecord,
    line: u64,
    fields: &[&str],
    times: &mut TimeCache,
) -> Result<(), RowError> {
    let nfields = fields.len();
    let opt = |i: usize| (!fields[i].is_empty()).then(|| fields[i].to_string());
    let short = |i: usize| (!fields[i].is_empty()).then(|| Short::from(fields[i]));
    let num = |i: usize| digits(fields[i], 19).or_else(|| fields[i].parse::<u64>().ok());
    let (severity, words) = match Severity::parse(fields[11].as_bytes()) {
        Some(s) => (s, crate::language::ENGLISH_WORDS),
        None => crate::record::Severity::translated(fields[11].as_bytes())
            .ok_or((MalformedKind::BadFields, UNKNOWN_SEVERITY))?,
    };
    let (time, _) = times
        .parse_pg_timestamp(fields[0].as_bytes())
        .ok_or((MalformedKind::BadFields, "log_time is not a timestamp"))?;
    r.reset(line, severity);
    r.message.push_str(fields[13]);
    r.time = Some(time);
    r.language.words = words;
    r.user = short(1);
    r.database = short(2);
    r.pid = num(3).map(|p| p as u32);
    if !fields[4].is_empty() {
        let (host, port) = crate::record::split_host_port(fields[4]);
        r.remote_host = Some(host);
        r.remote_port = port;
    }
    r.session_id = short(5);
    r.session_line = num(6);
    r.command_tag = short(7);
    r.vxid = short(9);
    r.txid = num(10).filter(|&t| t != 0);
    r.sqlstate = SqlState::parse_reported(fields[12].as_bytes());
    r.detail = opt(14);
    r.hint = opt(15);
    r.internal_query = opt(16);
    r.context = opt(18);
    r.statement = opt(19);
    r.location = opt(21);
    r.application = short(22);
    if nfields >= 24 {
        r.backend_type = short(23);
    }
    if nfields >= 26 {
        r.leader_pid = num(24).map(|p| p as u32);
        r.query_id = digits(fields[25], 18)
            .map(|q| q as i64)
            .or_else(|| fields[25].parse::<i64>().ok())
            .filter(|&q| q != 0);
    }
    Ok(())
}

/// The value of `s` when it is 1 to `max_len` ASCII digits (too few to
/// overflow), else None for `str::parse` to decide: the server's numbers
/// (pids, line numbers, xids) read several times faster than through it.
fn digits(s: &str, max_len: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_len {
        return None;
    }
    let mut n = 0u64;
    for &c in s.as_bytes() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// The length of the blank line `avail` starts with, if it starts with one.
fn leading_newline(avail: &[u8]) -> Option<usize> {
    match avail {
        [b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::digits;

    /// `digits` answers only where it agrees with `str::parse`, which
    /// decides the rest (signs, overflow, anything not a digit).
    #[test]
    fn digits_agree_with_str_parse_or_leave_it_to_parse() {
        let texts = [
            "",
            "0",
            "7",
            "16346",
            "+5",
            "-1",
            "1-",
            " 1",
            "1 ",
            "١",
            "999999999999999999",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "00000000000000000001",
        ];
        for t in texts {
            if let Some(n) = digits(t, 19) {
                assert_eq!(Some(n), t.parse::<u64>().ok(), "{t:?}");
            }
            if let Some(n) = digits(t, 18) {
                assert_eq!(Some(n as i64), t.parse::<i64>().ok(), "{t:?}");
            }
        }
        assert_eq!(
            digits("9999999999999999999", 19),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(digits("18446744073709551615", 19), None);
        assert_eq!(digits("+5", 19), None);
    }
}
