//! Turns records into typed events. Stitching (in `format`) and
//! classification are separate passes: records are complete before they are
//! looked at here.

pub mod activity;
pub mod carry;
pub mod connection;
pub mod connection_problems;
pub mod error_class;
pub mod locks;
pub mod maintenance;
mod numbers;
pub mod server;
pub mod sqlstate;
pub mod statement;
pub mod statements;
pub mod vacuum_report;
pub mod wal;

use crate::record::{LogRecord, Severity, SqlState};
use activity::{AuditEntry, CheckpointStats, DeadlockSide, LockWait, MaintenanceStats};
use carry::{Carry, Handoff, Needs, State};
use serde::Serialize;
use statement::{Parsed, Plan, Statement, StatementKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    StatementTimeout,
    LockTimeout,
    UserRequest,
    AdminTerminate,
    IdleInTransactionTimeout,
    IdleSessionTimeout,
    Autovacuum,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::StatementTimeout => "statement_timeout",
            CancelReason::LockTimeout => "lock_timeout",
            CancelReason::UserRequest => "user_request",
            CancelReason::AdminTerminate => "admin_terminate",
            CancelReason::IdleInTransactionTimeout => "idle_in_transaction_timeout",
            CancelReason::IdleSessionTimeout => "idle_session_timeout",
            CancelReason::Autovacuum => "autovacuum",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub user: Option<String>,
    pub database: Option<String>,
    pub application: Option<String>,
    pub replication: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A statement executed and logged with its duration: a simple-protocol
    /// statement or an extended-protocol execute.
    Query(Statement),
    /// An extended-protocol parse or bind step with its duration.
    StatementStep(Statement),
    /// Statement text logged by `log_statement`, before it ran.
    StatementLogged(Statement),
    /// `duration: X ms` that no logged statement text precedes: a parse or
    /// bind step timed by `log_duration`.
    Duration {
        ms: f64,
    },
    Plan(Plan),
    Error,
    Cancel {
        reason: CancelReason,
    },
    Deadlock {
        sides: Vec<DeadlockSide>,
    },
    LockWait(Box<LockWait>),
    LockAcquired(Box<LockWait>),
    TempFile {
        path: String,
        size: u64,
    },
    Checkpoint {
        flags: String,
    },
    CheckpointComplete(Box<CheckpointStats>),
    Restartpoint {
        flags: String,
    },
    RestartpointComplete(Box<CheckpointStats>),
    /// `checkpoints are occurring too frequently (N seconds apart)`.
    CheckpointWarning {
        seconds_apart: Option<u64>,
    },
    Autovacuum(Box<MaintenanceStats>),
    Autoanalyze(Box<MaintenanceStats>),
    ConnectionReceived {
        host: Option<String>,
    },
    ConnectionAuthenticated {
        identity: Option<String>,
        method: Option<String>,
    },
    Connection(Connection),
    Disconnection {
        session_ms: Option<f64>,
    },
    AuthFailure,
    ReplicationCommand {
        command: String,
    },
    RecoveryConflict,
    ConfigReload,
    ParameterChange {
        name: String,
        value: Option<String>,
    },
    /// The server is ready for connections (one per start).
    Startup,
    /// The server has shut down (one per clean stop).
    Shutdown,
    /// Other start, stop and recovery progress messages.
    Lifecycle,
    Audit(Box<AuditEntry>),
    // --- Vacuum and wraparound (maintenance.rs), locks (locks.rs),
    // transaction state and statement use (statements.rs).
    /// `database "X" must be vacuumed within N transactions`.
    WraparoundWarning(maintenance::Wraparound),
    /// `database is not accepting commands to avoid wraparound data loss ...`.
    WraparoundRefusal(maintenance::Wraparound),
    /// `oldest xmin is far in the past` (or `oldest multixact`).
    OldestXminFarInPast {
        multixact: bool,
    },
    VacuumSkipped(maintenance::VacuumSkip),
    /// `bypassing nonessential maintenance of table ... as a failsafe`.
    VacuumFailsafe {
        table: String,
        index_scans: Option<u32>,
    },
    /// `relation "t" page N is uninitialized --- fixing` (PostgreSQL 11 and older).
    PageUninitialized {
        relation: String,
        page: Option<u32>,
    },
    AutovacuumLauncherStarted,
    AutovacuumLauncherStopped,
    OrphanTempTableDropped {
        table: String,
    },
    AutovacuumWorkerTimeout,
    /// An autovacuum worker ended by pg_terminate_backend().
    AutovacuumTerminated,
    /// `sending cancel to blocking autovacuum PID N`.
    AutovacuumCancelRequested {
        autovacuum_pid: Option<u32>,
    },
    /// VACUUM VERBOSE: `vacuuming "db.public.t"`.
    VacuumStart {
        table: String,
        aggressive: bool,
    },
    /// VACUUM VERBOSE: `finished vacuuming "db.public.t": index scans: ...`.
    VacuumFinish(Box<MaintenanceStats>),
    /// ANALYZE VERBOSE: `analyzing "public.t"`.
    AnalyzeStart {
        table: String,
    },
    AnalyzeScan(maintenance::AnalyzeScan),
    /// `process N avoided deadlock for ... by rearranging queue order`.
    DeadlockAvoided(Box<LockWait>),
    /// `process N detected deadlock while waiting for ...` (then `deadlock detected`).
    DeadlockWhileWaiting(Box<LockWait>),
    /// `could not obtain lock on row in relation "t"` / `on relation "t"` (55P03).
    LockNotAvailable {
        relation: String,
        row: bool,
    },
    /// `current transaction is aborted, commands ignored until end of transaction block`.
    TransactionAborted,
    NoTransactionInProgress,
    TransactionAlreadyInProgress,
    /// `prepared statement "x" does not exist` (`None`: the unnamed one).
    PreparedStatementMissing {
        name: Option<String>,
    },
    PreparedStatementExists {
        name: Option<String>,
    },
    /// `cursor "x" does not exist` / `portal "x" does not exist`.
    CursorMissing {
        name: Option<String>,
    },
    CursorExists {
        name: Option<String>,
    },
    /// `nonstandard use of \' in a string literal`: `quote`, `backslash` or `escape`.
    NonstandardStringEscape {
        escape: &'static str,
    },
    /// `SET LOCAL can only be used in transaction blocks` (25P01 warning).
    OutsideTransactionBlock {
        command: String,
    },
    /// `no privileges were granted for "t"` and the like: a GRANT or REVOKE
    /// that changed nothing (`none`) or not all it named.
    PrivilegesNotChanged {
        grant: bool,
        none: bool,
    },
    /// `PID N is not a PostgreSQL backend process`: a signal function was
    /// given a pid that is no backend.
    NotABackend {
        pid: Option<u32>,
    },
    /// `... does not exist, skipping` / `... already exists, skipping`.
    IfExistsSkipped {
        object: String,
        exists: bool,
    },
    // Forms of newer server versions.
    /// `connection ready: setup total=...` (PostgreSQL 18).
    ConnectionReady(connection::SetupDurations),
    // Operational families: server start/stop/crash (server.rs), connection
    // problems (connection_problems.rs), WAL, archiving and replication (wal.rs).
    Server(server::ServerEvent),
    ConnectionProblem(connection_problems::ConnectionProblem),
    Wal(wal::WalEvent),
    /// A DEBUG1-5 message no other kind knows: the server's own diagnostics
    /// (`log_min_messages = debugN`), hundreds of forms of no single meaning.
    Debug,
    Other,
}

impl EventKind {
    /// The event's name in reports and JSON.
    pub fn key(&self) -> &'static str {
        match self {
            EventKind::Query(_) => "query",
            EventKind::StatementStep(s) if s.kind == StatementKind::Parse => "parse",
            EventKind::StatementStep(_) => "bind",
            EventKind::StatementLogged(_) => "statement_logged",
            EventKind::Duration { .. } => "duration_only",
            EventKind::Plan(_) => "plan",
            EventKind::Error => "error",
            EventKind::Cancel { .. } => "cancel",
            EventKind::Deadlock { .. } => "deadlock",
            EventKind::LockWait(_) => "lock_wait",
            EventKind::LockAcquired(_) => "lock_acquired",
            EventKind::TempFile { .. } => "temp_file",
            EventKind::Checkpoint { .. } => "checkpoint",
            EventKind::CheckpointComplete(_) => "checkpoint_complete",
            EventKind::Restartpoint { .. } => "restartpoint",
            EventKind::RestartpointComplete(_) => "restartpoint_complete",
            EventKind::CheckpointWarning { .. } => "checkpoint_warning",
            EventKind::Autovacuum(_) => "autovacuum",
            EventKind::Autoanalyze(_) => "autoanalyze",
            EventKind::ConnectionReceived { .. } => "connection_received",
            EventKind::ConnectionAuthenticated { .. } => "connection_authenticated",
            EventKind::Connection(_) => "connection",
            EventKind::Disconnection { .. } => "disconnection",
            EventKind::AuthFailure => "auth_failure",
            EventKind::ReplicationCommand { .. } => "replication_command",
            EventKind::RecoveryConflict => "recovery_conflict",
            EventKind::ConfigReload => "config_reload",
            EventKind::ParameterChange { .. } => "parameter_change",
            EventKind::Startup => "startup",
            EventKind::Shutdown => "shutdown",
            EventKind::Lifecycle => "lifecycle",
            EventKind::Audit(_) => "audit",
            EventKind::WraparoundWarning(_) => "wraparound_warning",
            EventKind::WraparoundRefusal(_) => "wraparound_refusal",
            EventKind::OldestXminFarInPast { .. } => "oldest_xmin_far_in_past",
            EventKind::VacuumSkipped(_) => "vacuum_skipped",
            EventKind::VacuumFailsafe { .. } => "vacuum_failsafe",
            EventKind::PageUninitialized { .. } => "page_uninitialized",
            EventKind::AutovacuumLauncherStarted => "autovacuum_launcher_started",
            EventKind::AutovacuumLauncherStopped => "autovacuum_launcher_stopped",
            EventKind::OrphanTempTableDropped { .. } => "orphan_temp_table_dropped",
            EventKind::AutovacuumWorkerTimeout => "autovacuum_worker_timeout",
            EventKind::AutovacuumTerminated => "autovacuum_terminated",
            EventKind::AutovacuumCancelRequested { .. } => "autovacuum_cancel_requested",
            EventKind::VacuumStart { .. } => "vacuum_start",
            EventKind::VacuumFinish(_) => "vacuum_finish",
            EventKind::AnalyzeStart { .. } => "analyze_start",
            EventKind::AnalyzeScan(_) => "analyze_scan",
            EventKind::DeadlockAvoided(_) => "deadlock_avoided",
            EventKind::DeadlockWhileWaiting(_) => "deadlock_while_waiting",
            EventKind::LockNotAvailable { .. } => "lock_not_available",
            EventKind::TransactionAborted => "transaction_aborted",
            EventKind::NoTransactionInProgress => "no_transaction_in_progress",
            EventKind::TransactionAlreadyInProgress => "transaction_already_in_progress",
            EventKind::PreparedStatementMissing { .. } => "prepared_statement_missing",
            EventKind::PreparedStatementExists { .. } => "prepared_statement_exists",
            EventKind::CursorMissing { .. } => "cursor_missing",
            EventKind::CursorExists { .. } => "cursor_exists",
            EventKind::NonstandardStringEscape { .. } => "nonstandard_string_escape",
            EventKind::OutsideTransactionBlock { .. } => "outside_transaction_block",
            EventKind::PrivilegesNotChanged { .. } => "privileges_not_changed",
            EventKind::NotABackend { .. } => "not_a_backend",
            EventKind::IfExistsSkipped { exists: false, .. } => "drop_if_exists_skipped",
            EventKind::IfExistsSkipped { exists: true, .. } => "create_if_not_exists_skipped",
            EventKind::ConnectionReady(_) => "connection_ready",
            EventKind::Server(e) => e.key(),
            EventKind::ConnectionProblem(p) => p.key(),
            EventKind::Wal(e) => e.key(),
            EventKind::Debug => "debug",
            EventKind::Other => "other",
        }
    }
}

/// A classified record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub record: Box<LogRecord>,
    pub kind: EventKind,
    /// The record's SQLSTATE, or for ERROR/FATAL/PANIC without one, the code
    /// inferred from the message.
    pub sqlstate: Option<SqlState>,
    pub sqlstate_inferred: bool,
}

impl Event {
    /// An empty event for [`crate::LogReader::next_into`] and
    /// [`Classifier::classify_in_place`] to fill record after record.
    pub fn slot() -> Event {
        Event {
            record: Box::new(LogRecord::new(0, Severity::Log, String::new())),
            kind: EventKind::Other,
            sqlstate: None,
            sqlstate_inferred: false,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
struct SessionInfo {
    user: Option<crate::record::Short>,
    database: Option<crate::record::Short>,
    application: Option<crate::record::Short>,
    host: Option<crate::record::Short>,
}

/// Classifies records in log order. It keeps a little state per process:
/// statement text from `log_statement` waiting for its `duration:` line, and
/// each session's user/database/application for its parallel workers.
/// A log read in parts hands that state on (see [`carry`]).
#[derive(Default)]
pub struct Classifier {
    state: State,
    translator: crate::translate::Translator,
    /// The last event's statement buffers, for the next statement.
    spare: statement::Spare,
}

impl Classifier {
    /// A classifier for a log read from its start.
    pub fn new() -> Classifier {
        Classifier::default()
    }

    /// A classifier for a log read from the middle, whose earlier state is
    /// not known: what depended on it is noted in [`Classifier::needs`].
    pub fn mid_log() -> Classifier {
        Classifier {
            state: State::mid_log(),
            ..Classifier::default()
        }
    }

    /// A classifier that goes on where `carry`, the exact state, was taken.
    pub fn resume(carry: Carry) -> Classifier {
        Classifier {
            state: State::resume(carry),
            ..Classifier::default()
        }
    }

    /// From the next record on, keep what changes for [`Classifier::handoff`]
    /// and note in [`Classifier::needs`] what depended on unknown state.
    pub fn track_changes(&mut self) {
        self.state.track_changes();
    }

    /// What the records since [`Classifier::track_changes`] changed.
    pub fn handoff(&self) -> Handoff {
        self.state.handoff()
    }

    /// What a [`Classifier::mid_log`] classifier answered without knowing.
    pub fn needs(&self) -> Needs {
        self.state.needs()
    }

    pub fn classify(&mut self, record: LogRecord) -> Event {
        let mut event = Event {
            record: Box::new(record),
            kind: EventKind::Other,
            sqlstate: None,
            sqlstate_inferred: false,
        };
        self.classify_in_place(&mut event);
        event
    }

    /// [`Classifier::classify`] of the record in `event`, whose kind and
    /// SQLSTATE it replaces: a caller that reads each record into the same
    /// event ([`crate::LogReader::next_into`]) moves no record.
    pub fn classify_in_place(&mut self, event: &mut Event) {
        if let EventKind::Query(s) | EventKind::StatementStep(s) | EventKind::StatementLogged(s) =
            std::mem::replace(&mut event.kind, EventKind::Other)
        {
            self.spare.keep(s);
        }
        let record = &mut event.record;
        self.translator.apply(record);
        self.attribute(record);
        let (sqlstate, inferred) = match record.sqlstate {
            Some(s) => (Some(s), false),
            None if record.severity.is_error() => {
                let s = sqlstate::infer(record);
                (s, s.is_some())
            }
            None => (None, false),
        };
        let mut kind = if record.severity.is_error() {
            error_kind(record, sqlstate)
        } else {
            self.message_kind(record)
        };
        if kind == EventKind::Other && self.translator.retry_unknown(record) {
            kind = self.message_kind(record);
        }
        if let (EventKind::Disconnection { .. }, Some(pid)) = (&kind, record.pid) {
            self.state.disconnected(pid);
        }
        event.kind = kind;
        event.sqlstate = sqlstate;
        event.sqlstate_inferred = inferred;
    }

    /// Parallel workers log without user, database and client; take the leader's.
    fn attribute(&mut self, r: &mut LogRecord) {
        let Some(pid) = r.pid else { return };
        if r.user.is_some() || r.database.is_some() {
            self.state
                .session_seen(pid, &r.user, &r.database, &r.application, &r.remote_host);
        } else if let Some(l) = r.leader_pid {
            let with_application = r.application.is_none();
            if let Some(leader) = self.state.leader(l, with_application) {
                r.user.clone_from(&leader.user);
                r.database.clone_from(&leader.database);
                if r.remote_host.is_none() {
                    r.remote_host.clone_from(&leader.host);
                }
                if with_application {
                    r.application.clone_from(&leader.application);
                }
            }
        }
    }

    fn message_kind(&mut self, r: &LogRecord) -> EventKind {
        let msg = r.message.as_str();
        if let Some(parsed) = statement::parse_with(msg, &mut self.spare) {
            return self.statement_kind(r, parsed);
        }
        activity_kind(r)
            .or_else(|| family_kind(r))
            .or_else(|| operational_kind(r))
            .or_else(|| server::lifecycle(r))
            .unwrap_or(if r.severity.is_debug() {
                EventKind::Debug
            } else {
                EventKind::Other
            })
    }

    fn statement_kind(&mut self, r: &LogRecord, parsed: Parsed) -> EventKind {
        match parsed {
            Parsed::Plan(p) => EventKind::Plan(p),
            Parsed::Statement(mut s) => {
                if let Some(params) = r.detail.as_deref().and_then(|d| self.spare.params(d)) {
                    s.params = params;
                }
                match (s.kind, s.duration_ms) {
                    (StatementKind::Simple | StatementKind::Execute, Some(_)) => {
                        EventKind::Query(s)
                    }
                    (StatementKind::Parse | StatementKind::Bind, Some(_)) => {
                        EventKind::StatementStep(s)
                    }
                    (_, None) => {
                        if let Some(pid) = r.pid {
                            self.state.log_statement(pid, s.clone());
                        }
                        EventKind::StatementLogged(s)
                    }
                }
            }
            Parsed::DurationOnly(ms) => {
                match r.pid.and_then(|pid| self.state.take_statement(pid)) {
                    Some(mut s) => {
                        s.duration_ms = Some(ms);
                        EventKind::Query(s)
                    }
                    None => EventKind::Duration { ms },
                }
            }
        }
    }
}

fn error_kind(r: &LogRecord, sqlstate: Option<SqlState>) -> EventKind {
    let msg = r.message.as_str();
    let code = sqlstate.as_ref().map(SqlState::as_str).unwrap_or("");
    if msg.starts_with("deadlock detected") || code == "40P01" {
        return EventKind::Deadlock {
            sides: r
                .detail
                .as_deref()
                .map(activity::deadlock_sides)
                .unwrap_or_default(),
        };
    }
    if let Some(k) = family_kind(r).or_else(|| locks::classify_error(r)) {
        return k;
    }
    if r.severity == Severity::Fatal && code.starts_with("28") {
        return EventKind::AuthFailure;
    }
    if msg.contains("due to conflict with recovery") {
        return EventKind::RecoveryConflict;
    }
    let reason = if msg.starts_with("canceling statement due to statement timeout") {
        Some(CancelReason::StatementTimeout)
    } else if msg.starts_with("canceling statement due to lock timeout") {
        Some(CancelReason::LockTimeout)
    } else if msg.starts_with("canceling statement due to user request") {
        Some(CancelReason::UserRequest)
    } else if msg.starts_with("terminating connection due to administrator command") {
        Some(CancelReason::AdminTerminate)
    } else if msg.starts_with("terminating connection due to idle-in-transaction timeout") {
        Some(CancelReason::IdleInTransactionTimeout)
    } else if msg.starts_with("terminating connection due to idle-session timeout") {
        Some(CancelReason::IdleSessionTimeout)
    } else if msg.starts_with("canceling autovacuum task") {
        Some(CancelReason::Autovacuum)
    } else {
        None
    };
    match reason {
        Some(reason) => EventKind::Cancel { reason },
        None => operational_kind(r).unwrap_or(EventKind::Error),
    }
}

/// A family's table of server message formats, as one set.
fn format_table<T: Copy>(formats: &[(&str, T)]) -> crate::message_format::FormatSet<T> {
    let mut set = crate::message_format::FormatSet::new();
    for (format, class) in formats {
        set.insert_str(format, *class).expect("a server format");
    }
    set
}

/// The server, connection-problem and WAL families, at any severity.
fn operational_kind(r: &LogRecord) -> Option<EventKind> {
    server::classify(r)
        .or_else(|| connection_problems::classify(r))
        .or_else(|| wal::classify(r))
}

/// `application_name` is the last key of `connection authorized:`, and its
/// value may hold spaces: it runs to the SSL/GSS details or the end.
fn application_name(keys: &str) -> Option<String> {
    let at = keys.find("application_name=")? + "application_name=".len();
    Some(keys[at..].to_string()).filter(|v| !v.is_empty())
}

fn activity_kind(r: &LogRecord) -> Option<EventKind> {
    let msg = r.message.as_str();
    let detail = r.detail.as_deref();
    let k = if let Some(flags) = msg.strip_prefix("checkpoint starting: ") {
        EventKind::Checkpoint {
            flags: flags.to_string(),
        }
    } else if msg.starts_with("checkpoint complete: ") {
        EventKind::CheckpointComplete(Box::new(activity::checkpoint_stats(msg)))
    } else if let Some(flags) = msg.strip_prefix("restartpoint starting: ") {
        EventKind::Restartpoint {
            flags: flags.to_string(),
        }
    } else if msg.starts_with("restartpoint complete: ") {
        EventKind::RestartpointComplete(Box::new(activity::checkpoint_stats(msg)))
    } else if let Some(rest) = msg.strip_prefix("checkpoints are occurring too frequently (") {
        EventKind::CheckpointWarning {
            seconds_apart: rest.split(' ').next().and_then(|n| n.parse().ok()),
        }
    } else if msg.starts_with("automatic vacuum of table")
        || msg.starts_with("automatic aggressive vacuum")
    {
        EventKind::Autovacuum(Box::new(activity::maintenance_stats(msg)))
    } else if msg.starts_with("automatic analyze of table") {
        EventKind::Autoanalyze(Box::new(activity::maintenance_stats(msg)))
    } else if msg.starts_with("temporary file: ") {
        let (path, size) = activity::temp_file(msg)?;
        EventKind::TempFile { path, size }
    } else if msg.starts_with("process ") {
        return locks::process_message(msg, detail);
    } else if let Some(rest) = msg.strip_prefix("connection received: ") {
        let kv = activity::key_values(rest);
        EventKind::ConnectionReceived {
            host: find(&kv, "host"),
        }
    } else if let Some(rest) = msg.strip_prefix("connection authenticated: ") {
        let kv = activity::key_values(rest);
        EventKind::ConnectionAuthenticated {
            // PostgreSQL 18 names the user instead when the method sets no
            // identity (trust).
            identity: find(&kv, "identity")
                .or_else(|| find(&kv, "user"))
                .map(|s| s.trim_matches('"').to_string()),
            method: find(&kv, "method").map(|m| m.split(' ').next().unwrap_or("").to_string()),
        }
    } else if let Some((rest, replication)) = msg
        .strip_prefix("connection authorized: ")
        .map(|r| (r, false))
        .or_else(|| {
            msg.strip_prefix("replication connection authorized: ")
                .map(|r| (r, true))
        })
    {
        let keys = connection::without_encryption(rest);
        let kv = activity::key_values(keys);
        EventKind::Connection(Connection {
            user: find(&kv, "user"),
            database: find(&kv, "database"),
            application: application_name(keys),
            replication,
        })
    } else if let Some(rest) = msg.strip_prefix("connection ready: setup ") {
        EventKind::ConnectionReady(connection::setup_durations(rest))
    } else if msg.starts_with("disconnection: ") {
        EventKind::Disconnection {
            session_ms: activity::session_time_ms(msg),
        }
    } else if let Some(cmd) = msg.strip_prefix("received replication command: ") {
        EventKind::ReplicationCommand {
            command: cmd.to_string(),
        }
    } else if msg.starts_with("received SIGHUP, reloading configuration files") {
        EventKind::ConfigReload
    } else if let Some(rest) = msg.strip_prefix("parameter \"") {
        let (name, tail) = rest.split_once('"')?;
        let value = tail
            .strip_prefix(" changed to \"")
            .map(|v| v.trim_end_matches('"').to_string());
        if value.is_none()
            && !tail.contains("cannot be changed")
            && !tail.contains("removed from configuration")
        {
            return None;
        }
        EventKind::ParameterChange {
            name: name.to_string(),
            value,
        }
    } else if msg.starts_with("AUDIT: ") {
        EventKind::Audit(Box::new(activity::audit_entry(msg)?))
    } else {
        return None;
    };
    Some(k)
}

/// The vacuum, wraparound, transaction-state and statement-use kinds, of
/// any severity.
fn family_kind(r: &LogRecord) -> Option<EventKind> {
    maintenance::classify(r).or_else(|| statements::classify(r))
}

fn find(kv: &[(&str, &str)], key: &str) -> Option<String> {
    kv.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}
