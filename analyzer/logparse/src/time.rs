//! Timestamps as PostgreSQL writes them: `%t`/`%m` (`2026-11-23 10:00:00.123 UTC`),
//! `%n` (epoch seconds) and the ISO form used by syslog daemons.

mod cache;

pub use cache::TimeCache;
use serde::Serialize;

/// A log timestamp, kept as milliseconds since the Unix epoch in UTC.
/// `zone_known` is false when the zone abbreviation was not recognised and
/// the wall-clock time was taken as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LogTime {
    pub epoch_ms: i64,
    pub zone_known: bool,
    /// The zone's offset from UTC in minutes, when the log wrote a zone
    /// (reports show times in the log's own zone).
    pub offset_min: Option<i16>,
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff] ZONE` and returns the time and the
/// number of bytes consumed. The zone is the run of non-space bytes after
/// the seconds (`UTC`, `CET`, `+03`, `-0530`).
pub fn parse_pg_timestamp(s: &[u8]) -> Option<(LogTime, usize)> {
    let (local_ms, pos) = parse_wall_clock(s, b' ')?;
    pg_zone_after(s, local_ms, pos, zone_offset_minutes)
}

/// Reads the ` ZONE` after the wall clock that ends at `pos`; `offset_of`
/// gives a zone's offset (see [`zone_offset_minutes`]).
fn pg_zone_after(
    s: &[u8],
    local_ms: i64,
    mut pos: usize,
    offset_of: impl FnOnce(&[u8]) -> Option<i64>,
) -> Option<(LogTime, usize)> {
    if s.get(pos) != Some(&b' ') {
        return None;
    }
    pos += 1;
    let zone_start = pos;
    // Abbreviations (`UTC`, `CEST`) or numeric (`+03`, `-0530`); never a
    // colon or comma, which prefixes and csv use as separators, nor a sign
    // after a name (`%t-%c-` writes `UTC-6b0ed932.76c3-`).
    if matches!(s.get(pos), Some(b'+' | b'-')) {
        pos += 1;
        while s.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
    } else {
        while pos < s.len() && (s[pos].is_ascii_alphanumeric() || matches!(s[pos], b'_' | b'/')) {
            pos += 1;
        }
    }
    let zone = &s[zone_start..pos];
    if zone.is_empty() {
        return None;
    }
    Some((zoned(local_ms, offset_of(zone)), pos))
}

/// The time of a wall clock in a zone of `offset` minutes (`None`: a zone
/// not known, taken as UTC).
fn zoned(local_ms: i64, offset: Option<i64>) -> LogTime {
    let (offset_min, known) = match offset {
        Some(o) => (o, true),
        None => (0, false),
    };
    LogTime {
        epoch_ms: local_ms - offset_min * 60_000,
        zone_known: known,
        offset_min: known.then_some(offset_min as i16),
    }
}

/// Parses `%n`: seconds since the epoch with a fractional part.
pub fn parse_epoch(s: &[u8]) -> Option<(LogTime, usize)> {
    let (secs, mut pos) = parse_uint(s)?;
    // A number too large for a time is not one (found by fuzz/read_syslog).
    let mut ms = i64::try_from(secs).ok()?.checked_mul(1000)?;
    if s.get(pos) == Some(&b'.') {
        pos += 1;
        let (frac_ms, n) = parse_fraction_ms(&s[pos..]);
        if n == 0 {
            return None;
        }
        ms = ms.checked_add(frac_ms)?;
        pos += n;
    }
    Some((
        LogTime {
            epoch_ms: ms,
            zone_known: true,
            offset_min: None,
        },
        pos,
    ))
}

/// Parses the RFC 3339 form `2026-11-23T10:00:00.123456+00:00` (or `Z`, or `+0000`).
pub fn parse_iso_timestamp(s: &[u8]) -> Option<(LogTime, usize)> {
    let (local_ms, mut pos) = parse_wall_clock(s, b'T')?;
    let offset = match s.get(pos)? {
        b'Z' => {
            pos += 1;
            0
        }
        b'+' | b'-' => {
            let sign = if s[pos] == b'-' { -1 } else { 1 };
            let h = two_digits(s, pos + 1)?;
            // `+00:00`, or `+0000` as journalctl's short-iso writes it.
            let colon = usize::from(s.get(pos + 3) == Some(&b':'));
            let m = two_digits(s, pos + 3 + colon)?;
            pos += 5 + colon;
            sign * (h * 60 + m)
        }
        _ => return None,
    };
    Some((
        LogTime {
            epoch_ms: local_ms - offset * 60_000,
            zone_known: true,
            offset_min: Some(offset as i16),
        },
        pos,
    ))
}

/// `YYYY-MM-DD<sep>HH:MM:SS[.fff]` as milliseconds since the epoch, read as UTC.
pub fn parse_wall_clock(s: &[u8], sep: u8) -> Option<(i64, usize)> {
    let second_ms = parse_second(s, sep)?;
    let (frac_ms, pos) = fraction_after_second(s)?;
    Some((second_ms + frac_ms, pos))
}

/// `YYYY-MM-DD<sep>HH:MM:SS` (the first 19 bytes of `s`) as milliseconds
/// since the epoch, read as UTC.
fn parse_second(s: &[u8], sep: u8) -> Option<i64> {
    if s.len() < 19
        || s[4] != b'-'
        || s[7] != b'-'
        || s[10] != sep
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let year = two_digits(s, 0)? * 100 + two_digits(s, 2)?;
    let month = two_digits(s, 5)?;
    let day = two_digits(s, 8)?;
    let hour = two_digits(s, 11)?;
    let min = two_digits(s, 14)?;
    let sec = two_digits(s, 17)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000)
}

/// The optional `.fff` after the 19 bytes of a second: its milliseconds
/// and where the wall clock ends.
fn fraction_after_second(s: &[u8]) -> Option<(i64, usize)> {
    if s.get(19) != Some(&b'.') {
        return Some((0, 19));
    }
    let (ms, n) = parse_fraction_ms(&s[20..]);
    if n == 0 {
        return None;
    }
    Some((ms, 20 + n))
}

fn parse_fraction_ms(s: &[u8]) -> (i64, usize) {
    let mut n = 0;
    let mut ms = 0i64;
    while n < s.len() && s[n].is_ascii_digit() {
        if n < 3 {
            ms = ms * 10 + (s[n] - b'0') as i64;
        }
        n += 1;
    }
    for _ in n..3 {
        ms *= 10;
    }
    (ms, n)
}

fn parse_uint(s: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0;
    let mut v: u64 = 0;
    while n < s.len() && s[n].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[n] - b'0') as u64)?;
        n += 1;
    }
    (n > 0).then_some((v, n))
}

fn two_digits(s: &[u8], at: usize) -> Option<i64> {
    let a = *s.get(at)?;
    let b = *s.get(at + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(((a - b'0') * 10 + (b - b'0')) as i64)
    } else {
        None
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// UTC offset of a zone abbreviation as PostgreSQL prints it with `%Z`:
/// a name such as `UTC` or `CEST`, or a numeric `+03`, `-0530`, `+05:30`.
pub fn zone_offset_minutes(zone: &[u8]) -> Option<i64> {
    if let Some(&sign @ (b'+' | b'-')) = zone.first() {
        let digits: Vec<u8> = zone[1..].iter().copied().filter(|c| *c != b':').collect();
        if digits.is_empty() || digits.len() > 4 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let h = two_digits(&digits, 0)
            .or_else(|| (digits.len() == 1).then(|| (digits[0] - b'0') as i64))?;
        let m = if digits.len() == 4 {
            two_digits(&digits, 2)?
        } else {
            0
        };
        let off = h * 60 + m;
        return Some(if sign == b'-' { -off } else { off });
    }
    let hours: f64 = match zone {
        b"UTC" | b"GMT" | b"UCT" | b"Z" | b"WET" => 0.0,
        b"BST" | b"CET" | b"WEST" | b"MET" => 1.0,
        b"CEST" | b"EET" | b"MEST" | b"SAST" => 2.0,
        b"EEST" | b"MSK" => 3.0,
        b"IST" => 5.5,
        b"SGT" | b"HKT" | b"AWST" => 8.0,
        b"JST" | b"KST" => 9.0,
        b"AEST" => 10.0,
        b"AEDT" => 11.0,
        b"NZST" => 12.0,
        b"NZDT" => 13.0,
        b"AST" | b"EDT" => -4.0,
        b"EST" | b"CDT" => -5.0,
        b"CST" | b"MDT" => -6.0,
        b"MST" | b"PDT" => -7.0,
        b"PST" | b"AKDT" => -8.0,
        b"AKST" => -9.0,
        b"HST" => -10.0,
        _ => return None,
    };
    Some((hours * 60.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_too_large_for_a_time_is_not_one() {
        assert_eq!(
            parse_epoch(b"1795428000.123 x").unwrap().0.epoch_ms,
            1_795_428_000_123
        );
        assert!(parse_epoch(b"9223372036854776 x").is_none());
        assert!(parse_epoch(b"9223372036854775.999 x").is_none());
        assert!(parse_epoch(b"18446744073709551615 x").is_none());
    }

    #[test]
    fn the_cache_answers_as_a_parse_does() {
        // Every row start of a real csvlog, then each cut short, so seconds
        // repeat, change and fail in the order a log has them.
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/primary");
        let log = std::fs::read(dir.join("postgresql.csv")).unwrap();
        let mut cache = TimeCache::new();
        let mut hits = 0;
        for line in log.split(|&c| c == b'\n') {
            for cut in [line.len(), 29, 24, 23, 20, 19, 18] {
                let s = &line[..cut.min(line.len())];
                let want = parse_pg_timestamp(s);
                hits += usize::from(want.is_some());
                assert_eq!(
                    cache.parse_pg_timestamp(s),
                    want,
                    "{}",
                    String::from_utf8_lossy(s)
                );
            }
        }
        assert!(hits > 1000, "the log's timestamps were read");
    }

    #[test]
    fn parses_pg_forms() {
        let (t, n) = parse_pg_timestamp(b"2026-11-23 10:00:00.123 UTC [1]").unwrap();
        assert_eq!(n, 27);
        assert_eq!(t.epoch_ms, 1_795_428_000_123);
        let (t2, _) = parse_pg_timestamp(b"2026-11-23 12:00:00 +02 x").unwrap();
        assert_eq!(t2.epoch_ms, 1_795_428_000_000);
        let (t3, _) = parse_iso_timestamp(b"2026-11-23T10:00:00.123456+00:00 host").unwrap();
        assert_eq!(t3.epoch_ms, 1_795_428_000_123);
        // journalctl's short-iso writes the offset without a colon.
        let (t4, n4) = parse_iso_timestamp(b"2026-11-23T12:00:00+0200 host").unwrap();
        assert_eq!((t4.epoch_ms, n4), (1_795_428_000_000, 24));
        assert!(parse_pg_timestamp(b"2026-13-23 10:00:00 UTC").is_none());
        let (_, n) = parse_pg_timestamp(b"2026-11-23 10:00:00 UTC-6b0ed932.76c3-LOG:").unwrap();
        assert_eq!(n, 23, "a zone name ends before a sign");
    }
}
