//! The document of `pglog diff` (`pglog.diff/1`), also the report's
//! `regressions` with `--baseline`.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueryChange {
    pub fingerprint: String,
    pub normalized: String,
    pub old_calls: u64,
    pub new_calls: u64,
    /// Calls per hour of log, so days of different length compare.
    pub old_calls_per_hour: f64,
    pub new_calls_per_hour: f64,
    pub old_mean_ms: f64,
    pub new_mean_ms: f64,
    pub old_p95_ms: f64,
    pub new_p95_ms: f64,
    /// NEW / OLD of the value the list is about; `null` (infinite) for a
    /// new query.
    #[schemars(with = "Option<f64>")]
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NewError {
    pub message: String,
    pub severity: String,
    pub sqlstate: Option<String>,
    pub count: u64,
    pub sample: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    pub schema: &'static str,
    pub old_span_hours: f64,
    pub new_span_hours: f64,
    pub threshold: f64,
    pub min_calls: u64,
    /// p95 grew by the threshold or more.
    pub slower: Vec<QueryChange>,
    /// Calls per hour grew by the threshold or more.
    pub more_frequent: Vec<QueryChange>,
    /// In NEW only.
    pub new_queries: Vec<QueryChange>,
    /// Error messages (blanked of names and numbers) in NEW only.
    pub new_errors: Vec<NewError>,
    /// SQLSTATEs in NEW only.
    pub new_sqlstates: Vec<String>,
}
