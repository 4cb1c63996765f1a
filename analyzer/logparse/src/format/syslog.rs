//! Lines written by a syslog daemon for PostgreSQL's `log_destination=syslog`:
//! `Nov 23 10:00:00 host postgres[123]: [5-1] <log_line_prefix>LOG:  ...`
//! (traditional) or `2026-11-23T10:00:00.123456+00:00 host postgres[123]: ...`
//! (RFC 3339). Multi-line messages arrive as chunks `[5-2]`, `[5-3]` of the
//! same sequence number; the daemon escapes the tab that starts a
//! continuation line as `#011`.

use crate::time::{parse_iso_timestamp, LogTime};

/// The part of a syslog line after the daemon's header.
#[derive(Debug, PartialEq)]
pub struct SyslogLine<'a> {
    pub time: Option<LogTime>,
    /// The program name before `[pid]` (`postgres`).
    pub ident: &'a [u8],
    pub pid: u32,
    /// `(sequence, chunk)` from `[N-M]`, when `syslog_sequence_numbers` is on.
    pub seq: Option<(u64, u32)>,
    pub content: &'a [u8],
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Whether a line looks like a syslog file line (used to sniff the format).
pub fn looks_like_syslog(line: &[u8]) -> bool {
    parse_header(line, 2026).is_some()
}

/// Splits a syslog line. `year` fills in the year the traditional format omits.
pub fn parse_header(line: &[u8], year: i64) -> Option<SyslogLine<'_>> {
    let (time, mut pos) = if let Some((t, n)) = parse_iso_timestamp(line) {
        (Some(t), n)
    } else {
        parse_traditional_time(line, year)?
    };
    // " hostname "
    if line.get(pos) != Some(&b' ') {
        return None;
    }
    pos += 1;
    let host_len = memchr::memchr(b' ', &line[pos..])?;
    if host_len == 0 {
        return None;
    }
    pos += host_len + 1;
    // "ident[pid]: "
    let rest = &line[pos..];
    let colon = memchr::memmem::find(rest, b"]: ")?;
    let open = memchr::memrchr(b'[', &rest[..colon])?;
    let pid: u32 = std::str::from_utf8(&rest[open + 1..colon])
        .ok()?
        .parse()
        .ok()?;
    let (seq, content) = split_sequence(&rest[colon + 3..]);
    Some(SyslogLine {
        time,
        ident: &rest[..open],
        pid,
        seq,
        content,
    })
}

/// Splits off the `[N-M] ` sequence and chunk numbers that PostgreSQL puts
/// before each syslog chunk (`syslog_sequence_numbers`; Heroku's logplex
/// and journald pass them on too).
pub fn split_sequence(content: &[u8]) -> (Option<(u64, u32)>, &[u8]) {
    if content.first() == Some(&b'[') {
        if let Some(end) = memchr::memchr(b']', content) {
            let inner = &content[1..end];
            if let Some(dash) = memchr::memchr(b'-', inner) {
                let n = std::str::from_utf8(&inner[..dash])
                    .ok()
                    .and_then(|s| s.parse().ok());
                let m = std::str::from_utf8(&inner[dash + 1..])
                    .ok()
                    .and_then(|s| s.parse().ok());
                if let (Some(n), Some(m)) = (n, m) {
                    let rest = &content[end + 1..];
                    return (Some((n, m)), rest.strip_prefix(b" ").unwrap_or(rest));
                }
            }
        }
    }
    (None, content)
}

fn parse_traditional_time(line: &[u8], year: i64) -> Option<(Option<LogTime>, usize)> {
    if line.len() < 15 || line[3] != b' ' || line[6] != b' ' || line[9] != b':' || line[12] != b':'
    {
        return None;
    }
    let month = MONTHS.iter().position(|m| &line[..3] == *m)? as i64 + 1;
    let day_txt = std::str::from_utf8(&line[4..6]).ok()?.trim();
    let day: i64 = day_txt.parse().ok()?;
    let clock = std::str::from_utf8(&line[7..15]).ok()?;
    let iso = format!("{year:04}-{month:02}-{day:02}T{clock}Z");
    let (t, _) = parse_iso_timestamp(iso.as_bytes())?;
    Some((Some(t), 15))
}

/// Undoes the daemon's `#ooo` escaping of control characters (`#011` is a tab).
pub fn unescape(content: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(b'#', content).is_none() {
        return std::borrow::Cow::Borrowed(content);
    }
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while i < content.len() {
        if content[i] == b'#'
            && i + 3 < content.len()
            && content[i + 1..i + 4]
                .iter()
                .all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (content[i + 1] - b'0') as u32 * 64
                + (content[i + 2] - b'0') as u32 * 8
                + (content[i + 3] - b'0') as u32;
            if v < 0x20 || v == 0x7f {
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(content[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}
