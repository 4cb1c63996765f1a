//! The lexer of the fingerprint stage: literals blanked, comments dropped,
//! whitespace collapsed, `IN (...)` lists folded; see the parent module.

use std::hash::Hasher;

use super::PARSE_MAX_BYTES;

mod special;

/// Writes the lexed form of `sql` into `out` (cleared first).
pub fn lex_into(sql: &str, out: &mut String) {
    let mut o = std::mem::take(out).into_bytes();
    lex(sql, &mut o, None);
    *out = String::from_utf8(o).unwrap_or_else(|e| text_of(e.as_bytes()).into_owned());
}

/// Past this many lexed bytes, what lies between the kept head and tail is
/// hashed and dropped instead of kept: such a text is too long to parse
/// anyway, and a statement of many MB must not be copied whole.
pub(super) const SPILL_AT: usize = 2 * PARSE_MAX_BYTES;
/// Kept at the start: more than the parser's limit, so the text is still
/// known to be too long, and all that is shown of it.
const SPILL_HEAD: usize = PARSE_MAX_BYTES + 1;
/// Kept at the end: what `IN` list folding and the trailing `;` trim look back at.
const SPILL_TAIL: usize = 64;

/// What the lexer hashed and dropped of a long text.
pub(super) struct Spill {
    pub(super) hasher: foldhash::fast::FoldHasher<'static>,
    pub(super) bytes: usize,
}

impl Spill {
    fn take(&mut self, o: &mut Vec<u8>) {
        let end = o.len() - SPILL_TAIL;
        self.hasher.write(&o[SPILL_HEAD..end]);
        self.bytes += end - SPILL_HEAD;
        o.drain(SPILL_HEAD..end);
    }
}

/// Lexes `sql` into `o` (cleared first); with `spill`, a long output keeps
/// only its head and tail, and the rest goes to the spill's hash.
///
/// Bytes are only ever copied in whole runs between ASCII delimiters, so
/// the output is valid UTF-8 unless a spill cut through a character.
pub(super) fn lex(sql: &str, o: &mut Vec<u8>, spill: Option<&mut Spill>) {
    // Column positions only follow a `BY`: without one, bracket depths and
    // keywords need no tracking.
    let lists = may_have_by(sql.as_bytes());
    // The output is at most three bytes per byte of input (`'` at the end
    // becomes ` ''`), so a short text never reaches the spill.
    let spills = spill.is_some() && sql.len() >= SPILL_AT / 4;
    match (lists, spills) {
        (false, false) => {
            if !lex_simple(sql, o) {
                lex_tokens::<false, false>(sql, o, spill)
            }
        }
        (true, false) => lex_tokens::<true, false>(sql, o, spill),
        (false, true) => lex_tokens::<false, true>(sql, o, spill),
        (true, true) => lex_tokens::<true, true>(sql, o, spill),
    }
}

/// Whether `b` holds `by` in any case (as a word or not).
fn may_have_by(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'y', b'Y', b).any(|j| j > 0 && b[j - 1] | 0x20 == b'b')
}

/// [`lex`], with `LISTS` telling whether `GROUP BY` / `ORDER BY` lists may
/// occur, and `SPILLS` whether the output may grow long enough to spill.
fn lex_tokens<const LISTS: bool, const SPILLS: bool>(
    sql: &str,
    o: &mut Vec<u8>,
    mut spill: Option<&mut Spill>,
) {
    o.clear();
    let b = sql.as_bytes();
    let mut i = 0;
    let mut space = false;
    let mut lists = OrdinalLists::default();
    // Where nothing looks back at the output while lexing, verbatim tokens
    // are copied a run at a time.
    let runs = !LISTS && !SPILLS;
    let mut run = Run::default();
    // Writes the verbatim token `b[start..end]`.
    macro_rules! verbatim {
        ($start:expr, $end:expr) => {
            if runs {
                run.add(o, &mut space, b, $start, $end)
            } else {
                emit_run(o, &mut space, b, $start, $end)
            }
        };
    }
    while i < b.len() {
        if SPILLS && o.len() >= SPILL_AT {
            if let Some(sp) = spill.as_deref_mut() {
                sp.take(o);
            }
        }
        let c = b[i];
        // One table lookup picks the token; a byte's class also says
        // whether it continues a word, so runs need no other test.
        match CLASS[c as usize] & KIND {
            SPACE => {
                space = true;
                i += 1;
                while i < b.len() && CLASS[b[i] as usize] & KIND == SPACE {
                    i += 1;
                }
            }
            k @ (WORD | DIGIT) if k == WORD || !starts_number(b, i) => {
                let end = word_end(b, i);
                if LISTS {
                    lists.word(o, &b[i..end]);
                }
                verbatim!(i, end);
                i = end;
            }
            DIGIT => {
                run.flush(o, b);
                i = number::<LISTS>(b, i, o, &mut space, &lists)
            }
            DOT if starts_number(b, i) => {
                run.flush(o, b);
                i = number::<LISTS>(b, i, o, &mut space, &lists)
            }
            DASH if b.get(i + 1) == Some(&b'-') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |j| i + j + 1);
                space = true;
            }
            SLASH if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i);
                space = true;
            }
            QUOTE => {
                run.flush(o, b);
                let escapes = strip_string_prefix(o);
                i = skip_string(b, i, escapes);
                emit(o, &mut space, b"''");
                collapse_in_list(o);
            }
            DQUOTE => {
                let end = memchr::memchr(b'"', &b[i + 1..]).map_or(b.len(), |j| i + 2 + j);
                verbatim!(i, end);
                i = end;
            }
            DOLLAR => {
                let start = i;
                i += 1;
                if b.get(i).is_some_and(u8::is_ascii_digit) {
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    verbatim!(start, i);
                } else if let Some(end) = dollar_quote_end(b, start) {
                    run.flush(o, b);
                    i = end;
                    emit(o, &mut space, b"''");
                    collapse_in_list(o);
                } else {
                    verbatim!(start, i);
                }
            }
            _ => {
                if LISTS {
                    lists.punctuation(c);
                }
                verbatim!(i, i + 1);
                i += 1;
            }
        }
        // Spaces after a token, without another turn of the loop.
        while i < b.len() && CLASS[b[i] as usize] & KIND == SPACE {
            space = true;
            i += 1;
        }
    }
    run.flush(o, b);
    trim_end(o);
}

/// Trailing semicolons (and the spaces between them) do not change the statement.
fn trim_end(o: &mut Vec<u8>) {
    while o.last().is_some_and(|&c| c == b';' || c == b' ') {
        o.pop();
    }
}

/// [`lex_tokens`] without lists or spill for the texts most statements are:
/// words, numbers, `$n`, punctuation and single spaces. It copies what lies
/// between numbers in one go and looks only at the bytes
/// [`special::next_special`] finds; at anything it does not handle (a quote,
/// a comment, a run of whitespace, a leading space) it gives up, and
/// `false` says the text is for [`lex_tokens`].
fn lex_simple(sql: &str, o: &mut Vec<u8>) -> bool {
    o.clear();
    let b = sql.as_bytes();
    if b.first() == Some(&b' ') {
        return false;
    }
    let lists = OrdinalLists::default();
    // The verbatim stretch not yet copied starts here.
    let mut from = 0;
    let mut i = special::next_special(b, 0);
    while i < b.len() {
        let c = b[i];
        i = match c {
            b'0'..=b'9' | b'.' if starts_number(b, i) => {
                o.extend_from_slice(&b[from..i]);
                from = number::<false>(b, i, o, &mut false, &lists);
                from
            }
            // A digit in a word (`t1`): the rest of the word is copied.
            b'0'..=b'9' => word_end(b, i),
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let digits = b[i + 1..].iter().position(|c| !c.is_ascii_digit());
                digits.map_or(b.len(), |k| i + 1 + k)
            }
            b'-' if b.get(i + 1) != Some(&b'-') => i + 1,
            b'/' if b.get(i + 1) != Some(&b'*') => i + 1,
            b'.' => i + 1,
            _ if CLASS[c as usize] & KIND == OTHER => i + 1,
            // Quotes, `$` not of `$n`, comments, whitespace but a single space.
            _ => return false,
        };
        i = special::next_special(b, i);
    }
    o.extend_from_slice(&b[from..]);
    trim_end(o);
    true
}

/// The lexed bytes as text (a spill may have cut a character).
pub(super) fn text_of(o: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(o)
}

/// The end of the word (an identifier or keyword) starting at `start`.
fn word_end(b: &[u8], start: usize) -> usize {
    b[start + 1..]
        .iter()
        .position(|&c| CLASS[c as usize] & CONTINUES_WORD == 0)
        .map_or(b.len(), |k| start + 1 + k)
}

/// Verbatim input not yet copied to the output: tokens written as they
/// are, next to each other or one space apart, are copied in one go.
#[derive(Default)]
struct Run {
    start: usize,
    end: usize,
}

impl Run {
    /// [`emit`] of the token `b[start..end]`, held back.
    #[inline(always)]
    fn add(&mut self, o: &mut Vec<u8>, space: &mut bool, b: &[u8], start: usize, end: usize) {
        let joins = if *space {
            start == self.end + 1 && b[self.end] == b' '
        } else {
            start == self.end
        };
        if !(joins && self.start < self.end) {
            self.flush(o, b);
            if *space && !o.is_empty() {
                o.push(b' ');
            }
            self.start = start;
        }
        *space = false;
        self.end = end;
    }

    /// Copies what is held back, before the output is looked at or written.
    #[inline(always)]
    fn flush(&mut self, o: &mut Vec<u8>, b: &[u8]) {
        if self.start < self.end {
            o.extend_from_slice(&b[self.start..self.end]);
            self.start = self.end;
        }
    }
}

/// Writes the number starting at `start` as `0`, or as it is when it is a
/// column position; returns its end.
fn number<const LISTS: bool>(
    b: &[u8],
    start: usize,
    o: &mut Vec<u8>,
    space: &mut bool,
    lists: &OrdinalLists,
) -> usize {
    let i = skip_number(b, start);
    if LISTS && lists.is_ordinal(o, &b[start..i], &b[i..]) {
        emit(o, space, &b[start..i]);
    } else {
        emit(o, space, b"0");
        collapse_in_list(o);
    }
    i
}

/// Byte classes: the low bits say which token a byte starts.
const KIND: u8 = 0x0f;
const OTHER: u8 = 0;
const SPACE: u8 = 1;
/// A letter, `_` or a byte of a non-ASCII character.
const WORD: u8 = 2;
const DIGIT: u8 = 3;
const DOT: u8 = 4;
const DASH: u8 = 5;
const SLASH: u8 = 6;
const QUOTE: u8 = 7;
const DQUOTE: u8 = 8;
const DOLLAR: u8 = 9;
/// Flag: a letter, digit, `_` or non-ASCII byte, as in identifiers.
const IDENT: u8 = 0x10;
/// Flag: continues a word (`IDENT` or `$`).
const CONTINUES_WORD: u8 = 0x20;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            WORD | IDENT | CONTINUES_WORD
        } else if b.is_ascii_digit() {
            DIGIT | IDENT | CONTINUES_WORD
        } else {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => SPACE,
                b'.' => DOT,
                b'-' => DASH,
                b'/' => SLASH,
                b'\'' => QUOTE,
                b'"' => DQUOTE,
                b'$' => DOLLAR | CONTINUES_WORD,
                _ => OTHER,
            }
        };
        c += 1;
    }
    t
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

#[inline(always)]
fn emit(o: &mut Vec<u8>, space: &mut bool, bytes: &[u8]) {
    if *space && !o.is_empty() {
        o.push(b' ');
    }
    *space = false;
    o.extend_from_slice(bytes);
}

/// [`emit`] of `b[start..end]`; a short run is copied as a fixed 16 bytes
/// and the excess cut, which beats a call of `memcpy`.
#[inline(always)]
fn emit_run(o: &mut Vec<u8>, space: &mut bool, b: &[u8], start: usize, end: usize) {
    const CHUNK: usize = 16;
    match b.get(start..start + CHUNK) {
        Some(chunk) if end - start <= CHUNK => {
            emit(o, space, chunk);
            o.truncate(o.len() - (CHUNK - (end - start)));
        }
        _ => emit(o, space, &b[start..end]),
    }
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
    loop {
        let next = if escapes {
            memchr::memchr2(b'\'', b'\\', &b[i..])
        } else {
            memchr::memchr(b'\'', &b[i..])
        };
        let Some(j) = next else { return b.len() };
        i += j;
        match b[i] {
            b'\\' => i += 2,
            _ if b.get(i + 1) == Some(&b'\'') => i += 2,
            _ => return i + 1,
        }
        if i >= b.len() {
            return b.len();
        }
    }
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

pub(super) fn is_ident(c: u8) -> bool {
    CLASS[c as usize] & IDENT != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use pglog_logparse::{Classifier, EventKind, Item, ReaderBuilder};
    use std::hash::{BuildHasher, Hasher};
    use std::path::PathBuf;

    /// The lexed text and spill of `sql` by the general path: bracket and
    /// keyword tracking and spill checks on, no run copying.
    fn general(sql: &str) -> (Vec<u8>, u64, usize) {
        let mut spill = Spill {
            hasher: foldhash::fast::FixedState::with_seed(1).build_hasher(),
            bytes: 0,
        };
        let mut o = Vec::new();
        lex_tokens::<true, true>(sql, &mut o, Some(&mut spill));
        (o, spill.hasher.finish(), spill.bytes)
    }

    fn fast(sql: &str) -> (Vec<u8>, u64, usize) {
        let mut spill = Spill {
            hasher: foldhash::fast::FixedState::with_seed(1).build_hasher(),
            bytes: 0,
        };
        let mut o = Vec::new();
        lex(sql, &mut o, Some(&mut spill));
        (o, spill.hasher.finish(), spill.bytes)
    }

    /// Statement texts of the sample logs' csvlogs.
    fn sample_statements() -> Vec<String> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
        let mut out = Vec::new();
        for dir in ["primary", "replica", "rds", "concurrent"] {
            let file = std::fs::File::open(root.join(dir).join("postgresql.csv")).unwrap();
            let mut reader = ReaderBuilder::new().build(Box::new(file)).unwrap();
            let mut classifier = Classifier::new();
            while let Some(item) = reader.next_item().unwrap() {
                if let Item::Record(r) = item {
                    let e = classifier.classify(r);
                    out.extend(e.record.statement.clone());
                    if let EventKind::Query(s) = e.kind {
                        out.extend(s.text);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn fast_paths_lex_the_sample_statements_as_the_general_path() {
        let stmts = sample_statements();
        assert!(stmts.len() > 1000, "{} statements", stmts.len());
        let mut with_by = 0;
        for sql in &stmts {
            with_by += usize::from(may_have_by(sql.as_bytes()));
            assert_eq!(fast(sql), general(sql), "{sql}");
        }
        // Both the plain and the list-tracking path were taken.
        assert!(with_by > 0 && with_by < stmts.len(), "{with_by}");
    }

    /// Texts made of the bytes where the simple path and the token path
    /// could part ways (numbers next to words, `$n`, dots, dashes, slashes,
    /// single and double spaces, quotes), lexed both ways.
    #[test]
    fn the_simple_path_lexes_as_the_token_path() {
        const PIECES: &[&str] = &[
            "a", "x2", "_", "é", "1", "07", "0x1F", "1.5", ".5", "e", "1e5", "$", "$1", "$12", " ",
            "  ", "\t", "\n", ".", "-", "--", "/", "/*", "*/", "*", "(", ")", ",", ";", "=", "'",
            "''", "\"", "in", "IN", "by", "]", "[", "+", "#", "&", "\x0b", "\r",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut simple = 0;
        for _ in 0..200_000 {
            let len = (next() % 12) as usize;
            let sql: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let mut o = Vec::new();
            if lex_simple(&sql, &mut o) {
                simple += 1;
                let mut t = Vec::new();
                lex_tokens::<false, false>(&sql, &mut t, None);
                assert_eq!(
                    String::from_utf8_lossy(&o),
                    String::from_utf8_lossy(&t),
                    "{sql:?}"
                );
            }
            assert_eq!(fast(&sql), general(&sql), "{sql:?}");
        }
        assert!(simple > 10_000, "{simple} texts took the simple path");
    }

    #[test]
    fn runs_keep_spaces_comments_and_prefixes_as_tokens_do() {
        for sql in [
            "SELECT a  ,b\t\n FROM t /* c */ WHERE x = E 'q' AND y=$1",
            "select \"A b\"  x, $$ $tag$ ;; ;",
            "  a -- c\n.b(c)[1] U&'x' e'\\'' 1.5e3 t1.c2",
            "f(x)1abc$ $2x u& 'z' --",
        ] {
            assert_eq!(fast(sql), general(sql), "{sql}");
        }
    }
}
