//! The report's sections of event details, from [`EventStats`]: wraparound
//! by database, vacuum's skips and autovacuum's workers, lock events by
//! lock type, transaction-state errors, and the most frequent messages left
//! as `other`.

use crate::report_cells::LockCellReport;
use crate::stats::events::{
    EventStats, NotAvailableCell, TransactionStateStats, VacuumEventStats, WraparoundCell,
};
use crate::stats::Stats;
use crate::time_text::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EventSections {
    pub wraparound: WraparoundReport,
    pub vacuum_events: VacuumEventStats,
    pub lock_events: LockEventsReport,
    pub transaction_state: TransactionStateStats,
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
            vacuum_events: e.vacuum.clone(),
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
            transaction_state: e.transactions.clone(),
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
