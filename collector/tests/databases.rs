//! Database-scope queries: run in each selected database of a real server,
//! each datum with a Database dimension, over a capped pool of connections.
mod daemon;
mod harness;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use daemon::{datums, dim, Daemon};
use harness::{list_metrics, Moto, MotoClients, Pg};

const APP_DATABASES: [&str; 3] = ["app_a", "app_b", "app_c"];

/// A user's query against an application table, as the README shows it.
const ORDERS_QUERY: &str = r#"
[[query]]
id = "orders_last_10_minutes"
scope = "database"
databases = ["app_c"]
sql = "SELECT count(*) AS orders FROM orders WHERE created_at > now() - interval '10 minutes'"
roles = ["primary"]
[[query.value]]
column = "orders"
metric = "OrdersLast10Minutes"
kind = "gauge"
unit = "Count"
help = "Orders placed in the last 10 minutes"
"#;

/// `databases` picks the three app databases and `exclude_databases` drops
/// a fourth; one connection besides the collector's own, so they take turns.
const CONFIG: &str = r#"
databases = ["app_*"]
exclude_databases = ["app_skip*"]
max_database_connections = 1
"#;

fn once(
    dsn: &str,
    dir: &Path,
    extra: &[&str],
    env: &[(String, String)],
) -> (i32, Vec<String>, String) {
    let config = dir.join("collector.toml");
    let metrics = dir.join("metrics.toml");
    std::fs::write(&config, CONFIG).unwrap();
    std::fs::write(&metrics, ORDERS_QUERY).unwrap();
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
        "--dsn",
        dsn,
        "--instance",
        "db-scope",
        "--once",
        "--state-dir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let d = Daemon::start(&args, env);
    let (status, lines, stderr) = d.wait(Duration::from_secs(60));
    (status.code().unwrap_or(-1), lines, stderr)
}

/// The metric's value in each database.
fn by_database(cycle: &serde_json::Value, metric: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (dims, v) in datums(cycle, metric) {
        let db = dim(&dims, "Database")
            .unwrap_or_else(|| panic!("{metric} without a Database dimension: {dims:?}"));
        assert!(
            out.insert(db.to_string(), v).is_none(),
            "two {metric} datums for {db}"
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_selected_database_gets_its_own_series() {
    // Autovacuum off, so the dead rows stay until the test has read them.
    let pg = Pg::primary_with("autovacuum = off");
    for db in APP_DATABASES.iter().chain(&["app_skip_me"]) {
        pg.psql(&format!("CREATE DATABASE {db}"));
    }
    // app_a: a table of 10 MiB and more, scanned below; app_b: 5000 of
    // 6000 rows deleted; app_c: the orders table of the user's query.
    pg.psql_in(
        "app_a",
        "CREATE TABLE big AS SELECT g AS id, repeat('x', 60) AS pad FROM generate_series(1, 160000) g; ANALYZE big",
    );
    pg.psql_in(
        "app_b",
        "CREATE TABLE t AS SELECT g AS id, g::text AS v FROM generate_series(1, 6000) g; DELETE FROM t WHERE id > 1000; ANALYZE t",
    );
    pg.psql_in(
        "app_c",
        "CREATE TABLE orders (id serial, created_at timestamptz NOT NULL); \
         INSERT INTO orders (created_at) SELECT now() - interval '1 minute' FROM generate_series(1, 7); \
         INSERT INTO orders (created_at) SELECT now() - interval '1 hour' FROM generate_series(1, 3)",
    );
    let big_pages: f64 = pg
        .psql_in(
            "app_a",
            "SELECT relpages FROM pg_class WHERE relname = 'big'",
        )
        .parse()
        .unwrap();
    assert!(
        big_pages * 8192.0 >= 10.0 * 1024.0 * 1024.0,
        "big is {big_pages} pages"
    );

    let dir = tempfile::tempdir().unwrap();
    let (code, lines, stderr) = once(&pg.dsn(), dir.path(), &["--dry-run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();

    let expected: Vec<String> = APP_DATABASES.iter().map(|d| d.to_string()).collect();
    for metric in [
        "DeadTuples",
        "LiveTuples",
        "TablesNeedingVacuum",
        "OldestTableXidAge",
        "TableBloatBytes",
    ] {
        let per_db = by_database(&first, metric);
        assert_eq!(
            per_db.keys().cloned().collect::<Vec<_>>(),
            expected,
            "{metric}: {per_db:?}"
        );
    }
    let dead = by_database(&first, "DeadTuples");
    let live = by_database(&first, "LiveTuples");
    eprintln!("DeadTuples {dead:?}\nLiveTuples {live:?}");
    // Each database's own figures, as a session in it sees them (the
    // system catalogues' few dead rows included).
    for db in APP_DATABASES {
        let server: Vec<f64> = pg
            .psql_in(
                db,
                "SELECT sum(n_dead_tup) || '|' || sum(n_live_tup) FROM pg_stat_all_tables",
            )
            .split('|')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!((dead[db], live[db]), (server[0], server[1]), "{db}");
    }
    assert!(dead["app_b"] >= 5000.0 && dead["app_a"] < 100.0, "{dead:?}");
    assert!(
        live["app_a"] >= 160_000.0 && live["app_b"] < 2000.0,
        "{live:?}"
    );
    let need = by_database(&first, "TablesNeedingVacuum");
    assert!(need["app_b"] >= 1.0 && need["app_a"] == 0.0, "{need:?}");
    // 5/6 of t's pages hold dead rows that ANALYZE no longer counts.
    let bloat = by_database(&first, "TableBloatBytes");
    let t_bytes: f64 = pg
        .psql_in("app_b", "SELECT pg_relation_size('t')")
        .parse()
        .unwrap();
    eprintln!("TableBloatBytes {bloat:?}; t is {t_bytes} bytes");
    assert!(
        bloat["app_b"] >= 0.6 * t_bytes,
        "app_b bloat {} of a {t_bytes}-byte table with 5/6 of its rows deleted",
        bloat["app_b"]
    );
    let xid_age = by_database(&first, "OldestTableXidAge");
    assert!(xid_age.values().all(|a| *a > 0.0), "{xid_age:?}");

    // The user's query runs where its own `databases` says.
    let orders = by_database(&first, "OrdersLast10Minutes");
    assert_eq!(orders, BTreeMap::from([("app_c".to_string(), 7.0)]));

    // A subsegment per query, with one per database below it.
    let segment = &first["segments"][0];
    let health = segment["subsegments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "table_health")
        .unwrap_or_else(|| panic!("no table_health subsegment: {segment}"));
    let names: Vec<&str> = health["subsegments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, APP_DATABASES);
    assert!(health.get("fault").is_none(), "{health}");
    assert!(health["sql"]["sanitized_query"]
        .as_str()
        .unwrap()
        .starts_with("/* pglog */"));

    // Three sequential scans of the large table; then the second run
    // ships the counter (and the window of the server's transactions,
    // the collector's own left out in every database) to CloudWatch.
    for _ in 0..3 {
        pg.psql_in("app_a", "SELECT count(*) FROM big");
    }
    let moto = Moto::start_new();
    let (code, _, stderr) = once(&pg.dsn(), dir.path(), &[], &moto.env());
    assert_eq!(code, 0, "{stderr}");
    // One connection serves every query due in its database: with one
    // allowed besides the collector's own, each app database is connected
    // to once per cycle, not once per query.
    for db in APP_DATABASES {
        let url = format!("postgresql://postgres@127.0.0.1:{}/{db}", pg.port());
        let connects = stderr
            .lines()
            .filter(|l| l.contains("connected") && l.contains(&url))
            .count();
        assert_eq!(connects, 1, "connections to {db}:\n{stderr}");
    }
    let cw = moto.cloudwatch().await;
    let listed = list_metrics(&cw, "PgLog").await;
    let dbs_of = |metric: &str| -> Vec<String> {
        listed
            .iter()
            .filter(|(name, _)| name == metric)
            .filter_map(|(_, dims)| {
                dims.iter()
                    .find(|(k, _)| k == "Database")
                    .map(|(_, v)| v.clone())
            })
            .collect()
    };
    for metric in ["DeadTuples", "LiveTuples", "TableBloatBytes"] {
        assert_eq!(dbs_of(metric), expected, "{metric} in {listed:?}");
    }
    // Only app_a has a table that large.
    assert_eq!(dbs_of("SeqScansOnLargeTables"), ["app_a"]);
    assert_eq!(dbs_of("OrdersLast10Minutes"), ["app_c"]);
    let scans = harness::metric_values(
        &cw,
        "PgLog",
        "SeqScansOnLargeTables",
        &[
            ("DBInstance", "db-scope"),
            ("Role", "primary"),
            ("Database", "app_a"),
        ],
    )
    .await;
    assert_eq!(scans.iter().map(|(_, v)| v).sum::<f64>(), 3.0, "{scans:?}");
    let tx = harness::metric_values(
        &cw,
        "PgLog",
        "TransactionsLast10Minutes",
        &[("DBInstance", "db-scope"), ("Role", "primary")],
    )
    .await;
    eprintln!("TransactionsLast10Minutes {tx:?}");
    let tx = tx
        .last()
        .map(|(_, v)| *v)
        .expect("TransactionsLast10Minutes shipped");
    // The test's psql sessions between the two runs (three reading the
    // tuple counts, one the size of t, three scans), two transactions
    // each (the one that starts a session and the statement), and none of
    // the collector's own sessions and queries in the databases it ran
    // them in (a dozen sessions, with one connection taking turns).
    assert!(
        (14.0..=16.0).contains(&tx),
        "TransactionsLast10Minutes {tx}"
    );

    // A monitoring role as the README makes it: a database closed to it
    // (CONNECT revoked from PUBLIC) is not visited, so nothing fails.
    pg.psql("CREATE DATABASE app_locked");
    pg.psql("REVOKE CONNECT ON DATABASE app_locked FROM PUBLIC");
    pg.psql("CREATE ROLE pglog_monitor LOGIN; GRANT pg_monitor TO pglog_monitor");
    // The user's own query reads an application table: the role needs that grant.
    pg.psql_in("app_c", "GRANT SELECT ON orders TO pglog_monitor");
    let monitor = pg.dsn().replace("user=postgres", "user=pglog_monitor");
    let (code, lines, stderr) = once(&monitor, dir.path(), &["--dry-run"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let cycle: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(
        by_database(&cycle, "DeadTuples")
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        expected,
        "{stderr}"
    );
    let faults: Vec<&serde_json::Value> = cycle["segments"][0]["subsegments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("fault").is_some())
        .collect();
    assert!(faults.is_empty(), "{faults:?}");
}

/// A query slow enough that a cycle cannot visit every database: no
/// database is begun after three quarters of the interval, the ones not
/// reached are said, and the next cycle visits them first.
#[test]
fn databases_not_reached_in_time_go_first_next_cycle() {
    let pg = Pg::primary();
    let names = ["slow_a", "slow_b", "slow_c", "slow_d"];
    for db in names {
        pg.psql(&format!("CREATE DATABASE {db}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("collector.toml");
    let metrics = dir.path().join("metrics.toml");
    std::fs::write(&config, "interval = \"4s\"\ndatabases = [\"slow_*\"]\n").unwrap();
    std::fs::write(
        &metrics,
        r#"
[[query]]
id = "slow"
scope = "database"
sql = "SELECT 1 AS one FROM pg_sleep(1.2)"
roles = ["primary"]
[[query.value]]
column = "one"
metric = "SlowOne"
kind = "gauge"
unit = "Count"
help = "One, slowly"
"#,
    )
    .unwrap();
    let dsn = pg.dsn();
    let d = Daemon::start(
        &[
            "--config",
            config.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
            "--dsn",
            &dsn,
            "--instance",
            "slow",
            "--dry-run",
        ],
        &[],
    );
    let visited = |cycle: &serde_json::Value| -> (Vec<String>, serde_json::Value) {
        let sub = cycle["segments"][0]["subsegments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "slow")
            .unwrap_or_else(|| panic!("no slow subsegment: {cycle}\n{}", d.stderr()))
            .clone();
        let names = sub["subsegments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        (names, sub["annotations"].clone())
    };
    // 1.2 s a database: the third begins at 2.4 s, the fourth would past 3 s.
    let (first, annotations) = visited(&d.next_cycle(Duration::from_secs(30)));
    assert_eq!(first, ["slow_a", "slow_b", "slow_c"], "{}", d.stderr());
    assert_eq!(annotations["databases_not_reached"], 1, "{annotations}");
    assert!(
        d.stderr()
            .contains("ran out of time before reaching 1 of 4 databases (slow_d)"),
        "{}",
        d.stderr()
    );
    let (second, _) = visited(&d.next_cycle(Duration::from_secs(30)));
    assert_eq!(second[0], "slow_d", "{second:?}");
    assert_eq!(second.len(), 3, "{second:?}");
    let (code, _) = d.terminate();
    assert!(code.success());
}
