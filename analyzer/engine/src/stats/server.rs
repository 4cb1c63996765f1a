//! What the server, connection-problem and WAL events hold: crashes with
//! the statement that was running, out-of-memory errors, shutdowns by mode,
//! archive failures with their command and file, pages whose checksum
//! failed, and connection problems by kind and client. Counts of every
//! kind are in the summary's events; here are the details, of the earliest
//! [`SERVER_SAMPLES`] of each, merged independent of split.

use super::{bump, keep_text, merge_counts, Limits};
use crate::totals::add_to;
use pglog_logparse::classify::server::{ProcessExit, ServerEvent};
use pglog_logparse::classify::wal::WalEvent;
use pglog_logparse::{Event, EventKind, LogRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Occurrences kept with their details, per list.
pub const SERVER_SAMPLES: usize = 100;

/// One occurrence: when, which process, and its details.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timed<T> {
    pub time_ms: Option<i64>,
    pub pid: Option<u32>,
    pub item: T,
}

/// How many there were, and the earliest [`SERVER_SAMPLES`] of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept<T> {
    pub total: u64,
    pub samples: Vec<Timed<T>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            total: 0,
            samples: Vec::new(),
        }
    }
}

impl<T: Ord + Clone> Kept<T> {
    pub fn add(&mut self, t: Timed<T>) {
        add_to(&mut self.total, 1);
        self.keep(t);
    }

    /// In time order (then by content, so that any merge order keeps the same).
    fn keep(&mut self, t: Timed<T>) {
        let pos = self.samples.partition_point(|x| x <= &t);
        if pos < SERVER_SAMPLES {
            self.samples.insert(pos, t);
            self.samples.truncate(SERVER_SAMPLES);
        }
    }

    pub fn merge(&mut self, o: &Kept<T>) {
        add_to(&mut self.total, o.total);
        for t in &o.samples {
            self.keep(t.clone());
        }
    }
}

/// Details kept, and reported as they are: the report's JSON Schema is
/// derived from these types.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Crash {
    /// `server process`, `background worker "..."`, `checkpointer process`, ...
    pub process: String,
    /// The process that died (the occurrence's `pid` is the postmaster's).
    pub crashed_pid: u32,
    pub signal: Option<i32>,
    /// The signal's description (`Killed`).
    pub signal_name: Option<String>,
    pub exit_code: Option<i32>,
    /// What it was running (`Failed process was running: ...`).
    pub statement: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct OutOfMemory {
    /// From `Failed on request of size N in memory context "X".`
    pub request_bytes: Option<u64>,
    pub context: Option<String>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub statement: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ArchiveFailure {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The command as run (`The failed archive command was: ...`).
    pub command: Option<String>,
    /// The WAL file named in the command.
    pub file: Option<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct WalFile {
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checksum {
    pub calculated: u32,
    pub expected: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InvalidPage {
    pub relation: String,
    pub block: u64,
    pub zeroed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    pub crashes: Kept<Crash>,
    /// Exits without a crash restart, by process (`background worker "parallel worker"`).
    pub process_exits: BTreeMap<String, u64>,
    /// `all server processes terminated; reinitializing`.
    pub crash_restarts: u64,
    pub out_of_memory: Kept<OutOfMemory>,
    /// `received ... shutdown request`, by mode.
    pub shutdown_requests: BTreeMap<String, u64>,
    pub archive_failures: Kept<ArchiveFailure>,
    pub archive_gave_up: Kept<WalFile>,
    pub wal_restored: u64,
    pub segments_removed: Kept<WalFile>,
    pub checksum_failures: Kept<Checksum>,
    pub invalid_pages: Kept<InvalidPage>,
    /// Connection problems by kind (the event's key).
    pub connection_problems: BTreeMap<String, u64>,
    /// ... and by client host (`unknown` when the log does not name it).
    pub connection_problems_by_client: BTreeMap<String, u64>,
}

/// An occurrence of `item` in record `r`.
fn timed<T>(r: &LogRecord, item: T) -> Timed<T> {
    Timed {
        time_ms: r.time.map(|t| t.epoch_ms),
        pid: r.pid,
        item,
    }
}

impl ServerStats {
    pub fn add(&mut self, e: &Event, l: &Limits) {
        // Statements and commands are kept as samples are: redacted, cut.
        let text = |s: Option<&str>| s.map(|s| keep_text(l, s, l.sample_chars));
        let r = &e.record;
        match &e.kind {
            EventKind::Server(s) => self.add_server(s, r, text),
            EventKind::ConnectionProblem(p) => {
                bump(&mut self.connection_problems, p.key(), 1);
                let host = r.remote_host.as_deref().unwrap_or("unknown");
                bump(&mut self.connection_problems_by_client, host, 1);
            }
            EventKind::Wal(w) => self.add_wal(w, r, text),
            _ => {}
        }
    }

    fn add_server(
        &mut self,
        s: &ServerEvent,
        r: &LogRecord,
        text: impl Fn(Option<&str>) -> Option<String>,
    ) {
        match s {
            ServerEvent::Crash(x) => self.crashes.add(timed(r, crash(x, text))),
            ServerEvent::ProcessExit(x) => bump(&mut self.process_exits, &x.process, 1),
            ServerEvent::Reinitializing => add_to(&mut self.crash_restarts, 1),
            ServerEvent::OutOfMemory {
                request_bytes,
                context,
            } => {
                let item = OutOfMemory {
                    request_bytes: *request_bytes,
                    context: context.clone(),
                    user: r.user.as_deref().map(str::to_string),
                    database: r.database.as_deref().map(str::to_string),
                    statement: text(r.statement.as_deref()),
                };
                self.out_of_memory.add(timed(r, item))
            }
            ServerEvent::ShutdownRequest { mode } => {
                bump(&mut self.shutdown_requests, mode.as_str(), 1)
            }
            _ => {}
        }
    }

    fn add_wal(
        &mut self,
        w: &WalEvent,
        r: &LogRecord,
        text: impl Fn(Option<&str>) -> Option<String>,
    ) {
        match w {
            WalEvent::ArchiveFailed(a) => {
                let item = ArchiveFailure {
                    exit_code: a.exit_code,
                    signal: a.signal,
                    command: text(a.command.as_deref()),
                    file: a.file.clone(),
                };
                self.archive_failures.add(timed(r, item))
            }
            WalEvent::ArchiveGaveUp { file } => {
                let item = WalFile { file: file.clone() };
                self.archive_gave_up.add(timed(r, item))
            }
            WalEvent::Restored { .. } => add_to(&mut self.wal_restored, 1),
            WalEvent::SegmentRemoved { segment } => {
                let item = WalFile {
                    file: segment.clone(),
                };
                self.segments_removed.add(timed(r, item))
            }
            WalEvent::ChecksumFailure {
                calculated,
                expected,
            } => {
                let item = Checksum {
                    calculated: *calculated,
                    expected: *expected,
                };
                self.checksum_failures.add(timed(r, item))
            }
            WalEvent::InvalidPage {
                block,
                relation,
                zeroed,
            } => {
                let item = InvalidPage {
                    relation: relation.clone(),
                    block: *block,
                    zeroed: *zeroed,
                };
                self.invalid_pages.add(timed(r, item))
            }
            _ => {}
        }
    }

    pub fn merge(&mut self, o: &ServerStats) {
        self.crashes.merge(&o.crashes);
        merge_counts(&mut self.process_exits, &o.process_exits);
        add_to(&mut self.crash_restarts, o.crash_restarts);
        self.out_of_memory.merge(&o.out_of_memory);
        merge_counts(&mut self.shutdown_requests, &o.shutdown_requests);
        self.archive_failures.merge(&o.archive_failures);
        self.archive_gave_up.merge(&o.archive_gave_up);
        add_to(&mut self.wal_restored, o.wal_restored);
        self.segments_removed.merge(&o.segments_removed);
        self.checksum_failures.merge(&o.checksum_failures);
        self.invalid_pages.merge(&o.invalid_pages);
        merge_counts(&mut self.connection_problems, &o.connection_problems);
        merge_counts(
            &mut self.connection_problems_by_client,
            &o.connection_problems_by_client,
        );
    }
}

fn crash(x: &ProcessExit, text: impl Fn(Option<&str>) -> Option<String>) -> Crash {
    Crash {
        process: x.process.clone(),
        crashed_pid: x.pid,
        signal: x.signal,
        signal_name: x.signal_name.clone(),
        exit_code: x.exit_code,
        statement: text(x.statement.as_deref()),
    }
}
