//! Consecutive lines of a log mostly share their second and their zone:
//! the last second and zone read are kept, so that a repeated
//! `YYYY-MM-DD HH:MM:SS` costs one comparison instead of a date
//! computation.

use super::{
    fraction_after_second, parse_second, pg_zone_after, zone_offset_minutes, zoned, LogTime,
};

/// `.fff` as `%m` writes it (exactly three digits after the second): its
/// milliseconds; `None` for any other form.
#[inline]
fn millis_after_second(s: &[u8]) -> Option<i64> {
    let [b'.', a, b, c] = *s.get(19..23)? else {
        return None;
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit())
        || s.get(23).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    Some(i64::from(a - b'0') * 100 + i64::from(b - b'0') * 10 + i64::from(c - b'0'))
}

/// The longest zone remembered (`America/Argentina/Buenos_Aires` is read
/// afresh every time; abbreviations and numeric offsets fit).
const ZONE_BYTES: usize = 8;

/// Remembers the last second and zone that [`TimeCache::parse_pg_timestamp`] read.
#[derive(Debug, Clone, Default)]
pub struct TimeCache {
    second_text: [u8; 19],
    /// The second of `second_text` in ms since the epoch (UTC wall clock);
    /// `None` until a valid one was read.
    second_ms: Option<i64>,
    zone_text: [u8; ZONE_BYTES],
    zone_len: usize,
    zone_offset: Option<Option<i64>>,
}

impl TimeCache {
    pub fn new() -> TimeCache {
        TimeCache::default()
    }

    /// The same as [`super::parse_pg_timestamp`], with the second and the
    /// zone of the previous call reused when their text repeats.
    pub fn parse_pg_timestamp(&mut self, s: &[u8]) -> Option<(LogTime, usize)> {
        let second_ms = self.second(s.get(..19)?.try_into().ok()?)?;
        let (frac_ms, pos) = match millis_after_second(s) {
            Some(ms) => (ms, 23),
            None => fraction_after_second(s)?,
        };
        if let Some(hit) = self.repeated_zone(s, second_ms + frac_ms, pos) {
            return Some(hit);
        }
        pg_zone_after(s, second_ms + frac_ms, pos, |zone| self.zone_offset(zone))
    }

    /// The time when ` ZONE` at `pos` is the zone of the previous call:
    /// its bytes, then one that cannot continue it.
    #[inline]
    fn repeated_zone(&self, s: &[u8], local_ms: i64, pos: usize) -> Option<(LogTime, usize)> {
        let offset = self.zone_offset?;
        let zone = &self.zone_text[..self.zone_len];
        let end = pos + 1 + zone.len();
        // Zones are a few bytes: a loop, not a `memcmp` call.
        let text = s.get(pos + 1..end)?;
        if zone.is_empty() || s[pos] != b' ' || !text.iter().zip(zone).all(|(a, b)| a == b) {
            return None;
        }
        let numeric = matches!(zone[0], b'+' | b'-');
        let continues = |c: u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/')
            }
        };
        if s.get(end).is_some_and(|&c| continues(c)) {
            return None;
        }
        Some((zoned(local_ms, offset), end))
    }

    fn second(&mut self, text: &[u8; 19]) -> Option<i64> {
        match self.second_ms {
            Some(ms) if same_19(text, &self.second_text) => Some(ms),
            _ => {
                let ms = parse_second(text, b' ')?;
                self.second_text = *text;
                self.second_ms = Some(ms);
                Some(ms)
            }
        }
    }

    fn zone_offset(&mut self, zone: &[u8]) -> Option<i64> {
        if let Some(offset) = self.zone_offset {
            if zone.len() == self.zone_len && zone.iter().zip(&self.zone_text).all(|(a, b)| a == b)
            {
                return offset;
            }
        }
        let offset = zone_offset_minutes(zone);
        if zone.len() <= ZONE_BYTES {
            self.zone_text[..zone.len()].copy_from_slice(zone);
            self.zone_len = zone.len();
            self.zone_offset = Some(offset);
        }
        offset
    }
}

/// `a == b` in three word loads each (the last two overlap): the array
/// comparison is a `bcmp` call, which costs several times more on every
/// line of a log.
#[inline]
fn same_19(a: &[u8; 19], b: &[u8; 19]) -> bool {
    let word =
        |s: &[u8; 19], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, 11) == word(b, 11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_pg_timestamp;

    #[test]
    fn same_as_uncached_on_repeats_and_changes() {
        let lines: [&[u8]; 9] = [
            b"2026-11-23 10:00:00.123 UTC [1]",
            b"2026-11-23 10:00:00.456 UTC [1]",
            b"2026-11-23 10:00:00 UTC [1]",
            b"2026-11-23 10:00:00. UTC",
            b"2026-11-23 10:00:01.001 CET x",
            b"2026-11-23 10:00:01.001 +0530 x",
            b"2026-11-23 10:00:01.001 Europe/Berlin x",
            b"2026-13-23 10:00:00 UTC",
            b"2026-11-23 10:00:00 UTC-6b0ed932.76c3-LOG:",
        ];
        let mut cache = TimeCache::new();
        for round in 0..2 {
            for l in lines {
                assert_eq!(
                    cache.parse_pg_timestamp(l),
                    parse_pg_timestamp(l),
                    "round {round}: {}",
                    String::from_utf8_lossy(l)
                );
            }
        }
    }

    #[test]
    fn a_repeated_zone_is_one_only_when_it_ends_there() {
        // Each line after the first repeats the previous zone's bytes, so
        // the repeat check answers unless what follows lengthens the zone.
        let lines: [&[u8]; 12] = [
            b"2026-11-23 10:00:00.123 UTC [1]",
            b"2026-11-23 10:00:00.124 UTCX [1]",
            b"2026-11-23 10:00:00.125 UTC",
            b"2026-11-23 10:00:00.126 UTC_a",
            b"2026-11-23 10:00:00.1267 UTC:",
            b"2026-11-23 10:00:00.12 UTC/x",
            b"2026-11-23 10:00:00 UTC-6b0ed932.76c3-LOG:",
            b"2026-11-23 10:00:00.127 +05 x",
            b"2026-11-23 10:00:00.128 +0530 x",
            b"2026-11-23 10:00:00.129 +053 x",
            b"2026-11-23 10:00:00.130 +05",
            b"2026-11-23 10:00:00.131 +05a",
        ];
        let mut cache = TimeCache::new();
        for l in lines {
            assert_eq!(
                cache.parse_pg_timestamp(l),
                parse_pg_timestamp(l),
                "{}",
                String::from_utf8_lossy(l)
            );
        }
    }
}
