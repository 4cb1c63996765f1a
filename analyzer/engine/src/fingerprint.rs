//! Query fingerprints: statements grouped by what they do, not by their
//! literal values.
//!
//! The real PostgreSQL parser (libpg_query through `pg_query`) gives the
//! fingerprint and the `$n`-normalized text, but it is too slow to run on
//! every logged statement. A lexer runs first: it blanks literals (strings
//! become `''`, numbers `0`), drops comments, collapses whitespace and
//! `IN (...)` lists. Its output is still valid SQL wherever the original was,
//! and has the same parse tree up to constant values, so pg_query's
//! fingerprint of it equals the fingerprint of the original. The parser runs
//! once per distinct lexed text; a cache keyed by its hash serves the rest.
//!
//! Statements pg_query rejects (syntax errors, texts cut short) keep the
//! lexed text as their normalized form and a hash of it as fingerprint, and
//! are marked `parse_failed`; they are never dropped.
//!
//! The parser's memory grows with the statement (a parse tree node per
//! token, more for its normalization), and libpg_query ends the process when
//! an allocation fails. So statements over [`PARSE_MAX_BYTES`] after lexing,
//! or nested deeper than [`PARSE_MAX_DEPTH`], never reach it: they are
//! grouped like rejected ones and marked `parse_skipped` with the reason.
//! Texts over [`NORMALIZE_MAX_BYTES`] are fingerprinted by the parser but
//! shown in the lexer's form, as pg_query's normalization costs far more
//! memory than its fingerprint. Shown texts are clipped to
//! [`NORMALIZED_MAX_CHARS`].

use crate::text::{head_chars, truncate_chars};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

pub use pglog_logparse::{is_own_query, PGLOG_MARKER};

/// How many distinct lexed texts the cache holds before it starts over.
const CACHE_CAP: usize = 100_000;
/// How many bytes of normalized text the cache holds before it starts over.
const CACHE_TEXT_BYTES: usize = 32 << 20;

/// The longest lexed text given to the parser. Measured with libpg_query 18:
/// fingerprinting costs about 120 bytes of memory per byte of text, so this
/// keeps a parse near 32 MB.
pub const PARSE_MAX_BYTES: usize = 256 * 1024;
/// The deepest bracket nesting given to the parser (PostgreSQL's own grammar
/// stack gives up at 10,000; deep trees also mean deep recursion).
pub const PARSE_MAX_DEPTH: usize = 1000;
/// The longest lexed text whose display form comes from pg_query's
/// normalization: on a long target list it needs about 4 KB per token.
pub const NORMALIZE_MAX_BYTES: usize = 8 * 1024;
/// The longest normalized text kept for a group; the rest is cut with `…`.
pub const NORMALIZED_MAX_CHARS: usize = 16 * 1024;

/// A statement's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryKey {
    /// pg_query's 64-bit fingerprint, or a hash of the lexed text when
    /// `parse_failed`.
    pub fingerprint: u64,
    /// Text with `$n` placeholders.
    pub normalized: Arc<str>,
    /// pg_query rejected the statement; `normalized` comes from the lexer.
    pub parse_failed: bool,
    /// Why the statement was not given to pg_query (too long, too deep);
    /// then `normalized` comes from the lexer.
    pub parse_skipped: Option<Arc<str>>,
}

/// Fingerprints statements with a per-worker cache.
pub struct Fingerprinter {
    cache: HashMap<u64, QueryKey, foldhash::fast::FixedState>,
    /// Normalized bytes held by `cache`.
    cache_text: usize,
    lexed: String,
    hasher: foldhash::fast::FixedState,
    /// pg_query calls made, for the cache-hit figure in benchmarks.
    pub parser_calls: u64,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter::new()
    }
}

impl Fingerprinter {
    pub fn new() -> Fingerprinter {
        Fingerprinter {
            cache: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed)),
            cache_text: 0,
            lexed: String::with_capacity(1024),
            hasher: foldhash::fast::FixedState::with_seed(0x9e37),
            parser_calls: 0,
        }
    }

    /// The group of `sql`.
    pub fn key(&mut self, sql: &str) -> QueryKey {
        // Texts without literals (extended-protocol statements with `$n`)
        // are their own lexed form, which is idempotent: look them up as
        // they are before lexing.
        if let Some(k) = self.cache.get(&self.hash(sql)) {
            return k.clone();
        }
        let mut spill = Spill {
            hasher: self.hasher.build_hasher(),
            bytes: 0,
        };
        lex(sql, &mut self.lexed, Some(&mut spill));
        let h = if spill.bytes == 0 {
            self.hash(&self.lexed)
        } else {
            let mut h = self.hasher.build_hasher();
            h.write(self.lexed.as_bytes());
            h.write_u64(spill.hasher.finish());
            h.write_usize(spill.bytes);
            h.finish()
        };
        if let Some(k) = self.cache.get(&h) {
            return k.clone();
        }
        let key = match skip_reason(&self.lexed, self.lexed.len() + spill.bytes) {
            Some(reason) => fallback_key(&self.lexed, h, Some(reason)),
            None => {
                self.parser_calls += 1;
                parse_key(&self.lexed, h)
            }
        };
        if self.cache.len() >= CACHE_CAP || self.cache_text >= CACHE_TEXT_BYTES {
            self.cache.clear();
            self.cache_text = 0;
        }
        self.cache_text += key.normalized.len();
        self.cache.insert(h, key.clone());
        // One huge statement must not keep its buffer's memory for the rest of the run.
        if self.lexed.capacity() > 4 * PARSE_MAX_BYTES {
            self.lexed = String::with_capacity(1024);
        }
        key
    }

    fn hash(&self, s: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(s.as_bytes());
        h.finish()
    }
}

/// Why `lexed` must not be given to the parser, if it must not.
fn skip_reason(lexed: &str, len: usize) -> Option<Arc<str>> {
    if len > PARSE_MAX_BYTES {
        return Some(
            format!(
                "statement of {len} bytes (after removing literals and comments) is over the parser's limit of {PARSE_MAX_BYTES}"
            )
            .into(),
        );
    }
    let depth = max_depth(lexed);
    (depth > PARSE_MAX_DEPTH).then(|| {
        format!("brackets nested {depth} deep, over the parser's limit of {PARSE_MAX_DEPTH}").into()
    })
}

/// The deepest `(`/`[` nesting of a lexed text (literals are blanked, so
/// brackets in strings do not count; quoted identifiers are rare enough).
fn max_depth(lexed: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for &c in lexed.as_bytes() {
        match c {
            b'(' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn parse_key(lexed: &str, lexed_hash: u64) -> QueryKey {
    let Ok(fp) = pg_query::fingerprint(lexed, 0, 0) else {
        return fallback_key(lexed, lexed_hash, None);
    };
    let normalized = if lexed.len() > NORMALIZE_MAX_BYTES {
        Ok(placeholders(lexed))
    } else {
        pg_query::normalize(lexed)
    };
    let Ok(normalized) = normalized else {
        return fallback_key(lexed, lexed_hash, None);
    };
    // The parser leaves constants of utility statements (DDL, SET)
    // alone; show those with placeholders too, not as blanks.
    let normalized = if normalized == lexed {
        placeholders(lexed)
    } else {
        normalized
    };
    QueryKey {
        fingerprint: fp.value,
        normalized: truncate_chars(
            normalized.trim().trim_end_matches(';').trim_end(),
            NORMALIZED_MAX_CHARS,
        )
        .into(),
        parse_failed: false,
        parse_skipped: None,
    }
}

/// The group of a text the parser rejected (`skipped` is `None`) or was
/// not given.
fn fallback_key(lexed: &str, lexed_hash: u64, skipped: Option<Arc<str>>) -> QueryKey {
    // Numbering placeholders never shortens a text: clip first.
    let head = head_chars(lexed, NORMALIZED_MAX_CHARS);
    let mut normalized = truncate_chars(&placeholders(head), NORMALIZED_MAX_CHARS);
    if head.len() < lexed.len() && !normalized.ends_with('…') {
        normalized.push('…');
    }
    QueryKey {
        fingerprint: lexed_hash,
        normalized: normalized.into(),
        parse_failed: skipped.is_none(),
        parse_skipped: skipped,
    }
}

/// The lexed text with its blanked literals numbered `$1`, `$2`, ... as the
/// parser's normalization would show them.
fn placeholders(lexed: &str) -> String {
    let b = lexed.as_bytes();
    let mut out = String::with_capacity(lexed.len() + 8);
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev_ident = i > 0 && is_ident(b[i - 1]);
        if c == b'\'' && b.get(i + 1) == Some(&b'\'') {
            n += 1;
            out.push_str(&format!("${n}"));
            i += 2;
        } else if c == b'0' && !prev_ident && !b.get(i + 1).is_some_and(|&d| is_ident(d)) {
            n += 1;
            out.push_str(&format!("${n}"));
            i += 1;
        } else if c == b'"' {
            let end = memchr::memchr(b'"', &b[i + 1..]).map_or(b.len(), |j| i + 2 + j);
            out.push_str(&lexed[i..end]);
            i = end;
        } else {
            let start = i;
            i += 1;
            while i < b.len() && !matches!(b[i], b'\'' | b'0' | b'"') {
                i += 1;
            }
            out.push_str(&lexed[start..i]);
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Writes the lexed form of `sql` into `out` (cleared first).
pub fn lex_into(sql: &str, out: &mut String) {
    lex(sql, out, None);
}

/// Past this many lexed bytes, what lies between the kept head and tail is
/// hashed and dropped instead of kept: such a text is too long to parse
/// anyway, and a statement of many MB must not be copied whole.
const SPILL_AT: usize = 2 * PARSE_MAX_BYTES;
/// Kept at the start: more than the parser's limit, so the text is still
/// known to be too long, and all that is shown of it.
const SPILL_HEAD: usize = PARSE_MAX_BYTES + 1;
/// Kept at the end: what `IN` list folding and the trailing `;` trim look back at.
const SPILL_TAIL: usize = 64;

/// What the lexer hashed and dropped of a long text.
struct Spill {
    hasher: foldhash::fast::FoldHasher<'static>,
    bytes: usize,
}

impl Spill {
    fn take(&mut self, o: &mut Vec<u8>) {
        let end = o.len() - SPILL_TAIL;
        self.hasher.write(&o[SPILL_HEAD..end]);
        self.bytes += end - SPILL_HEAD;
        o.drain(SPILL_HEAD..end);
    }
}

/// Lexes `sql` into `out`; with `spill`, a long output keeps only its head
/// and tail, and the rest goes to the spill's hash.
fn lex(sql: &str, out: &mut String, mut spill: Option<&mut Spill>) {
    out.clear();
    let b = sql.as_bytes();
    // Bytes are only ever copied in whole runs between ASCII delimiters, so
    // `out` stays valid UTF-8.
    let mut o: Vec<u8> = std::mem::take(out).into_bytes();
    let mut i = 0;
    let mut space = false;
    let mut lists = OrdinalLists::default();
    while i < b.len() {
        if o.len() >= SPILL_AT {
            if let Some(sp) = spill.as_deref_mut() {
                sp.take(&mut o);
            }
        }
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                space = true;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |j| i + j + 1);
                space = true;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i);
                space = true;
            }
            b'\'' => {
                let escapes = strip_string_prefix(&mut o);
                i = skip_string(b, i, escapes);
                emit(&mut o, &mut space, b"''");
                collapse_in_list(&mut o);
            }
            b'"' => {
                let end = memchr::memchr(b'"', &b[i + 1..]).map_or(b.len(), |j| i + 2 + j);
                emit(&mut o, &mut space, &b[i..end]);
                i = end;
            }
            b'$' => {
                let start = i;
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    emit(&mut o, &mut space, &b[start..i]);
                } else if let Some(end) = dollar_quote_end(b, start) {
                    i = end;
                    emit(&mut o, &mut space, b"''");
                    collapse_in_list(&mut o);
                } else {
                    emit(&mut o, &mut space, b"$");
                }
            }
            b'0'..=b'9' | b'.' if starts_number(b, i) => {
                let start = i;
                i = skip_number(b, i);
                if lists.is_ordinal(&o, &b[start..i], &b[i..]) {
                    emit(&mut o, &mut space, &b[start..i]);
                } else {
                    emit(&mut o, &mut space, b"0");
                    collapse_in_list(&mut o);
                }
            }
            _ if is_ident(c) => {
                let start = i;
                while i < b.len() && (is_ident(b[i]) || b[i] == b'$') {
                    i += 1;
                }
                lists.word(&o, &b[start..i]);
                emit(&mut o, &mut space, &b[start..i]);
            }
            _ => {
                lists.punctuation(c);
                emit(&mut o, &mut space, &b[i..i + 1]);
                i += 1;
            }
        }
    }
    // Trailing semicolons do not change the statement.
    while o.last().is_some_and(|&c| c == b';' || c == b' ') {
        o.pop();
    }
    *out = String::from_utf8(o).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into());
}

/// Where the lexer is in `GROUP BY` and `ORDER BY` lists of a SELECT, whose
/// integers are column positions (`GROUP BY 1, 2`), not constants: they are
/// kept, as the server and pg_stat_statements keep them. In a window's or an
/// aggregate's `ORDER BY` (no SELECT at that depth) an integer is a constant.
#[derive(Default)]
struct OrdinalLists {
    depth: usize,
    /// Bit `d`: a SELECT was seen at bracket depth `d` (depths below 64).
    select_at: u64,
    /// The depth of the open position list.
    list_at: Option<usize>,
}

/// Words that end a `GROUP BY` / `ORDER BY` list.
const LIST_ENDS: &[&[u8]] = &[
    b"limit",
    b"offset",
    b"having",
    b"window",
    b"fetch",
    b"for",
    b"union",
    b"intersect",
    b"except",
    b"returning",
    b"from",
    b"where",
    b"select",
];

impl OrdinalLists {
    fn bit(&self) -> u64 {
        1u64.checked_shl(self.depth as u32).unwrap_or(0)
    }

    /// A word about to be written after the lexed text `o`.
    fn word(&mut self, o: &[u8], w: &[u8]) {
        if w.eq_ignore_ascii_case(b"select") {
            self.select_at |= self.bit();
        }
        if self.list_at == Some(self.depth) && LIST_ENDS.iter().any(|e| w.eq_ignore_ascii_case(e)) {
            self.list_at = None;
        }
        if w.eq_ignore_ascii_case(b"by")
            && (ends_with_word(o, b"group") || ends_with_word(o, b"order"))
            && self.select_at & self.bit() != 0
        {
            self.list_at = Some(self.depth);
        }
    }

    fn punctuation(&mut self, c: u8) {
        match c {
            b'(' | b'[' => {
                self.depth += 1;
                self.select_at &= !self.bit();
            }
            b')' | b']' => {
                if self.list_at == Some(self.depth) {
                    self.list_at = None;
                }
                self.select_at &= !self.bit();
                self.depth = self.depth.saturating_sub(1);
            }
            b';' => self.list_at = None,
            _ => {}
        }
    }

    /// Whether the number `n`, written after `o` with `rest` after it, is a
    /// whole item of an open position list.
    fn is_ordinal(&self, o: &[u8], n: &[u8], rest: &[u8]) -> bool {
        if self.list_at != Some(self.depth) || !n.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let after_start = o.last() == Some(&b',') || ends_with_word(o, b"by");
        let next = rest.iter().find(|c| !c.is_ascii_whitespace());
        let item_ends = match next {
            None => true,
            Some(&c) => matches!(c, b',' | b')' | b';') || is_ident(c),
        };
        after_start && item_ends
    }
}

/// Whether `o`, trailing spaces aside, ends with the word `w` (any case).
fn ends_with_word(o: &[u8], w: &[u8]) -> bool {
    let mut k = o.len();
    while k > 0 && o[k - 1] == b' ' {
        k -= 1;
    }
    k >= w.len()
        && o[k - w.len()..k].eq_ignore_ascii_case(w)
        && (k == w.len() || !is_ident(o[k - w.len() - 1]))
}

fn emit(o: &mut Vec<u8>, space: &mut bool, bytes: &[u8]) {
    if *space && !o.is_empty() {
        o.push(b' ');
    }
    *space = false;
    o.extend_from_slice(bytes);
}

fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    // Block comments nest in PostgreSQL.
    let mut depth = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Removes an `E`, `B`, `X`, `N` or `U&` just written before a quote; true
/// when backslash escapes apply (`E'...'`).
fn strip_string_prefix(o: &mut Vec<u8>) -> bool {
    let n = o.len();
    let standalone = |k: usize| k == 0 || !is_ident(o[k - 1]);
    if n >= 1
        && matches!(
            o[n - 1],
            b'E' | b'e' | b'B' | b'b' | b'X' | b'x' | b'N' | b'n'
        )
        && standalone(n - 1)
    {
        let escapes = matches!(o[n - 1], b'E' | b'e');
        o.pop();
        return escapes;
    }
    if n >= 2 && matches!(o[n - 2], b'U' | b'u') && o[n - 1] == b'&' && standalone(n - 2) {
        o.truncate(n - 2);
    }
    false
}

fn skip_string(b: &[u8], mut i: usize, escapes: bool) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' if escapes => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of a `$tag$ ... $tag$` string starting at `start`, if it is one.
fn dollar_quote_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    if b.get(j) != Some(&b'$') || b.get(start + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &b[start..=j];
    let body = j + 1;
    memchr::memmem::find(&b[body..], tag).map(|k| body + k + tag.len())
}

fn starts_number(b: &[u8], i: usize) -> bool {
    if b[i] == b'.' && !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    // A digit right after an identifier (`t1`) or a `.` after one (`t.col`)
    // belongs to it.
    !(i > 0 && (is_ident(b[i - 1]) || matches!(b[i - 1], b'"' | b')' | b']')))
}

fn skip_number(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')) {
        i += 2;
        while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b'_') {
            i += 1;
        }
        return i;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_' || b[i] == b'.') {
        i += 1;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// After a literal was written: `IN ('', '', '')` becomes `IN ('')`, so
/// lists of any length group together, as pg_stat_statements and pg_query
/// group them.
fn collapse_in_list(o: &mut Vec<u8>) {
    let lit_len = if o.ends_with(b"''") { 2 } else { 1 };
    let before = o.len() - lit_len;
    let mut k = before;
    while k > 0 && o[k - 1] == b' ' {
        k -= 1;
    }
    if k == 0 || o[k - 1] != b',' {
        return;
    }
    let mut p = k - 1;
    while p > 0 && o[p - 1] == b' ' {
        p -= 1;
    }
    // The element before the comma must itself be a literal inside `IN (`.
    let prev_lit = if o[..p].ends_with(b"''") {
        2
    } else if o[..p].ends_with(b"0") && (p < 2 || !is_ident(o[p - 2])) {
        1
    } else {
        return;
    };
    if !in_list_open(&o[..p - prev_lit]) {
        return;
    }
    o.truncate(p);
}

/// Does `o` end with `IN (` followed only by collapsed literals?
fn in_list_open(o: &[u8]) -> bool {
    let mut k = o.len();
    while k > 0 && o[k - 1] == b' ' {
        k -= 1;
    }
    if k == 0 || o[k - 1] != b'(' {
        return false;
    }
    k -= 1;
    while k > 0 && o[k - 1] == b' ' {
        k -= 1;
    }
    k >= 2 && o[k - 2..k].eq_ignore_ascii_case(b"in") && (k == 2 || !is_ident(o[k - 3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> String {
        let mut out = String::new();
        lex_into(s, &mut out);
        out
    }

    #[test]
    fn literals_comments_and_space() {
        assert_eq!(
            lex("SELECT  * FROM t1 -- why\n WHERE a = 'x''y' AND b=12.5e3 /* c /* d */ */ AND c = E'\\'q'"),
            "SELECT * FROM t1 WHERE a = '' AND b=0 AND c = ''"
        );
        assert_eq!(
            lex("select $1, $$body$$, $f$x$f$, x2.col3;"),
            "select $1, '', '', x2.col3"
        );
        assert_eq!(
            lex("SELECT B'0101', X'ff', U&'d\\0061t'"),
            "SELECT '', '', ''"
        );
    }

    #[test]
    fn lexing_is_idempotent() {
        for q in [
            "SELECT  a, 'x', 12 FROM t -- c\n WHERE b IN (1, 2) AND c = E'\\''",
            "select $1, $$body$$, x2.col3;",
            "UPDATE t SET v = v + -5 WHERE id = $1",
        ] {
            let once = lex(q);
            assert_eq!(lex(&once), once, "{q}");
        }
    }

    #[test]
    fn column_positions_are_kept_constants_are_not() {
        assert_eq!(
            lex("SELECT a, count(*) FROM t WHERE x = 5 GROUP BY 1, 2 ORDER BY 2 DESC, 1 LIMIT 5"),
            "SELECT a, count(*) FROM t WHERE x = 0 GROUP BY 1, 2 ORDER BY 2 DESC, 1 LIMIT 0"
        );
        // In a subquery too; not in expressions, windows or aggregates.
        assert_eq!(
            lex("SELECT * FROM (SELECT a FROM t ORDER BY 1) s ORDER BY a + 1, 2::int"),
            "SELECT * FROM (SELECT a FROM t ORDER BY 1) s ORDER BY a + 0, 0::int"
        );
        assert_eq!(
            lex("SELECT sum(x) OVER (ORDER BY 1), array_agg(x ORDER BY 2) FROM t GROUP BY 3"),
            "SELECT sum(x) OVER (ORDER BY 0), array_agg(x ORDER BY 0) FROM t GROUP BY 3"
        );
        let mut f = Fingerprinter::new();
        let k =
            f.key("select o.n, count(*) from t where c = 'x' group by 1, 2 order by 1 asc limit 1");
        assert_eq!(
            &*k.normalized,
            "select o.n, count(*) from t where c = $1 group by 1, 2 order by 1 asc limit $2"
        );
    }

    #[test]
    fn in_lists_collapse_other_lists_do_not() {
        assert_eq!(lex("WHERE id IN (1,2,3)"), "WHERE id IN (0)");
        assert_eq!(lex("WHERE id in ( 'a' , 'b' )"), "WHERE id in ( '' )");
        assert_eq!(lex("VALUES (1, 2)"), "VALUES (0, 0)");
        assert_eq!(lex("SELECT f(1, 2)"), "SELECT f(0, 0)");
    }

    #[test]
    fn pg_query_groups_in_lists_and_literals() {
        let mut f = Fingerprinter::new();
        let a = f.key("SELECT * FROM t WHERE id IN (1,2,3)");
        let b = f.key("select *  from t where id in (1,2,3,4,5) ;");
        let c = f.key("SELECT * FROM t WHERE id IN ($1, $2)");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(!a.parse_failed);
        assert_eq!(&*a.normalized, "SELECT * FROM t WHERE id IN ($1)");
        // The extended protocol's `$n` parameters group with literals too.
        assert_eq!(c.fingerprint, a.fingerprint);
        let d = f.key("SELECT * FROM t WHERE id > 7");
        assert_ne!(a.fingerprint, d.fingerprint);
    }

    #[test]
    fn rejected_statements_keep_a_marked_group() {
        let mut f = Fingerprinter::new();
        let a = f.key("SELEC 1 FROM t WHERE x = 'a'");
        let b = f.key("SELEC 1 FROM t WHERE x = 'b'");
        assert!(a.parse_failed);
        assert_eq!(a, b);
        assert_eq!(&*a.normalized, "SELEC $1 FROM t WHERE x = $2");
    }

    #[test]
    fn interval_and_typmod_literals_still_parse() {
        let mut f = Fingerprinter::new();
        assert!(!f.key("SELECT now() - interval '5 minutes'").parse_failed);
        assert!(
            !f.key("CREATE TABLE x (a varchar(20), b numeric(10,2))")
                .parse_failed
        );
        assert!(!f.key("SET statement_timeout = 5000").parse_failed);
    }

    #[test]
    fn long_and_deep_statements_never_reach_the_parser() {
        let mut f = Fingerprinter::new();
        let cols = vec!["a"; PARSE_MAX_BYTES].join(",");
        let long = f.key(&format!("SELECT {cols} FROM t"));
        assert!(long
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains("over the parser's limit"));
        assert!(!long.parse_failed);
        assert!(long.normalized.chars().count() <= NORMALIZED_MAX_CHARS + 1);
        assert!(long.normalized.ends_with('…'));
        let deep = f.key(&format!(
            "SELECT {}1{}",
            "(".repeat(PARSE_MAX_DEPTH + 1),
            ")".repeat(PARSE_MAX_DEPTH + 1)
        ));
        assert!(deep
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains("nested 1001 deep"));
        assert_eq!(f.parser_calls, 0);
        // Same text, same group; another text, another group.
        assert_eq!(f.key(&format!("SELECT {cols} FROM t")), long);
        assert_ne!(
            f.key(&format!("SELECT {cols} FROM u")).fingerprint,
            long.fingerprint
        );
    }

    #[test]
    fn long_statements_keep_the_parsers_fingerprint() {
        // Over the normalization limit, under the parse limit: grouped by
        // the parser as always, with literals and IN lists folded.
        let mut f = Fingerprinter::new();
        let cols = vec!["a"; NORMALIZE_MAX_BYTES / 2 + 10].join(",");
        let a = f.key(&format!("SELECT {cols} FROM t WHERE x = 1"));
        let b = f.key(&format!("SELECT {cols} FROM t WHERE x = 'y'"));
        assert!(a.parse_skipped.is_none() && !a.parse_failed);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(f.parser_calls, 2);
        assert!(a.normalized.ends_with("FROM t WHERE x = $1"));
    }

    #[test]
    fn texts_of_many_mb_are_hashed_whole_but_not_kept() {
        let mut f = Fingerprinter::new();
        let text = |middle: &str| {
            format!(
                "SELECT {} {middle} {} FROM t",
                vec!["a"; 1 << 20].join(","),
                vec!["b"; 1 << 20].join(",")
            )
        };
        let a = f.key(&text("x"));
        assert!(a
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains(&format!("statement of {} bytes", text("x").len())));
        assert!(
            f.lexed.capacity() < 4 * SPILL_AT,
            "the lexed copy stays small"
        );
        assert_eq!(f.key(&text("x")), a);
        // A difference in the dropped middle is still a different group.
        assert_ne!(f.key(&text("y")).fingerprint, a.fingerprint);
        // Literals are still folded there.
        assert_eq!(
            f.key(&text("'p'")).fingerprint,
            f.key(&text("'q'")).fingerprint
        );
    }
}
