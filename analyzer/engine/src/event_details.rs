//! The report's sections of event details, from [`EventStats`]: wraparound
//! by database, vacuum's skips and autovacuum's workers, lock events by
//! lock type, transaction-state errors, and the most frequent messages left
//! as `other`.

use crate::report::rfc3339;
use crate::sections::LockCellReport;
use crate::stats::events::{EventStats, ManualCell, NotAvailableCell, SkipCell, WraparoundCell};
use crate::stats::Stats;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EventSections {
    pub wraparound: WraparoundReport,
    pub vacuum_events: VacuumEventsReport,
    pub lock_events: LockEventsReport,
    pub transaction_state: TransactionStateReport,
    pub other_events: OtherEventsReport,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WraparoundReport {
    /// `must be vacuumed within N transactions` (and the MultiXactId form).
    pub warnings: u64,
    /// `database is not accepting commands to avoid wraparound data loss`.
    pub refusals: u64,
    /// `oldest xmin is far in the past`: a transaction, prepared
    /// transaction or replication slot holds vacuum back.
    pub oldest_xmin_warnings: u64,
    pub oldest_multixact_warnings: u64,
    /// `bypassing nonessential maintenance of table ... as a failsafe`.
    pub failsafe_vacuums: u64,
    /// Failsafe vacuums by the table's database.
    pub failsafe_by_database: BTreeMap<String, u64>,
    /// The databases named, those refusing commands first, then by the
    /// fewest IDs left.
    pub by_database: Vec<WraparoundDatabase>,
    /// Records whose database was beyond the kept distinct ones.
    pub databases_folded: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WraparoundDatabase {
    /// Its name; `null` when the server named it by OID only.
    pub database: Option<String>,
    pub database_oid: Option<u32>,
    /// MultiXactId wraparound rather than transaction ID wraparound.
    pub multixact: bool,
    pub warnings: u64,
    pub refusals: u64,
    /// The fewest IDs left that a warning named.
    pub min_remaining: Option<u64>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VacuumEventsReport {
    /// `skipping vacuum/analyze of "t" --- lock not available` (or
    /// `relation no longer exists`), by relation.
    pub skipped: BTreeMap<String, SkipCell>,
    /// `autovacuum: dropping orphan temp table`, by table.
    pub orphan_temp_tables_dropped: BTreeMap<String, u64>,
    /// `relation "t" page N is uninitialized --- fixing`, by relation.
    pub uninitialized_pages: BTreeMap<String, u64>,
    /// VACUUM VERBOSE / ANALYZE VERBOSE, by table.
    pub manual: BTreeMap<String, ManualCell>,
    /// Autovacuum workers ended by pg_terminate_backend().
    pub autovacuum_terminated: u64,
    /// `autovacuum worker took too long to start; canceled`.
    pub autovacuum_worker_timeouts: u64,
    /// `sending cancel to blocking autovacuum PID N` (DEBUG1).
    pub autovacuum_cancel_requests: u64,
    /// `autovacuum launcher started` / `shutting down` (DEBUG1).
    pub launcher_started: u64,
    pub launcher_stopped: u64,
    /// Records whose relation was beyond the kept distinct ones (of each map).
    pub names_folded: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LockEventsReport {
    /// `avoided deadlock ... by rearranging queue order`.
    pub deadlocks_avoided: u64,
    /// `detected deadlock while waiting for ...`.
    pub deadlocks_while_waiting: u64,
    /// Lock waits by `pg_locks.locktype` (advisory, tuple, transactionid, ...).
    pub by_lock_type: BTreeMap<String, LockCellReport>,
    /// `could not obtain lock on (row in) relation "t"` (55P03), by relation.
    pub not_available: BTreeMap<String, NotAvailableCell>,
    /// Records whose relation was beyond the kept distinct ones.
    pub names_folded: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TransactionStateReport {
    /// `current transaction is aborted, commands ignored until end of
    /// transaction block` (25P02): statements sent after an error.
    pub aborted: u64,
    pub aborted_by_application: BTreeMap<String, u64>,
    /// `there is no transaction in progress` (25P01).
    pub no_transaction_in_progress: u64,
    /// `there is already a transaction in progress` (25001).
    pub already_in_progress: u64,
    /// `prepared statement "x" does not exist`, by name (`<unnamed>`).
    pub prepared_statements_missing: BTreeMap<String, u64>,
    pub prepared_statements_existing: BTreeMap<String, u64>,
    /// `cursor "x" does not exist` / `portal "x" does not exist`, by name.
    pub cursors_missing: BTreeMap<String, u64>,
    pub cursors_existing: BTreeMap<String, u64>,
    /// `nonstandard use of \' in a string literal`, by escape (quote,
    /// backslash, escape).
    pub nonstandard_string_escapes: BTreeMap<String, u64>,
    /// Records whose name (or application) was beyond the kept distinct ones.
    pub names_folded: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OtherEventsReport {
    /// Records of kind `other` (as in `summary.events`).
    pub records: u64,
    /// Their share of all records, 0..1.
    pub share: f64,
    /// By message with numbers and quoted names blanked, most frequent first.
    pub messages: Vec<OtherMessageReport>,
    /// Records whose message was beyond the kept distinct ones.
    pub folded: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OtherMessageReport {
    pub message: String,
    pub count: u64,
    pub severity: String,
    pub first_seen: Option<String>,
    /// The earliest occurrence as logged.
    pub example: String,
}

impl EventSections {
    pub fn build(stats: &Stats) -> EventSections {
        let e = &stats.events;
        EventSections {
            wraparound: wraparound_report(e),
            vacuum_events: vacuum_report(e),
            lock_events: LockEventsReport {
                deadlocks_avoided: e.locks.deadlocks_avoided,
                deadlocks_while_waiting: e.locks.deadlocks_while_waiting,
                by_lock_type: e
                    .locks
                    .by_lock_type
                    .iter()
                    .map(|(k, c)| (k.clone(), c.into()))
                    .collect(),
                not_available: e.locks.not_available.clone(),
                names_folded: e.locks.folded,
            },
            transaction_state: transaction_report(e),
            other_events: other_report(e, stats.summary.records),
        }
    }
}

fn wraparound_report(e: &EventStats) -> WraparoundReport {
    let w = &e.wraparound;
    let sum =
        |f: fn(&WraparoundCell) -> u64| w.by_database.values().map(f).fold(0, u64::saturating_add);
    let mut by_database: Vec<WraparoundDatabase> = w
        .by_database
        .values()
        .map(|c| WraparoundDatabase {
            database: c.database.clone(),
            database_oid: c.database_oid,
            multixact: c.multixact,
            warnings: c.warnings,
            refusals: c.refusals,
            min_remaining: c.min_remaining,
            first_seen: c.first_ms.map(rfc3339),
            last_seen: c.last_ms.map(rfc3339),
        })
        .collect();
    by_database.sort_by(|a, b| {
        b.refusals
            .cmp(&a.refusals)
            .then(
                a.min_remaining
                    .unwrap_or(u64::MAX)
                    .cmp(&b.min_remaining.unwrap_or(u64::MAX)),
            )
            .then(a.database.cmp(&b.database))
            .then(a.database_oid.cmp(&b.database_oid))
            .then(a.multixact.cmp(&b.multixact))
    });
    WraparoundReport {
        warnings: sum(|c| c.warnings),
        refusals: sum(|c| c.refusals),
        oldest_xmin_warnings: w.oldest_xmin_warnings,
        oldest_multixact_warnings: w.oldest_multixact_warnings,
        failsafe_vacuums: w.failsafe_vacuums,
        failsafe_by_database: w.failsafe_by_database.clone(),
        by_database,
        databases_folded: w.folded,
    }
}

fn vacuum_report(e: &EventStats) -> VacuumEventsReport {
    let v = &e.vacuum;
    VacuumEventsReport {
        skipped: v.skipped.clone(),
        orphan_temp_tables_dropped: v.orphan_temp_tables.clone(),
        uninitialized_pages: v.uninitialized_pages.clone(),
        manual: v.manual.clone(),
        autovacuum_terminated: v.autovacuum_terminated,
        autovacuum_worker_timeouts: v.autovacuum_worker_timeouts,
        autovacuum_cancel_requests: v.autovacuum_cancel_requests,
        launcher_started: v.launcher_started,
        launcher_stopped: v.launcher_stopped,
        names_folded: v.folded,
    }
}

fn transaction_report(e: &EventStats) -> TransactionStateReport {
    let t = &e.transactions;
    TransactionStateReport {
        aborted: t.aborted,
        aborted_by_application: t.aborted_by_application.clone(),
        no_transaction_in_progress: t.no_transaction,
        already_in_progress: t.already_in_progress,
        prepared_statements_missing: t.prepared_missing.clone(),
        prepared_statements_existing: t.prepared_exists.clone(),
        cursors_missing: t.cursors_missing.clone(),
        cursors_existing: t.cursors_exist.clone(),
        nonstandard_string_escapes: t.nonstandard_escapes.clone(),
        names_folded: t.folded,
    }
}

fn other_report(e: &EventStats, records: u64) -> OtherEventsReport {
    let o = &e.other;
    let mut messages: Vec<OtherMessageReport> = o
        .messages
        .iter()
        .map(|(k, m)| OtherMessageReport {
            message: k.clone(),
            count: m.count,
            severity: m.severity.clone(),
            first_seen: m.first_ms.map(rfc3339),
            example: m.example.clone(),
        })
        .collect();
    messages.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
    OtherEventsReport {
        records: o.records,
        share: if records > 0 {
            (o.records as f64 / records as f64 * 1e6).round() / 1e6
        } else {
            0.0
        },
        messages,
        folded: o.folded,
    }
}
