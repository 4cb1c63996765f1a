//! The vacuum, wraparound, lock and transaction-state kinds on the real
//! server log of `sample-logs/generate-maintenance-events.sh`, in its three
//! formats.

use pglog_logparse::classify::maintenance::Wraparound;
use pglog_logparse::{source, Classifier, Event, EventKind, ReaderBuilder, Severity};
use std::collections::BTreeMap;
use std::path::PathBuf;

const FILES: [&str; 3] = [
    "maintenance-events/postgresql.csv.gz",
    "maintenance-events/postgresql.json.gz",
    "maintenance-events/postgresql.log.gz",
];

fn events(rel: &str) -> Vec<Event> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel);
    let input = source::open(&path).unwrap();
    let mut reader = ReaderBuilder::new().build(input.reader).unwrap();
    let mut classifier = Classifier::new();
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            pglog_logparse::Item::Record(r) => out.push(classifier.classify(r)),
            pglog_logparse::Item::Malformed(m) => panic!("{rel}:{}: {}", m.line, m.reason),
        }
    }
    out
}

fn by_kind(evs: &[Event]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for e in evs {
        *m.entry(e.kind.key()).or_default() += 1;
    }
    m
}

#[test]
fn every_format_gives_the_same_kinds() {
    let counts: Vec<_> = FILES.iter().map(|f| by_kind(&events(f))).collect();
    assert_eq!(counts[0], counts[1], "jsonlog differs from csvlog");
    assert_eq!(counts[0], counts[2], "stderr differs from csvlog");
    // What the script provokes, each at least once.
    for k in [
        "wraparound_warning",
        "wraparound_refusal",
        "oldest_xmin_far_in_past",
        "vacuum_skipped",
        "vacuum_failsafe",
        "autovacuum_launcher_started",
        "autovacuum_launcher_stopped",
        "orphan_temp_table_dropped",
        "autovacuum_terminated",
        "autovacuum_cancel_requested",
        "vacuum_start",
        "vacuum_finish",
        "analyze_start",
        "analyze_scan",
        "deadlock_avoided",
        "deadlock_while_waiting",
        "lock_not_available",
        "transaction_aborted",
        "no_transaction_in_progress",
        "transaction_already_in_progress",
        "prepared_statement_missing",
        "prepared_statement_exists",
        "cursor_missing",
        "cursor_exists",
        "nonstandard_string_escape",
    ] {
        assert!(counts[0].get(k).is_some_and(|n| *n > 0), "no {k}");
    }
}

#[test]
fn wraparound_names_the_database_and_what_is_left() {
    for f in FILES {
        let evs = events(f);
        let warnings: Vec<&Wraparound> = evs
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::WraparoundWarning(w) => Some(w),
                _ => None,
            })
            .collect();
        // At startup the server names the database by OID.
        assert!(
            warnings
                .iter()
                .any(|w| w.database.is_none() && w.database_oid.is_some()),
            "{f}"
        );
        // Past the stop limit: fewer than 3,000,000 left, in wrapdb.
        let wrapdb = warnings
            .iter()
            .filter(|w| w.database.as_deref() == Some("wrapdb"))
            .filter_map(|w| w.remaining)
            .min()
            .unwrap();
        assert!(wrapdb < 3_000_000, "{f}: {wrapdb}");
        assert!(warnings.iter().all(|w| !w.multixact), "{f}");
        let refusals: Vec<&Event> = evs
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::WraparoundRefusal(w) if w.database.as_deref() == Some("wrapdb")))
            .collect();
        assert_eq!(refusals.len(), 3, "{f}");
        assert!(refusals
            .iter()
            .all(|e| e.record.severity == Severity::Error));
    }
}

#[test]
fn vacuum_and_lock_details() {
    for f in FILES {
        let evs = events(f);
        let skips: Vec<_> = evs
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::VacuumSkipped(s) => {
                    Some((s.relation.as_str(), s.analyze, e.record.severity))
                }
                _ => None,
            })
            .collect();
        // VACUUM/ANALYZE (SKIP_LOCKED) warn; autovacuum logs.
        assert!(skips.contains(&("t", false, Severity::Warning)), "{f}");
        assert!(skips.contains(&("t", true, Severity::Warning)), "{f}");
        assert!(skips.contains(&("skipme", false, Severity::Log)), "{f}");
        assert!(
            evs.iter().any(|e| matches!(&e.kind,
            EventKind::OrphanTempTableDropped { table } if table.ends_with(".orphan"))),
            "{f}"
        );
        assert!(
            evs.iter().any(|e| matches!(&e.kind,
            EventKind::VacuumFinish(s) if s.table == "postgres.public.t")),
            "{f}"
        );
        assert!(evs.iter().any(|e| matches!(&e.kind,
            EventKind::VacuumFailsafe { table, index_scans: Some(0) } if table.starts_with("wrapdb."))), "{f}");
        let advisory = evs
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::LockWait(w) if w.lock.lock_type == "advisory" => Some(w),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{f}: the advisory lock wait"));
        assert_eq!(advisory.mode, "ExclusiveLock");
        assert_eq!(advisory.lock.key[2], 42, "{f}");
        let tuple = evs
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::LockWait(w) if w.lock.lock_type == "tuple" => Some(w),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{f}: the tuple lock wait"));
        assert_eq!(
            (tuple.lock.page, tuple.lock.tuple),
            (Some(0), Some(1)),
            "{f}"
        );
        assert!(tuple.lock.relation_oid.is_some() && tuple.lock.database_oid == Some(5));
        assert!(evs.iter().any(|e| matches!(&e.kind,
            EventKind::LockWait(w) if w.lock.lock_type == "transactionid" && w.lock.transaction_id.is_some())), "{f}");
        assert!(evs.iter().any(|e| matches!(&e.kind,
            EventKind::DeadlockAvoided(w) if w.mode == "AccessShareLock" && w.lock.lock_type == "relation")), "{f}");
        assert!(
            evs.iter().any(|e| matches!(&e.kind,
            EventKind::LockNotAvailable { relation, row: true } if relation == "t")),
            "{f}"
        );
        assert!(
            evs.iter().any(|e| matches!(&e.kind,
            EventKind::LockNotAvailable { relation, row: false } if relation == "t")),
            "{f}"
        );
        assert!(
            evs.iter().any(|e| matches!(&e.kind,
            EventKind::PreparedStatementMissing { name: Some(n) } if n == "nope")),
            "{f}"
        );
        let escapes: Vec<_> = evs
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::NonstandardStringEscape { escape } => Some(*escape),
                _ => None,
            })
            .collect();
        assert_eq!(escapes, ["quote", "backslash"], "{f}");
    }
}
