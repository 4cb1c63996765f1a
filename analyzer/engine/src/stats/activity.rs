//! Aggregates of everything that is not a query: errors, locks, temp files,
//! checkpoints, maintenance, sessions, authentication, cancellations, audit.
//! Every type merges with `+=` (through `merge`), independent of split.

use super::{bump, merge_counts, Limits};
use crate::totals::add_to;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// An example occurrence of an error message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSample {
    pub time_ms: Option<i64>,
    pub message: String,
    pub detail: Option<String>,
    pub statement: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub count: u64,
    pub severity: String,
    pub sqlstate: Option<String>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The earliest occurrence.
    pub sample: ErrorSample,
}

/// Violations of one constraint (or row-level security policy, or view
/// check option) of one relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintViolation {
    pub kind: String,
    pub constraint: Option<String>,
    pub relation: Option<String>,
    pub column: Option<String>,
    pub count: u64,
}

impl ConstraintViolation {
    pub fn key(&self) -> String {
        let part = |p: &Option<String>| p.clone().unwrap_or_default();
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.kind,
            part(&self.constraint),
            part(&self.relation),
            part(&self.column)
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorStats {
    /// WARNING, ERROR, FATAL and PANIC records.
    pub total: u64,
    pub by_severity: BTreeMap<String, u64>,
    /// ERROR/FATAL/PANIC by SQLSTATE (given or inferred; `unknown` when neither).
    pub by_sqlstate: BTreeMap<String, u64>,
    /// By the SQLSTATE's two-character class.
    pub by_class: BTreeMap<String, u64>,
    /// ERROR/FATAL/PANIC by error class and kind (`class` or `class/kind`).
    pub by_error_class: BTreeMap<String, u64>,
    /// Constraint violations by kind and what they name (see
    /// [`ConstraintViolation::key`]), capped like `messages`.
    pub constraint_violations: BTreeMap<String, ConstraintViolation>,
    /// Keyed by the message with quoted names and numbers blanked.
    pub messages: BTreeMap<String, ErrorMessage>,
    /// Occurrences whose message was not kept (over the cap of distinct messages).
    pub other_messages: u64,
    /// Hour start (epoch ms) -> severity -> count.
    pub by_hour: BTreeMap<i64, BTreeMap<String, u64>>,
}

impl ErrorStats {
    pub fn merge(&mut self, o: &ErrorStats, limits: &Limits) {
        add_to(&mut self.total, o.total);
        merge_counts(&mut self.by_severity, &o.by_severity);
        merge_counts(&mut self.by_sqlstate, &o.by_sqlstate);
        merge_counts(&mut self.by_class, &o.by_class);
        merge_counts(&mut self.by_error_class, &o.by_error_class);
        for (k, v) in &o.constraint_violations {
            self.add_constraint_violation(k, v.clone(), limits);
        }
        for (k, m) in &o.messages {
            self.add_message(k, m.clone(), limits);
        }
        add_to(&mut self.other_messages, o.other_messages);
        for (h, sev) in &o.by_hour {
            merge_counts(self.by_hour.entry(*h).or_default(), sev);
        }
    }

    pub fn add_constraint_violation(&mut self, key: &str, v: ConstraintViolation, limits: &Limits) {
        if let Some(e) = self.constraint_violations.get_mut(key) {
            add_to(&mut e.count, v.count);
        } else if self.constraint_violations.len() < limits.error_messages {
            self.constraint_violations.insert(key.to_string(), v);
        }
    }

    pub fn add_message(&mut self, key: &str, m: ErrorMessage, limits: &Limits) {
        if let Some(e) = self.messages.get_mut(key) {
            add_to(&mut e.count, m.count);
            if m.first_ms < e.first_ms && m.first_ms.is_some() || e.first_ms.is_none() {
                e.first_ms = m.first_ms;
                e.sample = m.sample;
            }
            e.last_ms = e.last_ms.max(m.last_ms);
        } else if self.messages.len() < limits.error_messages {
            self.messages.insert(key.to_string(), m);
        } else {
            add_to(&mut self.other_messages, m.count);
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LockCell {
    /// `still waiting` reports.
    pub waits: u64,
    /// Waits that ended with the lock acquired.
    pub acquired: u64,
    /// Microseconds waited, from `acquired ... after N ms`.
    pub wait_us: u64,
}

impl LockCell {
    fn merge(&mut self, o: &LockCell) {
        add_to(&mut self.waits, o.waits);
        add_to(&mut self.acquired, o.acquired);
        add_to(&mut self.wait_us, o.wait_us);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlockSample {
    pub time_ms: Option<i64>,
    pub sides: Vec<DeadlockSideSample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeadlockSideSample {
    pub pid: u32,
    pub waits_for: String,
    pub blocked_by: Option<u32>,
    pub query: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockStats {
    pub total: LockCell,
    /// By lock mode (`ShareLock`, `AccessExclusiveLock`, ...).
    pub by_mode: BTreeMap<String, LockCell>,
    /// By locked object type (`relation`, `transaction`, `tuple`, ...).
    pub by_object: BTreeMap<String, LockCell>,
    pub deadlocks: u64,
    /// The earliest deadlocks with both (all) sides.
    pub deadlock_samples: Vec<DeadlockSample>,
}

impl LockStats {
    pub fn record(&mut self, mode: &str, object: &str, f: impl Fn(&mut LockCell)) {
        f(&mut self.total);
        f(self.by_mode.entry(mode.to_string()).or_default());
        let kind = object.split_whitespace().next().unwrap_or("unknown");
        f(self.by_object.entry(kind.to_string()).or_default());
    }

    pub fn add_deadlock(&mut self, d: DeadlockSample, limits: &Limits) {
        self.deadlocks += 1;
        self.offer_deadlock(d, limits);
    }

    fn offer_deadlock(&mut self, d: DeadlockSample, limits: &Limits) {
        let pos = self
            .deadlock_samples
            .iter()
            .position(|x| x.time_ms > d.time_ms)
            .unwrap_or(self.deadlock_samples.len());
        if pos < limits.deadlock_samples {
            self.deadlock_samples.insert(pos, d);
            self.deadlock_samples.truncate(limits.deadlock_samples);
        }
    }

    pub fn merge(&mut self, o: &LockStats, limits: &Limits) {
        self.total.merge(&o.total);
        for (k, c) in &o.by_mode {
            self.by_mode.entry(k.clone()).or_default().merge(c);
        }
        for (k, c) in &o.by_object {
            self.by_object.entry(k.clone()).or_default().merge(c);
        }
        add_to(&mut self.deadlocks, o.deadlocks);
        for d in &o.deadlock_samples {
            self.offer_deadlock(d.clone(), limits);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TempStats {
    pub files: u64,
    pub bytes: u64,
    pub max_file_bytes: u64,
    /// Temp files logged without a statement.
    pub unattributed_files: u64,
    pub unattributed_bytes: u64,
    /// Hour start (epoch ms) -> bytes.
    pub bytes_by_hour: BTreeMap<i64, u64>,
}

impl TempStats {
    pub fn merge(&mut self, o: &TempStats) {
        add_to(&mut self.files, o.files);
        add_to(&mut self.bytes, o.bytes);
        self.max_file_bytes = self.max_file_bytes.max(o.max_file_bytes);
        add_to(&mut self.unattributed_files, o.unattributed_files);
        add_to(&mut self.unattributed_bytes, o.unattributed_bytes);
        for (h, b) in &o.bytes_by_hour {
            add_to(self.bytes_by_hour.entry(*h).or_default(), *b);
        }
    }
}

/// Sum and maximum of a measurement logged with at most three decimals.
/// The sum is kept in thousandths, so it is the same in any merge order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SumMax {
    pub count: u64,
    pub sum_milli: i64,
    pub max: f64,
}

impl SumMax {
    pub fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.count += 1;
            // Saturates like the totals in `add_to` (logged values are not negative).
            self.sum_milli = self.sum_milli.saturating_add((v * 1000.0).round() as i64);
            self.max = self.max.max(v);
        }
    }

    pub fn sum(&self) -> f64 {
        self.sum_milli as f64 / 1000.0
    }

    fn merge(&mut self, o: &SumMax) {
        add_to(&mut self.count, o.count);
        self.sum_milli = self.sum_milli.saturating_add(o.sum_milli);
        self.max = self.max.max(o.max);
    }
}

/// Checkpoints, or a standby's restartpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStats {
    /// Started, by cause (the first flag: `time`, `wal`, `immediate`, `shutdown`, ...).
    pub by_cause: BTreeMap<String, u64>,
    pub completed: u64,
    pub write_s: SumMax,
    pub sync_s: SumMax,
    pub total_s: SumMax,
    pub distance_kb: SumMax,
    pub buffers_written: SumMax,
    pub wal_added: u64,
    pub wal_removed: u64,
    pub wal_recycled: u64,
    /// `checkpoints are occurring too frequently`.
    pub too_frequent_warnings: u64,
    /// Hour start (epoch ms) -> completed.
    pub by_hour: BTreeMap<i64, u64>,
}

impl CheckpointStats {
    pub fn merge(&mut self, o: &CheckpointStats) {
        merge_counts(&mut self.by_cause, &o.by_cause);
        add_to(&mut self.completed, o.completed);
        self.write_s.merge(&o.write_s);
        self.sync_s.merge(&o.sync_s);
        self.total_s.merge(&o.total_s);
        self.distance_kb.merge(&o.distance_kb);
        self.buffers_written.merge(&o.buffers_written);
        add_to(&mut self.wal_added, o.wal_added);
        add_to(&mut self.wal_removed, o.wal_removed);
        add_to(&mut self.wal_recycled, o.wal_recycled);
        add_to(&mut self.too_frequent_warnings, o.too_frequent_warnings);
        for (h, n) in &o.by_hour {
            add_to(self.by_hour.entry(*h).or_default(), *n);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableMaintenance {
    pub vacuums: u64,
    pub analyzes: u64,
    pub vacuum_s: SumMax,
    pub analyze_s: SumMax,
    pub tuples_removed: u64,
    pub pages_removed: u64,
    pub aggressive: u64,
    pub wraparound: u64,
    /// Buffers, WAL and frozen pages of the reports, vacuum and analyze together.
    #[serde(default)]
    pub usage: super::maintenance_usage::MaintenanceTotals,
}

impl TableMaintenance {
    pub fn merge(&mut self, o: &TableMaintenance) {
        add_to(&mut self.vacuums, o.vacuums);
        add_to(&mut self.analyzes, o.analyzes);
        self.vacuum_s.merge(&o.vacuum_s);
        self.analyze_s.merge(&o.analyze_s);
        add_to(&mut self.tuples_removed, o.tuples_removed);
        add_to(&mut self.pages_removed, o.pages_removed);
        add_to(&mut self.aggressive, o.aggressive);
        add_to(&mut self.wraparound, o.wraparound);
        self.usage.merge(&o.usage);
    }
}

/// Upper bounds (seconds) of the session-duration histogram buckets; the
/// last bucket is open.
pub const SESSION_BUCKETS_S: &[f64] =
    &[1.0, 10.0, 60.0, 600.0, 3600.0, 6.0 * 3600.0, 24.0 * 3600.0];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// `connection received`.
    pub received: u64,
    /// `connection authorized`.
    pub connections: u64,
    pub by_user: BTreeMap<String, u64>,
    pub by_database: BTreeMap<String, u64>,
    pub by_application: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
    pub disconnections: u64,
    pub session_ms: SumMax,
    /// `connection ready: setup total=` (PostgreSQL 18), ms.
    #[serde(default)]
    pub setup_ms: SumMax,
    /// Counts per [`SESSION_BUCKETS_S`] bucket, plus one for longer.
    #[serde(deserialize_with = "session_histogram")]
    pub duration_histogram: Vec<u64>,
    /// Session starts (+1) and ends (-1) by epoch second, from
    /// `disconnection: session time` lines; the running sum gives the
    /// number of simultaneous sessions.
    pub deltas: BTreeMap<i64, i64>,
}

/// A stored session histogram has at most the buckets the report shows.
fn session_histogram<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let h = Vec::<u64>::deserialize(d)?;
    let buckets = SESSION_BUCKETS_S.len() + 1;
    if h.len() > buckets {
        return Err(serde::de::Error::custom(format!(
            "session histogram of {} buckets, not {buckets}",
            h.len()
        )));
    }
    Ok(h)
}

impl SessionStats {
    pub fn add_session(&mut self, end_ms: Option<i64>, session_ms: f64) {
        self.session_ms.add(Some(session_ms));
        if self.duration_histogram.len() < SESSION_BUCKETS_S.len() + 1 {
            self.duration_histogram
                .resize(SESSION_BUCKETS_S.len() + 1, 0);
        }
        let s = session_ms / 1000.0;
        let b = SESSION_BUCKETS_S
            .iter()
            .position(|&u| s < u)
            .unwrap_or(SESSION_BUCKETS_S.len());
        self.duration_histogram[b] += 1;
        if let Some(end) = end_ms {
            let start = end - session_ms.round() as i64;
            *self.deltas.entry(start.div_euclid(1000)).or_default() += 1;
            *self.deltas.entry(end.div_euclid(1000)).or_default() -= 1;
        }
    }

    /// The most sessions open at once in each minute: (minute start, count).
    pub fn open_by_minute(&self) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        let mut open = 0i64;
        for (&sec, &d) in &self.deltas {
            let before = open;
            // Saturating, as are the times: a forged state may hold any numbers.
            open = open.saturating_add(d);
            let minute = sec.div_euclid(60).saturating_mul(60_000);
            // A minute's peak counts sessions open at its start, too.
            match out.last_mut() {
                Some(last) if last.0 == minute => last.1 = last.1.max(open),
                _ => out.push((minute, open.max(before))),
            }
        }
        out
    }

    /// The most sessions open at once, and when (epoch ms).
    pub fn peak(&self) -> (i64, Option<i64>) {
        let (mut open, mut best, mut at) = (0i64, 0i64, None);
        for (&sec, &d) in &self.deltas {
            open = open.saturating_add(d);
            if open > best {
                best = open;
                at = Some(sec.saturating_mul(1000));
            }
        }
        (best, at)
    }

    pub fn merge(&mut self, o: &SessionStats) {
        self.setup_ms.merge(&o.setup_ms);
        add_to(&mut self.received, o.received);
        add_to(&mut self.connections, o.connections);
        merge_counts(&mut self.by_user, &o.by_user);
        merge_counts(&mut self.by_database, &o.by_database);
        merge_counts(&mut self.by_application, &o.by_application);
        merge_counts(&mut self.by_host, &o.by_host);
        add_to(&mut self.disconnections, o.disconnections);
        self.session_ms.merge(&o.session_ms);
        if self.duration_histogram.len() < o.duration_histogram.len() {
            self.duration_histogram
                .resize(o.duration_histogram.len(), 0);
        }
        for (i, n) in o.duration_histogram.iter().enumerate() {
            add_to(&mut self.duration_histogram[i], *n);
        }
        for (s, d) in &o.deltas {
            let e = self.deltas.entry(*s).or_default();
            *e = e.saturating_add(*d);
        }
        self.deltas.retain(|_, d| *d != 0);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuthStats {
    pub failures: u64,
    pub by_user: BTreeMap<String, u64>,
    pub by_database: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
    /// By message with the user name blanked (`password authentication failed for user "?"`).
    pub by_message: BTreeMap<String, u64>,
}

impl AuthStats {
    pub fn merge(&mut self, o: &AuthStats) {
        add_to(&mut self.failures, o.failures);
        merge_counts(&mut self.by_user, &o.by_user);
        merge_counts(&mut self.by_database, &o.by_database);
        merge_counts(&mut self.by_host, &o.by_host);
        merge_counts(&mut self.by_message, &o.by_message);
    }
}

/// The other small counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MiscStats {
    /// Cancellations and terminations by reason.
    pub cancels: BTreeMap<String, u64>,
    /// pgaudit entries by `class command` (`READ SELECT`, `DDL CREATE TABLE`).
    pub audit: BTreeMap<String, u64>,
    /// Extended-protocol parse/bind timed by `log_duration` without text.
    pub untimed_steps: u64,
}

impl MiscStats {
    pub fn merge(&mut self, o: &MiscStats) {
        merge_counts(&mut self.cancels, &o.cancels);
        merge_counts(&mut self.audit, &o.audit);
        add_to(&mut self.untimed_steps, o.untimed_steps);
    }

    pub fn cancel(&mut self, reason: &str) {
        bump(&mut self.cancels, reason, 1);
    }
}
