//! The time zone reports show times in: the log's own (from the zone its
//! timestamps name), or one given with `--tz`. The report model keeps UTC.

use pglog_analyzer::Report;

/// What `--tz` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tz {
    /// The log's own zone (UTC when the log names none).
    Log,
    /// A fixed offset from UTC, in minutes.
    Fixed(i32),
}

impl std::str::FromStr for Tz {
    type Err = String;

    /// `log`, `UTC`, `Z`, or an offset: `+01:00`, `-0530`, `+3`.
    fn from_str(s: &str) -> Result<Tz, String> {
        let bad = || {
            format!("{s:?} is not a time zone: use log, UTC, or an offset such as +01:00 or -05:30")
        };
        match s {
            "log" => return Ok(Tz::Log),
            "UTC" | "utc" | "Z" | "z" => return Ok(Tz::Fixed(0)),
            _ => {}
        }
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m) = if digits.len() <= 2 {
            (digits.parse::<i32>().map_err(|_| bad())?, 0)
        } else {
            let (h, m) = digits.split_at(digits.len() - 2);
            (
                h.parse::<i32>().map_err(|_| bad())?,
                m.parse::<i32>().map_err(|_| bad())?,
            )
        };
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(Tz::Fixed(sign * (h * 60 + m)))
    }
}

/// Shows the report's UTC times in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub offset_min: i32,
}

impl Clock {
    pub fn new(r: &Report, tz: Tz) -> Clock {
        let offset_min = match tz {
            Tz::Fixed(m) => m,
            Tz::Log => r
                .summary
                .time_zone
                .as_deref()
                .and_then(|z| z.parse::<Tz>().ok())
                .map_or(0, |t| match t {
                    Tz::Fixed(m) => m,
                    Tz::Log => 0,
                }),
        };
        Clock { offset_min }
    }

    /// `UTC` or `UTC+01:00`.
    pub fn label(&self) -> String {
        if self.offset_min == 0 {
            "UTC".into()
        } else {
            format!("UTC{}", pglog_analyzer::utc_offset(self.offset_min))
        }
    }

    /// Epoch milliseconds moved into this zone (for chart axes).
    pub fn local_ms(&self, epoch_ms: i64) -> i64 {
        epoch_ms + self.offset_min as i64 * 60_000
    }

    /// Whole minutes from one report time to another, rounded up; `None`
    /// when either is not a time or the second is not later.
    pub fn minutes_between(&self, start: &str, end: &str) -> Option<i64> {
        let (s, e) = (crate::html::epoch_ms(start)?, crate::html::epoch_ms(end)?);
        (e > s).then(|| (e - s + 59_999) / 60_000)
    }

    /// A report time (`2026-11-23T10:00:00.123Z`) as `2026-11-23 11:00:00.123`
    /// in this zone; anything else is returned as it is.
    pub fn show(&self, rfc3339: &str) -> String {
        match crate::html::epoch_ms(rfc3339) {
            Some(ms) => {
                let t = pglog_analyzer::rfc3339(self.local_ms(ms));
                format!("{} {}", &t[..10], &t[11..23])
            }
            None => rfc3339.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_and_show() {
        assert_eq!("log".parse::<Tz>(), Ok(Tz::Log));
        assert_eq!("UTC".parse::<Tz>(), Ok(Tz::Fixed(0)));
        assert_eq!("+01:00".parse::<Tz>(), Ok(Tz::Fixed(60)));
        assert_eq!("-0530".parse::<Tz>(), Ok(Tz::Fixed(-330)));
        assert_eq!("+3".parse::<Tz>(), Ok(Tz::Fixed(180)));
        assert!("Europe/Paris".parse::<Tz>().is_err());
        let c = Clock { offset_min: 90 };
        assert_eq!(
            c.show("2026-11-23T23:00:00.123Z"),
            "2026-11-24 00:30:00.123"
        );
        assert_eq!(c.label(), "UTC+01:30");
    }
}
