//! The details of event kinds beyond their counts in `summary.events`:
//! wraparound by database, vacuum's skips and warnings, autovacuum worker
//! events, lock events by lock type, transaction-state errors, and the
//! messages the classifier left as `other`, grouped so that gaps show.
//! Every map that a log can grow without bound (tables, names, messages)
//! is capped; what does not fit is counted in `folded`.

use super::{bump, keep_text, merge_counts, normalize_message, Limits};
use crate::stats::activity::LockCell;
use crate::text::head_chars;
use crate::totals::add_to;
use pglog_logparse::classify::maintenance::Wraparound;
use pglog_logparse::{Event, EventKind, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventStats {
    pub wraparound: WraparoundStats,
    pub vacuum: VacuumEventStats,
    pub locks: LockEventStats,
    pub transactions: TransactionStateStats,
    pub other: OtherMessages,
}

/// Wraparound warnings and refusals of one database, for XIDs or MultiXactIds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WraparoundCell {
    pub database: Option<String>,
    pub database_oid: Option<u32>,
    pub multixact: bool,
    pub warnings: u64,
    pub refusals: u64,
    /// The fewest IDs left that a warning named.
    pub min_remaining: Option<u64>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WraparoundStats {
    /// Keyed by `xid:NAME`, `xid:oid N`, `multixact:NAME`, ...
    pub by_database: BTreeMap<String, WraparoundCell>,
    pub oldest_xmin_warnings: u64,
    pub oldest_multixact_warnings: u64,
    pub failsafe_vacuums: u64,
    /// By the vacuumed table's database (`db` of `db.schema.table`).
    pub failsafe_by_database: BTreeMap<String, u64>,
    /// Records whose database was left out of the capped maps above.
    pub folded: u64,
}

/// Skipped VACUUM/ANALYZE of one relation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkipCell {
    pub vacuum: u64,
    pub analyze: u64,
    /// Logged by autovacuum (LOG) rather than by a VACUUM/ANALYZE (WARNING).
    pub autovacuum: u64,
    pub lock_not_available: u64,
    pub relation_gone: u64,
}

/// VACUUM VERBOSE / ANALYZE VERBOSE lines of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ManualCell {
    pub vacuums_started: u64,
    pub vacuums_finished: u64,
    pub tuples_removed: u64,
    pub analyzes: u64,
}

/// Shown in the report as it is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VacuumEventStats {
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

/// NOWAIT failures on one relation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NotAvailableCell {
    /// `could not obtain lock on row in relation`.
    pub row: u64,
    /// `could not obtain lock on relation`.
    pub relation: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockEventStats {
    pub deadlocks_avoided: u64,
    pub deadlocks_while_waiting: u64,
    /// Waits by `pg_locks.locktype` (advisory, tuple, transactionid, ...).
    pub by_lock_type: BTreeMap<String, LockCell>,
    pub not_available: BTreeMap<String, NotAvailableCell>,
    /// Relations left out of the capped map above.
    pub folded: u64,
}

/// Shown in the report as it is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TransactionStateStats {
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

/// One message the classifier did not know, with its values blanked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherMessage {
    pub count: u64,
    pub severity: String,
    pub first_ms: Option<i64>,
    /// The earliest occurrence's message as logged.
    pub example: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtherMessages {
    pub records: u64,
    /// Keyed by the message with numbers and quoted names blanked.
    pub messages: BTreeMap<String, OtherMessage>,
    /// Records whose message was not kept (over the cap of distinct ones).
    pub folded: u64,
}

impl EventStats {
    pub fn add(&mut self, e: &Event, time: Option<i64>, l: &Limits) {
        let cap = l.breakdown;
        match &e.kind {
            EventKind::WraparoundWarning(w) => self.wraparound.add(w, false, time, cap),
            EventKind::WraparoundRefusal(w) => self.wraparound.add(w, true, time, cap),
            EventKind::OldestXminFarInPast { multixact: false } => {
                self.wraparound.oldest_xmin_warnings += 1
            }
            EventKind::OldestXminFarInPast { multixact: true } => {
                self.wraparound.oldest_multixact_warnings += 1
            }
            EventKind::VacuumFailsafe { table, .. } => {
                self.wraparound.failsafe_vacuums += 1;
                let w = &mut self.wraparound;
                let db = table.split('.').next().unwrap_or(table);
                bump_capped(&mut w.failsafe_by_database, db, 1, cap, &mut w.folded);
            }
            EventKind::VacuumSkipped(s) => {
                let v = &mut self.vacuum;
                let Some(c) =
                    entry_capped(&mut v.skipped, &s.relation, cap, (&mut v.names_folded, 1))
                else {
                    return;
                };
                if s.analyze {
                    c.analyze += 1;
                } else {
                    c.vacuum += 1;
                }
                c.autovacuum += u64::from(e.record.severity == Severity::Log);
                match s.reason {
                    "relation_gone" => c.relation_gone += 1,
                    _ => c.lock_not_available += 1,
                }
            }
            EventKind::OrphanTempTableDropped { table } => {
                let v = &mut self.vacuum;
                bump_capped(
                    &mut v.orphan_temp_tables_dropped,
                    table,
                    1,
                    cap,
                    &mut v.names_folded,
                )
            }
            EventKind::PageUninitialized { relation, .. } => {
                let v = &mut self.vacuum;
                bump_capped(
                    &mut v.uninitialized_pages,
                    relation,
                    1,
                    cap,
                    &mut v.names_folded,
                )
            }
            EventKind::AutovacuumTerminated => self.vacuum.autovacuum_terminated += 1,
            EventKind::AutovacuumWorkerTimeout => self.vacuum.autovacuum_worker_timeouts += 1,
            EventKind::AutovacuumCancelRequested { .. } => {
                self.vacuum.autovacuum_cancel_requests += 1
            }
            EventKind::AutovacuumLauncherStarted => self.vacuum.launcher_started += 1,
            EventKind::AutovacuumLauncherStopped => self.vacuum.launcher_stopped += 1,
            EventKind::VacuumStart { table, .. } => {
                let v = &mut self.vacuum;
                if let Some(c) = entry_capped(&mut v.manual, table, cap, (&mut v.names_folded, 1)) {
                    c.vacuums_started += 1;
                }
            }
            EventKind::VacuumFinish(m) => {
                let v = &mut self.vacuum;
                if let Some(c) =
                    entry_capped(&mut v.manual, &m.table, cap, (&mut v.names_folded, 1))
                {
                    c.vacuums_finished += 1;
                    add_to(&mut c.tuples_removed, m.tuples_removed.unwrap_or(0));
                }
            }
            // `analyzing "public.t"`: ANALYZE VERBOSE names no database.
            EventKind::AnalyzeStart { table } => {
                let v = &mut self.vacuum;
                if let Some(c) = entry_capped(&mut v.manual, table, cap, (&mut v.names_folded, 1)) {
                    c.analyzes += 1;
                }
            }
            EventKind::LockWait(w) => {
                lock_cell(&mut self.locks.by_lock_type, w.lock.lock_type).waits += 1
            }
            EventKind::LockAcquired(w) => {
                let c = lock_cell(&mut self.locks.by_lock_type, w.lock.lock_type);
                c.acquired += 1;
                add_to(
                    &mut c.wait_us,
                    super::queries::micros(w.wait_ms.unwrap_or(0.0)),
                );
            }
            EventKind::DeadlockAvoided(_) => self.locks.deadlocks_avoided += 1,
            EventKind::DeadlockWhileWaiting(_) => self.locks.deadlocks_while_waiting += 1,
            EventKind::LockNotAvailable { relation, row } => {
                let lk = &mut self.locks;
                if let Some(c) =
                    entry_capped(&mut lk.not_available, relation, cap, (&mut lk.folded, 1))
                {
                    if *row {
                        c.row += 1;
                    } else {
                        c.relation += 1;
                    }
                }
            }
            EventKind::TransactionAborted => {
                let t = &mut self.transactions;
                t.aborted += 1;
                let app = e.record.application.as_deref().unwrap_or("");
                bump_capped(
                    &mut t.aborted_by_application,
                    app,
                    1,
                    cap,
                    &mut t.names_folded,
                );
            }
            EventKind::NoTransactionInProgress => self.transactions.no_transaction_in_progress += 1,
            EventKind::TransactionAlreadyInProgress => self.transactions.already_in_progress += 1,
            EventKind::PreparedStatementMissing { name } => {
                let n = name.as_deref().unwrap_or("<unnamed>");
                let t = &mut self.transactions;
                bump_capped(
                    &mut t.prepared_statements_missing,
                    n,
                    1,
                    cap,
                    &mut t.names_folded,
                )
            }
            EventKind::PreparedStatementExists { name } => {
                let n = name.as_deref().unwrap_or("<unnamed>");
                let t = &mut self.transactions;
                bump_capped(
                    &mut t.prepared_statements_existing,
                    n,
                    1,
                    cap,
                    &mut t.names_folded,
                )
            }
            EventKind::CursorMissing { name } => {
                let n = name.as_deref().unwrap_or("");
                let t = &mut self.transactions;
                bump_capped(&mut t.cursors_missing, n, 1, cap, &mut t.names_folded)
            }
            EventKind::CursorExists { name } => {
                let n = name.as_deref().unwrap_or("");
                let t = &mut self.transactions;
                bump_capped(&mut t.cursors_existing, n, 1, cap, &mut t.names_folded)
            }
            EventKind::NonstandardStringEscape { escape } => {
                bump(&mut self.transactions.nonstandard_string_escapes, escape, 1)
            }
            EventKind::Other => self.other.add(e, time, l),
            _ => {}
        }
    }

    pub fn merge(&mut self, o: &EventStats, l: &Limits) {
        let cap = l.breakdown;
        let w = &mut self.wraparound;
        add_to(&mut w.folded, o.wraparound.folded);
        for (k, c) in &o.wraparound.by_database {
            w.merge_cell(k, c, cap);
        }
        add_to(
            &mut w.oldest_xmin_warnings,
            o.wraparound.oldest_xmin_warnings,
        );
        add_to(
            &mut w.oldest_multixact_warnings,
            o.wraparound.oldest_multixact_warnings,
        );
        add_to(&mut w.failsafe_vacuums, o.wraparound.failsafe_vacuums);
        let f = &mut w.folded;
        merge_capped(
            &mut w.failsafe_by_database,
            &o.wraparound.failsafe_by_database,
            cap,
            f,
        );
        let v = &mut self.vacuum;
        add_to(&mut v.names_folded, o.vacuum.names_folded);
        for (k, c) in &o.vacuum.skipped {
            let n = c.vacuum.saturating_add(c.analyze);
            if let Some(s) = entry_capped(&mut v.skipped, k, cap, (&mut v.names_folded, n)) {
                add_to(&mut s.vacuum, c.vacuum);
                add_to(&mut s.analyze, c.analyze);
                add_to(&mut s.autovacuum, c.autovacuum);
                add_to(&mut s.lock_not_available, c.lock_not_available);
                add_to(&mut s.relation_gone, c.relation_gone);
            }
        }
        let f = &mut v.names_folded;
        merge_capped(
            &mut v.orphan_temp_tables_dropped,
            &o.vacuum.orphan_temp_tables_dropped,
            cap,
            f,
        );
        merge_capped(
            &mut v.uninitialized_pages,
            &o.vacuum.uninitialized_pages,
            cap,
            f,
        );
        for (k, c) in &o.vacuum.manual {
            let n = c
                .vacuums_started
                .saturating_add(c.vacuums_finished)
                .saturating_add(c.analyzes);
            if let Some(m) = entry_capped(&mut v.manual, k, cap, (&mut v.names_folded, n)) {
                add_to(&mut m.vacuums_started, c.vacuums_started);
                add_to(&mut m.vacuums_finished, c.vacuums_finished);
                add_to(&mut m.tuples_removed, c.tuples_removed);
                add_to(&mut m.analyzes, c.analyzes);
            }
        }
        add_to(&mut v.autovacuum_terminated, o.vacuum.autovacuum_terminated);
        add_to(
            &mut v.autovacuum_worker_timeouts,
            o.vacuum.autovacuum_worker_timeouts,
        );
        add_to(
            &mut v.autovacuum_cancel_requests,
            o.vacuum.autovacuum_cancel_requests,
        );
        add_to(&mut v.launcher_started, o.vacuum.launcher_started);
        add_to(&mut v.launcher_stopped, o.vacuum.launcher_stopped);
        let lk = &mut self.locks;
        add_to(&mut lk.folded, o.locks.folded);
        add_to(&mut lk.deadlocks_avoided, o.locks.deadlocks_avoided);
        add_to(
            &mut lk.deadlocks_while_waiting,
            o.locks.deadlocks_while_waiting,
        );
        for (k, c) in &o.locks.by_lock_type {
            let m = lock_cell(&mut lk.by_lock_type, k);
            add_to(&mut m.waits, c.waits);
            add_to(&mut m.acquired, c.acquired);
            add_to(&mut m.wait_us, c.wait_us);
        }
        for (k, c) in &o.locks.not_available {
            let n = c.row.saturating_add(c.relation);
            if let Some(m) = entry_capped(&mut lk.not_available, k, cap, (&mut lk.folded, n)) {
                add_to(&mut m.row, c.row);
                add_to(&mut m.relation, c.relation);
            }
        }
        let t = &mut self.transactions;
        let ot = &o.transactions;
        add_to(&mut t.names_folded, ot.names_folded);
        add_to(&mut t.aborted, ot.aborted);
        let f = &mut t.names_folded;
        merge_capped(
            &mut t.aborted_by_application,
            &ot.aborted_by_application,
            cap,
            f,
        );
        add_to(
            &mut t.no_transaction_in_progress,
            ot.no_transaction_in_progress,
        );
        add_to(&mut t.already_in_progress, ot.already_in_progress);
        merge_capped(
            &mut t.prepared_statements_missing,
            &ot.prepared_statements_missing,
            cap,
            f,
        );
        merge_capped(
            &mut t.prepared_statements_existing,
            &ot.prepared_statements_existing,
            cap,
            f,
        );
        merge_capped(&mut t.cursors_missing, &ot.cursors_missing, cap, f);
        merge_capped(&mut t.cursors_existing, &ot.cursors_existing, cap, f);
        merge_counts(
            &mut t.nonstandard_string_escapes,
            &ot.nonstandard_string_escapes,
        );
        self.other.merge(&o.other, l);
    }
}

impl WraparoundStats {
    fn add(&mut self, w: &Wraparound, refusal: bool, time: Option<i64>, cap: usize) {
        let cell = WraparoundCell {
            database: w.database.clone(),
            database_oid: w.database_oid,
            multixact: w.multixact,
            warnings: u64::from(!refusal),
            refusals: u64::from(refusal),
            min_remaining: w.remaining,
            first_ms: time,
            last_ms: time,
        };
        let key = wraparound_key(&cell);
        self.merge_cell(&key, &cell, cap);
    }

    fn merge_cell(&mut self, key: &str, c: &WraparoundCell, cap: usize) {
        let full = self.by_database.len() >= cap;
        match self.by_database.get_mut(key) {
            None if full => add_to(&mut self.folded, c.warnings.saturating_add(c.refusals)),
            None => {
                self.by_database.insert(key.to_string(), c.clone());
            }
            Some(m) => {
                add_to(&mut m.warnings, c.warnings);
                add_to(&mut m.refusals, c.refusals);
                m.min_remaining = match (m.min_remaining, c.min_remaining) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                m.first_ms = match (m.first_ms, c.first_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                m.last_ms = m.last_ms.max(c.last_ms);
            }
        }
    }
}

fn wraparound_key(c: &WraparoundCell) -> String {
    let counter = if c.multixact { "multixact" } else { "xid" };
    match (&c.database, c.database_oid) {
        (Some(name), _) => format!("{counter}:{name}"),
        (None, Some(oid)) => format!("{counter}:oid {oid}"),
        (None, None) => format!("{counter}:"),
    }
}

impl OtherMessages {
    fn add(&mut self, e: &Event, time: Option<i64>, l: &Limits) {
        let r = &e.record;
        add_to(&mut self.records, 1);
        let key = normalize_message(head_chars(head_line(&r.message), KEY_CHARS));
        self.offer(
            key,
            OtherMessage {
                count: 1,
                severity: r.severity.as_str().to_string(),
                first_ms: time,
                example: String::new(),
            },
            l,
            || keep_text(l, &r.message, l.sample_chars),
        );
    }

    fn offer(
        &mut self,
        key: String,
        m: OtherMessage,
        l: &Limits,
        example: impl FnOnce() -> String,
    ) {
        if let Some(e) = self.messages.get_mut(&key) {
            add_to(&mut e.count, m.count);
            if m.first_ms.is_some() && (e.first_ms.is_none() || m.first_ms < e.first_ms) {
                e.first_ms = m.first_ms;
                e.severity = m.severity;
                e.example = example();
            }
        } else if self.messages.len() < l.error_messages {
            let example = example();
            self.messages.insert(key, OtherMessage { example, ..m });
        } else {
            add_to(&mut self.folded, m.count);
        }
    }

    fn merge(&mut self, o: &OtherMessages, l: &Limits) {
        add_to(&mut self.records, o.records);
        add_to(&mut self.folded, o.folded);
        for (k, m) in &o.messages {
            self.offer(k.clone(), m.clone(), l, || m.example.clone());
        }
    }
}

/// Characters of a message that make its group: the start names the
/// message; a huge one must not make a huge key.
const KEY_CHARS: usize = 300;

/// A multi-line message is grouped by its first line (its numbers below
/// vary the most and say the least about which message it is).
fn head_line(msg: &str) -> &str {
    msg.split('\n').next().unwrap_or(msg)
}

fn lock_cell<'a>(m: &'a mut BTreeMap<String, LockCell>, k: &str) -> &'a mut LockCell {
    if !m.contains_key(k) {
        m.insert(k.to_string(), LockCell::default());
    }
    m.get_mut(k).expect("just inserted")
}

/// The entry for `k`, made if the map has room; `None` (and `records`
/// more folded) when it is full.
fn entry_capped<'a, V: Default>(
    m: &'a mut BTreeMap<String, V>,
    k: &str,
    cap: usize,
    (folded, records): (&mut u64, u64),
) -> Option<&'a mut V> {
    if !m.contains_key(k) {
        if m.len() >= cap {
            add_to(folded, records);
            return None;
        }
        m.insert(k.to_string(), V::default());
    }
    m.get_mut(k)
}

fn bump_capped(m: &mut BTreeMap<String, u64>, k: &str, n: u64, cap: usize, folded: &mut u64) {
    if let Some(v) = entry_capped(m, k, cap, (folded, n)) {
        add_to(v, n);
    }
}

fn merge_capped(
    into: &mut BTreeMap<String, u64>,
    from: &BTreeMap<String, u64>,
    cap: usize,
    folded: &mut u64,
) {
    for (k, v) in from {
        bump_capped(into, k, *v, cap, folded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pglog_logparse::LogRecord;

    fn other(msg: &str, time: i64) -> (Event, Option<i64>) {
        let e = Event {
            record: Box::new(LogRecord::new(1, Severity::Log, msg.to_string())),
            kind: EventKind::Other,
            sqlstate: None,
            sqlstate_inferred: false,
        };
        (e, Some(time))
    }

    /// `n` as letters, so that numbers do not blank the messages together.
    fn word(mut n: usize) -> String {
        let mut w = String::new();
        loop {
            w.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
            if n == 0 {
                return w;
            }
        }
    }

    #[test]
    fn unclassified_messages_are_capped_and_counted() {
        let l = Limits::default();
        let (mut a, mut b) = (EventStats::default(), EventStats::default());
        let distinct = l.error_messages + 150;
        for i in 0..distinct {
            let (e, t) = other(&format!("mystery {}", word(i)), i as i64);
            // Half to each side, the first message three times.
            let side = if i % 2 == 0 { &mut a } else { &mut b };
            side.add(&e, t, &l);
            if i == 0 {
                b.add(&e, Some(10_000), &l);
                b.add(&e, Some(20_000), &l);
            }
        }
        a.merge(&b, &l);
        let o = &a.other;
        assert_eq!(o.records, distinct as u64 + 2);
        assert_eq!(o.messages.len(), l.error_messages);
        let kept: u64 = o.messages.values().map(|m| m.count).sum();
        assert_eq!(kept + o.folded, o.records);
        let first = &o.messages["mystery a"];
        assert_eq!((first.count, first.first_ms), (3, Some(0)));
        assert_eq!(first.example, "mystery a");
    }

    #[test]
    fn relations_beyond_the_cap_are_folded_with_their_records() {
        let l = Limits::default();
        let skip = |i: usize| Event {
            record: Box::new(LogRecord::new(1, Severity::Warning, String::new())),
            kind: EventKind::VacuumSkipped(pglog_logparse::classify::maintenance::VacuumSkip {
                relation: format!("t{i}"),
                analyze: false,
                reason: "lock_not_available",
            }),
            sqlstate: None,
            sqlstate_inferred: false,
        };
        let (mut a, mut b) = (EventStats::default(), EventStats::default());
        for i in 0..l.breakdown + 30 {
            a.add(&skip(i), None, &l);
            b.add(&skip(i), None, &l);
        }
        assert_eq!(a.vacuum.skipped.len(), l.breakdown);
        assert_eq!(a.vacuum.names_folded, 30);
        a.merge(&b, &l);
        let kept: u64 = a.vacuum.skipped.values().map(|c| c.vacuum).sum();
        assert_eq!(kept + a.vacuum.names_folded, 2 * (l.breakdown as u64 + 30));
    }
}
