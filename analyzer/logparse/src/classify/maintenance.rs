//! Vacuum and wraparound messages other than autovacuum's run reports
//! (`automatic vacuum of table`, in `mod.rs`): the wraparound warnings and
//! refusals, vacuum's own warnings (old xmin, failsafe, skipped tables),
//! the autovacuum launcher and workers, and VACUUM VERBOSE's INFO lines.
//!
//! The forms are PostgreSQL 15's format strings (src/backend/access/transam/
//! varsup.c and multixact.c, src/backend/commands/vacuum.c, vacuumlazy.c and
//! analyze.c, src/backend/postmaster/autovacuum.c, src/backend/storage/lmgr/
//! proc.c), plus the wordings other versions use where they differ (cited
//! where they are listed).

use super::activity::{maintenance_stats, MaintenanceStats};
use super::EventKind;
use crate::message_format::FormatSet;
use crate::record::LogRecord;
use serde::Serialize;
use std::sync::LazyLock;

/// A wraparound warning or refusal, for transaction IDs or MultiXactIds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wraparound {
    /// The database that holds the limit back, by name.
    pub database: Option<String>,
    /// The same by OID, when the server could not read its name (at
    /// startup, or when the database was dropped).
    pub database_oid: Option<u32>,
    /// Transaction IDs (or MultiXactIds) left; `None` for a refusal.
    pub remaining: Option<u64>,
    /// MultiXactId wraparound rather than transaction ID wraparound.
    pub multixact: bool,
}

/// `skipping vacuum of "t" --- lock not available`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VacuumSkip {
    pub relation: String,
    /// ANALYZE rather than VACUUM was skipped.
    pub analyze: bool,
    /// `lock_not_available` or `relation_gone`.
    pub reason: &'static str,
}

/// `"t": scanned 1 of 1 pages, containing 10 live rows and 0 dead rows; ...`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeScan {
    pub table: String,
    pub pages_scanned: Option<u64>,
    pub pages_total: Option<u64>,
    pub live_rows: Option<f64>,
    pub dead_rows: Option<f64>,
}

/// Builds the event of a matched format from its arguments.
type Build = fn(&Args) -> EventKind;
type Args<'t> = [Option<&'t str>];

fn text(a: &Args, i: usize) -> String {
    a.get(i).copied().flatten().unwrap_or("").to_string()
}

fn num<T: std::str::FromStr>(a: &Args, i: usize) -> Option<T> {
    a.get(i).copied().flatten()?.parse().ok()
}

fn warning(database: Option<String>, oid: Option<u32>, left: Option<u64>, mxid: bool) -> EventKind {
    EventKind::WraparoundWarning(Wraparound {
        database,
        database_oid: oid,
        remaining: left,
        multixact: mxid,
    })
}

fn refusal(database: Option<String>, oid: Option<u32>, mxid: bool) -> EventKind {
    EventKind::WraparoundRefusal(Wraparound {
        database,
        database_oid: oid,
        remaining: None,
        multixact: mxid,
    })
}

fn skip(a: &Args, analyze: bool, reason: &'static str) -> EventKind {
    EventKind::VacuumSkipped(VacuumSkip {
        relation: text(a, 0),
        analyze,
        reason,
    })
}

fn vacuum_finish(a: &Args) -> EventKind {
    let mut stats: MaintenanceStats = maintenance_stats(a.get(2).copied().flatten().unwrap_or(""));
    stats.table = text(a, 0);
    EventKind::VacuumFinish(Box::new(stats))
}

const FORMATS: &[(&str, Build)] = &[
    // varsup.c: at each new XID past the warning limit, and when the limits
    // are set (startup, after vacuum), by name or, before names can be
    // read, by OID.
    ("database \"%s\" must be vacuumed within %u transactions", |a| {
        warning(Some(text(a, 0)), None, num(a, 1), false)
    }),
    ("database with OID %u must be vacuumed within %u transactions", |a| {
        warning(None, num(a, 0), num(a, 1), false)
    }),
    // multixact.c (ngettext: one MultiXactId, or more).
    ("database \"%s\" must be vacuumed before %u more MultiXactId is used", |a| {
        warning(Some(text(a, 0)), None, num(a, 1), true)
    }),
    ("database \"%s\" must be vacuumed before %u more MultiXactIds are used", |a| {
        warning(Some(text(a, 0)), None, num(a, 1), true)
    }),
    ("database with OID %u must be vacuumed before %u more MultiXactId is used", |a| {
        warning(None, num(a, 0), num(a, 1), true)
    }),
    ("database with OID %u must be vacuumed before %u more MultiXactIds are used", |a| {
        warning(None, num(a, 0), num(a, 1), true)
    }),
    // Past the stop limit (ERROR, 54000). PostgreSQL 12–16 wording:
    ("database is not accepting commands to avoid wraparound data loss in database \"%s\"", |a| {
        refusal(Some(text(a, 0)), None, false)
    }),
    ("database is not accepting commands to avoid wraparound data loss in database with OID %u", |a| {
        refusal(None, num(a, 0), false)
    }),
    ("database is not accepting commands that generate new MultiXactIds to avoid wraparound data loss in database \"%s\"", |a| {
        refusal(Some(text(a, 0)), None, true)
    }),
    ("database is not accepting commands that generate new MultiXactIds to avoid wraparound data loss in database with OID %u", |a| {
        refusal(None, num(a, 0), true)
    }),
    // PostgreSQL 17 (varsup.c and multixact.c of REL_17_STABLE):
    ("database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database \"%s\"", |a| {
        refusal(Some(text(a, 0)), None, false)
    }),
    ("database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database with OID %u", |a| {
        refusal(None, num(a, 0), false)
    }),
    ("database is not accepting commands that assign new MultiXactIds to avoid wraparound data loss in database \"%s\"", |a| {
        refusal(Some(text(a, 0)), None, true)
    }),
    ("database is not accepting commands that assign new MultiXactIds to avoid wraparound data loss in database with OID %u", |a| {
        refusal(None, num(a, 0), true)
    }),
    // vacuum.c: a vacuum's horizon older than autovacuum_freeze_max_age.
    ("oldest xmin is far in the past", |_| EventKind::OldestXminFarInPast { multixact: false }),
    ("oldest multixact is far in the past", |_| EventKind::OldestXminFarInPast { multixact: true }),
    // vacuum.c: VACUUM/ANALYZE (SKIP_LOCKED) as WARNING, autovacuum as LOG.
    ("skipping vacuum of \"%s\" --- lock not available", |a| skip(a, false, "lock_not_available")),
    ("skipping analyze of \"%s\" --- lock not available", |a| skip(a, true, "lock_not_available")),
    ("skipping vacuum of \"%s\" --- relation no longer exists", |a| skip(a, false, "relation_gone")),
    ("skipping analyze of \"%s\" --- relation no longer exists", |a| skip(a, true, "relation_gone")),
    // commands/vacuum.c: a VACUUM or ANALYZE of every table by a user who
    // does not own them all.
    ("skipping \"%s\" --- only superuser can vacuum it", |a| skip(a, false, "not_owner")),
    ("skipping \"%s\" --- only superuser or database owner can vacuum it", |a| skip(a, false, "not_owner")),
    ("skipping \"%s\" --- only table or database owner can vacuum it", |a| skip(a, false, "not_owner")),
    ("skipping \"%s\" --- only superuser can analyze it", |a| skip(a, true, "not_owner")),
    ("skipping \"%s\" --- only superuser or database owner can analyze it", |a| skip(a, true, "not_owner")),
    ("skipping \"%s\" --- only table or database owner can analyze it", |a| skip(a, true, "not_owner")),
    ("skipping \"%s\" --- cannot vacuum non-tables or special system tables", |a| skip(a, false, "not_a_table")),
    ("skipping \"%s\" --- cannot analyze non-tables or special system tables", |a| skip(a, true, "not_a_table")),
    ("skipping \"%s\" --- cannot analyze this foreign table", |a| skip(a, true, "not_a_table")),
    // vacuumlazy.c: the wraparound failsafe (vacuum_failsafe_age).
    ("bypassing nonessential maintenance of table \"%s\" as a failsafe after %d index scans", |a| {
        EventKind::VacuumFailsafe {
            table: text(a, 0),
            index_scans: num(a, 1),
        }
    }),
    // vacuumlazy.c of PostgreSQL 11 and older (REL_11_STABLE).
    ("relation \"%s\" page %u is uninitialized --- fixing", |a| EventKind::PageUninitialized {
        relation: text(a, 0),
        page: num(a, 1),
    }),
    // autovacuum.c
    ("autovacuum launcher started", |_| EventKind::AutovacuumLauncherStarted),
    ("autovacuum launcher shutting down", |_| EventKind::AutovacuumLauncherStopped),
    ("autovacuum: dropping orphan temp table \"%s\"", |a| EventKind::OrphanTempTableDropped {
        table: text(a, 0),
    }),
    ("autovacuum worker took too long to start; canceled", |_| EventKind::AutovacuumWorkerTimeout),
    // postgres.c: pg_terminate_backend() of an autovacuum worker (FATAL).
    ("terminating autovacuum process due to administrator command", |_| {
        EventKind::AutovacuumTerminated
    }),
    // proc.c (DEBUG1): a lock request waits for an autovacuum worker.
    ("sending cancel to blocking autovacuum PID %d", |a| EventKind::AutovacuumCancelRequested {
        autovacuum_pid: num(a, 0),
    }),
    // VACUUM VERBOSE and ANALYZE VERBOSE (INFO; logged at
    // log_min_messages = info). PostgreSQL 15 names the database too.
    ("vacuuming \"%s\"", |a| EventKind::VacuumStart {
        table: text(a, 0),
        aggressive: false,
    }),
    ("aggressively vacuuming \"%s\"", |a| EventKind::VacuumStart {
        table: text(a, 0),
        aggressive: true,
    }),
    ("finished vacuuming \"%s\": index scans: %d\n%s", vacuum_finish),
    ("finished vacuuming \"%s\": index scans: %d", vacuum_finish),
    ("analyzing \"%s\"", |a| EventKind::AnalyzeStart { table: text(a, 0) }),
    ("\"%s\": scanned %d of %u pages, containing %.0f live rows and %.0f dead rows; %d rows in sample, %.0f estimated total rows", |a| {
        EventKind::AnalyzeScan(AnalyzeScan {
            table: text(a, 0),
            pages_scanned: num(a, 1),
            pages_total: num(a, 2),
            live_rows: num(a, 3),
            dead_rows: num(a, 4),
        })
    }),
];

static SET: LazyLock<FormatSet<Build>> = LazyLock::new(|| {
    let mut set = FormatSet::new();
    for (format, build) in FORMATS {
        set.insert_str(format, *build)
            .expect("the vacuum message formats parse");
    }
    set
});

/// The vacuum or wraparound event of `r`, of any severity.
pub fn classify(r: &LogRecord) -> Option<EventKind> {
    let (_, build, args) = SET.find_captures(&r.message)?;
    Some(build(&args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;

    fn kind(msg: &str) -> Option<EventKind> {
        classify(&LogRecord::new(1, Severity::Warning, msg.to_string()))
    }

    // Forms the PostgreSQL 15 sample cannot show, written from the format
    // strings cited in FORMATS.
    #[test]
    fn other_versions_and_multixact_forms() {
        assert_eq!(
            kind("database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database \"app\""),
            Some(refusal(Some("app".into()), None, false))
        );
        assert_eq!(
            kind("database is not accepting commands that assign new MultiXactIds to avoid wraparound data loss in database with OID 16384"),
            Some(refusal(None, Some(16384), true))
        );
        assert_eq!(
            kind("database \"app\" must be vacuumed before 1000 more MultiXactIds are used"),
            Some(warning(Some("app".into()), None, Some(1000), true))
        );
        assert_eq!(
            kind("relation \"t\" page 7 is uninitialized --- fixing"),
            Some(EventKind::PageUninitialized {
                relation: "t".into(),
                page: Some(7)
            })
        );
        assert_eq!(
            kind("autovacuum worker took too long to start; canceled"),
            Some(EventKind::AutovacuumWorkerTimeout)
        );
        assert_eq!(
            kind("vacuuming \"public.t\""),
            Some(EventKind::VacuumStart {
                table: "public.t".into(),
                aggressive: false
            })
        );
        assert_eq!(
            kind("database with OID 16384 must be vacuumed before 1 more MultiXactId is used"),
            Some(warning(None, Some(16384), Some(1), true))
        );
        assert_eq!(
            kind("oldest multixact is far in the past"),
            Some(EventKind::OldestXminFarInPast { multixact: true })
        );
        assert_eq!(
            kind("skipping analyze of \"gone\" --- relation no longer exists"),
            Some(EventKind::VacuumSkipped(VacuumSkip {
                relation: "gone".into(),
                analyze: true,
                reason: "relation_gone"
            }))
        );
        assert_eq!(kind("database \"app\" must be vacuumed soon"), None);
    }
}
