//! The report model: what every renderer (JSON, terminal, HTML) shows.
//! Field names here are a published contract (`pglog.report/1`); add
//! fields, never rename them.

use crate::changes::FileChange;
use crate::filter::{FilterList, Window};
use crate::sections::Sections;
use crate::stats::Stats;
pub use crate::summary::{ForeignSample, MalformedSample};
use crate::summary::{REQUIRED_EVENTS, REQUIRED_SEVERITIES};
use crate::time_text::{rfc3339, utc_offset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA: &str = "pglog.report/1";

/// The JSON Schema of the report document, as published in
/// `reports/report.schema.json`.
pub fn report_json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Report)).expect("a schema serializes");
    schema["$id"] = "https://pglog.dev/schema/report-1.json".into();
    schema["title"] = REPORT_SCHEMA.into();
    schema["properties"]["schema"]["const"] = REPORT_SCHEMA.into();
    schema
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: &'static str,
    pub generator: String,
    pub input: InputReport,
    pub summary: SummaryReport,
    /// The `--baseline` state the report is compared with; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline_report::BaselineReport>,
    /// What got worse against the `--baseline` day (the lists of
    /// `pglog diff`, the baseline as OLD); absent without `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regressions: Option<crate::diff_report::DiffReport>,
    #[serde(flatten)]
    pub sections: Sections,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InputReport {
    /// The inputs read, in order (`-` for standard input).
    pub files: Vec<String>,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Records the report covers (those in the window and filters).
    pub records: u64,
    /// Records read but outside the window or filters (not malformed).
    pub filtered: u64,
    pub malformed: u64,
    /// The first malformed stretches, with file and line.
    pub malformed_samples: Vec<MalformedSample>,
    /// Lines that are not PostgreSQL's (pg_ctl's or an archive_command's
    /// output, blank lines): neither records nor malformed ones.
    pub foreign_lines: u64,
    /// The first of them, with file and line.
    pub foreign_samples: Vec<ForeignSample>,
    /// Per-input details.
    pub sources: Vec<FileReport>,
    /// The `log_line_prefix` each stderr or syslog input was read with, by path.
    pub prefix: BTreeMap<String, String>,
    /// The language each PostgreSQL input was written in, by path: `en`, or
    /// the translated one pglog made English (`de`, `ja`, ...).
    pub language: BTreeMap<String, String>,
    /// Inputs with many records in a language pglog has no table for.
    pub language_warnings: Vec<crate::language::LanguageWarning>,
    /// Files found in directories that were not logs and were left out.
    pub skipped: Vec<SkippedFile>,
    /// Files that changed while they were read (appended, truncated,
    /// replaced): their records may be cut or missing at the end.
    pub changed: Vec<ChangedFile>,
    /// The time window records were kept in; `null` for the whole log.
    pub window: Option<Window>,
    /// The name and statement filters records were kept by.
    pub filters: FilterList,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangedFile {
    pub path: String,
    #[serde(flatten)]
    pub change: FileChange,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileReport {
    pub path: String,
    pub format: String,
    pub compression: String,
    /// The `log_line_prefix` used for stderr and syslog input.
    pub prefix: Option<String>,
    /// True when that prefix was inferred from the lines; false when given
    /// by `--prefix` or implied by `--input-format rds`.
    #[serde(default)]
    pub prefix_inferred: bool,
    pub bytes: u64,
    pub records: u64,
    /// Records left out by the window and filters.
    pub filtered: u64,
    pub malformed: u64,
    /// Lines that are not PostgreSQL's.
    pub foreign_lines: u64,
    /// How the file changed while it was read; `null` when it did not.
    pub changed: Option<FileChange>,
    /// The language (`lc_messages`) most of its records were written in:
    /// `en`, or a translated one whose records were made English.
    #[serde(default)]
    pub language: Option<String>,
    /// Records in a translated language whose message is not in its table.
    #[serde(default)]
    pub untranslated: u64,
    /// Records by translated language (a log whose language changed at a
    /// reload has more than one).
    #[serde(default)]
    pub languages: std::collections::BTreeMap<String, crate::summary::LanguageCount>,
}

impl FileReport {
    /// The file's language and its records' languages, from its summary.
    pub(crate) fn set_language(&mut self, summary: &crate::summary::Summary) {
        (self.language, self.untranslated) = crate::language::file_language(summary);
        self.languages = summary.languages.clone();
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
    pub kind: SkipKind,
}

/// Why an input was left out, which decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// Not a PostgreSQL log (a README, a binary file, an empty file).
    NotLog,
    /// The same file as an input read under another path.
    Duplicate,
    /// It could not be opened or read (exit status 1).
    Unreadable,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SummaryReport {
    /// Statements executed and logged with a duration: simple-protocol
    /// statements plus extended-protocol executes (parse/bind are not queries).
    pub queries: u64,
    /// auto_explain plans.
    pub plans: u64,
    pub severities: BTreeMap<String, u64>,
    /// ERROR/FATAL/PANIC records by SQLSTATE.
    pub sqlstates: BTreeMap<String, u64>,
    /// How many of those SQLSTATEs were inferred from the message (stderr without `%e`).
    pub sqlstates_inferred: u64,
    pub temp_file_bytes: u64,
    pub events: BTreeMap<String, u64>,
    /// First and last log timestamps, RFC 3339 in UTC.
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    /// The log's own time zone as an offset from UTC (`+01:00`), from the
    /// zone its timestamps name; every time in this document is UTC.
    pub time_zone: Option<String>,
}

impl Report {
    pub fn build(
        stats: &Stats,
        sources: Vec<FileReport>,
        skipped: Vec<SkippedFile>,
        max_samples: usize,
    ) -> Report {
        let summary = stats.summary.clone();
        let mut severities = summary.severities;
        for s in REQUIRED_SEVERITIES {
            severities.entry(s.as_str().to_string()).or_insert(0);
        }
        let mut events = summary.events;
        for e in REQUIRED_EVENTS {
            events.entry(e.to_string()).or_insert(0);
        }
        let mut samples = summary.malformed_samples;
        samples.truncate(max_samples);
        let mut foreign_samples = summary.foreign_samples;
        foreign_samples.truncate(max_samples);
        Report {
            schema: REPORT_SCHEMA,
            generator: format!("pglog {}", env!("CARGO_PKG_VERSION")),
            input: InputReport {
                files: sources.iter().map(|s| s.path.clone()).collect(),
                // Saturating: the sources of forged states may claim any size.
                bytes: sources.iter().map(|s| s.bytes).fold(0, u64::saturating_add),
                records: summary.records,
                filtered: summary.filtered,
                malformed: summary.malformed,
                malformed_samples: samples,
                foreign_lines: summary.foreign_lines,
                foreign_samples,
                changed: sources
                    .iter()
                    .filter_map(|s| {
                        s.changed.clone().map(|change| ChangedFile {
                            path: s.path.clone(),
                            change,
                        })
                    })
                    .collect(),
                prefix: sources
                    .iter()
                    .filter_map(|s| Some((s.path.clone(), s.prefix.clone()?)))
                    .collect(),
                language: sources
                    .iter()
                    .filter_map(|s| Some((s.path.clone(), s.language.clone()?)))
                    .collect(),
                language_warnings: crate::language::warnings(
                    sources.iter().map(|s| (s.path.as_str(), &s.languages)),
                ),
                sources,
                skipped,
                window: None,
                filters: FilterList::default(),
            },
            summary: SummaryReport {
                queries: summary.queries,
                plans: summary.plans,
                severities,
                sqlstates: summary.sqlstates,
                sqlstates_inferred: summary.sqlstates_inferred,
                temp_file_bytes: summary.temp_file_bytes,
                events,
                first_timestamp: summary.first_time_ms.map(rfc3339),
                last_timestamp: summary.last_time_ms.map(rfc3339),
                time_zone: summary.zone.map(|(_, off)| utc_offset(off)),
            },
            baseline: None,
            regressions: None,
            sections: Sections::build(stats),
        }
    }
}
