//! Server activity messages: checkpoints, vacuum, locks, temp files,
//! connections, replication, configuration and pgaudit.

use super::numbers::{number_after, number_before};
use serde::Serialize;

pub use super::locks::{lock_wait, LockWait};

/// `checkpoint complete:` / `restartpoint complete:` statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckpointStats {
    pub buffers_written: Option<u64>,
    /// `wrote N SLRU buffers` (PostgreSQL 18).
    pub slru_buffers_written: Option<u64>,
    pub wal_added: Option<u64>,
    pub wal_removed: Option<u64>,
    pub wal_recycled: Option<u64>,
    pub write_s: Option<f64>,
    pub sync_s: Option<f64>,
    pub total_s: Option<f64>,
    pub distance_kb: Option<u64>,
    pub estimate_kb: Option<u64>,
}

pub fn checkpoint_stats(msg: &str) -> CheckpointStats {
    CheckpointStats {
        buffers_written: number_after(msg, "wrote ").map(|v| v as u64),
        slru_buffers_written: number_before(msg, " SLRU buffers"),
        wal_added: number_before(msg, " WAL file(s) added"),
        wal_removed: number_before(msg, " removed"),
        wal_recycled: number_before(msg, " recycled"),
        write_s: number_after(msg, "write="),
        sync_s: number_after(msg, "sync="),
        total_s: number_after(msg, "total="),
        distance_kb: number_after(msg, "distance=").map(|v| v as u64),
        estimate_kb: number_after(msg, "estimate=").map(|v| v as u64),
    }
}

/// `automatic vacuum of table` / `automatic analyze of table` statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MaintenanceStats {
    /// `db.schema.table`
    pub table: String,
    pub aggressive: bool,
    pub wraparound: bool,
    pub tuples_removed: Option<u64>,
    pub tuples_remain: Option<u64>,
    pub pages_removed: Option<u64>,
    pub elapsed_s: Option<f64>,
    /// The report's other figures, as the server's version writes them.
    pub usage: super::vacuum_report::MaintenanceUsage,
}

pub fn maintenance_stats(msg: &str) -> MaintenanceStats {
    let table = msg
        .split_once("table \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(t, _)| t.to_string())
        .unwrap_or_default();
    let tuples_line = msg.lines().find(|l| l.trim_start().starts_with("tuples:"));
    let pages_line = msg.lines().find(|l| l.trim_start().starts_with("pages:"));
    let usage = super::vacuum_report::read(msg);
    MaintenanceStats {
        table,
        aggressive: msg.starts_with("automatic aggressive"),
        wraparound: msg.contains("to prevent wraparound"),
        tuples_removed: tuples_line.and_then(|l| number_before(l, " removed")),
        tuples_remain: tuples_line.and_then(|l| number_before(l, " remain")),
        pages_removed: pages_line.and_then(|l| number_before(l, " removed")),
        elapsed_s: usage.elapsed_s,
        usage,
    }
}

/// One process in a deadlock cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlockSide {
    pub pid: u32,
    pub waits_for: String,
    pub blocked_by: Option<u32>,
    pub query: Option<String>,
}

/// Parses the DETAIL of `deadlock detected`:
/// `Process 1 waits for ShareLock on transaction 9; blocked by process 2.` lines,
/// then `Process 1: <query>` lines.
pub fn deadlock_sides(detail: &str) -> Vec<DeadlockSide> {
    let mut sides: Vec<DeadlockSide> = Vec::new();
    let mut current_query: Option<usize> = None;
    for line in detail.lines() {
        if let Some(rest) = line.strip_prefix("Process ") {
            if let Some((pid, tail)) = rest.split_once(" waits for ") {
                if let Ok(pid) = pid.parse() {
                    let (what, by) = match tail.rsplit_once("; blocked by process ") {
                        Some((w, b)) => (w, b.trim_end_matches('.').parse().ok()),
                        None => (tail, None),
                    };
                    sides.push(DeadlockSide {
                        pid,
                        waits_for: what.to_string(),
                        blocked_by: by,
                        query: None,
                    });
                    current_query = None;
                    continue;
                }
            }
            if let Some((pid, query)) = rest.split_once(": ") {
                if let Ok(pid) = pid.parse::<u32>() {
                    if let Some(i) = sides.iter().position(|s| s.pid == pid) {
                        sides[i].query = Some(query.to_string());
                        current_query = Some(i);
                        continue;
                    }
                }
            }
        }
        // Multi-line queries continue on the following lines.
        if let Some(i) = current_query {
            if let Some(q) = sides[i].query.as_mut() {
                q.push('\n');
                q.push_str(line);
            }
        }
    }
    sides
}

/// `temporary file: path "base/pgsql_tmp/pgsql_tmp123.0", size 8192`
pub fn temp_file(msg: &str) -> Option<(String, u64)> {
    let rest = msg.strip_prefix("temporary file: path \"")?;
    let (path, rest) = rest.rsplit_once("\", size ")?;
    Some((path.to_string(), rest.trim().parse().ok()?))
}

/// `key=value` pairs of connection messages; values end at the next ` key=`.
pub fn key_values(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some(eq) = rest.find('=') {
        let key = &rest[..eq];
        if key.contains(' ') {
            break;
        }
        let after = &rest[eq + 1..];
        // The value runs to the next " word=" (application names may hold spaces).
        let mut end = after.len();
        let mut search = 0;
        while let Some(sp) = after[search..].find(' ') {
            let cand = search + sp + 1;
            let word_end = after[cand..].find([' ', '=']).map(|i| cand + i);
            if let Some(we) = word_end {
                if after.as_bytes()[we] == b'=' && we > cand {
                    end = search + sp;
                    break;
                }
            }
            search = cand;
        }
        out.push((key, after[..end].trim_end()));
        rest = after[end..].trim_start();
    }
    out
}

/// Session time `H:MM:SS.mmm` of a disconnection, in milliseconds.
pub fn session_time_ms(msg: &str) -> Option<f64> {
    let t = msg
        .strip_prefix("disconnection: session time: ")?
        .split(' ')
        .next()?;
    let mut parts = t.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(((h * 60.0 + m) * 60.0 + s) * 1000.0)
}

/// A pgaudit entry: `AUDIT: SESSION,1,1,DDL,CREATE TABLE,TABLE,public.t,<statement>,<params>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// `SESSION` or `OBJECT`.
    pub audit_type: String,
    pub statement_id: Option<u64>,
    pub substatement_id: Option<u64>,
    /// READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET.
    pub class: String,
    pub command: String,
    pub object_type: Option<String>,
    pub object_name: Option<String>,
    pub statement: Option<String>,
}

pub fn audit_entry(msg: &str) -> Option<AuditEntry> {
    let body = msg.strip_prefix("AUDIT: ")?;
    let fields = split_csv(body.as_bytes());
    if fields.len() < 5 {
        return None;
    }
    let opt = |i: usize| fields.get(i).filter(|f| !f.is_empty()).cloned();
    Some(AuditEntry {
        audit_type: fields[0].clone(),
        statement_id: fields[1].parse().ok(),
        substatement_id: fields[2].parse().ok(),
        class: fields[3].clone(),
        command: fields[4].clone(),
        object_type: opt(5),
        object_name: opt(6),
        statement: opt(7),
    })
}

fn split_csv(line: &[u8]) -> Vec<String> {
    let mut input = line.to_vec();
    input.push(b'\n');
    // Building a csv-core reader builds its state machine, which costs far
    // more than reading one line; each thread keeps one and resets it.
    // (csv-core's `Clone` does not copy the whole machine, so no cloning.)
    thread_local! {
        static READER: std::cell::RefCell<csv_core::Reader> =
            std::cell::RefCell::new(csv_core::Reader::new());
    }
    let mut out = vec![0u8; input.len()];
    let mut ends = vec![0usize; 64];
    let nend = READER.with(|r| {
        let mut rdr = r.borrow_mut();
        rdr.reset();
        rdr.read_record(&input, &mut out, &mut ends).3
    });
    let mut fields = Vec::with_capacity(nend);
    let mut start = 0;
    for &end in &ends[..nend] {
        fields.push(String::from_utf8_lossy(&out[start..end]).into_owned());
        start = end;
    }
    fields
}
