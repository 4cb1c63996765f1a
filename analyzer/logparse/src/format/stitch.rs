//! Joins the lines of stderr and syslog output into records: a message, its
//! continuation lines, and the DETAIL/HINT/CONTEXT/STATEMENT/QUERY/LOCATION
//! lines that follow it. Lines are joined to their parent by process id, so
//! output written without the logging collector, where processes interleave,
//! is joined correctly too. A small window bounds how long a record waits.

use super::record_pool::RecordPool;
use super::Next;
use crate::prefix::{Label, Prefix, PrefixFields, PrefixMatch};
use crate::record::{LogRecord, Malformed, MalformedKind, Severity};
use crate::time::TimeCache;
use crate::Item;
use std::borrow::Cow;
use std::collections::VecDeque;

/// How many records may wait for more lines before the oldest is emitted.
pub const WINDOW: usize = 32;

/// How much of a foreign line is kept to show it.
pub const FOREIGN_SAMPLE_BYTES: usize = 160;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Message,
    Detail,
    Hint,
    Context,
    Statement,
    Query,
    Location,
}

struct Pending {
    seq: u64,
    /// Boxed: moving an entry in and out of the window would copy a
    /// record (about 500 bytes) each time; the box costs less.
    record: Box<LogRecord>,
    field: Field,
    closed: bool,
    problem: Option<(MalformedKind, &'static str)>,
    /// Text bytes held so far, against the record size limit.
    bytes: usize,
    /// Lines joined into the record, its first included.
    lines: u64,
    /// Over the size limit: its text was dropped and further lines are
    /// absorbed without being kept.
    overflowed: bool,
}

/// One physical or logical line given to the stitcher.
pub struct LineIn<'a> {
    pub number: u64,
    /// Byte offset of the line in the input (0 when unknown).
    pub offset: u64,
    pub bytes: &'a [u8],
    pub terminated: bool,
    pub too_long: bool,
    /// The process id when the transport carries it (syslog's `name[pid]`).
    pub pid_hint: Option<u32>,
    /// A later syslog chunk (`[N-2]`, ...): when it is neither tab-led nor
    /// prefixed, it is the rest of a line split for length, joined without a newline.
    pub later_chunk: bool,
    /// The transport's timestamp, used when the prefix has none.
    pub time_hint: Option<crate::time::LogTime>,
}

impl<'a> LineIn<'a> {
    /// A line with nothing known beyond its bytes.
    pub fn plain(number: u64, bytes: &'a [u8], terminated: bool, too_long: bool) -> LineIn<'a> {
        LineIn {
            number,
            offset: 0,
            bytes,
            terminated,
            too_long,
            pid_hint: None,
            later_chunk: false,
            time_hint: None,
        }
    }
}

/// What comes out next, in order.
enum Out {
    Malformed(Malformed),
    /// The oldest released record in `pending`.
    Released,
}

pub struct Stitcher {
    prefix: Prefix,
    /// The longest record kept, in text bytes over all its lines.
    max_record: usize,
    pending: VecDeque<Pending>,
    /// The pid and seq of each pending record that is not closed, oldest
    /// first: what a new message closes and a DETAIL line joins, without
    /// going through the whole window.
    open: Vec<(Option<u32>, u64)>,
    /// How many of `open` have no pid: while none has, a new message
    /// closes at most one record (its process's).
    open_without_pid: usize,
    next_seq: u64,
    last_touched: Option<u64>,
    /// How many records at the front of `pending` are finished: they wait
    /// there, not moved, until `out` hands them out.
    released: usize,
    out: VecDeque<Out>,
    /// The second and zone of the last prefix read.
    times: TimeCache,
    /// Boxes of records handed out, to build new ones in.
    pool: RecordPool,
}

impl Stitcher {
    pub fn new(prefix: Prefix, max_record: usize) -> Stitcher {
        Stitcher {
            prefix,
            max_record,
            pending: VecDeque::new(),
            open: Vec::new(),
            open_without_pid: 0,
            next_seq: 0,
            last_touched: None,
            released: 0,
            out: VecDeque::new(),
            times: TimeCache::new(),
            pool: RecordPool::default(),
        }
    }

    pub fn prefix(&self) -> &Prefix {
        &self.prefix
    }

    /// The next finished item, if any.
    pub fn pop(&mut self) -> Option<Item> {
        Some(match self.pop_finished()? {
            Ok(mut boxed) => {
                let r =
                    std::mem::replace(&mut *boxed, LogRecord::new(0, Severity::Log, String::new()));
                self.pool.give(boxed);
                Item::Record(r)
            }
            Err(m) => Item::Malformed(m),
        })
    }

    /// [`Stitcher::pop`] into `slot`: the record's box is swapped in (no
    /// record is copied), and the box `slot` held goes back to the pool to
    /// be refilled.
    pub fn pop_into(&mut self, slot: &mut Box<LogRecord>) -> Option<Next> {
        Some(match self.pop_finished()? {
            Ok(mut boxed) => {
                std::mem::swap(&mut boxed, slot);
                self.pool.give(boxed);
                Next::Record
            }
            Err(m) => Next::Malformed(m),
        })
    }

    fn pop_finished(&mut self) -> Option<Result<Box<LogRecord>, Malformed>> {
        match self.out.pop_front()? {
            Out::Malformed(m) => Some(Err(m)),
            Out::Released => {
                let mut p = self
                    .pending
                    .pop_front()
                    .expect("released records wait in front");
                self.released -= 1;
                strip_cursor_position(&mut p.record.message);
                match p.problem {
                    None => Some(Ok(p.record)),
                    Some(problem) => {
                        let m = self.malformed_record(&p, problem);
                        self.pool.give(p.record);
                        Some(Err(m))
                    }
                }
            }
        }
    }

    /// Is a record or item that starts before `offset` still waiting to be
    /// handed out? (A reader of part of a file reads on until it is not.)
    pub fn unfinished_before(&self, offset: u64) -> bool {
        self.pending.iter().any(|p| p.record.offset < offset)
            || self.out.iter().any(|i| match i {
                // Still in `pending`.
                Out::Released => false,
                Out::Malformed(m) => m.offset < offset,
            })
    }

    /// Emits every waiting record: call at the end of input.
    pub fn finish(&mut self) {
        while self.released < self.pending.len() {
            self.released += 1;
            self.out.push_back(Out::Released);
        }
        self.open.clear();
        self.open_without_pid = 0;
        self.last_touched = None;
    }

    pub fn push(&mut self, line: LineIn<'_>) {
        if line.too_long {
            self.push_too_long(&line);
            self.release();
            return;
        }
        let tabbed = line.bytes.starts_with(b"\t");
        let mut m = PrefixMatch::unmatched();
        let matched = !tabbed
            && self
                .prefix
                .match_line_into(line.bytes, &mut self.times, &mut m);
        let split_chunk = line.later_chunk && !tabbed && !matched;
        // A cut last line that does not start like a message is a fragment
        // of its own; the record before it is complete.
        if !matched && !line.terminated && !tabbed && !split_chunk {
            self.malformed(
                &line,
                MalformedKind::Truncated,
                "the input ends in the middle of a line",
            );
            self.release();
            return;
        }
        let attached = match matched {
            true => self.push_prefixed(&line, &m),
            false => self.push_continuation(&line, split_chunk),
        };
        if attached && !line.terminated {
            self.mark_last(
                MalformedKind::Truncated,
                "the input ends in the middle of this record",
            );
        }
        self.release();
    }

    /// A line over the size limit (only its head is known): a message of its
    /// own is reported alone; a DETAIL/STATEMENT or continuation line makes
    /// its record too long, as the csv row or json line holding it would be.
    fn push_too_long(&mut self, line: &LineIn<'_>) {
        let tabbed = line.bytes.starts_with(b"\t");
        if let Some(m) = (!tabbed)
            .then(|| self.prefix.match_line_cached(line.bytes, &mut self.times))
            .flatten()
        {
            // The head of a message or of its DETAIL/STATEMENT line: the
            // record is too long, and takes its other lines as any does.
            if self.push_prefixed(line, &m) {
                if let Some(idx) = self.last_touched.and_then(|s| self.index_of(s)) {
                    self.pending[idx].overflow();
                }
            }
            return;
        }
        if !tabbed && !line.later_chunk && is_text(line.bytes) {
            return self.foreign(line);
        }
        if tabbed || line.later_chunk {
            if let Some(idx) = self.last_touched.and_then(|s| self.index_of(s)) {
                let p = &mut self.pending[idx];
                p.lines += 1;
                p.overflow();
                return;
            }
        }
        self.malformed(
            line,
            MalformedKind::TooLong,
            "line longer than the record size limit",
        );
    }

    fn push_prefixed(&mut self, line: &LineIn<'_>, m: &PrefixMatch<'_>) -> bool {
        let pid = m.fields.pid.or(line.pid_hint);
        let (text, utf8_ok) = to_text(&line.bytes[m.text_offset..]);
        match m.label {
            Label::Severity(sev) => {
                self.close_for(pid);
                let seq = self.next_seq;
                self.next_seq += 1;
                let problem =
                    (!utf8_ok).then_some((MalformedKind::InvalidUtf8, "bytes that are not UTF-8"));
                let mut record = self.pool.take(line.number, sev);
                record.message.push_str(&text);
                self.pending.push_back(Pending {
                    seq,
                    record,
                    field: Field::Message,
                    closed: false,
                    problem,
                    bytes: text.len(),
                    lines: 1,
                    overflowed: false,
                });
                let r = &mut self.pending.back_mut().expect("just pushed").record;
                r.offset = line.offset;
                r.pid = pid;
                r.time = m.fields.time.or(line.time_hint);
                set_prefix_fields(r, &m.fields);
                self.open.push((pid, seq));
                self.open_without_pid += usize::from(pid.is_none());
                self.last_touched = Some(seq);
                true
            }
            label => {
                let field = match label {
                    Label::Detail => Field::Detail,
                    Label::Hint => Field::Hint,
                    Label::Context => Field::Context,
                    Label::Statement => Field::Statement,
                    Label::Query => Field::Query,
                    Label::Location => Field::Location,
                    Label::Severity(_) => unreachable!(),
                };
                let Some(idx) = self.parent_of(pid) else {
                    self.malformed(
                        line,
                        MalformedKind::Orphan,
                        "a DETAIL/HINT/CONTEXT/STATEMENT line with no message before it",
                    );
                    return false;
                };
                let max = self.max_record;
                let p = &mut self.pending[idx];
                p.field = field;
                if m.fields.label_words & !crate::language::ENGLISH_WORDS != 0 {
                    // `DETALLE:  ` after `ERROR:  `: the label tells what the severity does not.
                    let words = &mut p.record.language.words;
                    *words = (*words & !crate::language::ENGLISH_WORDS) | m.fields.label_words;
                }
                p.append(field, &text, true, max, &mut self.pool);
                if !utf8_ok {
                    p.problem
                        .get_or_insert((MalformedKind::InvalidUtf8, "bytes that are not UTF-8"));
                }
                self.last_touched = Some(p.seq);
                true
            }
        }
    }

    fn push_continuation(&mut self, line: &LineIn<'_>, split_chunk: bool) -> bool {
        let (body, tabbed) = match line.bytes.strip_prefix(b"\t") {
            Some(rest) => (rest, true),
            None => (line.bytes, false),
        };
        let (text, utf8_ok) = to_text(body);
        // An unprefixed line that is binary is garbage, not a continuation.
        if !tabbed && !split_chunk && (!utf8_ok || text.bytes().any(is_binary)) {
            let kind = if utf8_ok {
                MalformedKind::Garbage
            } else {
                MalformedKind::InvalidUtf8
            };
            self.malformed(line, kind, "a line that is neither a log line nor text");
            return false;
        }
        // PostgreSQL indents every further line of a message with a tab:
        // an unindented line without the prefix was written by something
        // else (pg_ctl, an archive_command, a blank line).
        if !tabbed && !split_chunk {
            self.foreign(line);
            return false;
        }
        let Some(idx) = self.last_touched.and_then(|seq| self.index_of(seq)) else {
            self.malformed(
                line,
                MalformedKind::Orphan,
                "a continuation line with no message before it",
            );
            return false;
        };
        let max = self.max_record;
        let p = &mut self.pending[idx];
        p.append(p.field, &text, !split_chunk, max, &mut self.pool);
        if !utf8_ok {
            p.problem
                .get_or_insert((MalformedKind::InvalidUtf8, "bytes that are not UTF-8"));
        }
        true
    }

    /// The open record that a DETAIL-style line of `pid` belongs to.
    fn parent_of(&self, pid: Option<u32>) -> Option<usize> {
        let pos = self
            .open
            .iter()
            .rev()
            .find(|&&(open_pid, _)| pid.is_none() || open_pid == pid)
            .and_then(|&(_, seq)| self.index_of(seq));
        pos.or_else(|| {
            // The message itself may have been too garbled to keep its pid.
            pid.and_then(|_| self.last_touched.and_then(|s| self.index_of(s)))
                .filter(|&i| !self.pending[i].closed && self.pending[i].record.pid.is_none())
        })
    }

    fn index_of(&self, seq: u64) -> Option<usize> {
        let front = self.pending.front()?.seq;
        let idx = seq.checked_sub(front)? as usize;
        (idx < self.pending.len()).then_some(idx)
    }

    /// A new message from `pid` ends that process's previous one. Without a
    /// pid, a new message ends all.
    fn close_for(&mut self, pid: Option<u32>) {
        let Some(front) = self.pending.front().map(|p| p.seq) else {
            return;
        };
        if pid.is_some() && self.open_without_pid == 0 {
            // A process has one open record at most.
            if let Some(i) = self.open.iter().position(|&(open_pid, _)| open_pid == pid) {
                let (_, seq) = self.open.remove(i);
                self.pending[(seq - front) as usize].closed = true;
            }
            return;
        }
        let pending = &mut self.pending;
        self.open.retain(|&(open_pid, seq)| {
            let closes = pid.is_none() || open_pid.is_none() || open_pid == pid;
            if closes {
                pending[(seq - front) as usize].closed = true;
            }
            !closes
        });
        self.open_without_pid = self.open.iter().filter(|(p, _)| p.is_none()).count();
    }

    fn mark_last(&mut self, kind: MalformedKind, why: &'static str) {
        if let Some(idx) = self.last_touched.and_then(|s| self.index_of(s)) {
            self.pending[idx].problem = Some((kind, why));
        }
    }

    fn release(&mut self) {
        while let Some(oldest) = self.pending.get(self.released) {
            if !oldest.closed && self.pending.len() - self.released <= WINDOW {
                break;
            }
            let (seq, closed) = (oldest.seq, oldest.closed);
            if !closed {
                // The oldest open record is the first of `open`.
                if let Some(i) = self.open.iter().position(|&(_, s)| s == seq) {
                    let (pid, _) = self.open.remove(i);
                    self.open_without_pid -= usize::from(pid.is_none());
                }
            }
            if self.last_touched == Some(seq) {
                self.last_touched = None;
            }
            self.released += 1;
            self.out.push_back(Out::Released);
        }
    }

    /// What a released record with a problem is reported as.
    fn malformed_record(
        &self,
        p: &Pending,
        (kind, why): (MalformedKind, &'static str),
    ) -> Malformed {
        Malformed {
            line: p.record.line,
            offset: p.record.offset,
            kind,
            reason: if p.overflowed {
                format!(
                    "record longer than the record size limit of {} bytes ({} line{})",
                    self.max_record,
                    p.lines,
                    if p.lines == 1 { "" } else { "s" }
                )
            } else {
                why.to_string()
            },
        }
    }

    /// A line that is not PostgreSQL's: counted apart, with its head as the reason.
    fn foreign(&mut self, line: &LineIn<'_>) {
        let head = &line.bytes[..line.bytes.len().min(FOREIGN_SAMPLE_BYTES)];
        self.malformed(line, MalformedKind::Foreign, &lossy(head));
    }

    fn malformed(&mut self, line: &LineIn<'_>, kind: MalformedKind, why: &str) {
        self.out.push_back(Out::Malformed(Malformed {
            line: line.number,
            offset: line.offset,
            kind,
            reason: why.to_string(),
        }));
    }
}

impl Pending {
    /// Adds a line's text, unless the record is over the size limit: then
    /// what it held is dropped and it is reported as too long.
    fn append(
        &mut self,
        field: Field,
        text: &str,
        newline: bool,
        max: usize,
        pool: &mut RecordPool,
    ) {
        self.lines += 1;
        if self.overflowed {
            return;
        }
        self.bytes += text.len() + usize::from(newline);
        if self.bytes > max {
            self.overflow();
            return;
        }
        append_field(&mut self.record, field, text, newline, pool);
    }

    /// Drops what the record held: it is reported as too long.
    fn overflow(&mut self) {
        if self.overflowed {
            return;
        }
        self.overflowed = true;
        self.problem = Some((MalformedKind::TooLong, "record longer than the size limit"));
        let kept = LogRecord::new(self.record.line, self.record.severity, String::new());
        *self.record = LogRecord {
            offset: self.record.offset,
            pid: self.record.pid,
            ..kept
        };
    }
}

fn append_field(r: &mut LogRecord, field: Field, text: &str, newline: bool, pool: &mut RecordPool) {
    let slot = match field {
        Field::Message => {
            if newline {
                r.message.push('\n');
            }
            r.message.push_str(text);
            return;
        }
        Field::Detail => &mut r.detail,
        Field::Hint => &mut r.hint,
        Field::Context => &mut r.context,
        Field::Statement => &mut r.statement,
        Field::Query => &mut r.internal_query,
        Field::Location => &mut r.location,
    };
    match slot {
        Some(s) => {
            if newline {
                s.push('\n');
            }
            s.push_str(text);
        }
        None => *slot = Some(pool.text(text)),
    }
}

/// The values the prefix carried, but the time and the pid (which the
/// transport may give instead), into a new record (all its fields `None`):
/// only those the line has are written, so the common prefixes that carry
/// a time and a pid alone cost a test per field.
fn set_prefix_fields(r: &mut LogRecord, f: &PrefixFields<'_>) {
    fn fill(slot: &mut Option<crate::record::Short>, value: Option<&[u8]>) {
        if let Some(v) = value {
            *slot = Some(short(v));
        }
    }
    r.leader_pid = f.leader_pid;
    r.session_line = f.session_line;
    r.txid = f.txid;
    r.query_id = f.query_id;
    fill(&mut r.session_id, f.session_id);
    fill(&mut r.user, f.user);
    fill(&mut r.database, f.database);
    fill(&mut r.application, f.application);
    if let Some(h) = f.remote_host {
        let (host, port) = crate::record::split_host_port(&lossy(h));
        r.remote_host = Some(host);
        r.remote_port = port;
    }
    fill(&mut r.command_tag, f.command_tag);
    fill(&mut r.backend_type, f.backend_type);
    fill(&mut r.vxid, f.vxid);
    if let Some(code) = f.sqlstate {
        r.sqlstate = crate::record::SqlState::parse_reported(code);
    }
    r.language.words = f.label_words;
}

/// Text logs append the error cursor to the message (` at character 15`);
/// csvlog and jsonlog keep it in a field of its own. Drop it so messages
/// compare equal across formats.
fn strip_cursor_position(message: &mut String) {
    // Look at the tail only: searching the whole (maybe long) message for
    // the phrase on every record is costly.
    const PHRASE: &str = " at character ";
    let without_digits = message.trim_end_matches(|c: char| c.is_ascii_digit());
    if without_digits.len() < message.len() && without_digits.ends_with(PHRASE) {
        let at = without_digits.len() - PHRASE.len();
        message.truncate(at);
    }
}

/// Valid UTF-8 without control characters other than tabs.
fn is_text(b: &[u8]) -> bool {
    simdutf8::basic::from_utf8(b).is_ok() && !b.iter().copied().any(is_binary)
}

fn is_binary(c: u8) -> bool {
    c < 0x20 && c != b'\t' || c == 0x7f
}

/// The line's text, borrowed unless it had to be repaired, and whether it was valid UTF-8.
/// simdutf8 checks a line of a hundred-odd bytes in fewer instructions
/// than `std::str::from_utf8`; both accept exactly the same bytes.
fn to_text(b: &[u8]) -> (Cow<'_, str>, bool) {
    match simdutf8::basic::from_utf8(b) {
        Ok(s) => (Cow::Borrowed(s), true),
        Err(_) => (String::from_utf8_lossy(b), false),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn short(b: &[u8]) -> crate::record::Short {
    crate::record::Short::from_utf8_lossy(b)
}
