//! The report's sections past the ingest summary, computed from [`Stats`]:
//! ranked, with percentiles read from the sketches and times as RFC 3339.

use crate::report_cells::{LockCellReport, SessionBucket};
use crate::stats::activity::{
    AuthStats, CheckpointStats, DeadlockSample, SumMax, SESSION_BUCKETS_S,
};
use crate::stats::activity::{ErrorMessage, ErrorStats, TableMaintenance};
use crate::stats::plans::PlanSample;
use crate::stats::queries::{QueryStats, Sample, StepStats};
use crate::stats::sketch::{Sketch, RELATIVE_ERROR};
use crate::stats::Stats;
use crate::time_text::rfc3339;
use pglog_logparse::classify::error_class;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many rows the ranked lists (locks by query, temp files by query) keep.
const TOP: usize = 20;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueryReport {
    /// pg_query's fingerprint, 16 hex digits.
    pub fingerprint: String,
    pub normalized: String,
    /// pg_query rejected the text; it was grouped by the fallback normalizer.
    pub parse_failed: bool,
    /// Why the text was not given to pg_query (too long or too deeply
    /// nested for a bounded parse); null when it was parsed. Such a group
    /// is made by the fallback normalizer.
    pub parse_skipped: Option<String>,
    pub calls: u64,
    pub total_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Share of all queries' total time, 0..1.
    pub time_share: f64,
    pub by_user: BTreeMap<String, u64>,
    pub by_database: BTreeMap<String, u64>,
    pub by_application: BTreeMap<String, u64>,
    pub by_user_database: BTreeMap<String, u64>,
    pub hours: Vec<HourReport>,
    /// Extended-protocol parse and bind steps, timed apart from execution.
    pub parse: StepReport,
    pub bind: StepReport,
    pub temp_files: u64,
    pub temp_bytes: u64,
    pub lock_waits: u64,
    pub lock_wait_ms: f64,
    pub errors: u64,
    pub cancels: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub samples: Vec<SampleReport>,
    pub plans: Vec<PlanReport>,
    /// The `--baseline` day's figures of this query; `null` when the query
    /// is new; absent without `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Option<crate::baseline_report::QueryBaseline>>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HourReport {
    pub hour: String,
    pub calls: u64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SampleReport {
    pub time: Option<String>,
    pub duration_ms: f64,
    pub user: Option<String>,
    pub database: Option<String>,
    pub application: Option<String>,
    pub query: String,
    pub params: Vec<Option<String>>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanReport {
    pub time: Option<String>,
    pub duration_ms: f64,
    pub format: String,
    pub user: Option<String>,
    pub database: Option<String>,
    pub plan: String,
    /// `Query Parameters:` of the plan (PostgreSQL 16+); `null` is SQL NULL.
    pub params: Vec<Option<String>>,
    /// `Query Identifier:` of the plan.
    pub query_id: Option<i64>,
    /// Characters of the plan as logged.
    pub logged_chars: usize,
    /// Why `plan` is shorter than the logged plan; `null` when it is whole.
    pub cut: Option<String>,
}

/// Everything folded out of the bounded query table.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OtherQueries {
    /// Distinct fingerprints folded out.
    pub queries: u64,
    pub calls: u64,
    pub total_ms: f64,
    /// The collector's own queries (`/* pglog */`), left out entirely.
    pub own_queries: u64,
    /// SQL `PREPARE` statements, counted as their query's parse step.
    pub prepares: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LatencyReport {
    pub count: u64,
    pub total_ms: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Relative error of the percentiles.
    pub relative_error: f64,
    /// Calls by duration bucket (upper bound in ms; `null` for the open bucket).
    pub histogram: Vec<Bucket>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Bucket {
    pub le_ms: Option<f64>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorsReport {
    pub total: u64,
    pub by_severity: BTreeMap<String, u64>,
    pub by_sqlstate: Vec<SqlStateCount>,
    pub by_class: BTreeMap<String, u64>,
    /// ERROR/FATAL/PANIC by error class (the SQLSTATE class's name) and kind.
    pub by_error_class: Vec<ErrorClassCount>,
    /// Violations of each constraint, row-level security policy and view
    /// check option, most frequent first.
    pub constraint_violations: Vec<ConstraintViolationReport>,
    pub messages: Vec<ErrorMessageReport>,
    /// Occurrences of messages beyond the kept distinct ones.
    pub other_messages: u64,
    pub by_hour: Vec<HourSeverities>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SqlStateCount {
    pub sqlstate: String,
    pub class: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorClassCount {
    /// `integrity_constraint_violation`, `data_exception`, ...; `unknown`
    /// without a SQLSTATE.
    pub class: String,
    /// `unique`, `foreign_key`, `syntax`, `undefined_object`, ...
    pub kind: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConstraintViolationReport {
    /// `unique`, `foreign_key`, `check`, `not_null`, `exclusion`,
    /// `partition_routing`, `row_level_security`, `view_check_option`, ...
    pub kind: String,
    pub constraint: Option<String>,
    pub relation: Option<String>,
    pub column: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorMessageReport {
    pub message: String,
    pub count: u64,
    pub severity: String,
    pub sqlstate: Option<String>,
    /// The error class of the message's SQLSTATE (see `by_error_class`).
    pub error_class: String,
    pub error_kind: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub sample: ErrorSampleReport,
    /// The `--baseline` day's count of this message; `null` when it is
    /// new; absent without `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Option<crate::baseline_report::ErrorBaseline>>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ErrorSampleReport {
    pub time: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub statement: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HourSeverities {
    pub hour: String,
    pub severities: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LocksReport {
    pub waits: u64,
    pub acquired: u64,
    pub wait_ms: f64,
    pub by_mode: BTreeMap<String, LockCellReport>,
    pub by_object: BTreeMap<String, LockCellReport>,
    pub by_query: Vec<QueryRef>,
    pub deadlocks: u64,
    pub deadlock_samples: Vec<DeadlockReport>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeadlockReport {
    pub time: Option<String>,
    pub sides: Vec<crate::stats::activity::DeadlockSideSample>,
}

/// A query in a ranked list of another section.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct QueryRef {
    pub fingerprint: String,
    pub normalized: String,
    pub count: u64,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TempFilesReport {
    pub files: u64,
    pub bytes: u64,
    pub max_file_bytes: u64,
    /// By query: `count` files, `value` bytes.
    pub by_query: Vec<QueryRef>,
    pub unattributed_files: u64,
    pub unattributed_bytes: u64,
    pub by_hour: Vec<HourValue>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HourValue {
    pub hour: String,
    pub value: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckpointsReport {
    pub by_cause: BTreeMap<String, u64>,
    pub completed: u64,
    pub write_s: SumMaxReport,
    pub sync_s: SumMaxReport,
    pub total_s: SumMaxReport,
    pub distance_kb: SumMaxReport,
    pub buffers_written: SumMaxReport,
    pub wal_added: u64,
    pub wal_removed: u64,
    pub wal_recycled: u64,
    pub too_frequent_warnings: u64,
    pub by_hour: Vec<HourValue>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SessionsReport {
    pub connections: u64,
    pub received: u64,
    pub disconnections: u64,
    pub by_user: BTreeMap<String, u64>,
    pub by_database: BTreeMap<String, u64>,
    pub by_application: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
    /// Most sessions open at once (from sessions with a logged disconnection).
    pub peak_sessions: i64,
    pub peak_at: Option<String>,
    pub session_ms: SumMaxReport,
    /// Connection setup times, ms (`connection ready`, PostgreSQL 18).
    pub setup_ms: SumMaxReport,
    pub duration_histogram: Vec<SessionBucket>,
    /// The most sessions open at once in each minute with a session start
    /// or end (from sessions with a logged disconnection).
    pub open_by_minute: Vec<MinuteCount>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MinuteCount {
    pub minute: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MinuteReport {
    pub minute: String,
    pub queries: u64,
    pub queries_per_s: f64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub errors: u64,
    pub errors_per_s: f64,
    pub connections: u64,
    pub temp_bytes: u64,
    pub checkpoints: u64,
}

/// A plan, read into a tree, with what is wrong with it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanAnalysis {
    /// The query's fingerprint; `null` when the plan came without its text.
    pub fingerprint: Option<String>,
    pub normalized: Option<String>,
    pub duration_ms: f64,
    pub timestamp: Option<String>,
    /// `text` or `json`, as auto_explain logged it.
    pub format: String,
    pub user: Option<String>,
    pub database: Option<String>,
    /// `null` when the plan could not be read (it is still in the query's `plans`).
    pub tree: Option<crate::plan::PlanNode>,
    pub insights: Vec<crate::plan::Insight>,
    /// `Query Parameters:` of the plan (PostgreSQL 16+); `null` is SQL NULL.
    pub params: Vec<Option<String>>,
    /// `Query Identifier:` of the plan.
    pub query_id: Option<i64>,
    /// Characters of the plan as logged.
    pub logged_chars: usize,
    /// Why the plan was read from less than the logged text; `null` when whole.
    pub cut: Option<String>,
}

/// How many of the slowest plans are analyzed into `plans`.
const TOP_PLANS: usize = 50;

fn plan_analyses(stats: &Stats) -> Vec<PlanAnalysis> {
    // Kept slowest first, each at most once: the report reads only these.
    stats
        .slowest_plans
        .plans
        .iter()
        .take(TOP_PLANS)
        .map(|s| {
            let p = &s.sample;
            let parsed = crate::plan::parse_plan(&p.format, &p.plan);
            PlanAnalysis {
                fingerprint: s.fingerprint.map(fp_hex),
                normalized: s.normalized.clone(),
                duration_ms: p.duration_ms,
                timestamp: time(p.time_ms),
                format: p.format.clone(),
                user: p.user.clone(),
                database: p.database.clone(),
                insights: parsed
                    .as_ref()
                    .map(|x| x.insights.clone())
                    .unwrap_or_default(),
                tree: parsed.map(|x| x.root),
                params: p.params.clone(),
                query_id: p.query_id,
                logged_chars: p.logged_chars,
                cut: crate::stats::plans::cut_note(p, &stats.limits),
            }
        })
        .collect()
}

/// All sections, in report order.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Sections {
    /// Stretches of minutes that stand out against the rest of the log,
    /// worst first; empty when the log is steady.
    pub incidents: Vec<crate::incident_report::Incident>,
    pub latency: LatencyReport,
    /// Every kept query, by total time.
    pub queries: Vec<QueryReport>,
    pub other_queries: OtherQueries,
    /// Plans whose statement text was not logged.
    pub unattributed_plans: Vec<PlanReport>,
    /// The slowest plans, slowest first, as trees with their insights.
    pub plans: Vec<PlanAnalysis>,
    pub errors: ErrorsReport,
    pub locks: LocksReport,
    pub temp_files: TempFilesReport,
    pub checkpoints: CheckpointsReport,
    pub restartpoints: CheckpointsReport,
    pub autovacuum: Vec<TableMaintenanceReport>,
    pub sessions: SessionsReport,
    pub auth_failures: AuthStats,
    pub cancellations: BTreeMap<String, u64>,
    pub audit: BTreeMap<String, u64>,
    pub minutes: Vec<MinuteReport>,
    /// The same activity in buckets sized to the log's span, for charts.
    pub timeline: crate::timeline::Timeline,
    /// What the pgbouncer logs among the inputs hold; null when none was read.
    pub pgbouncer: Option<crate::pgbouncer::PgbouncerReport>,
    /// Wraparound, vacuum, lock and transaction-state details, and the
    /// unclassified messages.
    #[serde(flatten)]
    pub events: crate::event_details::EventSections,
    /// Crashes, out of memory, shutdowns, archiving, page verification and
    /// connection problems, with their details.
    pub server: crate::server::ServerReport,
}

/// Count, sum, maximum and mean of a measurement.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct SumMaxReport {
    pub count: u64,
    pub sum: f64,
    pub max: f64,
    pub mean: Option<f64>,
}

impl From<SumMax> for SumMaxReport {
    fn from(s: SumMax) -> Self {
        SumMaxReport {
            count: s.count,
            sum: s.sum(),
            max: s.max,
            mean: (s.count > 0).then(|| round3(s.sum() / s.count as f64)),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct StepReport {
    pub count: u64,
    pub total_ms: f64,
    pub max_ms: f64,
}

impl From<&StepStats> for StepReport {
    fn from(s: &StepStats) -> Self {
        StepReport {
            count: s.count,
            total_ms: s.total_ms(),
            max_ms: s.max_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TableMaintenanceReport {
    pub table: String,
    pub vacuums: u64,
    pub analyzes: u64,
    pub vacuum_s: SumMaxReport,
    pub analyze_s: SumMaxReport,
    pub tuples_removed: u64,
    pub pages_removed: u64,
    pub aggressive: u64,
    pub wraparound: u64,
    /// Buffers, WAL and frozen pages the reports name (each as far as the
    /// server's version writes it).
    pub usage: crate::stats::maintenance_usage::MaintenanceTotals,
}

fn maintenance_report(table: &str, m: &TableMaintenance) -> TableMaintenanceReport {
    TableMaintenanceReport {
        table: table.to_string(),
        vacuums: m.vacuums,
        analyzes: m.analyzes,
        vacuum_s: m.vacuum_s.into(),
        analyze_s: m.analyze_s.into(),
        tuples_removed: m.tuples_removed,
        pages_removed: m.pages_removed,
        aggressive: m.aggressive,
        wraparound: m.wraparound,
        usage: m.usage.clone(),
    }
}

pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn time(t: Option<i64>) -> Option<String> {
    t.map(rfc3339)
}

fn fp_hex(f: u64) -> String {
    format!("{f:016x}")
}

pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn plan_report(p: &PlanSample, l: &crate::stats::Limits) -> PlanReport {
    PlanReport {
        time: time(p.time_ms),
        duration_ms: p.duration_ms,
        format: p.format.clone(),
        user: p.user.clone(),
        database: p.database.clone(),
        plan: p.plan.clone(),
        params: p.params.clone(),
        query_id: p.query_id,
        logged_chars: p.logged_chars,
        cut: crate::stats::plans::cut_note(p, l),
    }
}

fn sample_report(s: &Sample) -> SampleReport {
    SampleReport {
        time: time(s.time_ms),
        duration_ms: s.duration_ms,
        user: s.user.clone(),
        database: s.database.clone(),
        application: s.application.clone(),
        query: s.text.clone(),
        params: s.params.clone(),
    }
}

fn query_report(fp: u64, q: &QueryStats, all_ms: f64, l: &crate::stats::Limits) -> QueryReport {
    let pct = |p: f64| round3(q.sketch.quantile(p).unwrap_or(0.0));
    QueryReport {
        fingerprint: fp_hex(fp),
        normalized: q.normalized.clone(),
        parse_failed: q.parse_failed,
        parse_skipped: q.parse_skipped.clone(),
        calls: q.calls,
        total_ms: ms(q.total_us),
        min_ms: q.min_ms,
        max_ms: q.max_ms,
        mean_ms: if q.calls > 0 {
            round3(ms(q.total_us) / q.calls as f64)
        } else {
            0.0
        },
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        time_share: if all_ms > 0.0 {
            round3(ms(q.total_us) / all_ms * 1000.0) / 1000.0
        } else {
            0.0
        },
        by_user: q.by_user.clone(),
        by_database: q.by_database.clone(),
        by_application: q.by_application.clone(),
        by_user_database: q.by_user_database.clone(),
        hours: q
            .hours
            .iter()
            .map(|(h, c)| HourReport {
                hour: rfc3339(*h),
                calls: c.calls,
                total_ms: ms(c.total_us),
            })
            .collect(),
        parse: (&q.parse).into(),
        bind: (&q.bind).into(),
        temp_files: q.temp_files,
        temp_bytes: q.temp_bytes,
        lock_waits: q.lock_waits,
        lock_wait_ms: ms(q.lock_wait_us),
        errors: q.errors,
        cancels: q.cancels,
        first_seen: time(q.first_ms),
        last_seen: time(q.last_ms),
        samples: q.samples.iter().map(sample_report).collect(),
        plans: q.plans.iter().map(|p| plan_report(p, l)).collect(),
        baseline: None,
    }
}

/// Decade buckets for the duration histogram.
const LATENCY_BUCKETS_MS: &[f64] = &[0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0, 60_000.0];

fn latency_report(s: &Sketch, total_ms: f64) -> LatencyReport {
    let mut histogram = Vec::new();
    let mut below = 0;
    for &le in LATENCY_BUCKETS_MS {
        let n = s.count_at_most(le);
        histogram.push(Bucket {
            le_ms: Some(le),
            count: n - below,
        });
        below = n;
    }
    histogram.push(Bucket {
        le_ms: None,
        count: s.count() - below,
    });
    LatencyReport {
        count: s.count(),
        total_ms: round3(total_ms),
        p50_ms: s.quantile(0.5).map(round3),
        p95_ms: s.quantile(0.95).map(round3),
        p99_ms: s.quantile(0.99).map(round3),
        max_ms: s.quantile(1.0),
        relative_error: RELATIVE_ERROR,
        histogram,
    }
}

fn top_queries(stats: &Stats, metric: impl Fn(&QueryStats) -> (u64, f64)) -> Vec<QueryRef> {
    let mut v: Vec<QueryRef> = stats
        .queries
        .by_fingerprint
        .iter()
        .filter_map(|(fp, q)| {
            let (count, value) = metric(q);
            (count > 0).then(|| QueryRef {
                fingerprint: fp_hex(*fp),
                normalized: q.normalized.clone(),
                count,
                value,
            })
        })
        .collect();
    v.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then(b.count.cmp(&a.count))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    v.truncate(TOP);
    v
}

fn checkpoints_report(c: &CheckpointStats) -> CheckpointsReport {
    CheckpointsReport {
        by_cause: c.by_cause.clone(),
        completed: c.completed,
        write_s: c.write_s.into(),
        sync_s: c.sync_s.into(),
        total_s: c.total_s.into(),
        distance_kb: c.distance_kb.into(),
        buffers_written: c.buffers_written.into(),
        wal_added: c.wal_added,
        wal_removed: c.wal_removed,
        wal_recycled: c.wal_recycled,
        too_frequent_warnings: c.too_frequent_warnings,
        by_hour: hour_values(&c.by_hour),
    }
}

fn hour_values(m: &BTreeMap<i64, u64>) -> Vec<HourValue> {
    m.iter()
        .map(|(h, v)| HourValue {
            hour: rfc3339(*h),
            value: *v,
        })
        .collect()
}

fn deadlock_report(d: &DeadlockSample) -> DeadlockReport {
    DeadlockReport {
        time: time(d.time_ms),
        sides: d.sides.clone(),
    }
}

impl Sections {
    pub fn build(stats: &Stats) -> Sections {
        // Totals saturate (see totals::add_to), so their sum does too.
        let all_ms = ms(stats
            .queries
            .by_fingerprint
            .values()
            .map(|q| q.total_us)
            .fold(stats.queries.other.total_us, u64::saturating_add));
        let mut queries: Vec<QueryReport> = stats
            .queries
            .by_fingerprint
            .iter()
            .filter(|(_, q)| {
                q.calls > 0 || q.parse.count > 0 || q.bind.count > 0 || !q.plans.is_empty()
            })
            .map(|(fp, q)| query_report(*fp, q, all_ms, &stats.limits))
            .collect();
        queries.sort_by(|a, b| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then(b.calls.cmp(&a.calls))
                .then(a.fingerprint.cmp(&b.fingerprint))
        });
        let e = &stats.errors;
        let mut by_sqlstate: Vec<SqlStateCount> = e
            .by_sqlstate
            .iter()
            .map(|(k, v)| SqlStateCount {
                sqlstate: k.clone(),
                class: if k.len() == 5 {
                    k[..2].to_string()
                } else {
                    "unknown".into()
                },
                count: *v,
            })
            .collect();
        by_sqlstate.sort_by(|a, b| b.count.cmp(&a.count).then(a.sqlstate.cmp(&b.sqlstate)));
        let mut messages: Vec<ErrorMessageReport> = e
            .messages
            .iter()
            .map(|(k, m)| ErrorMessageReport {
                message: k.clone(),
                count: m.count,
                severity: m.severity.clone(),
                sqlstate: m.sqlstate.clone(),
                error_class: message_class(m).class.to_string(),
                error_kind: message_class(m).kind.map(str::to_string),
                first_seen: time(m.first_ms),
                last_seen: time(m.last_ms),
                sample: ErrorSampleReport {
                    time: time(m.sample.time_ms),
                    message: m.sample.message.clone(),
                    detail: m.sample.detail.clone(),
                    statement: m.sample.statement.clone(),
                    user: m.sample.user.clone(),
                    database: m.sample.database.clone(),
                },
                baseline: None,
            })
            .collect();
        messages.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
        let l = &stats.locks;
        let t = &stats.temp;
        let s = &stats.sessions;
        let (peak, peak_at) = s.peak();
        let mut autovacuum: Vec<TableMaintenanceReport> = stats
            .maintenance
            .iter()
            .map(|(table, m)| maintenance_report(table, m))
            .collect();
        autovacuum.sort_by(|a, b| {
            (b.vacuum_s.sum + b.analyze_s.sum)
                .total_cmp(&(a.vacuum_s.sum + a.analyze_s.sum))
                .then(
                    // Counts saturate (totals::add_to), so their sums do too.
                    (b.vacuums.saturating_add(b.analyzes))
                        .cmp(&a.vacuums.saturating_add(a.analyzes)),
                )
                .then(a.table.cmp(&b.table))
        });
        let mut histogram: Vec<SessionBucket> = SESSION_BUCKETS_S
            .iter()
            .map(|&le| SessionBucket {
                le_s: Some(le),
                count: 0,
            })
            .chain(std::iter::once(SessionBucket {
                le_s: None,
                count: 0,
            }))
            .collect();
        for (i, n) in s.duration_histogram.iter().enumerate() {
            histogram[i].count = *n;
        }
        Sections {
            incidents: crate::incidents::incidents(stats),
            latency: latency_report(&stats.latency, all_ms),
            queries,
            other_queries: OtherQueries {
                queries: stats.queries.evicted,
                calls: stats.queries.other.calls,
                total_ms: ms(stats.queries.other.total_us),
                own_queries: stats.queries.own_queries,
                prepares: stats.queries.prepares,
            },
            unattributed_plans: stats
                .unattributed_plans
                .iter()
                .map(|p| plan_report(p, &stats.limits))
                .collect(),
            plans: plan_analyses(stats),
            errors: ErrorsReport {
                total: e.total,
                by_severity: e.by_severity.clone(),
                by_sqlstate,
                by_class: e.by_class.clone(),
                by_error_class: error_class_counts(e),
                constraint_violations: constraint_violations(e),
                messages,
                other_messages: e.other_messages,
                by_hour: e
                    .by_hour
                    .iter()
                    .map(|(h, m)| HourSeverities {
                        hour: rfc3339(*h),
                        severities: m.clone(),
                    })
                    .collect(),
            },
            locks: LocksReport {
                waits: l.total.waits,
                acquired: l.total.acquired,
                wait_ms: ms(l.total.wait_us),
                by_mode: l
                    .by_mode
                    .iter()
                    .map(|(k, c)| (k.clone(), c.into()))
                    .collect(),
                by_object: l
                    .by_object
                    .iter()
                    .map(|(k, c)| (k.clone(), c.into()))
                    .collect(),
                by_query: top_queries(stats, |q| (q.lock_waits, ms(q.lock_wait_us))),
                deadlocks: l.deadlocks,
                deadlock_samples: l.deadlock_samples.iter().map(deadlock_report).collect(),
            },
            temp_files: TempFilesReport {
                files: t.files,
                bytes: t.bytes,
                max_file_bytes: t.max_file_bytes,
                by_query: top_queries(stats, |q| (q.temp_files, q.temp_bytes as f64)),
                unattributed_files: t.unattributed_files,
                unattributed_bytes: t.unattributed_bytes,
                by_hour: hour_values(&t.bytes_by_hour),
            },
            checkpoints: checkpoints_report(&stats.checkpoints),
            restartpoints: checkpoints_report(&stats.restartpoints),
            autovacuum,
            sessions: SessionsReport {
                connections: s.connections,
                received: s.received,
                disconnections: s.disconnections,
                by_user: s.by_user.clone(),
                by_database: s.by_database.clone(),
                by_application: s.by_application.clone(),
                by_host: s.by_host.clone(),
                peak_sessions: peak,
                peak_at: time(peak_at),
                session_ms: s.session_ms.into(),
                setup_ms: s.setup_ms.into(),
                open_by_minute: s
                    .open_by_minute()
                    .into_iter()
                    .map(|(m, count)| MinuteCount {
                        minute: rfc3339(m),
                        count,
                    })
                    .collect(),
                duration_histogram: histogram,
            },
            auth_failures: stats.auth.clone(),
            cancellations: stats.misc.cancels.clone(),
            audit: stats.misc.audit.clone(),
            minutes: stats
                .minutes
                .iter()
                .map(|(m, c)| MinuteReport {
                    minute: rfc3339(*m),
                    queries: c.queries,
                    queries_per_s: round3(c.queries as f64 / 60.0),
                    mean_ms: (c.queries > 0).then(|| round3(ms(c.query_us) / c.queries as f64)),
                    p95_ms: c.latency.quantile(0.95).map(round3),
                    errors: c.errors,
                    errors_per_s: round3(c.errors as f64 / 60.0),
                    connections: c.connections,
                    temp_bytes: c.temp_bytes,
                    checkpoints: c.checkpoints,
                })
                .collect(),
            timeline: crate::timeline::Timeline::build(stats, &s.open_by_minute()),
            pgbouncer: crate::pgbouncer::PgbouncerReport::build(&stats.pgbouncer),
            events: crate::event_details::EventSections::build(stats),
            server: crate::server::ServerReport::build(&stats.server),
        }
    }
}

/// The class of an error message group, from its code and sample.
fn message_class(m: &ErrorMessage) -> error_class::ErrorClass {
    let code = m
        .sqlstate
        .as_deref()
        .and_then(|c| pglog_logparse::SqlState::parse(c.as_bytes()));
    error_class::classify(code, &m.sample.message).0
}

fn error_class_counts(e: &ErrorStats) -> Vec<ErrorClassCount> {
    let mut v: Vec<ErrorClassCount> = e
        .by_error_class
        .iter()
        .map(|(k, n)| {
            let (class, kind) = match k.split_once('/') {
                Some((c, k)) => (c, Some(k.to_string())),
                None => (k.as_str(), None),
            };
            ErrorClassCount {
                class: class.to_string(),
                kind,
                count: *n,
            }
        })
        .collect();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.class, &a.kind).cmp(&(&b.class, &b.kind)))
    });
    v
}

fn constraint_violations(e: &ErrorStats) -> Vec<ConstraintViolationReport> {
    let mut v: Vec<ConstraintViolationReport> = e
        .constraint_violations
        .values()
        .map(|c| ConstraintViolationReport {
            kind: c.kind.clone(),
            constraint: c.constraint.clone(),
            relation: c.relation.clone(),
            column: c.column.clone(),
            count: c.count,
        })
        .collect();
    v.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| {
            (&a.kind, &a.constraint, &a.relation, &a.column).cmp(&(
                &b.kind,
                &b.constraint,
                &b.relation,
                &b.column,
            ))
        })
    });
    v
}
