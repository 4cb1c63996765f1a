//! Server start, stop and crash: the postmaster's reports of processes that
//! died (`server process (PID 123) was terminated by signal 9: Killed`), the
//! crash restart that follows, out-of-memory errors, shutdown requests by
//! mode, and the other start/stop/recovery progress messages
//! ([`EventKind::Startup`], [`EventKind::Shutdown`],
//! [`EventKind::Lifecycle`]). Wording of PostgreSQL 15.

use super::EventKind;
use crate::record::LogRecord;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ServerEvent {
    /// A process that died abnormally (a signal, or an exit code other than
    /// 0 and 1): the postmaster restarts every process after it.
    Crash(ProcessExit),
    /// A process's exit the postmaster logs without a crash restart: a
    /// background worker's or the WAL receiver's exit code 1.
    ProcessExit(ProcessExit),
    /// `terminating any other active server processes`: the crash restart begins.
    TerminatingOthers,
    /// `terminating connection because of crash of another server process`
    /// (written to the log up to PostgreSQL 13), or `because of unexpected
    /// SIGQUIT signal`: a session ended by a crash restart.
    BackendTerminated,
    /// `all server processes terminated; reinitializing`.
    Reinitializing,
    /// `database system was interrupted; last known up at ...` (or `while in
    /// recovery at ...`): the previous run did not shut down cleanly.
    Interrupted { in_recovery: bool },
    /// `database system was not properly shut down; automatic recovery in progress`.
    AutomaticRecovery,
    /// `out of memory`, with the request from `Failed on request of size N
    /// in memory context "X".`
    OutOfMemory {
        request_bytes: Option<u64>,
        context: Option<String>,
    },
    /// `received fast|smart|immediate shutdown request`.
    ShutdownRequest { mode: ShutdownMode },
    /// `database system is ready to accept read-only connections`: a hot
    /// standby's start.
    StandbyReady,
}

impl ServerEvent {
    pub fn key(&self) -> &'static str {
        match self {
            ServerEvent::Crash(_) => "crash",
            ServerEvent::ProcessExit(_) => "process_exit",
            ServerEvent::TerminatingOthers => "crash_terminate_others",
            ServerEvent::BackendTerminated => "crash_terminated_backend",
            ServerEvent::Reinitializing => "crash_reinitialize",
            ServerEvent::Interrupted { .. } => "system_interrupted",
            ServerEvent::AutomaticRecovery => "automatic_recovery",
            ServerEvent::OutOfMemory { .. } => "out_of_memory",
            ServerEvent::ShutdownRequest { .. } => "shutdown_request",
            ServerEvent::StandbyReady => "standby_ready",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownMode {
    Smart,
    Fast,
    Immediate,
}

impl ShutdownMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownMode::Smart => "smart",
            ShutdownMode::Fast => "fast",
            ShutdownMode::Immediate => "immediate",
        }
    }
}

/// How a process ended, as the postmaster reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessExit {
    /// `server process`, `background worker "parallel worker"`,
    /// `checkpointer process`, ...
    pub process: String,
    pub pid: u32,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The signal's description (`Killed`, `Segmentation fault`).
    pub signal_name: Option<String>,
    /// What the process was running, from `Failed process was running: ...`.
    pub statement: Option<String>,
}

/// Start, stop and crash messages; `None` for anything else.
pub fn classify(r: &LogRecord) -> Option<EventKind> {
    let msg = r.message.as_str();
    if let Some(exit) = process_exit(msg, r.detail.as_deref()) {
        let crash = exit.signal.is_some() || !matches!(exit.exit_code, Some(0 | 1));
        return Some(EventKind::Server(if crash {
            ServerEvent::Crash(exit)
        } else {
            ServerEvent::ProcessExit(exit)
        }));
    }
    let e = match msg {
        "terminating any other active server processes" => ServerEvent::TerminatingOthers,
        "terminating connection because of crash of another server process"
        | "terminating connection because of unexpected SIGQUIT signal" => {
            ServerEvent::BackendTerminated
        }
        "all server processes terminated; reinitializing" => ServerEvent::Reinitializing,
        "database system was not properly shut down; automatic recovery in progress" => {
            ServerEvent::AutomaticRecovery
        }
        "received smart shutdown request" => shutdown(ShutdownMode::Smart),
        "received fast shutdown request" => shutdown(ShutdownMode::Fast),
        "received immediate shutdown request" => shutdown(ShutdownMode::Immediate),
        "database system is ready to accept read-only connections"
        // PostgreSQL 13 and older.
        | "database system is ready to accept read only connections" => ServerEvent::StandbyReady,
        "out of memory" => out_of_memory(r.detail.as_deref()),
        _ if msg.starts_with("database system was interrupted while in recovery at ") => {
            ServerEvent::Interrupted { in_recovery: true }
        }
        _ if msg.starts_with("database system was interrupted; last known up at ") => {
            ServerEvent::Interrupted { in_recovery: false }
        }
        _ => return None,
    };
    Some(EventKind::Server(e))
}

fn shutdown(mode: ShutdownMode) -> ServerEvent {
    ServerEvent::ShutdownRequest { mode }
}

/// `Failed on request of size 314572804 in memory context "ExprContext".`
fn out_of_memory(detail: Option<&str>) -> ServerEvent {
    let rest = detail.and_then(|d| d.strip_prefix("Failed on request of size "));
    let request_bytes = rest
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok());
    let context = rest
        .and_then(|r| r.split_once(" in memory context \""))
        .map(|(_, c)| c.trim_end_matches('.').trim_end_matches('"').to_string());
    ServerEvent::OutOfMemory {
        request_bytes,
        context,
    }
}

/// `%s (PID %d) was terminated by signal %d: %s`, `%s (PID %d) exited with
/// exit code %d`, `... was terminated by exception 0x%X`, `... exited with
/// unrecognized status %d` (postmaster.c's LogChildExit).
fn process_exit(msg: &str, detail: Option<&str>) -> Option<ProcessExit> {
    let (process, rest) = msg.split_once(" (PID ")?;
    let (pid, how) = rest.split_once(") ")?;
    let pid = pid.parse().ok()?;
    let (mut exit_code, mut signal, mut signal_name) = (None, None, None);
    if let Some(code) = how.strip_prefix("exited with exit code ") {
        exit_code = Some(code.parse().ok()?);
    } else if let Some(sig) = how.strip_prefix("was terminated by signal ") {
        let (n, name) = sig.split_once(": ").unwrap_or((sig, ""));
        signal = Some(n.parse().ok()?);
        signal_name = Some(name.to_string()).filter(|s| !s.is_empty());
    } else if !how.starts_with("was terminated by exception ")
        && !how.starts_with("exited with unrecognized status ")
    {
        return None;
    }
    let statement = detail
        .and_then(|d| d.strip_prefix("Failed process was running: "))
        .map(str::to_string);
    Some(ProcessExit {
        process: process.to_string(),
        pid,
        exit_code,
        signal,
        signal_name,
        statement,
    })
}

const STARTUP: &[&str] = &["database system is ready to accept connections"];
const SHUTDOWN: &[&str] = &["database system is shut down"];
const LIFECYCLE: &[&str] = &[
    "starting PostgreSQL",
    "listening on ",
    "database system was ",
    "aborting any active transactions",
    "shutting down",
    "background worker \"",
    "entering standby mode",
    "redo starts at",
    "redo done at",
    "redo is not required",
    "consistent recovery state reached",
    "recovery restart point at",
    "last completed transaction was at",
    "checkpointer process",
    "archive recovery complete",
    "starting archive recovery",
    "starting backup recovery",
    "completed backup recovery",
    "database system is ready",
    "aborting startup due to startup process failure",
];

/// The other start, stop and recovery messages, tried after every finer class.
pub fn lifecycle(r: &LogRecord) -> Option<EventKind> {
    let msg = r.message.as_str();
    let starts = |list: &[&str]| list.iter().any(|s| msg.starts_with(s));
    if starts(STARTUP) {
        Some(EventKind::Startup)
    } else if starts(SHUTDOWN) {
        Some(EventKind::Shutdown)
    } else if starts(LIFECYCLE) {
        Some(EventKind::Lifecycle)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;

    fn record(severity: Severity, msg: &str, detail: Option<&str>) -> LogRecord {
        let mut r = LogRecord::new(1, severity, msg.to_string());
        r.detail = detail.map(str::to_string);
        r
    }

    fn server(r: &LogRecord) -> ServerEvent {
        match classify(r) {
            Some(EventKind::Server(e)) => e,
            other => panic!("{:?}: {other:?}", r.message),
        }
    }

    #[test]
    fn a_killed_backend_is_a_crash_with_its_statement() {
        // postmaster.c LogChildExit, as PostgreSQL 15 wrote it.
        let r = record(
            Severity::Log,
            "server process (PID 24987) was terminated by signal 9: Killed",
            Some("Failed process was running: SELECT pg_sleep(60) AS killed"),
        );
        let ServerEvent::Crash(e) = server(&r) else {
            panic!()
        };
        assert_eq!(e.process, "server process");
        assert_eq!(e.pid, 24987);
        assert_eq!((e.signal, e.exit_code), (Some(9), None));
        assert_eq!(e.signal_name.as_deref(), Some("Killed"));
        assert_eq!(
            e.statement.as_deref(),
            Some("SELECT pg_sleep(60) AS killed")
        );
    }

    #[test]
    fn exit_codes_tell_a_crash_from_an_exit() {
        let r = record(
            Severity::Log,
            "server process (PID 25287) exited with exit code 2",
            None,
        );
        assert!(matches!(server(&r), ServerEvent::Crash(e) if e.exit_code == Some(2)));
        let r = record(
            Severity::Log,
            "background worker \"parallel worker\" (PID 25591) exited with exit code 1",
            None,
        );
        let ServerEvent::ProcessExit(e) = server(&r) else {
            panic!()
        };
        assert_eq!(e.process, "background worker \"parallel worker\"");
        // Not a process exit: the wording only looks alike.
        let r = record(Severity::Log, "checkpointer process (PID 7) is fine", None);
        assert_eq!(classify(&r), None);
    }

    #[test]
    fn out_of_memory_carries_its_request() {
        let r = record(
            Severity::Error,
            "out of memory",
            Some("Failed on request of size 314572804 in memory context \"ExprContext\"."),
        );
        assert_eq!(
            server(&r),
            ServerEvent::OutOfMemory {
                request_bytes: Some(314572804),
                context: Some("ExprContext".into())
            }
        );
        let r = record(Severity::Error, "out of shared memory", None);
        assert_eq!(classify(&r), None);
    }

    #[test]
    fn shutdown_modes_and_recovery() {
        let r = record(Severity::Log, "received smart shutdown request", None);
        assert_eq!(
            server(&r),
            ServerEvent::ShutdownRequest {
                mode: ShutdownMode::Smart
            }
        );
        let r = record(
            Severity::Log,
            "database system was interrupted; last known up at 2026-12-01 17:19:00 UTC",
            None,
        );
        assert_eq!(server(&r), ServerEvent::Interrupted { in_recovery: false });
        let r = record(
            Severity::Log,
            "database system was shut down at 2026-12-01 17:19:00 UTC",
            None,
        );
        assert_eq!(classify(&r), None);
        assert_eq!(lifecycle(&r), Some(EventKind::Lifecycle));
    }
}
