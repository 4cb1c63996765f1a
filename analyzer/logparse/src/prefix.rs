//! `log_line_prefix` compiled into a matcher for stderr and syslog lines.
//!
//! A prefix is a list of literal text and `%` escapes. Fixed-shape escapes
//! (times, pids, counters) are read by their shape; free-text escapes
//! (`%u %d %a %r %h %i %b`) run up to the next literal, trying later
//! occurrences when the rest does not fit. A match is only accepted when the
//! prefix is followed by a message label such as `LOG:  `, so a wrong prefix
//! matches nothing rather than something wrong.

mod flat;
mod infer;
pub mod translated;

pub use infer::{infer_prefix, Closest, Inferred};

use crate::record::Severity;
use crate::time::{parse_epoch, LogTime, TimeCache};
use std::collections::HashSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Application,
    User,
    Database,
    RemoteHostPort,
    RemoteHost,
    Pid,
    LeaderPid,
    TimeNoMs,
    TimeMs,
    TimeEpoch,
    SessionId,
    LineNumber,
    SessionStart,
    Vxid,
    Txid,
    SqlState,
    CommandTag,
    BackendType,
    QueryId,
}

impl Escape {
    fn is_free_text(self) -> bool {
        matches!(
            self,
            Escape::Application
                | Escape::User
                | Escape::Database
                | Escape::RemoteHostPort
                | Escape::RemoteHost
                | Escape::CommandTag
                | Escape::BackendType
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(Vec<u8>),
    Escape(Escape),
    /// A padded escape (`%-10u`, `%5p`): the value and its padding spaces
    /// take at least that many bytes.
    Padded(Escape, u16),
    /// `%q`: non-session processes stop the prefix here.
    SessionOnly,
}

/// A compiled `log_line_prefix`.
#[derive(Clone, PartialEq, Eq)]
pub struct Prefix {
    source: String,
    tokens: Vec<Token>,
    /// The tokens as straight-line steps, for the shapes that allow it.
    flat: Option<flat::Flat>,
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prefix({:?})", self.source)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// An error in a `log_line_prefix` given by the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid log_line_prefix {prefix:?} at byte {offset}: {what}")]
pub struct PrefixError {
    pub prefix: String,
    pub offset: usize,
    pub what: String,
}

/// The label after the prefix: a severity, or one of the lines that belong to
/// the previous message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Severity(Severity),
    Detail,
    Hint,
    Context,
    Statement,
    Query,
    Location,
}

impl Label {
    fn parse(word: &[u8]) -> Option<Label> {
        Some(match word {
            b"DETAIL" => Label::Detail,
            b"HINT" => Label::Hint,
            b"CONTEXT" => Label::Context,
            b"STATEMENT" => Label::Statement,
            b"QUERY" => Label::Query,
            b"LOCATION" => Label::Location,
            _ => Label::Severity(Severity::parse(word)?),
        })
    }
}

/// Reads `LABEL:  ` at the start of `s`, English or translated; returns
/// the label, the offset of the text and the languages of a translated
/// label (see [`crate::language::RecordLanguage::words`]).
pub fn parse_any_label(s: &[u8]) -> Option<(Label, usize, u16)> {
    match parse_label(s) {
        Some((label, n)) => Some((label, n, crate::language::ENGLISH_WORDS)),
        None => translated::label(s),
    }
}

/// Reads `LABEL:  ` at the start of `s`; returns the label and the offset of the text.
pub fn parse_label(s: &[u8]) -> Option<(Label, usize)> {
    // Most lines of a busy log are `LOG:  `.
    if s.starts_with(b"LOG:  ") {
        return Some((Label::Severity(Severity::Log), 6));
    }
    // Ten bytes at most: a plain loop beats memchr's setup.
    let colon = s[..s.len().min(10)].iter().position(|&c| c == b':')?;
    if s.get(colon + 1) != Some(&b' ') || s.get(colon + 2) != Some(&b' ') {
        return None;
    }
    Some((Label::parse(&s[..colon])?, colon + 3))
}

/// The values a prefix carried on one line. Text fields borrow from the line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PrefixFields<'a> {
    pub time: Option<LogTime>,
    pub pid: Option<u32>,
    pub leader_pid: Option<u32>,
    pub session_id: Option<&'a [u8]>,
    pub session_line: Option<u64>,
    pub user: Option<&'a [u8]>,
    pub database: Option<&'a [u8]>,
    pub application: Option<&'a [u8]>,
    pub remote_host: Option<&'a [u8]>,
    pub command_tag: Option<&'a [u8]>,
    pub backend_type: Option<&'a [u8]>,
    pub vxid: Option<&'a [u8]>,
    pub txid: Option<u64>,
    pub sqlstate: Option<&'a [u8]>,
    pub query_id: Option<i64>,
    /// The line ended the prefix at `%q` (a process without a session).
    pub ended_at_q: bool,
    /// The languages of the label (see [`crate::language::RecordLanguage::words`]).
    pub label_words: u16,
}

/// A line that matched: its prefix fields, its label and where the text starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixMatch<'a> {
    pub fields: PrefixFields<'a>,
    pub label: Label,
    pub text_offset: usize,
    /// False when the line ended the prefix at `%q` (a background process).
    pub session_part: bool,
}

impl PrefixMatch<'_> {
    /// A match to be filled by [`Prefix::match_line_into`].
    pub fn unmatched() -> Self {
        PrefixMatch {
            fields: PrefixFields::default(),
            label: Label::Detail,
            text_offset: 0,
            session_part: false,
        }
    }
}

/// What matching one line writes to: its fields, and the times of the lines before.
struct Matching<'a, 'c> {
    fields: &'c mut PrefixFields<'a>,
    times: &'c mut TimeCache,
    /// `(token, position)` pairs after a free-text value known not to match:
    /// without them, backtracking over several free-text fields is
    /// exponential in their number (8 tries each). Made on the first miss.
    dead_ends: Option<HashSet<(usize, usize)>>,
}

/// How many later occurrences of a delimiter a free-text field may try.
const MAX_DELIMITER_TRIES: usize = 8;
/// How far a free-text field followed by another escape may reach.
const MAX_FREE_TEXT: usize = 256;

impl Prefix {
    /// Compiles a `log_line_prefix` value, e.g. `%m [%p] %q%u@%d/%a `.
    pub fn parse(source: &str) -> Result<Prefix, PrefixError> {
        let err = |offset: usize, what: String| PrefixError {
            prefix: source.to_string(),
            offset,
            what,
        };
        let bytes = source.as_bytes();
        let mut tokens: Vec<Token> = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                lit.push(bytes[i]);
                i += 1;
                continue;
            }
            let at = i;
            i += 1;
            // Optional padding such as %-10u or %5p.
            if bytes.get(i) == Some(&b'-') {
                i += 1;
            }
            let width_at = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            let width: u16 = source[width_at..i].parse().unwrap_or(0);
            let Some(&c) = bytes.get(i) else {
                return Err(err(
                    at,
                    "a '%' at the end needs an escape letter after it".into(),
                ));
            };
            i += 1;
            let esc = match c {
                b'%' => {
                    lit.push(b'%');
                    continue;
                }
                b'q' => None,
                b'a' => Some(Escape::Application),
                b'u' => Some(Escape::User),
                b'd' => Some(Escape::Database),
                b'r' => Some(Escape::RemoteHostPort),
                b'h' => Some(Escape::RemoteHost),
                b'p' => Some(Escape::Pid),
                b'P' => Some(Escape::LeaderPid),
                b't' => Some(Escape::TimeNoMs),
                b'm' => Some(Escape::TimeMs),
                b'n' => Some(Escape::TimeEpoch),
                b'c' => Some(Escape::SessionId),
                b'l' => Some(Escape::LineNumber),
                b's' => Some(Escape::SessionStart),
                b'v' => Some(Escape::Vxid),
                b'x' => Some(Escape::Txid),
                b'e' => Some(Escape::SqlState),
                b'i' => Some(Escape::CommandTag),
                b'b' => Some(Escape::BackendType),
                b'Q' => Some(Escape::QueryId),
                other => {
                    return Err(err(
                        at,
                        format!(
                            "unknown escape '%{}'; known escapes are %a %u %d %r %h %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%",
                            other as char
                        ),
                    ))
                }
            };
            if !lit.is_empty() {
                tokens.push(Token::Literal(std::mem::take(&mut lit)));
            }
            tokens.push(match esc {
                Some(e) if width > 0 => Token::Padded(e, width),
                Some(e) => Token::Escape(e),
                None => Token::SessionOnly,
            });
        }
        if !lit.is_empty() {
            tokens.push(Token::Literal(lit));
        }
        Ok(Prefix {
            source: source.to_string(),
            flat: flat::Flat::compile(&tokens),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Does the prefix have a `%q`?
    pub fn has_session_only(&self) -> bool {
        self.tokens.contains(&Token::SessionOnly)
    }

    /// How many `%` escapes it has (`%q` and `%%` not counted).
    pub fn escape_count(&self) -> usize {
        self.tokens
            .iter()
            .filter(|t| matches!(t, Token::Escape(_) | Token::Padded(..)))
            .count()
    }

    /// Matches a line: the prefix, then a `LABEL:  `.
    pub fn match_line<'a>(&self, line: &'a [u8]) -> Option<PrefixMatch<'a>> {
        self.match_line_cached(line, &mut TimeCache::new())
    }

    /// [`Prefix::match_line`] for the lines of one input in order, which
    /// mostly repeat the previous line's second.
    pub fn match_line_cached<'a>(
        &self,
        line: &'a [u8],
        times: &mut TimeCache,
    ) -> Option<PrefixMatch<'a>> {
        let mut m = PrefixMatch::unmatched();
        self.match_line_into(line, times, &mut m).then_some(m)
    }

    /// [`Prefix::match_line_cached`] written into `m` (true when the line
    /// matched; `m` is in any state otherwise). A match is a few hundred
    /// bytes: built where the caller keeps it, it is not copied per line,
    /// and a copy just after its fields were stored stalls on them.
    pub fn match_line_into<'a>(
        &self,
        line: &'a [u8],
        times: &mut TimeCache,
        m: &mut PrefixMatch<'a>,
    ) -> bool {
        m.fields = PrefixFields::default();
        let mut cx = Matching {
            fields: &mut m.fields,
            times,
            dead_ends: None,
        };
        let flat = match &self.flat {
            Some(steps) => steps.run(line, &mut cx),
            None => flat::Outcome::Unsure,
        };
        let matched = match flat {
            flat::Outcome::Matched(label, offset) => Some((label, offset)),
            flat::Outcome::NoMatch => None,
            flat::Outcome::Unsure => {
                // From scratch, as if the flat steps had not run.
                *cx.fields = PrefixFields::default();
                self.match_from(0, line, 0, &mut cx)
            }
        };
        let Some((label, text_offset)) = matched else {
            return false;
        };
        m.label = label;
        m.text_offset = text_offset;
        m.session_part = !m.fields.ended_at_q;
        true
    }

    fn match_from<'a>(
        &self,
        ti: usize,
        line: &'a [u8],
        pos: usize,
        cx: &mut Matching<'a, '_>,
    ) -> Option<(Label, usize)> {
        let Some(token) = self.tokens.get(ti) else {
            let (label, n, words) = parse_any_label(&line[pos..])?;
            cx.fields.label_words = words;
            return Some((label, pos + n));
        };
        match token {
            Token::Literal(l) => {
                if starts_with_literal(&line[pos..], l) {
                    self.match_from(ti + 1, line, pos + l.len(), cx)
                } else {
                    None
                }
            }
            Token::SessionOnly => {
                // Background processes end the prefix here.
                if let Some((label, n, words)) = parse_any_label(&line[pos..]) {
                    cx.fields.ended_at_q = true;
                    cx.fields.label_words = words;
                    return Some((label, pos + n));
                }
                self.match_from(ti + 1, line, pos, cx)
            }
            Token::Escape(Escape::BackendType) => self.match_backend_type(ti, line, pos, cx),
            Token::Escape(e) if e.is_free_text() => self.match_free_text(*e, ti, line, pos, cx),
            Token::Escape(e) => {
                let n = read_fixed(*e, &line[pos..], cx)?;
                self.match_from(ti + 1, line, pos + n, cx)
            }
            Token::Padded(e, width) => self.match_padded(*e, *width as usize, ti, line, pos, cx),
        }
    }

    /// The rest of the line matched with the free-text value `line[pos..pos + end]`.
    #[inline]
    fn free_text_ending_at<'a>(
        &self,
        esc: Escape,
        ti: usize,
        line: &'a [u8],
        pos: usize,
        end: usize,
        cx: &mut Matching<'a, '_>,
    ) -> Option<(Label, usize)> {
        let value = &line[pos..pos + end];
        if value.contains(&b'\t') {
            return None;
        }
        let next = (ti + 1, pos + end);
        if cx.dead_ends.as_ref().is_some_and(|d| d.contains(&next)) {
            return None;
        }
        set_free_text(esc, value, cx.fields);
        let m = self.match_from(next.0, line, next.1, cx);
        if m.is_none() {
            cx.dead_ends.get_or_insert_with(HashSet::new).insert(next);
        }
        m
    }

    /// A padded value shorter than its width fills exactly the width.
    fn match_padded<'a>(
        &self,
        esc: Escape,
        width: usize,
        ti: usize,
        line: &'a [u8],
        pos: usize,
        cx: &mut Matching<'a, '_>,
    ) -> Option<(Label, usize)> {
        if !esc.is_free_text() {
            let mut n = read_fixed(esc, &line[pos..], cx)?;
            if width > n {
                n += padding_after(&line[pos + n..], width - n);
            }
            return self.match_from(ti + 1, line, pos + n, cx);
        }
        if width <= line.len() - pos {
            if let Some(m) = self.free_text_ending_at(esc, ti, line, pos, width, cx) {
                return Some(m);
            }
        }
        self.match_free_text(esc, ti, line, pos, cx)
    }

    /// A backend type has spaces (`client backend`): a known one first.
    fn match_backend_type<'a>(
        &self,
        ti: usize,
        line: &'a [u8],
        pos: usize,
        cx: &mut Matching<'a, '_>,
    ) -> Option<(Label, usize)> {
        let rest = &line[pos..];
        for b in BACKEND_TYPES
            .iter()
            .filter(|b| rest.starts_with(b.as_bytes()))
        {
            let ends_at = b.len();
            if let Some(m) =
                self.free_text_ending_at(Escape::BackendType, ti, line, pos, ends_at, cx)
            {
                return Some(m);
            }
        }
        self.match_free_text(Escape::BackendType, ti, line, pos, cx)
    }

    fn match_free_text<'a>(
        &self,
        esc: Escape,
        ti: usize,
        line: &'a [u8],
        pos: usize,
        cx: &mut Matching<'a, '_>,
    ) -> Option<(Label, usize)> {
        let rest = &line[pos..];
        let try_end = |end: usize, cx: &mut Matching<'a, '_>| {
            self.free_text_ending_at(esc, ti, line, pos, end, cx)
        };
        match self.tokens.get(ti + 1) {
            Some(Token::Literal(l)) => {
                let finder = memchr::memmem::find_iter(rest, l);
                for end in finder.take(MAX_DELIMITER_TRIES) {
                    if let Some(m) = try_end(end, cx) {
                        return Some(m);
                    }
                }
                None
            }
            _ => {
                // Followed by another escape or by the label: try each end.
                for end in 0..=rest.len().min(MAX_FREE_TEXT) {
                    if let Some(m) = try_end(end, cx) {
                        return Some(m);
                    }
                }
                None
            }
        }
    }
}

fn set_free_text<'a>(esc: Escape, value: &'a [u8], f: &mut PrefixFields<'a>) {
    let value = value.trim_ascii();
    let slot = match esc {
        Escape::Application => &mut f.application,
        Escape::User => &mut f.user,
        Escape::Database => &mut f.database,
        Escape::RemoteHostPort | Escape::RemoteHost => &mut f.remote_host,
        Escape::CommandTag => &mut f.command_tag,
        Escape::BackendType => &mut f.backend_type,
        _ => unreachable!("not a free-text escape"),
    };
    *slot = (!value.is_empty() && value != b"[unknown]").then_some(value);
}

/// Reads a fixed-shape escape; returns the bytes it took.
fn read_fixed<'a>(esc: Escape, s: &'a [u8], cx: &mut Matching<'a, '_>) -> Option<usize> {
    let f = &mut *cx.fields;
    let lead = s.iter().take_while(|c| **c == b' ').count();
    let body = &s[lead..];
    let n = match esc {
        Escape::TimeMs | Escape::TimeNoMs | Escape::SessionStart => {
            let (t, n) = cx.times.parse_pg_timestamp(body)?;
            // Only the seconds can have a `.` after them.
            let has_ms = body.get(19) == Some(&b'.');
            if (esc == Escape::TimeMs) != has_ms && esc != Escape::SessionStart {
                return None;
            }
            if esc != Escape::SessionStart {
                f.time = Some(t);
            }
            n
        }
        Escape::TimeEpoch => {
            let (t, n) = parse_epoch(body)?;
            f.time = Some(t);
            n
        }
        Escape::Pid => {
            let (v, n) = leading_number(body)?;
            f.pid = Some(v as u32);
            n
        }
        Escape::LeaderPid => {
            let n = digits(body);
            if n == 0 {
                // Empty outside parallel workers: the spaces are not its own.
                return Some(0);
            }
            f.leader_pid = Some(parse_num(&body[..n])? as u32);
            n
        }
        Escape::LineNumber => {
            let (v, n) = leading_number(body)?;
            f.session_line = Some(v);
            n
        }
        Escape::Txid => {
            let n = digits(body);
            let v = parse_num(&body[..n])?;
            f.txid = (v != 0).then_some(v);
            n
        }
        Escape::QueryId => {
            let neg = usize::from(body.first() == Some(&b'-'));
            let n = neg + digits(&body[neg..]);
            let v = std::str::from_utf8(&body[..n]).ok()?.parse::<i64>().ok()?;
            f.query_id = (v != 0).then_some(v);
            n
        }
        Escape::SessionId => {
            let a = hex_digits(body);
            if a == 0 || body.get(a) != Some(&b'.') {
                return None;
            }
            let b = hex_digits(&body[a + 1..]);
            if b == 0 {
                return None;
            }
            f.session_id = Some(&body[..a + 1 + b]);
            a + 1 + b
        }
        Escape::Vxid => {
            // Empty for processes without a virtual transaction.
            let a = digits(body);
            if a == 0 {
                // The spaces before an empty vxid are the prefix's own.
                return Some(0);
            } else {
                if body.get(a) != Some(&b'/') {
                    return None;
                }
                let b = digits(&body[a + 1..]);
                if b == 0 {
                    return None;
                }
                f.vxid = Some(&body[..a + 1 + b]);
                a + 1 + b
            }
        }
        Escape::SqlState => {
            let code = body.get(..5)?;
            if !code
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            {
                return None;
            }
            f.sqlstate = Some(code);
            5
        }
        _ => unreachable!("free-text escapes are matched elsewhere"),
    };
    Some(lead + n)
}

/// `s.starts_with(literal)` for the short literals of a prefix (`" ["`),
/// compared in place rather than through a `memcmp` call.
fn starts_with_literal(s: &[u8], literal: &[u8]) -> bool {
    s.len() >= literal.len() && s.iter().zip(literal).all(|(a, b)| a == b)
}

/// How many of the next `want` bytes are padding spaces (all or none).
fn padding_after(s: &[u8], want: usize) -> usize {
    match s.get(..want) {
        Some(pad) if pad.iter().all(|&c| c == b' ') => want,
        _ => 0,
    }
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn hex_digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_hexdigit()).count()
}

/// The value of the ASCII digits `s` starts with, and how many there are,
/// in one pass (every line has a pid); `None` when none or too large.
fn leading_number(s: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    let mut n = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// The value of a run of ASCII digits; `None` when empty or too large.
fn parse_num(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |v, &c| {
        debug_assert!(c.is_ascii_digit());
        v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

/// Well-known settings, tried by inference next to the prefixes it reads
/// from the lines: PostgreSQL's default, the Debian/Ubuntu packaging
/// defaults, Amazon RDS, the common pgBadger recommendation and a few other
/// widespread settings.
pub const COMMON_PREFIXES: &[&str] = &[
    "%m [%p] %q%u@%d/%a ",
    "%m [%p] %q%u@%d ",
    "%t [%p] %q%u@%d/%a ",
    "%t [%p] %q%u@%d ",
    "%t [%p-%l] %q%u@%d ",
    "%m [%p-%l] %q%u@%d ",
    "%t:%r:%u@%d:[%p]:",
    "%m:%r:%u@%d:[%p]:",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] ",
    "%m [%p]: [%l-1] ",
    "%m %u %d [%p] ",
    "%m [%p] ",
    "%t [%p] ",
    "%m [%p]: ",
    "%t [%p]: ",
    "< %m > ",
    "%m ",
    "%t ",
    "[%p] ",
    "",
];

/// Backend types as `%b` writes them (PostgreSQL 13 to 18).
pub(crate) const BACKEND_TYPES: &[&str] = &[
    "autovacuum launcher",
    "autovacuum worker",
    "logical replication launcher",
    "logical replication worker",
    "logical replication parallel worker",
    "logical replication tablesync worker",
    "logical replication apply worker",
    "parallel worker",
    "background writer",
    "background worker",
    "client backend",
    "standalone backend",
    "not initialized",
    "checkpointer",
    "walwriter",
    "walsender",
    "walreceiver",
    "walsummarizer",
    "wal summarizer",
    "slotsync worker",
    "io worker",
    "archiver",
    "postmaster",
    "startup",
    "logger",
];

/// The RDS and Aurora PostgreSQL prefix, which cannot be changed there.
pub const RDS_PREFIX: &str = "%t:%r:%u@%d:[%p]:";

/// Infers the prefix of `lines` (see [`infer_prefix`]); `None` when no
/// prefix parses enough of them.
pub fn detect_prefix<'a, I>(lines: I) -> Option<Prefix>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    infer_prefix(lines).ok().map(|i| i.prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_prefix_names_escape() {
        let e = Prefix::parse("%m %z").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.to_string().contains("%z"));
    }
}
