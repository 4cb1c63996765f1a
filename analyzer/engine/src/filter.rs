//! Which records a report covers: a time window and name and statement
//! filters (`--begin/--end/--since`, `--database`, `--user`,
//! `--application`, `--host`, their `--exclude-*` forms, `--query`).
//!
//! Every record is still read and classified, so statement text waiting for
//! its `duration:` line, parallel workers' leaders and the state handed on
//! between ranges stay exact; the filter only decides which classified
//! records are folded into the statistics. A query is kept or left out with
//! the record that completes it (its `duration:` line).

use crate::time_text::rfc3339;
use pglog_logparse::time::{days_from_civil, zone_offset_minutes, LogTime};
use pglog_logparse::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::fmt;

const DAY_MS: i64 = 86_400_000;

/// Why a filter value was refused. Each names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("{value:?} is not a time: expected RFC 3339 (2026-11-30T10:00:00Z, 2026-11-30 10:00:00+01:00), a time in the log's zone (2026-11-30 10:00:00) or a time of day (10:00, 10:00:00.5)")]
    BadTime { value: String },
    #[error("{pattern:?} is not a glob pattern: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("{pattern:?} is not a regular expression: {message}")]
    BadRegex { pattern: String, message: String },
    #[error("--begin {begin} is not before --end {end}")]
    Order { begin: String, end: String },
    #[error(
        "--begin {begin} and --end {end}: give both as times of day, or both as dates with times"
    )]
    Mixed { begin: String, end: String },
}

/// How a time bound is compared with a record's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeBasis {
    /// An instant (the value named its zone): epoch milliseconds.
    Instant,
    /// A date and time without a zone: the wall clock of the log's own zone.
    LogClock,
    /// A time of day in the log's zone, on every day.
    TimeOfDay,
}

/// One end of the window, as `--begin`/`--end` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBound {
    /// Epoch ms (`Instant`), wall-clock ms read as UTC (`LogClock`), or ms
    /// since midnight (`TimeOfDay`).
    pub ms: i64,
    pub basis: TimeBasis,
}

impl TimeBound {
    pub fn instant(epoch_ms: i64) -> TimeBound {
        TimeBound {
            ms: epoch_ms,
            basis: TimeBasis::Instant,
        }
    }

    /// `2026-11-30T10:00:00Z`, `2026-11-30 10:00:00.5+01:00` (instants),
    /// `2026-11-30 10:00[:00]` or `2026-11-30` (the log's zone), `10:00[:00[.5]]`
    /// (a time of day in the log's zone).
    pub fn parse(s: &str) -> Result<TimeBound, FilterError> {
        let bad = || FilterError::BadTime {
            value: s.to_string(),
        };
        let b = s.trim().as_bytes();
        if b.len() >= 3 && b[2] == b':' {
            let (ms, n) = clock(b).ok_or_else(bad)?;
            return (n == b.len() && ms < DAY_MS)
                .then_some(TimeBound {
                    ms,
                    basis: TimeBasis::TimeOfDay,
                })
                .ok_or_else(bad);
        }
        let days = date(b).ok_or_else(bad)?;
        if b.len() == 10 {
            return Ok(TimeBound {
                ms: days * DAY_MS,
                basis: TimeBasis::LogClock,
            });
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(bad());
        }
        let (tod, n) = clock(&b[11..]).ok_or_else(bad)?;
        let wall = days * DAY_MS + tod;
        let rest = &b[11 + n..];
        if rest.is_empty() {
            return Ok(TimeBound {
                ms: wall,
                basis: TimeBasis::LogClock,
            });
        }
        let offset_min = zone(rest).ok_or_else(bad)?;
        Ok(TimeBound::instant(wall - offset_min * 60_000))
    }

    /// The record time this bound compares with: its instant, or its wall
    /// clock in the zone it was written in (UTC when it named none).
    fn key(&self, t: LogTime) -> i64 {
        let wall = || t.epoch_ms + i64::from(t.offset_min.unwrap_or(0)) * 60_000;
        match self.basis {
            TimeBasis::Instant => t.epoch_ms,
            TimeBasis::LogClock => wall(),
            TimeBasis::TimeOfDay => wall().rem_euclid(DAY_MS),
        }
    }
}

impl fmt::Display for TimeBound {
    /// Instants in UTC (`...Z`); the others without a zone, as the log's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.basis {
            TimeBasis::Instant => f.write_str(&rfc3339(self.ms)),
            TimeBasis::LogClock => {
                let t = rfc3339(self.ms);
                // `2026-11-30T10:00:00.000Z` -> `2026-11-30 10:00:00.000`
                write!(f, "{} {}", &t[..10], &t[11..t.len() - 1])
            }
            TimeBasis::TimeOfDay => {
                let t = rfc3339(self.ms);
                f.write_str(&t[11..t.len() - 1])
            }
        }
    }
}

/// `YYYY-MM-DD` as days since the epoch.
fn date(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])?;
    let m = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `HH:MM[:SS[.fff]]` as ms, and the bytes it took.
fn clock(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    let mut n = 5;
    let mut s = 0;
    let mut frac_ms = 0;
    if b.get(5) == Some(&b':') {
        s = digits(b.get(6..8)?)?;
        n = 8;
        if b.get(8) == Some(&b'.') {
            let f: Vec<u8> = b[9..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            if f.is_empty() {
                return None;
            }
            n = 9 + f.len();
            // Milliseconds: the log's precision.
            let mut ms = [b'0'; 3];
            for (i, c) in f.iter().take(3).enumerate() {
                ms[i] = *c;
            }
            frac_ms = digits(&ms)?;
        }
    }
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some((((h * 60 + m) * 60 + s) * 1000 + frac_ms, n))
}

/// `Z`, or a zone as PostgreSQL prints it (`UTC`, `CET`, `+01:00`,
/// `+0100`, `+01`), as minutes east of UTC.
fn zone(b: &[u8]) -> Option<i64> {
    let b = b.strip_prefix(b" ").unwrap_or(b);
    match b {
        b"Z" | b"z" => Some(0),
        // Real zones lie within 14 hours of UTC.
        _ => zone_offset_minutes(b).filter(|m| m.abs() <= 14 * 60),
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, c| n * 10 + i64::from(c - b'0')))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A glob over names (`app_*`, `report?`, `[ab]*`), matched case-sensitively
/// against the whole name, as PostgreSQL names are.
#[derive(Debug, Clone)]
pub struct NamePattern(glob::Pattern);

impl NamePattern {
    pub fn parse(s: &str) -> Result<NamePattern, FilterError> {
        glob::Pattern::new(s)
            .map(NamePattern)
            .map_err(|e| FilterError::BadGlob {
                pattern: s.to_string(),
                message: e.msg.to_string(),
            })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    fn matches(&self, name: &str) -> bool {
        self.0.matches_with(name, GLOB_OPTIONS)
    }
}

/// `*` also crosses `/` (application names and hosts may hold one).
const GLOB_OPTIONS: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// A regular expression over statement text, compiled once.
#[derive(Debug, Clone)]
pub struct QueryPattern(regex::Regex);

impl QueryPattern {
    pub fn parse(s: &str) -> Result<QueryPattern, FilterError> {
        regex::Regex::new(s)
            .map(QueryPattern)
            .map_err(|e| FilterError::BadRegex {
                pattern: s.to_string(),
                message: e.to_string(),
            })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Globs a name must match one of (when any), and globs it must match none of.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    pub include: Vec<NamePattern>,
    pub exclude: Vec<NamePattern>,
}

impl NameFilter {
    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// A record without the name (a checkpoint has no database) matches no
    /// pattern: an include filter leaves it out, an exclude filter keeps it.
    fn keeps(&self, name: Option<&str>) -> bool {
        let hit = |ps: &[NamePattern]| name.is_some_and(|n| ps.iter().any(|p| p.matches(n)));
        (self.include.is_empty() || hit(&self.include)) && !hit(&self.exclude)
    }
}

/// What a report covers. The default keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub begin: Option<TimeBound>,
    /// Records before it are kept; the end itself is not.
    pub end: Option<TimeBound>,
    /// `--since`: the window starts this long before the log's last record
    /// (resolved into `begin` before reading).
    pub since: Option<Since>,
    pub database: NameFilter,
    pub user: NameFilter,
    pub application: NameFilter,
    pub host: NameFilter,
    pub query: Option<QueryPattern>,
}

/// A duration back from the last record, as given and in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    pub text: String,
    pub ms: i64,
}

impl Filters {
    /// Nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.begin.is_none()
            && self.end.is_none()
            && self.since.is_none()
            && self.database.is_empty()
            && self.user.is_empty()
            && self.application.is_empty()
            && self.host.is_empty()
            && self.query.is_none()
    }

    /// Refuses a window that cannot hold a record.
    pub fn check(&self) -> Result<(), FilterError> {
        let (Some(b), Some(e)) = (self.begin, self.end) else {
            return Ok(());
        };
        let daily = |t: TimeBound| t.basis == TimeBasis::TimeOfDay;
        if daily(b) != daily(e) {
            return Err(FilterError::Mixed {
                begin: b.to_string(),
                end: e.to_string(),
            });
        }
        // An instant and a wall-clock time compare only in a known zone.
        if b.basis == e.basis && b.ms >= e.ms {
            return Err(FilterError::Order {
                begin: b.to_string(),
                end: e.to_string(),
            });
        }
        Ok(())
    }

    /// Whether the report covers this classified record.
    pub fn keeps(&self, e: &Event) -> bool {
        let r = &e.record;
        self.in_window(r.time)
            && self.database.keeps(database_of(e))
            && self.user.keeps(r.user.as_deref())
            && self.application.keeps(r.application.as_deref())
            && self.host.keeps(r.remote_host.as_deref())
            && self
                .query
                .as_ref()
                .is_none_or(|q| statement_text(e).is_some_and(|t| q.0.is_match(t)))
    }

    /// Whether the report covers a line of a pgbouncer log: by its time and
    /// the database, user and client host it names. (Such a line has no
    /// application or statement; those filters do not apply to it.)
    pub fn keeps_pgbouncer(
        &self,
        time: Option<LogTime>,
        database: Option<&str>,
        user: Option<&str>,
        host: Option<&str>,
    ) -> bool {
        self.in_window(time)
            && self.database.keeps(database)
            && self.user.keeps(user)
            && self.host.keeps(host)
    }

    /// Is `time` in the window? A record without a time is in no window.
    fn in_window(&self, time: Option<LogTime>) -> bool {
        if self.begin.is_none() && self.end.is_none() {
            return true;
        }
        let Some(t) = time else { return false };
        !(self.begin.is_some_and(|b| b.key(t) < b.ms) || self.end.is_some_and(|b| b.key(t) >= b.ms))
    }

    /// What the report says it covers.
    pub fn describe(&self) -> AppliedFilters {
        let names = |ps: &[NamePattern]| ps.iter().map(|p| p.as_str().to_string()).collect();
        AppliedFilters {
            window: (self.begin.is_some() || self.end.is_some() || self.since.is_some()).then(
                || Window {
                    begin: self.begin.map(|t| t.to_string()),
                    end: self.end.map(|t| t.to_string()),
                    since: self.since.as_ref().map(|s| s.text.clone()),
                    daily: self
                        .begin
                        .or(self.end)
                        .is_some_and(|t| t.basis == TimeBasis::TimeOfDay),
                },
            ),
            filters: FilterList {
                database: names(&self.database.include),
                exclude_database: names(&self.database.exclude),
                user: names(&self.user.include),
                exclude_user: names(&self.user.exclude),
                application: names(&self.application.include),
                exclude_application: names(&self.application.exclude),
                host: names(&self.host.include),
                exclude_host: names(&self.host.exclude),
                query: self.query.as_ref().map(|q| q.as_str().to_string()),
            },
        }
    }
}

/// The record's database; autovacuum and autoanalyze workers log without
/// one, so theirs is the first part of the table's `db.schema.table` name
/// (as pgBadger does).
fn database_of(e: &Event) -> Option<&str> {
    if let Some(d) = e.record.database.as_deref() {
        return Some(d);
    }
    match &e.kind {
        EventKind::Autovacuum(m) | EventKind::Autoanalyze(m) => m.table.split('.').next(),
        _ => None,
    }
}

/// The statement a record is about: a query's, step's or `log_statement`
/// line's text (for a bare `duration:` line, the statement it completes), a
/// plan's `Query Text`, else the statement the server logged with the
/// message (`STATEMENT:`, csv `query`).
fn statement_text(e: &Event) -> Option<&str> {
    let own = match &e.kind {
        EventKind::Query(s) | EventKind::StatementStep(s) | EventKind::StatementLogged(s) => {
            s.text.as_deref()
        }
        EventKind::Plan(p) => p.query_text.as_deref(),
        _ => None,
    };
    own.or(e.record.statement.as_deref())
}

/// The window and filters a report covers (`input.window`, `input.filters`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedFilters {
    pub window: Option<Window>,
    pub filters: FilterList,
}

impl AppliedFilters {
    pub fn is_empty(&self) -> bool {
        *self == AppliedFilters::default()
    }
}

/// The time window records were kept in: `begin` included, `end` not.
/// A time with `Z` is an instant (UTC); one without a zone is the log's own
/// wall-clock time; with `daily`, both are times of day, on every day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Window {
    pub begin: Option<String>,
    pub end: Option<String>,
    /// `--since`: the window starts this long before the last record.
    pub since: Option<String>,
    pub daily: bool,
}

/// The name globs and statement regex records were kept by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FilterList {
    pub database: Vec<String>,
    pub exclude_database: Vec<String>,
    pub user: Vec<String>,
    pub exclude_user: Vec<String>,
    pub application: Vec<String>,
    pub exclude_application: Vec<String>,
    pub host: Vec<String>,
    pub exclude_host: Vec<String>,
    pub query: Option<String>,
}

impl FilterList {
    /// `database app_*, exclude user bob, query ^UPDATE` for one line.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |label: &str, v: &[String]| {
            if !v.is_empty() {
                out.push(format!("{label} {}", v.join(" ")));
            }
        };
        add("database", &self.database);
        add("exclude database", &self.exclude_database);
        add("user", &self.user);
        add("exclude user", &self.exclude_user);
        add("application", &self.application);
        add("exclude application", &self.exclude_application);
        add("host", &self.host);
        add("exclude host", &self.exclude_host);
        if let Some(q) = &self.query {
            out.push(format!("query /{q}/"));
        }
        out
    }
}

impl Window {
    /// `from 10:00:00.000 log time before 11:00:00.000 log time each day`.
    pub fn summary(&self) -> String {
        let show = |t: &str| match t.ends_with('Z') {
            true => t.to_string(),
            false => format!("{t} log time"),
        };
        let mut parts = Vec::new();
        if let Some(s) = &self.since {
            parts.push(format!("the last {s} of the log,"));
        }
        if let Some(b) = &self.begin {
            parts.push(format!("from {}", show(b)));
        }
        if let Some(e) = &self.end {
            parts.push(format!("before {}", show(e)));
        }
        if self.daily {
            parts.push("each day".to_string());
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_by_shape() {
        let t = TimeBound::parse("2026-12-01T00:03:10Z").unwrap();
        assert_eq!(
            (t.basis, t.to_string().as_str()),
            (TimeBasis::Instant, "2026-12-01T00:03:10.000Z")
        );
        let t = TimeBound::parse("2026-12-01 01:03:10.25+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-01T00:03:10.250Z");
        let t = TimeBound::parse("2026-12-01 01:03:10").unwrap();
        assert_eq!(
            (t.basis, t.to_string().as_str()),
            (TimeBasis::LogClock, "2026-12-01 01:03:10.000")
        );
        let t = TimeBound::parse("01:03").unwrap();
        assert_eq!((t.basis, t.ms), (TimeBasis::TimeOfDay, 3_780_000));
        assert_eq!(
            TimeBound::parse("2026-12-01T00:00:00-0530").unwrap().ms,
            TimeBound::parse("2026-12-01T05:30:00Z").unwrap().ms
        );
        for bad in [
            "",
            "yesterday",
            "25:00",
            "10:61",
            "2026-13-01",
            "2026-02-30T00:00:00Z",
            "2026-12-01T00:00:00+25:00",
            "10:00:00.",
            "2026-12-01X10:00",
        ] {
            assert!(TimeBound::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_are_checked() {
        let at = |s| Some(TimeBound::parse(s).unwrap());
        let f = |b, e| {
            Filters {
                begin: at(b),
                end: at(e),
                ..Filters::default()
            }
            .check()
        };
        assert!(f("10:00", "11:00").is_ok());
        assert!(matches!(
            f("11:00", "10:00"),
            Err(FilterError::Order { .. })
        ));
        assert!(matches!(
            f("10:00", "10:00"),
            Err(FilterError::Order { .. })
        ));
        assert!(matches!(
            f("10:00", "2026-12-01T11:00:00Z"),
            Err(FilterError::Mixed { .. })
        ));
        assert!(f("2026-12-01 10:00", "2026-12-01T11:00:00Z").is_ok());
    }

    #[test]
    fn names_without_a_value_match_no_pattern() {
        let f = NameFilter {
            include: vec![NamePattern::parse("app_*").unwrap()],
            exclude: vec![],
        };
        assert!(f.keeps(Some("app_1")) && !f.keeps(Some("App_1")) && !f.keeps(None));
        let x = NameFilter {
            include: vec![],
            exclude: vec![NamePattern::parse("app_*").unwrap()],
        };
        assert!(!x.keeps(Some("app_1")) && x.keeps(Some("other")) && x.keeps(None));
        assert!(NamePattern::parse("[ab").is_err());
        assert!(QueryPattern::parse("(").is_err());
    }
}
