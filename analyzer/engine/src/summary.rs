//! Counts over a stream of events. Per-file (later per-thread) values merge
//! with `+=`, so the totals do not depend on how the work was split.

use crate::totals::add_to;
use pglog_logparse::time::LogTime;
use pglog_logparse::{Event, EventKind, Malformed, MalformedKind, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::AddAssign;

/// Event counts that are always present in the report, even when zero.
pub const REQUIRED_EVENTS: &[&str] = &[
    "checkpoint",
    "restartpoint",
    "autovacuum",
    "autoanalyze",
    "temp_file",
    "deadlock",
    "lock_wait",
    "connection",
    "disconnection",
    "auth_failure",
];

/// Severities that are always present in the report, even when zero.
pub const REQUIRED_SEVERITIES: &[Severity] = &[
    Severity::Log,
    Severity::Warning,
    Severity::Error,
    Severity::Fatal,
    Severity::Panic,
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub records: u64,
    /// Records read but left out by the window and filters.
    pub filtered: u64,
    pub malformed: u64,
    /// Statements executed with a duration: simple-protocol statements and extended-protocol executes.
    pub queries: u64,
    pub plans: u64,
    pub severities: BTreeMap<String, u64>,
    /// ERROR/FATAL/PANIC records by SQLSTATE (given or inferred); `unknown` when neither.
    pub sqlstates: BTreeMap<String, u64>,
    /// How many SQLSTATEs were inferred from the message text.
    pub sqlstates_inferred: u64,
    pub temp_file_bytes: u64,
    pub events: BTreeMap<String, u64>,
    pub first_time_ms: Option<i64>,
    pub last_time_ms: Option<i64>,
    /// The earliest record that named its zone: (epoch ms, offset minutes).
    /// Reports show times in this zone.
    pub zone: Option<(i64, i32)>,
    /// The first malformed stretches, with their file and line.
    pub malformed_samples: Vec<MalformedSample>,
    /// Lines that are not PostgreSQL's, apart from the malformed.
    pub foreign_lines: u64,
    pub foreign_samples: Vec<ForeignSample>,
    /// Records written in a translated language, by language.
    #[serde(default)]
    pub languages: BTreeMap<String, LanguageCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MalformedSample {
    pub file: String,
    pub line: u64,
    pub kind: String,
    pub reason: String,
}

/// A line that is not PostgreSQL's, where it is and how it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ForeignSample {
    pub file: String,
    pub line: u64,
    /// The line's first bytes (empty for a blank line).
    pub text: String,
}

impl Summary {
    pub fn add_event(&mut self, e: &Event) {
        crate::totals::bump(&mut self.severities, e.record.severity.as_str(), 1);
        crate::totals::bump(&mut self.events, e.kind.key(), 1);
        self.add_event_but_names(e);
    }

    /// [`Summary::add_event`] but the counts by severity and event name,
    /// which the caller keeps (`stats::Folder` holds them apart).
    pub fn add_event_but_names(&mut self, e: &Event) {
        self.records += 1;
        if e.record.severity.is_error() {
            let key = e
                .sqlstate
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".to_string());
            crate::totals::bump(&mut self.sqlstates, &key, 1);
            if e.sqlstate_inferred {
                self.sqlstates_inferred += 1;
            }
        }
        match &e.kind {
            EventKind::Query(_) => self.queries += 1,
            EventKind::Plan(_) => self.plans += 1,
            EventKind::TempFile { size, .. } => add_to(&mut self.temp_file_bytes, *size),
            _ => {}
        }
        if let Some(lang) = e.record.language.written {
            let c = self.languages.entry(lang.code().to_string()).or_default();
            c.records += 1;
            c.untranslated += u64::from(e.record.language.untranslated);
        }
        if let Some(t) = e.record.time {
            self.note_zone(t);
            self.first_time_ms = Some(self.first_time_ms.map_or(t.epoch_ms, |f| f.min(t.epoch_ms)));
            self.last_time_ms = Some(self.last_time_ms.map_or(t.epoch_ms, |l| l.max(t.epoch_ms)));
        }
    }

    pub fn add_malformed(&mut self, file: &str, m: Malformed, keep_samples: usize) {
        if m.kind == MalformedKind::Foreign {
            return self.add_foreign(file, m, keep_samples);
        }
        self.malformed += 1;
        if self.malformed_samples.len() < keep_samples {
            self.malformed_samples.push(MalformedSample {
                file: file.to_string(),
                line: m.line,
                kind: m.kind.as_str().to_string(),
                reason: m.reason,
            });
        }
    }
}

impl Summary {
    /// Keeps the zone of the earliest time that names one: reports show
    /// times in the log's zone.
    pub fn note_zone(&mut self, t: LogTime) {
        if let Some(off) = t.offset_min {
            if self.zone.is_none_or(|(at, _)| t.epoch_ms < at) {
                self.zone = Some((t.epoch_ms, i32::from(off)));
            }
        }
    }

    /// The line and file of every sample kept, malformed and foreign, to
    /// renumber the samples of a range of a file.
    pub fn sample_positions_mut(&mut self) -> impl Iterator<Item = (&mut u64, &mut String)> {
        let malformed = self
            .malformed_samples
            .iter_mut()
            .map(|s| (&mut s.line, &mut s.file));
        let foreign = self
            .foreign_samples
            .iter_mut()
            .map(|s| (&mut s.line, &mut s.file));
        malformed.chain(foreign)
    }

    fn add_foreign(&mut self, file: &str, m: Malformed, keep_samples: usize) {
        self.foreign_lines += 1;
        if self.foreign_samples.len() < keep_samples {
            self.foreign_samples.push(ForeignSample {
                file: file.to_string(),
                line: m.line,
                text: m.reason,
            });
        }
    }
}

impl AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        add_to(&mut self.records, o.records);
        add_to(&mut self.filtered, o.filtered);
        add_to(&mut self.malformed, o.malformed);
        add_to(&mut self.queries, o.queries);
        add_to(&mut self.plans, o.plans);
        for (k, v) in o.severities {
            add_to(self.severities.entry(k).or_default(), v);
        }
        for (k, v) in o.sqlstates {
            add_to(self.sqlstates.entry(k).or_default(), v);
        }
        add_to(&mut self.sqlstates_inferred, o.sqlstates_inferred);
        add_to(&mut self.temp_file_bytes, o.temp_file_bytes);
        for (k, v) in o.events {
            add_to(self.events.entry(k).or_default(), v);
        }
        self.first_time_ms = min_opt(self.first_time_ms, o.first_time_ms);
        self.zone = match (self.zone, o.zone) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        self.last_time_ms = match (self.last_time_ms, o.last_time_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.malformed_samples.extend(o.malformed_samples);
        add_to(&mut self.foreign_lines, o.foreign_lines);
        self.foreign_samples.extend(o.foreign_samples);
        for (k, v) in o.languages {
            *self.languages.entry(k).or_default() += v;
        }
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Records written in one translated language.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct LanguageCount {
    pub records: u64,
    /// Of those, records whose message is not in the language's table:
    /// left as written (they count as `other` events).
    pub untranslated: u64,
}

impl std::ops::AddAssign for LanguageCount {
    fn add_assign(&mut self, o: LanguageCount) {
        crate::totals::add_to(&mut self.records, o.records);
        crate::totals::add_to(&mut self.untranslated, o.untranslated);
    }
}
