//! jsonlog lines in the server's own shape, read without a general JSON parser.
//!
//! jsonlog.c (PostgreSQL 15 on) writes one object per line: known keys in
//! a fixed order, each at most once, no whitespace, numbers as plain
//! integers, strings escaped by `escape_json` (`\"`, `\\`, `\b`, `\f`,
//! `\n`, `\r`, `\t`, `\u00XX`). [`scan`] reads exactly that shape and gives
//! up on anything else (an unknown key, another order, whitespace, a value
//! of another type, a number out of range, a surrogate escape): serde_json
//! then reads the line, so every input gives the same entry either way.

use super::json_entry::JsonEntry;
use super::word_bytes::{bits_of, first, word_at};
use std::borrow::Cow;

/// The keys jsonlog writes, in the order it writes them.
const KEYS: [&[u8]; 29] = [
    b"timestamp",
    b"user",
    b"dbname",
    b"pid",
    b"remote_host",
    b"remote_port",
    b"session_id",
    b"line_num",
    b"ps",
    b"session_start",
    b"vxid",
    b"txid",
    b"error_severity",
    b"state_code",
    b"message",
    b"detail",
    b"hint",
    b"internal_query",
    b"internal_position",
    b"context",
    b"statement",
    b"cursor_position",
    b"func_name",
    b"file_name",
    b"file_line_num",
    b"application_name",
    b"backend_type",
    b"leader_pid",
    b"query_id",
];

const ERROR_SEVERITY: usize = 12;
const MESSAGE: usize = 14;

/// The entry of a line written the way the server writes it; `None` for
/// any other line, valid JSON or not.
pub(super) fn scan(line: &str) -> Option<JsonEntry<'_>> {
    let mut e = JsonEntry::default();
    scan_into(line, &mut e).then_some(e)
}

/// [`scan`] into `e`, an empty entry (`JsonEntry::default()`): true when
/// the line has the server's shape, else `e` is in any state. An entry is
/// about 550 bytes, which returning it would copy on every line.
pub(super) fn scan_into<'a>(line: &'a str, e: &mut JsonEntry<'a>) -> bool {
    scan_fields(line, e).is_some()
}

fn scan_fields<'a>(line: &'a str, e: &mut JsonEntry<'a>) -> Option<()> {
    let b = line.as_bytes();
    // serde_json refuses control characters in strings; outside them only
    // whitespace may appear, which the server does not write.
    if b.first() != Some(&b'{') || has_control(b) {
        return None;
    }
    let mut at = 1;
    let mut next_key = 0;
    let mut required = 0;
    loop {
        let (key, value_at) = key(b, at, next_key)?;
        at = value(line, value_at, key, e)?;
        if key == ERROR_SEVERITY || key == MESSAGE {
            required += 1;
        }
        next_key = key + 1;
        match b.get(at) {
            Some(b',') => at += 1,
            Some(b'}') if at + 1 == b.len() => break,
            _ => return None,
        }
    }
    (required == 2).then_some(())
}

fn has_control(b: &[u8]) -> bool {
    // A fold, not `any`: it vectorizes.
    b.iter().fold(false, |seen, &c| seen | (c < 0x20))
}

/// The key at `at` (`"name":`), one of those after the last one read, and
/// where its value starts. Order makes a duplicate a deviation too.
fn key(b: &[u8], at: usize, next_key: usize) -> Option<(usize, usize)> {
    let rest = b.get(at..)?.strip_prefix(b"\"")?;
    // A name is tried by the `":` after it before its bytes are compared.
    let (i, k) = KEYS.iter().enumerate().skip(next_key).find(|(_, k)| {
        rest.get(k.len()) == Some(&b'"')
            && rest.get(k.len() + 1) == Some(&b':')
            && same_name(k, &rest[..k.len()])
    })?;
    Some((i, at + 1 + k.len() + 2))
}

/// `a == b` for two names of the same length, in two (overlapping) word
/// loads each instead of a call to `memcmp`.
#[inline(always)]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let u32_at = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    match n {
        8..=16 => word_at(a, 0) == word_at(b, 0) && word_at(a, n - 8) == word_at(b, n - 8),
        4..=7 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        _ => a.iter().zip(b).all(|(x, y)| x == y),
    }
}

/// Reads the value of `key` at `at` into `e`; where the value ends.
fn value<'a>(line: &'a str, at: usize, key: usize, e: &mut JsonEntry<'a>) -> Option<usize> {
    let b = line.as_bytes();
    let text = |e_field: &mut Option<Cow<'a, str>>| {
        let (s, end) = string(line, at)?;
        *e_field = Some(s);
        Some(end)
    };
    let small = |e_field: &mut Option<u32>| {
        let (n, end) = unsigned(b, at)?;
        *e_field = Some(u32::try_from(n).ok()?);
        Some(end)
    };
    let large = |e_field: &mut Option<u64>| {
        let (n, end) = unsigned(b, at)?;
        *e_field = Some(n);
        Some(end)
    };
    match key {
        0 => text(&mut e.timestamp),
        1 => text(&mut e.user),
        2 => text(&mut e.dbname),
        3 => small(&mut e.pid),
        4 => text(&mut e.remote_host),
        5 => small(&mut e.remote_port),
        6 => text(&mut e.session_id),
        7 => large(&mut e.line_num),
        8 => text(&mut e.ps),
        // session_start, internal_position, cursor_position: read, not kept.
        9 => string(line, at).map(|(_, end)| end),
        18 | 21 => unsigned(b, at).map(|(_, end)| end),
        10 => text(&mut e.vxid),
        11 => large(&mut e.txid),
        ERROR_SEVERITY => {
            let (s, end) = string(line, at)?;
            e.error_severity = s;
            Some(end)
        }
        13 => text(&mut e.state_code),
        MESSAGE => {
            let (s, end) = string(line, at)?;
            e.message = s;
            Some(end)
        }
        15 => text(&mut e.detail),
        16 => text(&mut e.hint),
        17 => text(&mut e.internal_query),
        19 => text(&mut e.context),
        20 => text(&mut e.statement),
        22 => text(&mut e.func_name),
        23 => text(&mut e.file_name),
        24 => small(&mut e.file_line_num),
        25 => text(&mut e.application_name),
        26 => text(&mut e.backend_type),
        27 => small(&mut e.leader_pid),
        _ => {
            let (n, end) = signed(b, at)?;
            e.query_id = Some(n);
            Some(end)
        }
    }
}

/// A string at `at`: borrowed from the line unless it has an escape.
fn string(line: &str, at: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let i = start + find_quote_or_escape(&b[start..])?;
    if b[i] == b'"' {
        return Some((Cow::Borrowed(&line[start..i]), i + 1));
    }
    let (s, end) = unescape(line, start, i)?;
    Some((Cow::Owned(s), end))
}

/// The first `"` or `\` in `s`. Most strings are short (names, times,
/// tags), so up to four words are tested before paying memchr2's setup.
fn find_quote_or_escape(s: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < 32 {
        let Some(w) = word_at(s, at) else { break };
        match bits_of(w, b'"') | bits_of(w, b'\\') {
            0 => at += 8,
            bits => return Some(at + first(bits)),
        }
    }
    memchr::memchr2(b'"', b'\\', &s[at..]).map(|j| at + j)
}

/// The string from `start`, whose first escape is at `first`, unescaped;
/// and where it ends.
fn unescape(line: &str, start: usize, first: usize) -> Option<(String, usize)> {
    let b = line.as_bytes();
    let mut out = String::with_capacity(first - start + 16);
    out.push_str(&line[start..first]);
    let mut i = first;
    loop {
        // b[i] is a backslash.
        let c = match *b.get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = std::str::from_utf8(b.get(i + 2..i + 6)?).ok()?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                // A surrogate (a pair, or a lone one serde_json refuses) is
                // left to serde_json.
                let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                i += 4;
                c
            }
            _ => return None,
        };
        out.push(c);
        let from = i + 2;
        let j = from + memchr::memchr2(b'"', b'\\', &b[from..])?;
        out.push_str(&line[from..j]);
        if b[j] == b'"' {
            return Some((out, j + 1));
        }
        i = j;
    }
}

/// Digits at `at` as serde_json reads them (no leading zero, no sign), if
/// they fit a u64; and where they end.
fn unsigned(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let digits = b.get(at..)?;
    let len = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if len == 0 || (len > 1 && digits[0] == b'0') {
        return None;
    }
    let mut n: u64 = 0;
    for &d in &digits[..len] {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((n, at + len))
}

/// A query id: digits with an optional minus, if they fit an i64 the way
/// serde_json reads them (it reads `-0` as a float).
fn signed(b: &[u8], at: usize) -> Option<(i64, usize)> {
    if b.get(at) != Some(&b'-') {
        let (n, end) = unsigned(b, at)?;
        return Some((i64::try_from(n).ok()?, end));
    }
    let (n, end) = unsigned(b, at + 1)?;
    if n == 0 || n > 1 << 63 {
        return None;
    }
    Some(((n as i64).wrapping_neg(), end))
}

#[cfg(test)]
mod tests {
    use super::{find_quote_or_escape, key, same_name, KEYS};

    #[test]
    fn same_name_is_byte_equality() {
        for a in KEYS {
            for b in KEYS.iter().filter(|b| b.len() == a.len()) {
                assert_eq!(same_name(a, b), a == *b);
            }
            for at in 0..a.len() {
                let mut changed = a.to_vec();
                changed[at] ^= 0x20;
                assert!(!same_name(a, &changed), "{changed:?}");
            }
        }
    }

    #[test]
    fn each_key_is_found_after_those_before_it_only() {
        for (i, k) in KEYS.iter().enumerate() {
            let line = [b"{\"".as_slice(), k, b"\":1}"].concat();
            for next in 0..=KEYS.len() {
                let want = (next <= i).then_some((i, 1 + 1 + k.len() + 2));
                assert_eq!(key(&line, 1, next), want, "{}", String::from_utf8_lossy(k));
            }
            let unclosed = [b"{\"".as_slice(), k, b"\"x1}"].concat();
            assert_eq!(key(&unclosed, 1, 0), None);
        }
    }

    #[test]
    fn find_quote_or_escape_finds_what_memchr2_finds() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../sample-logs/primary/postgresql.json");
        let bytes = std::fs::read(path).unwrap();
        for start in (0..bytes.len()).step_by(3) {
            for len in [0, 5, 8, 9, 17, 31, 32, 33, 40, 200] {
                let s = &bytes[start..(start + len).min(bytes.len())];
                assert_eq!(find_quote_or_escape(s), memchr::memchr2(b'"', b'\\', s));
            }
        }
    }
}
