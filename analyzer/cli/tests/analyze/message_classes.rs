//! The small classes of messages an application or a DBA causes every day
//! (NOTICEs of `IF EXISTS`, warnings of commands outside a transaction
//! block, GRANTs that changed nothing, signals to a pid that is no backend,
//! VACUUM of tables the user does not own, restore points), from a real
//! server, in every format: each has its kind and none is `other`.

use super::cluster::Cluster;
use super::*;

const CONF: &str = "\
lc_messages = 'C'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'classes.log'
log_line_prefix = '%m [%p] %q%u@%d/%a '
log_min_messages = notice
autovacuum = off";

/// What the workload causes, by event kind.
const EXPECTED: &[(&str, u64)] = &[
    ("drop_if_exists_skipped", 2),
    ("create_if_not_exists_skipped", 1),
    ("outside_transaction_block", 2),
    // The GRANT's one; the REVOKE warns for the table and each of its
    // columns, the system columns too (id and six).
    ("privileges_not_changed", 9),
    ("not_a_backend", 1),
    ("restore_point_created", 1),
    ("vacuum_skipped", 2),
];

fn workload(c: &Cluster) {
    for sql in [
        "CREATE TABLE t (id int)",
        "CREATE ROLE app LOGIN",
        "GRANT SELECT ON t TO app",
        "DROP TABLE IF EXISTS no_such_table",
        "DROP INDEX IF EXISTS no_such_index",
        "CREATE TABLE IF NOT EXISTS t (id int)",
        "SET LOCAL work_mem = '8MB'",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        // app holds SELECT without the grant option: nothing is granted.
        "SET ROLE app; GRANT SELECT ON t TO PUBLIC",
        "SET ROLE app; REVOKE SELECT ON t FROM PUBLIC",
        // PID 1 is init, never a backend.
        "SELECT pg_cancel_backend(1)",
        "SELECT pg_create_restore_point('before_release')",
    ] {
        c.sql(sql);
    }
    for sql in ["VACUUM t", "ANALYZE t"] {
        assert!(c.psql_as("app", sql).0, "{sql} as app failed");
    }
}

#[test]
fn everyday_messages_have_kinds_of_their_own_in_every_format() {
    let mut c = Cluster::init(CONF);
    c.start();
    workload(&c);
    c.stop();
    for ext in ["log", "csv", "json"] {
        let doc = analyze_path(&c.file(&format!("log/classes.{ext}")), &[]);
        let events = &doc["summary"]["events"];
        for (kind, count) in EXPECTED {
            assert_eq!(
                events[kind].as_u64(),
                Some(*count),
                "{kind} in .{ext}: {events}"
            );
        }
        assert_eq!(events.get("other"), None, ".{ext}: {}", doc["other_events"]);
    }
}

/// The DEBUG1 lines of a restart with `log_min_messages = debug1` are the
/// server's diagnostics: `debug`, not unknown.
#[test]
fn debug_messages_are_not_unknown() {
    for f in [
        "postgresql.log.gz",
        "postgresql.csv.gz",
        "postgresql.json.gz",
    ] {
        let doc = analyze_path(&sample(&format!("maintenance-events/{f}")), &[]);
        let events = &doc["summary"]["events"];
        assert!(events["debug"].as_u64().unwrap_or(0) >= 20, "{f}: {events}");
        assert_eq!(events.get("other"), None, "{f}: {}", doc["other_events"]);
    }
}
