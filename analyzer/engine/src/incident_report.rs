//! The `incidents` section of the report: stretches of minutes that stand
//! out against the same log's own baseline, ranked, each with what changed
//! in it. The field names are a contract (dashboards and scripts read them).

use serde::Serialize;

/// One incident window, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Incident {
    /// The first minute of the window (RFC 3339).
    pub start: String,
    /// The end of the last minute of the window (RFC 3339), exclusive.
    pub end: String,
    /// The rank score (see the README's *Incidents*); higher is worse.
    pub score: f64,
    /// The series that stood out, strongest first.
    pub signals: Vec<IncidentSignal>,
    /// The queries that added the most time in the window, or whose p95 rose most.
    pub top_queries: Vec<IncidentQuery>,
    /// Errors and SQLSTATEs that are new in the window or rose in it.
    pub top_errors: Vec<IncidentError>,
    /// Lock waits in the window, with the waiting and the blocking statements.
    pub locks: Vec<IncidentLock>,
    /// Connection and authentication-failure bursts by application, user and host.
    pub clients: Vec<IncidentClient>,
    /// Queries that spilled to temporary files in the window.
    pub temp_files: Vec<IncidentTempFiles>,
    /// Checkpoints that started in the window.
    pub checkpoints: u64,
}

/// A per-minute series that stood out: its baseline (the rest of the log)
/// and its peak minute in the window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentSignal {
    /// The series, as in the README: `p95_ms`, `mean_ms`, `queries_per_s`,
    /// `errors_per_s`, `cancellations`, `lock_waits`, `lock_wait_ms`,
    /// `deadlocks`, `connections`, `auth_failures`, `temp_bytes`, `checkpoints`.
    pub name: String,
    pub baseline: f64,
    pub peak: f64,
    /// `ms`, `per_s`, `per_minute`, `bytes`.
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentQuery {
    pub fingerprint: String,
    pub normalized: String,
    /// Calls in the window.
    pub calls: u64,
    /// Time the query took in the window.
    pub total_ms: f64,
    /// Its p95 outside the window; `null` when it ran only in the window.
    pub baseline_p95_ms: Option<f64>,
    /// Its p95 in the window.
    pub p95_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentError {
    /// Given or inferred; `null` when neither.
    pub sqlstate: Option<String>,
    pub message: String,
    /// Occurrences in the window.
    pub count: u64,
    /// Occurrences expected in a window this long at the rate outside it.
    pub baseline_count: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentLock {
    /// The lock mode waited for (`AccessShareLock`, ...).
    pub mode: String,
    /// The locked object as logged (`relation 16384 of database 5`, ...).
    pub object: String,
    /// Waits logged in the window (`log_lock_waits`), and their longest.
    pub waits: u64,
    pub max_wait_ms: f64,
    /// The waiting statements (normalized), most frequent first.
    pub waiting: Vec<String>,
    /// The statement of the process holding the lock, when the log has it.
    pub blocking: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentClient {
    /// `application`, `user` or `host`.
    pub kind: String,
    pub name: String,
    /// New connections in the window, and the count expected at the rate outside it.
    pub connections: u64,
    pub baseline_connections: f64,
    /// Authentication failures and ERROR/FATAL records in the window.
    pub auth_failures: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentTempFiles {
    /// `null` when the temp file's statement was not logged.
    pub fingerprint: Option<String>,
    pub normalized: Option<String>,
    pub files: u64,
    pub bytes: u64,
}
