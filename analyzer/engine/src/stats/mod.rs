//! The statistics of an analysis. A worker folds events into its own
//! [`Stats`]; values from workers, files, hosts and days merge with `+=`.
//! The whole value is what `--save-state` writes.

pub mod activity;
pub mod blockers;
mod current_minute;
mod dense_sketch;
pub mod events;
pub mod fine;
mod held_keys;
pub mod maintenance_usage;
pub mod minute_detail;
mod minute_fold;
pub mod pgbouncer;
pub mod plans;
pub mod queries;
pub mod server;
pub mod sketch;
mod who;

use crate::fingerprint::{is_own_query, Fingerprinter};
use crate::summary::Summary;
use crate::text::{head_chars, truncate_chars};
use crate::totals::add_to;
pub(crate) use crate::totals::bump;
use activity::*;
use blockers::BlockerCarry;
use current_minute::CurrentMinute;
use held_keys::HeldKeys;
use minute_detail::HeldQueries;
use pglog_logparse::classify::error_class;
use pglog_logparse::classify::statement::{Plan, PlanFormat, Statement, StatementKind};
use pglog_logparse::{Event, EventKind};
use plans::PlanSample;
use queries::{QueryTable, Sample};
use serde::{Deserialize, Serialize};
use sketch::Sketch;
use std::collections::BTreeMap;
use std::ops::AddAssign;
use who::Whos;

/// Caps that keep memory flat however large the input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Distinct query fingerprints kept (heavy hitters by total time).
    pub queries: usize,
    /// Slowest sample statements kept per query.
    pub samples: usize,
    /// Slowest plans kept per query.
    pub plans: usize,
    /// Characters kept of a sample statement.
    pub sample_chars: usize,
    /// Characters kept of a plan in its query's `plans`.
    pub plan_chars: usize,
    /// Plans of the whole run kept whole, to be read into trees: the slowest.
    #[serde(default = "default_slowest_plans")]
    pub slowest_plans: usize,
    /// Characters kept of one of the slowest plans.
    #[serde(default = "default_whole_plan_chars")]
    pub whole_plan_chars: usize,
    /// Bytes of whole plan text kept in all; the slowest plans past it keep
    /// `plan_chars`.
    #[serde(default = "default_plan_text_bytes")]
    pub plan_text_bytes: usize,
    /// Names kept per user/database/application breakdown.
    pub breakdown: usize,
    pub error_messages: usize,
    pub deadlock_samples: usize,
    /// Mask credentials (`PASSWORD '...'`, `password=...`) in kept texts.
    pub redact: bool,
    /// Cells of each kind (queries, errors, clients, locks, temp files)
    /// kept per minute for incident attribution.
    #[serde(default = "default_minute_detail_keys")]
    pub minute_detail_keys: usize,
    /// Cells of per-minute detail kept in all.
    #[serde(default = "default_minute_detail_cells")]
    pub minute_detail_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queries: 5000,
            samples: 5,
            plans: 3,
            sample_chars: 2000,
            plan_chars: 64 * 1024,
            slowest_plans: default_slowest_plans(),
            whole_plan_chars: default_whole_plan_chars(),
            plan_text_bytes: default_plan_text_bytes(),
            breakdown: 100,
            error_messages: 1000,
            deadlock_samples: 20,
            redact: true,
            minute_detail_keys: default_minute_detail_keys(),
            minute_detail_cells: default_minute_detail_cells(),
        }
    }
}

fn default_minute_detail_keys() -> usize {
    50
}

/// A day of 1,440 minutes with 50 queries and a few other cells each fits.
fn default_minute_detail_cells() -> usize {
    100_000
}

fn default_slowest_plans() -> usize {
    50
}

fn default_whole_plan_chars() -> usize {
    4 << 20
}

fn default_plan_text_bytes() -> usize {
    32 << 20
}

/// One minute of activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Minute {
    pub queries: u64,
    pub query_us: u64,
    pub latency: Sketch,
    pub errors: u64,
    pub connections: u64,
    pub temp_bytes: u64,
    pub checkpoints: u64,
    /// FATAL and PANIC records (counted in `errors` too).
    #[serde(default)]
    pub fatals: u64,
    #[serde(default)]
    pub warnings: u64,
    /// Statements canceled (timeout, user request, conflict with recovery).
    #[serde(default)]
    pub cancellations: u64,
    /// `still waiting for` lock waits (`log_lock_waits`).
    #[serde(default)]
    pub lock_waits: u64,
    /// Wait time of the locks acquired after a logged wait.
    #[serde(default)]
    pub lock_wait_us: u64,
    #[serde(default)]
    pub deadlocks: u64,
    #[serde(default)]
    pub auth_failures: u64,
}

impl Minute {
    pub(crate) fn merge(&mut self, o: &Minute) {
        add_to(&mut self.queries, o.queries);
        add_to(&mut self.query_us, o.query_us);
        self.latency += &o.latency;
        add_to(&mut self.errors, o.errors);
        add_to(&mut self.connections, o.connections);
        add_to(&mut self.temp_bytes, o.temp_bytes);
        add_to(&mut self.checkpoints, o.checkpoints);
        add_to(&mut self.fatals, o.fatals);
        add_to(&mut self.warnings, o.warnings);
        add_to(&mut self.cancellations, o.cancellations);
        add_to(&mut self.lock_waits, o.lock_waits);
        add_to(&mut self.lock_wait_us, o.lock_wait_us);
        add_to(&mut self.deadlocks, o.deadlocks);
        add_to(&mut self.auth_failures, o.auth_failures);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub limits: Limits,
    pub summary: Summary,
    pub queries: QueryTable,
    /// Durations of every query, for the overall histogram and percentiles.
    pub latency: Sketch,
    pub errors: ErrorStats,
    pub locks: LockStats,
    pub temp: TempStats,
    pub checkpoints: CheckpointStats,
    pub restartpoints: CheckpointStats,
    /// Autovacuum and autoanalyze by table.
    pub maintenance: BTreeMap<String, TableMaintenance>,
    pub sessions: SessionStats,
    pub auth: AuthStats,
    pub misc: MiscStats,
    /// Keyed by the minute's start, epoch ms (UTC).
    pub minutes: BTreeMap<i64, Minute>,
    /// What happened in each minute by query, error, client, lock and
    /// temp file, for incident attribution.
    #[serde(default)]
    pub minute_detail: minute_detail::MinuteDetail,
    /// Plans whose query text was not logged.
    pub unattributed_plans: Vec<PlanSample>,
    /// The slowest plans of the run, with their whole text.
    #[serde(default)]
    pub slowest_plans: plans::SlowestPlans,
    /// What pgbouncer logs among the inputs hold.
    pub pgbouncer: pgbouncer::PgbouncerStats,
    /// Details of the vacuum, wraparound, lock and transaction-state
    /// events, and the messages left unclassified.
    pub events: events::EventStats,
    /// Crashes, archiving, page checksums, connection problems.
    pub server: server::ServerStats,
    /// A short log's activity in 10-second slices.
    #[serde(default)]
    pub fine: fine::FineSeries,
}

impl Stats {
    pub fn new(limits: Limits) -> Stats {
        Stats {
            limits,
            ..Stats::default()
        }
    }
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        *self += &o;
    }
}

impl AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, o: &Stats) {
        let l = self.limits;
        self.summary += o.summary.clone();
        self.queries.merge(&o.queries, &l);
        self.latency += &o.latency;
        self.errors.merge(&o.errors, &l);
        self.locks.merge(&o.locks, &l);
        self.temp.merge(&o.temp);
        self.checkpoints.merge(&o.checkpoints);
        self.restartpoints.merge(&o.restartpoints);
        for (t, m) in &o.maintenance {
            self.maintenance.entry(t.clone()).or_default().merge(m);
        }
        self.sessions.merge(&o.sessions);
        self.auth.merge(&o.auth);
        self.misc.merge(&o.misc);
        for (k, m) in &o.minutes {
            self.minutes.entry(*k).or_default().merge(m);
        }
        self.minute_detail.merge(&o.minute_detail, &l);
        for p in &o.unattributed_plans {
            offer_plan(&mut self.unattributed_plans, p.clone(), l.plans * 4);
        }
        self.slowest_plans.merge(&o.slowest_plans, &l);
        self.pgbouncer.merge(&o.pgbouncer, &l);
        self.events.merge(&o.events, &l);
        self.server.merge(&o.server);
        self.fine.merge(&o.fine);
    }
}

fn offer_plan(v: &mut Vec<PlanSample>, p: PlanSample, n: usize) {
    let pos = v
        .iter()
        .position(|x| {
            x.duration_ms < p.duration_ms
                || (x.duration_ms == p.duration_ms && x.time_ms > p.time_ms)
        })
        .unwrap_or(v.len());
    if pos < n {
        v.insert(pos, p);
        v.truncate(n);
    }
}

pub(crate) fn merge_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        bump(into, k, *v);
    }
}

/// A text as kept in the statistics: credentials masked (unless turned
/// off), cut at `max` characters.
fn keep_text(l: &Limits, s: &str, max: usize) -> String {
    if l.redact {
        // Redact a little more than is kept (a credential may straddle the
        // cut), not the whole of a text that may be many MB.
        let head = head_chars(s, max + 256);
        truncate_chars(&pglog_logparse::redact::redact(head), max)
    } else {
        truncate_chars(s, max)
    }
}

fn hour(t: i64) -> i64 {
    t - t.rem_euclid(3_600_000)
}

/// The start of the minute holding `t` (epoch ms).
fn minute(t: i64) -> i64 {
    t - t.rem_euclid(60_000)
}

/// Folds events into a [`Stats`]. One per worker.
pub struct Folder {
    pub stats: Stats,
    fingerprints: Fingerprinter,
    since_cap_check: u32,
    /// The runners of the queries' held calls.
    whos: Whos,
    minute: CurrentMinute,
    /// The current minute's queries.
    minute_queries: HeldQueries,
    /// Each backend's last statement, and the lock waits whose holder
    /// these records did not name.
    blockers: BlockerCarry,
    /// The summary's counts by severity and by event name.
    severities: HeldKeys,
    events: HeldKeys,
}

impl Folder {
    pub fn new(limits: Limits) -> Folder {
        Folder {
            stats: Stats::new(limits),
            fingerprints: Fingerprinter::new(),
            since_cap_check: 0,
            whos: Whos::default(),
            minute: CurrentMinute::default(),
            minute_queries: HeldQueries::default(),
            blockers: BlockerCarry::default(),
            severities: HeldKeys::default(),
            events: HeldKeys::default(),
        }
    }

    pub fn finish(self) -> Stats {
        self.finish_range().0
    }

    /// The statistics, and what a range hands on to name lock holders in
    /// the ranges after it (see [`blockers`]).
    pub fn finish_range(mut self) -> (Stats, BlockerCarry) {
        let l = self.stats.limits;
        self.stats.queries.put_held(&self.whos, &l);
        self.stats.queries.enforce_cap(&l);
        self.minute.flush(&mut self.stats.minutes);
        self.minute_queries.flush(&mut self.stats.minute_detail, &l);
        self.stats.fine = self.minute.take_fine();
        // Every minute's latency holds its queries' durations, and only
        // those: sketches merge exactly, so the sum is the overall latency.
        for m in self.stats.minutes.values() {
            self.stats.latency += &m.latency;
        }
        let summary = &mut self.stats.summary;
        self.severities.flush(&mut summary.severities);
        self.events.flush(&mut summary.events);
        (self.stats, self.blockers)
    }

    /// Folds the lightest queries out when over the cap; their held calls
    /// go into their breakdowns first.
    fn enforce_query_cap(&mut self) {
        let l = self.stats.limits;
        if self.stats.queries.by_fingerprint.len() > l.queries {
            self.stats.queries.put_held(&self.whos, &l);
            self.stats.queries.enforce_cap(&l);
        }
    }

    pub fn add(&mut self, e: &Event) {
        let r = &e.record;
        let time = r.time.map(|t| t.epoch_ms);
        // The summary describes the log; the statistics below describe the
        // workload, which pglog's own queries are not part of.
        let summary = &mut self.stats.summary;
        summary.add_event_but_names(e);
        self.severities
            .add(r.severity.as_str(), &mut summary.severities);
        self.events.add(e.kind.key(), &mut summary.events);
        if let EventKind::Query(s) | EventKind::StatementStep(s) | EventKind::StatementLogged(s) =
            &e.kind
        {
            if s.text.as_deref().is_some_and(is_own_query) {
                if matches!(e.kind, EventKind::Query(_)) {
                    self.stats.queries.own_queries += 1;
                }
                return;
            }
        }
        if r.severity.is_error() || r.severity == pglog_logparse::Severity::Warning {
            self.add_error(e, time);
        }
        let l = &self.stats.limits;
        self.stats.events.add(e, time, l);
        if let Some(tm) = time {
            self.add_to_minute(e, tm);
        }
        let l = &self.stats.limits;
        match &e.kind {
            EventKind::Query(s) => self.add_query(e, s, time),
            EventKind::StatementStep(s) => {
                if let (Some(text), Some(ms)) = (s.text.as_deref(), s.duration_ms) {
                    let key = self.fingerprints.key(text);
                    let q = self.stats.queries.entry(&key);
                    match s.kind {
                        StatementKind::Parse => q.parse.add(ms),
                        _ => q.bind.add(ms),
                    }
                    q.seen(time);
                }
            }
            EventKind::Duration { .. } => self.stats.misc.untimed_steps += 1,
            EventKind::Plan(p) => self.add_plan(e, p, time),
            EventKind::Cancel { reason } => {
                self.stats.misc.cancel(reason.as_str());
                if let Some(text) = r.statement.as_deref() {
                    let key = self.fingerprints.key(text);
                    self.stats.queries.entry(&key).cancels += 1;
                }
            }
            EventKind::Deadlock { sides } => {
                let d = DeadlockSample {
                    time_ms: time,
                    sides: sides
                        .iter()
                        .map(|s| DeadlockSideSample {
                            pid: s.pid,
                            waits_for: s.waits_for.clone(),
                            blocked_by: s.blocked_by,
                            query: s.query.as_deref().map(|q| keep_text(l, q, l.sample_chars)),
                        })
                        .collect(),
                };
                self.stats.locks.add_deadlock(d, l);
            }
            EventKind::LockWait(w) => {
                self.stats
                    .locks
                    .record(&w.mode, &w.object, |c| c.waits += 1);
                if let Some(text) = r.statement.as_deref() {
                    let key = self.fingerprints.key(text);
                    self.stats.queries.entry(&key).lock_waits += 1;
                }
            }
            EventKind::LockAcquired(w) => {
                let ms = w.wait_ms.unwrap_or(0.0);
                self.stats.locks.record(&w.mode, &w.object, |c| {
                    c.acquired += 1;
                    add_to(&mut c.wait_us, queries::micros(ms));
                });
                if let Some(text) = r.statement.as_deref() {
                    let key = self.fingerprints.key(text);
                    add_to(
                        &mut self.stats.queries.entry(&key).lock_wait_us,
                        queries::micros(ms),
                    );
                }
            }
            EventKind::TempFile { size, .. } => {
                let t = &mut self.stats.temp;
                t.files += 1;
                add_to(&mut t.bytes, *size);
                t.max_file_bytes = t.max_file_bytes.max(*size);
                if let Some(tm) = time {
                    add_to(t.bytes_by_hour.entry(hour(tm)).or_default(), *size);
                    add_to(
                        &mut self.minute.at(tm, &mut self.stats.minutes).temp_bytes,
                        *size,
                    );
                }
                match r.statement.as_deref() {
                    Some(text) if !is_own_query(text) => {
                        let key = self.fingerprints.key(text);
                        let q = self.stats.queries.entry(&key);
                        q.temp_files += 1;
                        add_to(&mut q.temp_bytes, *size);
                    }
                    _ => {
                        t.unattributed_files += 1;
                        add_to(&mut t.unattributed_bytes, *size);
                    }
                }
            }
            EventKind::Checkpoint { flags } => {
                bump(&mut self.stats.checkpoints.by_cause, first_flag(flags), 1);
            }
            EventKind::Restartpoint { flags } => {
                bump(&mut self.stats.restartpoints.by_cause, first_flag(flags), 1);
            }
            EventKind::CheckpointComplete(c) => {
                add_checkpoint(&mut self.stats.checkpoints, c, time);
                if let Some(tm) = time {
                    self.minute.at(tm, &mut self.stats.minutes).checkpoints += 1;
                }
            }
            EventKind::RestartpointComplete(c) => {
                add_checkpoint(&mut self.stats.restartpoints, c, time)
            }
            EventKind::CheckpointWarning { .. } => {
                self.stats.checkpoints.too_frequent_warnings += 1
            }
            EventKind::Autovacuum(m) | EventKind::Autoanalyze(m) => {
                let t = self.stats.maintenance.entry(m.table.clone()).or_default();
                t.usage.add(&m.usage);
                if matches!(e.kind, EventKind::Autovacuum(_)) {
                    t.vacuums += 1;
                    t.vacuum_s.add(m.elapsed_s);
                    add_to(&mut t.tuples_removed, m.tuples_removed.unwrap_or(0));
                    add_to(&mut t.pages_removed, m.pages_removed.unwrap_or(0));
                    t.aggressive += m.aggressive as u64;
                    t.wraparound += m.wraparound as u64;
                } else {
                    t.analyzes += 1;
                    t.analyze_s.add(m.elapsed_s);
                }
            }
            EventKind::ConnectionReceived { host } => {
                let s = &mut self.stats.sessions;
                s.received += 1;
                bump(&mut s.by_host, host.as_deref().unwrap_or("unknown"), 1);
            }
            EventKind::Connection(c) => {
                let s = &mut self.stats.sessions;
                s.connections += 1;
                bump(&mut s.by_user, c.user.as_deref().unwrap_or(""), 1);
                bump(&mut s.by_database, c.database.as_deref().unwrap_or(""), 1);
                bump(
                    &mut s.by_application,
                    c.application.as_deref().unwrap_or(""),
                    1,
                );
                if let Some(tm) = time {
                    self.minute.at(tm, &mut self.stats.minutes).connections += 1;
                }
            }
            EventKind::ConnectionReady(d) => self.stats.sessions.setup_ms.add(d.total_ms),
            EventKind::Disconnection { session_ms } => {
                self.note_disconnection(r.pid);
                let s = &mut self.stats.sessions;
                s.disconnections += 1;
                if let Some(ms) = session_ms {
                    s.add_session(time, *ms);
                }
            }
            EventKind::AuthFailure => {
                let a = &mut self.stats.auth;
                a.failures += 1;
                bump(&mut a.by_user, r.user.as_deref().unwrap_or(""), 1);
                bump(&mut a.by_database, r.database.as_deref().unwrap_or(""), 1);
                bump(
                    &mut a.by_host,
                    r.remote_host.as_deref().unwrap_or("unknown"),
                    1,
                );
                bump(&mut a.by_message, &normalize_message(&r.message), 1);
            }
            EventKind::Server(_) | EventKind::ConnectionProblem(_) | EventKind::Wal(_) => {
                self.stats.server.add(e, l)
            }
            EventKind::Audit(a) => {
                let k = format!("{} {}", a.class, a.command);
                bump(&mut self.stats.misc.audit, &k, 1);
            }
            _ => {}
        }
        self.since_cap_check += 1;
        if self.since_cap_check >= 4096 {
            self.since_cap_check = 0;
            self.enforce_query_cap();
        }
    }

    fn add_query(&mut self, e: &Event, s: &Statement, time: Option<i64>) {
        let r = &e.record;
        let l = &self.stats.limits;
        let ms = s.duration_ms.unwrap_or(0.0);
        let bucket = sketch::Bucket::of(ms);
        // A timed query's duration goes into the overall latency with its
        // minute's, in `finish`.
        match time {
            Some(tm) => {
                let m = self.minute.add_latency(tm, &mut self.stats.minutes, bucket);
                m.queries += 1;
                add_to(&mut m.query_us, queries::micros(ms));
            }
            None => self.stats.latency.add_at(bucket),
        }
        let text = s.text.as_deref().unwrap_or("");
        // SQL-level prepared statements, as pg_stat_statements counts them:
        // PREPARE is the prepared query's parse step, and each EXECUTE (whose
        // DETAIL names the PREPARE) is a call of the prepared query.
        if starts_with_word(text, "PREPARE") {
            let key = self.fingerprints.key(text);
            let q = self.stats.queries.entry(&key);
            q.parse.add(ms);
            q.seen(time);
            self.stats.queries.prepares += 1;
            return;
        }
        let text = match r
            .detail
            .as_deref()
            .and_then(|d| d.strip_prefix("prepare: "))
        {
            Some(prepared) if starts_with_word(text, "EXECUTE") => prepared,
            _ => text,
        };
        let key = self.fingerprints.key(text);
        if let Some(tm) = time {
            self.minute_queries.add(
                minute(tm),
                key.fingerprint,
                ms,
                &mut self.stats.minute_detail,
                l,
            );
        }
        if let Some(pid) = r.pid {
            self.blockers.statements.set(pid, key.fingerprint);
        }
        if self.whos.is_full() {
            self.stats.queries.put_held(&self.whos, l);
            self.whos.clear();
        }
        let who = self.whos.id(
            r.user.as_deref().unwrap_or(""),
            r.database.as_deref().unwrap_or(""),
            r.application.as_deref().unwrap_or(""),
        );
        let q = self.stats.queries.entry(&key);
        q.add_call(bucket, ms, time, (who, &self.whos), l);
        q.offer_sample(l.samples, ms, || Sample {
            time_ms: time,
            duration_ms: ms,
            user: own(&r.user),
            database: own(&r.database),
            application: own(&r.application),
            text: keep_text(l, text, l.sample_chars),
            params: s
                .params
                .iter()
                .take(32)
                .map(|p| p.as_deref().map(|v| truncate_chars(v, 200)))
                .collect(),
        });
    }

    /// A plan goes to its query's `plans` as a head, and to the run's
    /// slowest plans whole when it is among them.
    fn add_plan(&mut self, e: &Event, p: &Plan, time: Option<i64>) {
        let r = &e.record;
        let l = self.stats.limits;
        let key = match p.query_text.as_deref() {
            Some(text) if is_own_query(text) => return,
            Some(text) => Some(self.fingerprints.key(text)),
            None => None,
        };
        let logged_chars = p.plan.chars().count();
        let sample = |max: usize| PlanSample {
            time_ms: time,
            duration_ms: p.duration_ms,
            format: match p.format {
                PlanFormat::Json => "json".into(),
                _ => "text".into(),
            },
            plan: keep_text(&l, &p.plan, max),
            user: own(&r.user),
            database: own(&r.database),
            params: p
                .params
                .iter()
                .take(32)
                .map(|v| v.as_deref().map(|v| truncate_chars(v, 200)))
                .collect(),
            query_id: p.query_id,
            logged_chars,
            cut: (logged_chars > max).then_some(if max == l.plan_chars {
                plans::PlanCut::Head
            } else {
                plans::PlanCut::PlanCap
            }),
        };
        let fingerprint = key.as_ref().map(|k| k.fingerprint);
        if self
            .stats
            .slowest_plans
            .wants(p.duration_ms, time, fingerprint, &l)
        {
            let slow = plans::SlowPlan {
                fingerprint,
                normalized: key.as_ref().map(|k| k.normalized.to_string()),
                sample: sample(l.whole_plan_chars),
            };
            self.stats.slowest_plans.offer(slow, &l);
        }
        match key {
            Some(key) => self
                .stats
                .queries
                .entry(&key)
                .offer_plan(l.plans, sample(l.plan_chars)),
            None => offer_plan(
                &mut self.stats.unattributed_plans,
                sample(l.plan_chars),
                l.plans * 4,
            ),
        }
    }

    fn add_error(&mut self, e: &Event, time: Option<i64>) {
        let r = &e.record;
        let l = self.stats.limits;
        let sev = r.severity.as_str();
        let er = &mut self.stats.errors;
        er.total += 1;
        bump(&mut er.by_severity, sev, 1);
        let code = e.sqlstate.map(|s| s.as_str().to_string());
        if r.severity.is_error() {
            let c = code.as_deref().unwrap_or("unknown");
            bump(&mut er.by_sqlstate, c, 1);
            bump(
                &mut er.by_class,
                if c.len() == 5 { &c[..2] } else { "unknown" },
                1,
            );
            add_error_class(er, e, &l);
            if let Some(tm) = time {
                self.minute.at(tm, &mut self.stats.minutes).errors += 1;
            }
        }
        if let Some(tm) = time {
            bump(er.by_hour.entry(hour(tm)).or_default(), sev, 1);
            self.add_error_to_minute(e, tm, code.as_deref());
        }
        let er = &mut self.stats.errors;
        let m = ErrorMessage {
            count: 1,
            severity: sev.to_string(),
            sqlstate: code,
            first_ms: time,
            last_ms: time,
            sample: ErrorSample {
                time_ms: time,
                message: keep_text(&l, &r.message, l.sample_chars),
                detail: r
                    .detail
                    .as_deref()
                    .map(|d| keep_text(&l, d, l.sample_chars)),
                statement: r
                    .statement
                    .as_deref()
                    .map(|d| keep_text(&l, d, l.sample_chars)),
                user: own(&r.user),
                database: own(&r.database),
            },
        };
        er.add_message(&normalize_message(&r.message), m, &l);
        if r.severity.is_error() {
            if let Some(text) = r.statement.as_deref() {
                if !is_own_query(text) {
                    let key = self.fingerprints.key(text);
                    self.stats.queries.entry(&key).errors += 1;
                }
            }
        }
    }
}

/// Counts an error by its class and kind, and a constraint violation by
/// what it names.
fn add_error_class(er: &mut ErrorStats, e: &Event, l: &Limits) {
    let (class, details) = error_class::classify(e.sqlstate, &e.record.message);
    match class.kind {
        Some(kind) => bump(
            &mut er.by_error_class,
            &format!("{}/{kind}", class.class),
            1,
        ),
        None => bump(&mut er.by_error_class, class.class, 1),
    }
    if let (Some(kind), "integrity_constraint_violation") = (class.kind, class.class) {
        let v = ConstraintViolation {
            kind: kind.to_string(),
            constraint: details.constraint,
            relation: details.relation,
            column: details.column,
            count: 1,
        };
        er.add_constraint_violation(&v.key(), v, l);
    }
}

/// Does `sql` start with the keyword `word` (any case)?
fn starts_with_word(sql: &str, word: &str) -> bool {
    // Most texts start with their first word: its first letter tells.
    if let (Some(&c), Some(&w)) = (sql.as_bytes().first(), word.as_bytes().first()) {
        if c.is_ascii() && !(c as char).is_whitespace() && !c.eq_ignore_ascii_case(&w) {
            return false;
        }
    }
    let sql = sql.trim_start().as_bytes();
    sql.len() > word.len()
        && sql[..word.len()].eq_ignore_ascii_case(word.as_bytes())
        && !sql[word.len()].is_ascii_alphanumeric()
        && sql[word.len()] != b'_'
}

fn first_flag(flags: &str) -> &str {
    flags.split_whitespace().next().unwrap_or("unknown")
}

fn add_checkpoint(
    c: &mut CheckpointStats,
    s: &pglog_logparse::classify::activity::CheckpointStats,
    time: Option<i64>,
) {
    c.completed += 1;
    c.write_s.add(s.write_s);
    c.sync_s.add(s.sync_s);
    c.total_s.add(s.total_s);
    c.distance_kb.add(s.distance_kb.map(|v| v as f64));
    c.buffers_written.add(s.buffers_written.map(|v| v as f64));
    add_to(&mut c.wal_added, s.wal_added.unwrap_or(0));
    add_to(&mut c.wal_removed, s.wal_removed.unwrap_or(0));
    add_to(&mut c.wal_recycled, s.wal_recycled.unwrap_or(0));
    if let Some(t) = time {
        *c.by_hour.entry(hour(t)).or_default() += 1;
    }
}

/// An error message with its variable parts blanked, for grouping:
/// quoted names and values become `"?"`/`'?'`, numbers `?`.
pub fn normalize_message(msg: &str) -> String {
    let b = msg.as_bytes();
    let mut out = String::with_capacity(msg.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            match memchr::memchr(c, &b[i + 1..]) {
                Some(j) => {
                    out.push(c as char);
                    out.push('?');
                    out.push(c as char);
                    i += j + 2;
                    continue;
                }
                None => {
                    out.push_str(&msg[i..]);
                    break;
                }
            }
        }
        if c.is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // A hexadecimal word (`50894B0` of an LSN, a WAL or pg_xact
            // file name) is one value too.
            let hex = i + b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if b[i..hex].iter().any(u8::is_ascii_alphabetic)
                && b.get(hex)
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
            {
                i = hex;
            }
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push('?');
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() && !matches!(b[i], b'"' | b'\'' | b'0'..=b'9') {
            i += 1;
        }
        // Digits inside a word (`t1`) are copied with it.
        while i < b.len()
            && b[i].is_ascii_digit()
            && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
        {
            i += 1;
        }
        out.push_str(&msg[start..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_message;

    #[test]
    fn messages_group_without_their_values() {
        assert_eq!(
            normalize_message("relation \"foo1\" does not exist"),
            "relation \"?\" does not exist"
        );
        assert_eq!(
            normalize_message("duplicate key value violates unique constraint \"t_pkey\""),
            "duplicate key value violates unique constraint \"?\""
        );
        assert_eq!(
            normalize_message(
                "process 1234 still waiting for ShareLock on transaction 5678 after 1000.123 ms"
            ),
            "process ? still waiting for ShareLock on transaction ? after ? ms"
        );
        assert_eq!(
            normalize_message("column t1.x2 is bad"),
            "column t1.x2 is bad"
        );
        assert_eq!(
            normalize_message("redo record is at 0/50894B0; file=pg_xact/0FD8 size=8kB"),
            "redo record is at ?/?; file=pg_xact/? size=?kB"
        );
    }
}

fn own(s: &Option<pglog_logparse::Short>) -> Option<String> {
    s.as_deref().map(str::to_string)
}
