//! Consecutive lines of a log mostly share their second and their zone:
//! the last second and zone read are kept, so that a repeated
//! `YYYY-MM-DD HH:MM:SS` costs one comparison instead of a date
//! computation.

use super::{fraction_after_second, parse_second, pg_zone_after, zone_offset_minutes, LogTime};

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
        let (frac_ms, pos) = fraction_after_second(s)?;
        pg_zone_after(s, second_ms + frac_ms, pos, |zone| self.zone_offset(zone))
    }

    fn second(&mut self, text: &[u8; 19]) -> Option<i64> {
        match self.second_ms {
            // A fixed-size comparison, inlined.
            Some(ms) if *text == self.second_text => Some(ms),
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
}
