//! WAL, archiving, standby and replication: a failing `archive_command` and
//! the WAL file it failed on, WAL restored from the archive, streaming
//! started and ended, a primary that cannot be reached, removed segments,
//! walsender timeouts, the end of WAL in recovery, promotion and timelines,
//! and pages whose checksum fails (`page verification failed`, then
//! `invalid page in block N of relation base/...`). Recovery conflicts and
//! `checkpoints are occurring too frequently` have their own kinds. Wording
//! of PostgreSQL 15.

use super::EventKind;
use crate::message_format::FormatSet;
use crate::record::LogRecord;
use serde::Serialize;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum WalEvent {
    /// `archive command failed with exit code N` (or `was terminated by signal N: ...`).
    ArchiveFailed(ArchiveFailure),
    /// `archiving write-ahead log file "F" failed too many times, will try again later`.
    ArchiveGaveUp { file: String },
    /// `restored log file "F" from archive`.
    Restored { file: String },
    /// `could not restore file "F" from archive: ...`.
    RestoreFailed { file: String, error: String },
    /// `started streaming WAL from primary at X/X on timeline N` (or `restarted`).
    StreamingStarted { lsn: String, timeline: Option<u32> },
    /// `replication terminated by primary server`, with the end of WAL from
    /// `End of WAL reached on timeline N at X/X.`
    ReplicationTerminated {
        timeline: Option<u32>,
        lsn: Option<String>,
    },
    /// `could not connect to the primary server: ...`.
    PrimaryConnectFailed { error: String },
    /// `could not receive data from WAL stream: ...` and the like: the
    /// walreceiver's connection broke.
    StreamError { error: String },
    /// `requested WAL segment S has already been removed` (the walsender's).
    SegmentRemoved { segment: String },
    /// `terminating walsender process due to replication timeout`.
    WalsenderTimeout,
    /// `terminating walreceiver due to timeout`.
    WalreceiverTimeout,
    /// `terminating walreceiver process due to administrator command`: at
    /// promotion or shutdown.
    WalreceiverStopped,
    /// `invalid record length at X/X: wanted N, got 0` and the like: where
    /// recovery found the end of WAL.
    InvalidRecord { lsn: Option<String> },
    /// `waiting for WAL to become available at X/X`.
    WaitingForWal { lsn: String },
    /// `received promote request`, `promote trigger file found: ...`.
    Promote,
    /// `selected new timeline ID: N`.
    TimelineSelected { timeline: u32 },
    /// `restore point "name" created at X/X` (pg_create_restore_point()).
    RestorePointCreated { name: String, lsn: String },
    /// `page verification failed, calculated checksum N but expected M`.
    ChecksumFailure { calculated: u32, expected: u32 },
    /// `invalid page in block N of relation R` (`; zeroing out page`).
    InvalidPage {
        block: u64,
        relation: String,
        zeroed: bool,
    },
}

impl WalEvent {
    pub fn key(&self) -> &'static str {
        match self {
            WalEvent::ArchiveFailed(_) => "archive_failure",
            WalEvent::ArchiveGaveUp { .. } => "archive_gave_up",
            WalEvent::Restored { .. } => "wal_restored",
            WalEvent::RestoreFailed { .. } => "wal_restore_failed",
            WalEvent::StreamingStarted { .. } => "streaming_started",
            WalEvent::ReplicationTerminated { .. } => "replication_terminated",
            WalEvent::PrimaryConnectFailed { .. } => "primary_connect_failed",
            WalEvent::StreamError { .. } => "wal_stream_error",
            WalEvent::SegmentRemoved { .. } => "wal_segment_removed",
            WalEvent::WalsenderTimeout => "walsender_timeout",
            WalEvent::WalreceiverTimeout => "walreceiver_timeout",
            WalEvent::WalreceiverStopped => "walreceiver_stopped",
            WalEvent::InvalidRecord { .. } => "wal_invalid_record",
            WalEvent::WaitingForWal { .. } => "waiting_for_wal",
            WalEvent::Promote => "promote",
            WalEvent::TimelineSelected { .. } => "timeline_selected",
            WalEvent::RestorePointCreated { .. } => "restore_point_created",
            WalEvent::ChecksumFailure { .. } => "checksum_failure",
            WalEvent::InvalidPage { .. } => "invalid_page",
        }
    }
}

/// One failed run of `archive_command`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchiveFailure {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The command as run, from `The failed archive command was: ...`.
    pub command: Option<String>,
    /// The WAL file the command was given, when its name is in the command.
    pub file: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Class {
    ArchiveExit,
    ArchiveSignal,
    ArchiveOther,
    GaveUp,
    Restored,
    RestoreFailed,
    Streaming,
    Restreaming,
    Terminated,
    ConnectFailed,
    StreamError,
    SegmentRemoved,
    WalsenderTimeout,
    WalreceiverTimeout,
    WalreceiverStopped,
    /// The argument where the record's lsn starts, if it has one.
    InvalidRecord(Option<usize>),
    WaitingForWal,
    Promote,
    Timeline,
    RestorePoint,
    Checksum,
    InvalidPage,
    InvalidPageZeroed,
}

/// PostgreSQL 15's message formats (postmaster/pgarch.c, access/transam/
/// xlogarchive.c, xlogrecovery.c, xlogreader.c, replication/walreceiver.c,
/// walsender.c, storage/page/bufpage.c, storage/buffer/bufmgr.c).
const FORMATS: &[(&str, Class)] = &[
    (
        "archive command failed with exit code %d",
        Class::ArchiveExit,
    ),
    (
        "archive command was terminated by signal %d: %s",
        Class::ArchiveSignal,
    ),
    (
        "archive command was terminated by exception 0x%X",
        Class::ArchiveOther,
    ),
    (
        "archive command exited with unrecognized status %d",
        Class::ArchiveOther,
    ),
    (
        "archiving write-ahead log file \"%s\" failed too many times, will try again later",
        Class::GaveUp,
    ),
    ("restored log file \"%s\" from archive", Class::Restored),
    (
        "could not restore file \"%s\" from archive: %s",
        Class::RestoreFailed,
    ),
    (
        "started streaming WAL from primary at %X/%X on timeline %u",
        Class::Streaming,
    ),
    (
        "restarted WAL streaming at %X/%X on timeline %u",
        Class::Restreaming,
    ),
    (
        "replication terminated by primary server",
        Class::Terminated,
    ),
    (
        "could not connect to the primary server: %s",
        Class::ConnectFailed,
    ),
    (
        "could not receive data from WAL stream: %s",
        Class::StreamError,
    ),
    ("could not send data to WAL stream: %s", Class::StreamError),
    (
        "could not send end-of-streaming message to primary: %s",
        Class::StreamError,
    ),
    ("could not start WAL streaming: %s", Class::StreamError),
    (
        "requested WAL segment %s has already been removed",
        Class::SegmentRemoved,
    ),
    (
        "terminating walsender process due to replication timeout",
        Class::WalsenderTimeout,
    ),
    (
        "terminating walreceiver due to timeout",
        Class::WalreceiverTimeout,
    ),
    (
        "terminating walreceiver process due to administrator command",
        Class::WalreceiverStopped,
    ),
    (
        "invalid record length at %X/%X: wanted %u, got %u",
        Class::InvalidRecord(Some(0)),
    ),
    (
        "record with incorrect prev-link %X/%X at %X/%X",
        Class::InvalidRecord(Some(2)),
    ),
    (
        "invalid resource manager ID %u at %X/%X",
        Class::InvalidRecord(Some(1)),
    ),
    (
        "invalid magic number %04X in log segment %s, offset %u",
        Class::InvalidRecord(None),
    ),
    (
        "invalid contrecord length %u (expected %lld) at %X/%X",
        Class::InvalidRecord(Some(2)),
    ),
    (
        "waiting for WAL to become available at %X/%X",
        Class::WaitingForWal,
    ),
    ("received promote request", Class::Promote),
    // access/transam/xlogfuncs.c
    ("restore point \"%s\" created at %X/%X", Class::RestorePoint),
    ("promote trigger file found: %s", Class::Promote),
    ("selected new timeline ID: %u", Class::Timeline),
    (
        "page verification failed, calculated checksum %u but expected %u",
        Class::Checksum,
    ),
    (
        "invalid page in block %u of relation %s",
        Class::InvalidPage,
    ),
    (
        "invalid page in block %u of relation %s; zeroing out page",
        Class::InvalidPageZeroed,
    ),
];

static SET: LazyLock<FormatSet<Class>> = LazyLock::new(|| super::format_table(FORMATS));

/// A WAL, archiving or replication event; `None` for anything else.
pub fn classify(r: &LogRecord) -> Option<EventKind> {
    let (_, class, args) = SET.find_captures(&r.message)?;
    let arg = |i: usize| args.get(i).copied().flatten().unwrap_or("");
    let text = |i: usize| arg(i).to_string();
    let lsn = |i: usize| format!("{}/{}", arg(i), arg(i + 1));
    let e = match class {
        Class::ArchiveExit | Class::ArchiveSignal | Class::ArchiveOther => {
            let command = r
                .detail
                .as_deref()
                .and_then(|d| d.strip_prefix("The failed archive command was: "));
            WalEvent::ArchiveFailed(ArchiveFailure {
                exit_code: matches!(class, Class::ArchiveExit)
                    .then(|| number(&args, 0))
                    .flatten(),
                signal: matches!(class, Class::ArchiveSignal)
                    .then(|| number(&args, 0))
                    .flatten(),
                command: command.map(str::to_string),
                file: command.and_then(wal_file_name).map(str::to_string),
            })
        }
        Class::GaveUp => WalEvent::ArchiveGaveUp { file: text(0) },
        Class::Restored => WalEvent::Restored { file: text(0) },
        Class::RestoreFailed => WalEvent::RestoreFailed {
            file: text(0),
            error: text(1),
        },
        Class::Streaming | Class::Restreaming => WalEvent::StreamingStarted {
            lsn: lsn(0),
            timeline: number(&args, 2),
        },
        Class::Terminated => end_of_wal(r.detail.as_deref()),
        Class::ConnectFailed => WalEvent::PrimaryConnectFailed { error: text(0) },
        Class::StreamError => WalEvent::StreamError {
            error: r.message.clone(),
        },
        Class::SegmentRemoved => WalEvent::SegmentRemoved { segment: text(0) },
        Class::WalsenderTimeout => WalEvent::WalsenderTimeout,
        Class::WalreceiverTimeout => WalEvent::WalreceiverTimeout,
        Class::WalreceiverStopped => WalEvent::WalreceiverStopped,
        Class::InvalidRecord(at) => WalEvent::InvalidRecord { lsn: at.map(lsn) },
        Class::WaitingForWal => WalEvent::WaitingForWal { lsn: lsn(0) },
        Class::Promote => WalEvent::Promote,
        Class::Timeline => WalEvent::TimelineSelected {
            timeline: number(&args, 0)?,
        },
        Class::RestorePoint => WalEvent::RestorePointCreated {
            name: text(0),
            lsn: lsn(1),
        },
        Class::Checksum => WalEvent::ChecksumFailure {
            calculated: number(&args, 0)?,
            expected: number(&args, 1)?,
        },
        Class::InvalidPage | Class::InvalidPageZeroed => WalEvent::InvalidPage {
            block: number(&args, 0)?,
            relation: text(1),
            zeroed: matches!(class, Class::InvalidPageZeroed),
        },
    };
    Some(EventKind::Wal(e))
}

fn number<T: std::str::FromStr>(args: &[Option<&str>], i: usize) -> Option<T> {
    args.get(i).copied().flatten()?.parse().ok()
}

/// `End of WAL reached on timeline 1 at 0/3000060.`
fn end_of_wal(detail: Option<&str>) -> WalEvent {
    let rest = detail.and_then(|d| d.strip_prefix("End of WAL reached on timeline "));
    let (timeline, lsn) = match rest.and_then(|r| r.split_once(" at ")) {
        Some((t, l)) => (t.parse().ok(), Some(l.trim_end_matches('.').to_string())),
        None => (None, None),
    };
    WalEvent::ReplicationTerminated { timeline, lsn }
}

/// The first WAL file name in an archive command: a segment's 24 hex
/// digits (with `.partial` or `.backup` parts), or a `.history` file.
fn wal_file_name(command: &str) -> Option<&str> {
    let b = command.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_hexdigit() || (i > 0 && is_name_byte(b[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let hex = i - start;
        let mut end = i;
        while end < b.len() && (is_name_byte(b[end]) || b[end] == b'.') {
            end += 1;
        }
        let suffix = &command[i..end];
        let named = (hex == 24
            && (suffix.is_empty() || suffix == ".partial" || suffix.ends_with(".backup")))
            || (hex == 8 && suffix == ".history");
        if named {
            return Some(&command[start..end]);
        }
        i = end.max(i);
    }
    None
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;

    fn wal(msg: &str, detail: Option<&str>) -> Option<WalEvent> {
        let mut r = LogRecord::new(1, Severity::Log, msg.to_string());
        r.detail = detail.map(str::to_string);
        match classify(&r) {
            Some(EventKind::Wal(e)) => Some(e),
            None => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn archive_failures_name_command_and_file() {
        let cmd =
            "test -d /tmp/a && cp pg_wal/000000010000000000000001 /tmp/a/000000010000000000000001";
        let detail = format!("The failed archive command was: {cmd}");
        assert_eq!(
            wal("archive command failed with exit code 1", Some(&detail)),
            Some(WalEvent::ArchiveFailed(ArchiveFailure {
                exit_code: Some(1),
                signal: None,
                command: Some(cmd.into()),
                file: Some("000000010000000000000001".into()),
            }))
        );
        assert_eq!(
            wal_file_name("cp pg_wal/00000002.history /a/00000002.history"),
            Some("00000002.history")
        );
        assert_eq!(wal_file_name("/bin/false deadbeef"), None);
    }

    #[test]
    fn streaming_and_end_of_wal() {
        assert_eq!(
            wal(
                "started streaming WAL from primary at 0/3000000 on timeline 1",
                None
            ),
            Some(WalEvent::StreamingStarted {
                lsn: "0/3000000".into(),
                timeline: Some(1)
            })
        );
        assert_eq!(
            wal(
                "replication terminated by primary server",
                Some("End of WAL reached on timeline 1 at 0/5000060.")
            ),
            Some(WalEvent::ReplicationTerminated {
                timeline: Some(1),
                lsn: Some("0/5000060".into())
            })
        );
        assert_eq!(
            wal("invalid record length at 0/5000060: wanted 24, got 0", None),
            Some(WalEvent::InvalidRecord {
                lsn: Some("0/5000060".into())
            })
        );
    }

    #[test]
    fn page_verification() {
        assert_eq!(
            wal(
                "page verification failed, calculated checksum 25006 but expected 52365",
                None
            ),
            Some(WalEvent::ChecksumFailure {
                calculated: 25006,
                expected: 52365
            })
        );
        assert_eq!(
            wal("invalid page in block 1 of relation base/5/16386", None),
            Some(WalEvent::InvalidPage {
                block: 1,
                relation: "base/5/16386".into(),
                zeroed: false
            })
        );
        assert!(matches!(
            wal(
                "invalid page in block 1 of relation base/5/16386; zeroing out page",
                None
            ),
            Some(WalEvent::InvalidPage { zeroed: true, .. })
        ));
    }
}
