//! pgbouncer as a metric source: a real pgbouncer in front of a real
//! server, pgbench through it, and `pglog collect --dry-run` reading its
//! admin console (SHOW POOLS, STATS, LISTS) each second.

mod daemon;
mod harness;

use std::time::{Duration, Instant};

use serde_json::Value;

use daemon::{datums, dim, value, Daemon};
use harness::{parse_pgbench_tps, parse_pgbench_transactions, Pg, Pgbouncer};

const CYCLE: Duration = Duration::from_secs(10);

/// The collector with `[pgbouncer]` from a config file, its password from
/// an environment variable.
fn start_collector(pg: &Pg, bouncer: &Pgbouncer, dir: &std::path::Path) -> Daemon {
    let file = dir.join("collector.toml");
    std::fs::write(
        &file,
        format!(
            "dsn = \"{}\"\ninstance = \"db-b\"\ninterval = \"1s\"\n\n[pgbouncer]\ndsn = \"{}\"\npassword_env = \"BOUNCER_PASSWORD\"\n",
            pg.dsn(),
            bouncer.console_dsn()
        ),
    )
    .unwrap();
    Daemon::start(
        &["--config", file.to_str().unwrap(), "--dry-run"],
        &[(
            "BOUNCER_PASSWORD".to_string(),
            Pgbouncer::MONITOR_PASSWORD.to_string(),
        )],
    )
}

/// The values of `metric` for the pooled database `postgres`.
fn for_postgres(cycle: &Value, metric: &str) -> Vec<f64> {
    timed_for_postgres(cycle, metric)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// Like [`for_postgres`], with each datum's time (when it was read) in s.
fn timed_for_postgres(cycle: &Value, metric: &str) -> Vec<(f64, f64)> {
    cycle["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["metric"] == metric
                && d["dimensions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p[0] == "Database" && p[1] == "postgres")
        })
        .map(|d| {
            (
                d["timestamp"].as_f64().unwrap() / 1000.0,
                d["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Runs pgbench through pgbouncer on a thread while the cycles are read;
/// returns pgbench's output and the cycles from the one before it started
/// to the second after it ended.
fn cycles_during_pgbench(
    collector: &Daemon,
    bouncer: &Pgbouncer,
    args: &[&str],
) -> (String, Vec<Value>) {
    // The cycle before the run: the first rate of the run is counted from it.
    let mut cycles = vec![collector.next_cycle(CYCLE)];
    let out = std::thread::scope(|s| {
        let bench = s.spawn(|| bouncer.pgbench(args));
        while !bench.is_finished() {
            cycles.push(collector.next_cycle(CYCLE));
        }
        for _ in 0..2 {
            cycles.push(collector.next_cycle(CYCLE));
        }
        bench.join().unwrap()
    });
    (out, cycles)
}

#[test]
fn pgbouncer_metrics_follow_pgbench_and_a_restart() {
    let pg = Pg::primary();
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    let mut bouncer = Pgbouncer::start(&pg, 2);
    // A first client makes the pool, so that the collector has read its
    // counters once before the run.
    bouncer.pgbench(&["-n", "-S", "-M", "simple", "-t", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(&pg, &bouncer, dir.path());

    let first = collector.cycle_where("PgbouncerUp 1", Duration::from_secs(30), |c| {
        value(c, "PgbouncerUp") == Some(1.0)
    });
    // The console's own pseudo-database is no pool of the metrics.
    for (dims, _) in datums(&first, "PgbouncerClientsActive") {
        assert_ne!(dim(&dims, "Database"), Some("pgbouncer"), "{dims:?}");
        assert_eq!(dim(&dims, "DBInstance"), Some("db-b"));
        assert_eq!(dim(&dims, "Role"), None);
    }
    assert!(value(&first, "PgbouncerPools").unwrap() >= 1.0);
    assert_eq!(value(&first, "Up"), Some(1.0));
    // One X-Ray subsegment per console command, without the marker comment
    // (the console rejects comments).
    let subs = first["segments"][0]["subsegments"].as_array().unwrap();
    for show in ["SHOW POOLS", "SHOW STATS", "SHOW LISTS"] {
        let sub = subs
            .iter()
            .find(|s| s["sql"]["sanitized_query"] == show)
            .unwrap_or_else(|| panic!("no subsegment for {show}: {subs:?}"));
        assert_eq!(sub["sql"]["database_type"], "PgBouncer");
        assert!(sub.get("fault").is_none(), "{sub}");
    }

    // Select-only (-S) in the simple protocol (-M simple): each pgbench
    // transaction is one statement outside BEGIN/COMMIT, which pgbouncer
    // counts as one transaction and one query, and each reaches it as one
    // Query message. -n: no VACUUM before the run. 8 clients on a pool of 2
    // server connections: the others wait.
    let (out, cycles) = cycles_during_pgbench(
        &collector,
        &bouncer,
        &["-n", "-S", "-M", "simple", "-c", "8", "-j", "2", "-T", "15"],
    );
    let pgbench_tps = parse_pgbench_tps(&out).unwrap_or_else(|| panic!("no tps in:\n{out}"));
    let processed = parse_pgbench_transactions(&out).unwrap() as f64;
    assert!(processed > 100.0, "{out}");
    // Each cycle's rate covers the time since the one before: rate times
    // that time, added up over the run, is what pgbouncer counted, and over
    // pgbench's 15 s it is pgbench's tps.
    for metric in [
        "PgbouncerQueriesPerSecond",
        "PgbouncerTransactionsPerSecond",
    ] {
        let timed: Vec<(f64, f64)> = cycles
            .iter()
            .flat_map(|c| timed_for_postgres(c, metric))
            .collect();
        let mut counted = 0.0;
        for pair in timed.windows(2) {
            let ((before, _), (at, rate)) = (pair[0], pair[1]);
            assert!(rate >= 0.0, "{metric} = {rate}");
            counted += rate * (at - before);
        }
        let tps = counted / 15.0;
        eprintln!("{metric}: {counted:.0} counted, {tps:.1}/s; pgbench: {processed} transactions, tps {pgbench_tps:.1}");
        assert!(
            (tps - pgbench_tps).abs() <= 0.1 * pgbench_tps,
            "{metric}: {tps:.1}/s against pgbench's {pgbench_tps:.1}\n{out}"
        );
    }
    let waiting = cycles
        .iter()
        .flat_map(|c| for_postgres(c, "PgbouncerClientsWaiting"))
        .fold(0.0, f64::max);
    assert!(
        waiting > 0.0,
        "no client waited with 8 clients on 2 servers"
    );
    let servers = cycles
        .iter()
        .flat_map(|c| for_postgres(c, "PgbouncerServersActive"))
        .fold(0.0, f64::max);
    assert!((1.0..=2.0).contains(&servers), "{servers} servers active");
    let max_wait = cycles
        .iter()
        .flat_map(|c| for_postgres(c, "PgbouncerMaxWaitSeconds"))
        .fold(0.0, f64::max);
    assert!(max_wait > 0.0 && max_wait < 15.0, "max wait {max_wait}");
    for c in &cycles {
        for v in for_postgres(c, "PgbouncerAvgQueryTimeSeconds") {
            assert!((0.0..1.0).contains(&v), "mean query time {v}");
        }
    }
    // The waiting shows in the mean wait per transaction too.
    assert!(cycles
        .iter()
        .flat_map(|c| for_postgres(c, "PgbouncerAvgWaitTimeSeconds"))
        .any(|v| v > 0.0));

    // pgbouncer gone: PgbouncerUp 0, PostgreSQL's metrics still shipped.
    bouncer.stop();
    let down = collector.cycle_where("PgbouncerUp 0", Duration::from_secs(30), |c| {
        value(c, "PgbouncerUp") == Some(0.0)
    });
    let again = collector.next_cycle(CYCLE);
    for c in [&down, &again] {
        assert_eq!(value(c, "PgbouncerUp"), Some(0.0));
        assert_eq!(value(c, "Up"), Some(1.0));
        assert!(!datums(c, "Connections").is_empty());
        assert!(datums(c, "PgbouncerQueriesPerSecond").is_empty());
    }
    let subs = down["segments"][0]["subsegments"].as_array().unwrap();
    assert!(
        subs.iter()
            .any(|s| s["name"] == "pgbouncer" && s["fault"] == true),
        "{subs:?}"
    );

    // Back: it counts from zero again; the rates resume without a negative
    // value or a spike from the counters of the process before.
    bouncer.restart();
    let started = Instant::now();
    let back = collector.cycle_where("PgbouncerUp 1 again", Duration::from_secs(30), |c| {
        value(c, "PgbouncerUp") == Some(1.0)
    });
    // A new connection: the first reading is where the rates start from.
    assert!(datums(&back, "PgbouncerQueriesPerSecond").is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
    let (out, cycles) = cycles_during_pgbench(
        &collector,
        &bouncer,
        &["-n", "-S", "-M", "simple", "-c", "2", "-j", "2", "-T", "8"],
    );
    let tps = parse_pgbench_tps(&out).unwrap();
    let rates: Vec<f64> = cycles
        .iter()
        .flat_map(|c| for_postgres(c, "PgbouncerQueriesPerSecond"))
        .collect();
    assert!(rates.iter().any(|&r| r > 0.5 * tps), "{rates:?}, tps {tps}");
    // A rate counted from the counters of the process before would be
    // negative, or hold its hundreds of thousands of queries (over 15 times
    // pgbench's tps here). One second's rate follows pgbench's pace, which a
    // busy machine makes uneven: 1.52 times the run's mean was seen.
    for r in &rates {
        assert!(
            (0.0..=3.0 * tps).contains(r),
            "{r} after the restart: {rates:?}, tps {tps}"
        );
    }
    assert!(collector.terminate().0.success());
}

/// A `[pgbouncer]` that cannot work stops the start with the key and the
/// fix (exit 2), before any connection.
#[test]
fn pgbouncer_config_errors_name_the_key() {
    let start = |args: &[&str], env: &[(String, String)]| {
        let mut a = vec![
            "--dsn",
            "host=127.0.0.1 port=1 user=x",
            "--once",
            "--dry-run",
        ];
        a.extend_from_slice(args);
        let (status, _, stderr) = Daemon::start(&a, env).wait(Duration::from_secs(20));
        (status.code(), stderr)
    };
    let (code, stderr) = start(
        &[
            "--pgbouncer-dsn",
            "host=127.0.0.1 port=6432 dbname=app user=m",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pgbouncer.dsn") && stderr.contains("dbname=pgbouncer"),
        "{stderr}"
    );
    let (code, stderr) = start(&["--pgbouncer-password-env", "NO_SUCH_PGLOG_VARIABLE"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("pgbouncer.dsn"), "{stderr}");
    let (code, stderr) = start(
        &[
            "--pgbouncer-dsn",
            "host=127.0.0.1 port=6432 dbname=pgbouncer user=m",
            "--pgbouncer-password-env",
            "NO_SUCH_PGLOG_VARIABLE",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pgbouncer.password_env") && stderr.contains("NO_SUCH_PGLOG_VARIABLE"),
        "{stderr}"
    );
}
