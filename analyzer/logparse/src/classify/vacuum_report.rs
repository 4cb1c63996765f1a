//! The figures of an autovacuum or autoanalyze report, in the forms of every
//! server version from 9.6 on. The report is one message of several lines;
//! each version added, renamed or moved lines, so each line is read by its
//! own leading words, not by its place:
//!
//! ```text
//! automatic vacuum of table "d.s.t": index scans: 1       all versions
//! pages: 0 removed, 45 remain, ...                        all (`scanned` 15+, `eagerly scanned` 18)
//! tuples: 10 removed, 990 remain, 3 are dead but not yet removable
//! frozen: 3 pages from table (6.67% of total) had 120 tuples frozen   16+
//! I/O timings: read: 1.2 ms, write: 0.0 ms                14+ (track_io_timing)
//! delay time: 4.5 ms                                      18 (track_cost_delay_timing)
//! avg read rate: 1.1 MB/s, avg write rate: 0.5 MB/s
//! buffer usage: 90 hits, 4 misses, 2 dirtied              `misses` up to 16, `reads` 17+
//! WAL usage: 5 records, 1 full page images, 900 bytes     13+ (`buffers full` 18)
//! system usage: CPU: user: 0.01 s, system: 0.00 s, elapsed: 0.02 s    10+
//! system usage: CPU 0.00s/0.01u sec elapsed 0.02 sec                  9.6
//! ```
//!
//! Up to 13, an analyze report is one line: `automatic analyze of table
//! "d.s.t" system usage: CPU: ...`.

use super::numbers::{number_after, number_before};
use serde::Serialize;

/// What a vacuum or analyze report says beyond its table and tuple counts.
/// A figure the server's version does not write is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MaintenanceUsage {
    pub index_scans: Option<u64>,
    pub pages_remain: Option<u64>,
    pub pages_scanned: Option<u64>,
    pub tuples_dead_not_removable: Option<u64>,
    pub pages_frozen: Option<u64>,
    pub tuples_frozen: Option<u64>,
    pub buffer_hits: Option<u64>,
    /// Blocks read: `misses` up to PostgreSQL 16, `reads` from 17.
    pub buffer_reads: Option<u64>,
    pub buffer_dirtied: Option<u64>,
    pub read_mb_s: Option<f64>,
    pub write_mb_s: Option<f64>,
    pub io_read_ms: Option<f64>,
    pub io_write_ms: Option<f64>,
    pub delay_ms: Option<f64>,
    pub wal_records: Option<u64>,
    pub wal_fpi: Option<u64>,
    pub wal_bytes: Option<u64>,
    pub wal_buffers_full: Option<u64>,
    pub cpu_user_s: Option<f64>,
    pub cpu_system_s: Option<f64>,
    pub elapsed_s: Option<f64>,
}

/// Reads every line of a report it knows; others are passed over.
pub fn read(msg: &str) -> MaintenanceUsage {
    let mut u = MaintenanceUsage::default();
    for line in msg.lines() {
        let line = line.trim_start();
        if line.starts_with("automatic ") {
            u.index_scans = number_after(line, "index scans: ").map(|v| v as u64);
        } else if line.starts_with("pages: ") {
            u.pages_remain = number_before(line, " remain");
            u.pages_scanned = number_before(line, " scanned (");
        } else if line.starts_with("tuples: ") {
            u.tuples_dead_not_removable = number_before(line, " are dead but not yet removable");
        } else if let Some(rest) = line.strip_prefix("frozen: ") {
            u.pages_frozen = number_before(rest, " pages from table");
            u.tuples_frozen = number_before(rest, " tuples frozen");
        } else if let Some(rest) = line.strip_prefix("buffer usage: ") {
            u.buffer_hits = number_before(rest, " hits");
            u.buffer_reads =
                number_before(rest, " misses").or_else(|| number_before(rest, " reads"));
            u.buffer_dirtied = number_before(rest, " dirtied");
        } else if line.starts_with("avg read rate: ") {
            u.read_mb_s = number_after(line, "avg read rate: ");
            u.write_mb_s = number_after(line, "avg write rate: ");
        } else if let Some(rest) = line.strip_prefix("I/O timings: ") {
            u.io_read_ms = number_after(rest, "read: ");
            u.io_write_ms = number_after(rest, "write: ");
        } else if let Some(rest) = line.strip_prefix("delay time: ") {
            u.delay_ms = number_after(rest, "");
        } else if let Some(rest) = line.strip_prefix("WAL usage: ") {
            u.wal_records = number_before(rest, " records");
            u.wal_fpi = number_before(rest, " full page images");
            u.wal_bytes = number_before(rest, " bytes");
            u.wal_buffers_full = number_before(rest, " buffers full");
        }
    }
    // `system usage:` ends the report, or (analyze up to 13) its one line.
    if let Some((_, usage)) = msg.rsplit_once("system usage: ") {
        cpu_usage(usage, &mut u);
    }
    u
}

/// `CPU: user: 0.01 s, system: 0.00 s, elapsed: 0.02 s` (10+) or
/// `CPU 0.00s/0.01u sec elapsed 0.02 sec` (9.6: system first, then user).
fn cpu_usage(s: &str, u: &mut MaintenanceUsage) {
    if let Some(rest) = s.strip_prefix("CPU: ") {
        u.cpu_user_s = number_after(rest, "user: ");
        u.cpu_system_s = number_after(rest, "system: ");
        u.elapsed_s = number_after(rest, "elapsed: ");
    } else if let Some(rest) = s.strip_prefix("CPU ") {
        let (system, rest) = rest.split_once("s/").unwrap_or(("", rest));
        u.cpu_system_s = system.parse().ok();
        u.cpu_user_s = number_after(rest, "");
        u.elapsed_s = number_after(rest, "sec elapsed ");
    }
}
