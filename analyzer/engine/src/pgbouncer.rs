//! The report's `pgbouncer` section, computed from
//! [`PgbouncerStats`]: present when a pgbouncer log was read.

use crate::report_cells::SessionBucket;
use crate::stats::activity::SESSION_BUCKETS_S;
use crate::stats::pgbouncer::{Ages, PgbouncerStats, StatsMinute, Who};
use crate::time_text::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PgbouncerReport {
    /// pgbouncer log lines read.
    pub lines: u64,
    /// Lines by level (`LOG`, `WARNING`, `ERROR`, `FATAL`, `DEBUG`,
    /// `NOISE`); syslog lines carry none.
    pub by_level: BTreeMap<String, u64>,
    pub first_timestamp: Option<String>,
    pub last_timestamp: Option<String>,
    /// `login attempt` lines (log_connections), by the database and user asked for.
    pub logins: PgbouncerCounts,
    /// Clients closed during their login (wrong password, unknown
    /// database or user, login timeout, ...), by the client's socket.
    pub login_failures: PgbouncerCounts,
    pub login_failure_reasons: BTreeMap<String, u64>,
    /// Clients closed after their login (log_disconnections).
    pub sessions: PgbouncerCounts,
    /// Session durations from `closing because: ... (age=Ns)`.
    pub session_s: AgesReport,
    /// Why sessions were closed (`client close request`, ...).
    pub close_reasons: BTreeMap<String, u64>,
    /// `new connection to server`, by the pool's database and user and the server host.
    pub server_connections: PgbouncerCounts,
    pub server_closes: u64,
    pub server_close_reasons: BTreeMap<String, u64>,
    pub server_s: AgesReport,
    /// `pooler error:` lines: errors pgbouncer sent to clients.
    pub pooler_errors: u64,
    /// WARNING, ERROR and FATAL lines (and pooler errors) by message with
    /// numbers and quoted values blanked, most frequent first.
    pub messages: Vec<PgbouncerMessageReport>,
    /// Lines of messages past the kept ones.
    pub other_messages: u64,
    /// The `stats:` lines summed: each line's rates times the period it covers.
    pub stats: PgbouncerTotals,
    /// The `stats:` lines by minute.
    pub minutes: Vec<PgbouncerMinute>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PgbouncerCounts {
    pub total: u64,
    pub by_database: BTreeMap<String, u64>,
    pub by_user: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgesReport {
    pub count: u64,
    pub total_s: u64,
    pub mean_s: Option<f64>,
    pub max_s: Option<u64>,
    pub histogram: Vec<SessionBucket>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PgbouncerMessageReport {
    pub message: String,
    pub level: String,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The earliest one as logged, with its socket.
    pub sample: String,
}

/// Totals from `stats:` lines. pgbouncer prints whole rates per second
/// (truncated) over each `stats_period`, so the counts here are within
/// one per second covered of its own `SHOW STATS` totals.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PgbouncerTotals {
    pub lines: u64,
    /// Seconds the lines cover.
    pub covered_s: f64,
    pub xacts: u64,
    pub queries: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Mean transaction and query times, µs, weighted by their counts.
    pub avg_xact_us: Option<f64>,
    pub avg_query_us: Option<f64>,
    /// Client wait time per second, µs, over the time covered.
    pub wait_us_per_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PgbouncerMinute {
    pub minute: String,
    #[serde(flatten)]
    pub totals: PgbouncerTotals,
    pub xacts_per_s: Option<f64>,
    pub queries_per_s: Option<f64>,
    pub bytes_in_per_s: Option<f64>,
    pub bytes_out_per_s: Option<f64>,
}

fn counts(w: &Who) -> PgbouncerCounts {
    PgbouncerCounts {
        total: w.total,
        by_database: w.by_database.clone(),
        by_user: w.by_user.clone(),
        by_host: w.by_host.clone(),
    }
}

fn ages(a: &Ages) -> AgesReport {
    let mut histogram: Vec<SessionBucket> = SESSION_BUCKETS_S
        .iter()
        .map(|&le| Some(le))
        .chain(std::iter::once(None))
        .map(|le_s| SessionBucket { le_s, count: 0 })
        .collect();
    for (b, n) in histogram.iter_mut().zip(&a.histogram) {
        b.count = *n;
    }
    AgesReport {
        count: a.count,
        total_s: a.sum_s,
        mean_s: (a.count > 0).then(|| round3(a.sum_s as f64 / a.count as f64)),
        max_s: (a.count > 0).then_some(a.max_s),
        histogram,
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| round3(num as f64 / den as f64))
}

fn totals(m: &StatsMinute) -> PgbouncerTotals {
    PgbouncerTotals {
        lines: m.lines,
        covered_s: round3(m.covered_ms as f64 / 1000.0),
        xacts: m.xacts,
        queries: m.queries,
        bytes_in: m.bytes_in,
        bytes_out: m.bytes_out,
        avg_xact_us: ratio(m.xact_us_weighted, m.xacts),
        avg_query_us: ratio(m.query_us_weighted, m.queries),
        wait_us_per_s: per_s(m.wait_us, m.covered_ms),
    }
}

/// A total over `covered_ms` per second.
fn per_s(total: u64, covered_ms: u64) -> Option<f64> {
    (covered_ms > 0).then(|| round3(total as f64 * 1000.0 / covered_ms as f64))
}

impl PgbouncerReport {
    /// `None` when no pgbouncer line was read.
    pub fn build(p: &PgbouncerStats) -> Option<PgbouncerReport> {
        if p.lines == 0 {
            return None;
        }
        let mut all = StatsMinute::default();
        for m in p.minutes.values() {
            all.merge(m);
        }
        let mut messages: Vec<PgbouncerMessageReport> = p
            .messages
            .iter()
            .map(|(k, m)| PgbouncerMessageReport {
                message: k.clone(),
                level: m.level.clone(),
                count: m.count,
                first_seen: m.first_ms.map(rfc3339),
                last_seen: m.last_ms.map(rfc3339),
                sample: m.sample.clone(),
            })
            .collect();
        messages.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
        Some(PgbouncerReport {
            lines: p.lines,
            by_level: p.by_level.clone(),
            first_timestamp: p.first_ms.map(rfc3339),
            last_timestamp: p.last_ms.map(rfc3339),
            logins: counts(&p.logins),
            login_failures: counts(&p.login_failures),
            login_failure_reasons: p.login_failure_reasons.clone(),
            sessions: counts(&p.sessions),
            session_s: ages(&p.session_s),
            close_reasons: p.close_reasons.clone(),
            server_connections: counts(&p.server_connections),
            server_closes: p.server_closes,
            server_close_reasons: p.server_close_reasons.clone(),
            server_s: ages(&p.server_s),
            pooler_errors: p.pooler_errors,
            messages,
            other_messages: p.other_messages,
            stats: totals(&all),
            minutes: p
                .minutes
                .iter()
                .map(|(t, m)| PgbouncerMinute {
                    minute: rfc3339(*t),
                    totals: totals(m),
                    xacts_per_s: per_s(m.xacts, m.covered_ms),
                    queries_per_s: per_s(m.queries, m.covered_ms),
                    bytes_in_per_s: per_s(m.bytes_in, m.covered_ms),
                    bytes_out_per_s: per_s(m.bytes_out, m.covered_ms),
                })
                .collect(),
        })
    }
}
