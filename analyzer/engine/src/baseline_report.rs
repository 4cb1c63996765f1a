//! The report's `--baseline` fields: the baseline day's figures of a query
//! and of an error message, and what the report was compared with.

use serde::Serialize;

/// A query's figures on the baseline day, rounded as that day's own report
/// rounds them.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct QueryBaseline {
    pub calls: u64,
    /// Calls per hour of the baseline's log span, so days of different
    /// length compare.
    pub calls_per_hour: f64,
    pub mean_ms: f64,
    pub p95_ms: f64,
}

/// An error message's count on the baseline day.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ErrorBaseline {
    pub count: u64,
    /// Occurrences per hour of the baseline's log span.
    pub per_hour: f64,
}

/// What the report was compared with.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BaselineReport {
    /// The state file, as given.
    pub file: String,
    /// The baseline's first and last log timestamps, RFC 3339 in UTC.
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    /// Hours of log the per-hour figures divide by.
    pub span_hours: f64,
    /// Distinct queries the baseline keeps.
    pub queries: u64,
    /// ERROR/FATAL/PANIC records of the baseline.
    pub errors: u64,
    /// Why the comparison may mislead (another server's state, the same
    /// hours as the report's); the report is made all the same.
    pub warnings: Vec<String>,
}
