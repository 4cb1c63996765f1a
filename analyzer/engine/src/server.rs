//! The report's `server` section, computed from [`ServerStats`]: crashes,
//! out-of-memory errors, shutdowns, archive failures, page verification
//! failures (a checksum failure with the relation and block of the
//! `invalid page` error that followed it in the same process) and
//! connection problems.

use crate::stats::server::{
    ArchiveFailure, Checksum, Crash, InvalidPage, Kept, OutOfMemory, ServerStats, Timed, WalFile,
};
use crate::time_text::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// One occurrence: its time (RFC 3339, UTC), the pid of the process that
/// logged it, and its details.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Occurrence<T> {
    pub time: Option<String>,
    pub pid: Option<u32>,
    #[serde(flatten)]
    pub detail: T,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PageVerificationReport {
    /// `base/DB/RELFILENODE` of `invalid page in block N of relation ...`;
    /// null when no such error followed the checksum failure.
    pub relation: Option<String>,
    pub block: Option<u64>,
    /// The page was zeroed (`zero_damaged_pages`), not refused.
    pub zeroed: bool,
    /// From `page verification failed, calculated checksum N but expected M`;
    /// null when the invalid page came without a checksum failure.
    pub calculated_checksum: Option<u32>,
    pub expected_checksum: Option<u32>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConnectionProblemsReport {
    pub total: u64,
    /// By kind: `client_receive_failed`, `unexpected_eof_in_transaction`,
    /// `incomplete_startup_packet`, `ssl_error`, `too_many_connections`, ...
    pub by_kind: BTreeMap<String, u64>,
    /// By client host (`[local]` for Unix sockets, `unknown` when the log
    /// line does not name it).
    pub by_client: BTreeMap<String, u64>,
}

/// The earliest occurrences are listed (at most 100 each); the totals count all.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServerReport {
    /// Processes that died abnormally, each followed by a crash restart.
    pub crashes_total: u64,
    pub crashes: Vec<Occurrence<Crash>>,
    /// `all server processes terminated; reinitializing`.
    pub crash_restarts: u64,
    /// Exits without a crash restart (a background worker's exit code 1), by process.
    pub process_exits: BTreeMap<String, u64>,
    pub out_of_memory_total: u64,
    pub out_of_memory: Vec<Occurrence<OutOfMemory>>,
    /// Shutdown requests by mode (`smart`, `fast`, `immediate`).
    pub shutdowns: BTreeMap<String, u64>,
    pub archive_failures_total: u64,
    pub archive_failures: Vec<Occurrence<ArchiveFailure>>,
    /// `archiving write-ahead log file "F" failed too many times`.
    pub archive_gave_up: Vec<Occurrence<WalFile>>,
    /// `restored log file "F" from archive`.
    pub wal_restored: u64,
    /// `requested WAL segment S has already been removed`.
    pub wal_segments_removed: Vec<Occurrence<WalFile>>,
    pub page_verification_total: u64,
    pub page_verification: Vec<Occurrence<PageVerificationReport>>,
    pub connection_problems: ConnectionProblemsReport,
}

fn occurrences<T: Clone>(k: &Kept<T>) -> Vec<Occurrence<T>> {
    k.samples
        .iter()
        .map(|t| occurrence(t, t.item.clone()))
        .collect()
}

fn occurrence<T, R>(t: &Timed<T>, detail: R) -> Occurrence<R> {
    Occurrence {
        time: t.time_ms.map(rfc3339),
        pid: t.pid,
        detail,
    }
}

/// How long after a checksum failure its `invalid page` error may come.
const PAIR_WITHIN_MS: i64 = 1000;

/// Each invalid page with the checksum failure its process logged just
/// before it; checksum failures left over are listed on their own.
fn page_verification(
    checksums: &Kept<Checksum>,
    pages: &Kept<InvalidPage>,
) -> Vec<Occurrence<PageVerificationReport>> {
    let mut used = vec![false; checksums.samples.len()];
    let mut out: Vec<(Option<i64>, Occurrence<PageVerificationReport>)> = Vec::new();
    for p in &pages.samples {
        let before = checksums.samples.iter().enumerate().rev().find(|(i, c)| {
            !used[*i]
                && c.pid == p.pid
                && match (c.time_ms, p.time_ms) {
                    (Some(c), Some(p)) => c <= p && p - c <= PAIR_WITHIN_MS,
                    _ => false,
                }
        });
        let checksum = before.map(|(i, c)| {
            used[i] = true;
            &c.item
        });
        let detail = PageVerificationReport {
            relation: Some(p.item.relation.clone()),
            block: Some(p.item.block),
            zeroed: p.item.zeroed,
            calculated_checksum: checksum.map(|c| c.calculated),
            expected_checksum: checksum.map(|c| c.expected),
        };
        out.push((p.time_ms, occurrence(p, detail)));
    }
    for (c, _) in checksums.samples.iter().zip(&used).filter(|(_, u)| !**u) {
        let detail = PageVerificationReport {
            relation: None,
            block: None,
            zeroed: false,
            calculated_checksum: Some(c.item.calculated),
            expected_checksum: Some(c.item.expected),
        };
        out.push((c.time_ms, occurrence(c, detail)));
    }
    out.sort_by_key(|(t, _)| *t);
    out.into_iter().map(|(_, o)| o).collect()
}

impl ServerReport {
    pub fn build(s: &ServerStats) -> ServerReport {
        let problems = &s.connection_problems;
        ServerReport {
            crashes_total: s.crashes.total,
            crashes: occurrences(&s.crashes),
            crash_restarts: s.crash_restarts,
            process_exits: s.process_exits.clone(),
            out_of_memory_total: s.out_of_memory.total,
            out_of_memory: occurrences(&s.out_of_memory),
            shutdowns: s.shutdown_requests.clone(),
            archive_failures_total: s.archive_failures.total,
            archive_failures: occurrences(&s.archive_failures),
            archive_gave_up: occurrences(&s.archive_gave_up),
            wal_restored: s.wal_restored,
            wal_segments_removed: occurrences(&s.segments_removed),
            // A failure is one invalid page, or a checksum failure without one.
            page_verification_total: s.invalid_pages.total.max(s.checksum_failures.total),
            page_verification: page_verification(&s.checksum_failures, &s.invalid_pages),
            connection_problems: ConnectionProblemsReport {
                total: problems.values().fold(0, |a, b| a.saturating_add(*b)),
                by_kind: problems.clone(),
                by_client: s.connection_problems_by_client.clone(),
            },
        }
    }
}
