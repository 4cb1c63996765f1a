//! The collector under faults: AWS answering after the attempt timeout,
//! SIGHUP and SIGTERM, query results that are not numbers, a crash restart
//! of PostgreSQL, and queries slower than the cycle behind Prometheus.

mod daemon;
mod harness;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use daemon::{datums, value, Daemon};
use harness::{
    eventually, free_port, http_get, list_metrics, log_events, metric_stat_values, Moto,
    MotoClients, Pg, Prometheus, SlowProxy, LOGGING,
};

/// Metrics counted from the log per minute of the records' time: two cycles
/// may each send part of one minute, under the same timestamp.
const LOG_METRICS: &[&str] = &[
    "LogErrors",
    "SlowQueries",
    "Deadlocks",
    "LockWaits",
    "TempFileBytes",
    "Checkpoints",
    "AuthFailures",
];

/// A metric file with one gauge query `id` whose column `v` is `metric`.
fn gauge_query(id: &str, sql: &str, metric: &str, interval: Option<&str>) -> String {
    let interval = interval.map_or(String::new(), |i| format!("interval = \"{i}\"\n"));
    format!("[[query]]\nid = \"{id}\"\nsql = \"{sql}\"\nroles = [\"primary\"]\n{interval}[[query.value]]\ncolumn = \"v\"\nmetric = \"{metric}\"\nkind = \"gauge\"\nunit = \"None\"\nhelp = \"test\"\n")
}

/// The value of an unlabelled sample on `/metrics`.
fn prom_value(text: &str, name: &str) -> f64 {
    let prefix = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not on /metrics:\n{text}"))
}

/// The number in `… {before}N{after}…` of the first line that has it.
fn number_between(text: &str, before: &str, after: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let rest = &l[l.find(before)? + before.len()..];
            rest[..rest.find(after)?].trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no `{before}N{after}` in:\n{text}"))
}

/// 30 s of AWS answering 2 s after a 1 s attempt timeout (the issue's
/// 20 s against 10 s, scaled down), then AWS fast again. Every request that
/// timed out was stored by moto, as a late AWS would. Read back from moto:
/// every cycle's datums, segment and log records arrived; a datum is
/// stored twice only within a batch counted as sent again after a timeout,
/// and such batches are few (the retry's deadline is long enough), not one
/// per cycle; log records are never stored twice (the stream is read back
/// before a timed-out batch is sent again).
#[tokio::test(flavor = "multi_thread")]
async fn slow_aws_stores_each_datum_once_per_acknowledged_batch() {
    let pg = Pg::primary_with(LOGGING);
    let log_dir = pg.data_dir().join("log");
    let state = tempfile::tempdir().unwrap();
    let moto = Moto::start_new();
    let proxy = SlowProxy::start(moto.port(), Duration::from_secs(2));
    let listen = format!("127.0.0.1:{}", free_port());
    let dsn = pg.dsn();
    let d = Daemon::start(
        &[
            "--dsn",
            &dsn,
            "--instance",
            "slow",
            "--interval",
            "2s",
            "--storage-resolution",
            "1",
            "--aws-attempt-timeout",
            "1s",
            "--listen",
            &listen,
            "--log-dir",
            log_dir.to_str().unwrap(),
            "--state-dir",
            state.path().to_str().unwrap(),
            "--log-group",
            "/pglog/slow",
        ],
        &proxy.env(),
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    proxy.set_delay(Duration::ZERO);
    eventually("nothing pending", Duration::from_secs(60), || async {
        let m = http_get(&listen, "/metrics");
        let idle = m.contains("pglog_cloudwatch_datums_buffered 0\n")
            && m.contains("pglog_xray_segments_buffered 0\n");
        idle.then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let metrics = http_get(&listen, "/metrics");
    d.signal(15);
    let (status, _, stderr) = d.wait(Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("everything was delivered"), "{stderr}");
    assert!(
        stderr.contains("again, alone") && stderr.contains("stored twice"),
        "{stderr}"
    );
    // The exit says how much may be stored twice.
    let said = number_between(
        &stderr,
        "after a timeout: up to ",
        " datums may be stored twice",
    );
    let cycles = number_between(&stderr, "stopped after ", " cycles");
    eprintln!("{cycles} cycles");

    // CloudWatch: per series and second, 1 sample, or 2 within a batch
    // sent again after a timeout.
    let cw = moto.cloudwatch().await;
    let mut twice = 0.0;
    let mut series = 0;
    for (name, dims) in list_metrics(&cw, "PgLog").await {
        if LOG_METRICS.contains(&name.as_str()) || name == "CollectorStarts" {
            continue;
        }
        let dims: Vec<(&str, &str)> = dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for (t, n) in metric_stat_values(&cw, "PgLog", &name, &dims, "SampleCount").await {
            assert!(
                n == 1.0 || n == 2.0,
                "{name} {dims:?} at {t:?}: stored {n} times"
            );
            twice += n - 1.0;
        }
        series += 1;
    }
    // The start's health check timed out: it may have been stored, so it
    // was not sent again.
    let starts = metric_stat_values(
        &cw,
        "PgLog",
        "CollectorStarts",
        &[("DBInstance", "slow")],
        "SampleCount",
    )
    .await;
    assert_eq!(
        starts.iter().map(|(_, n)| n).sum::<f64>(),
        1.0,
        "{starts:?}"
    );
    let up = metric_stat_values(&cw, "PgLog", "Up", &[("DBInstance", "slow")], "SampleCount").await;
    assert_eq!(up.len() as u64, cycles, "an Up datum per cycle: {up:?}");
    let retries = prom_value(&metrics, "pglog_cloudwatch_retries_after_timeout_total");
    let resent = prom_value(
        &metrics,
        "pglog_cloudwatch_datums_resent_after_timeout_total",
    );
    eprintln!("CloudWatch: {series} series, {twice} datums stored twice, {retries} batches ({resent} datums) sent again after a timeout");
    assert!(twice >= 1.0, "moto stored the request that timed out");
    assert!(twice <= resent, "{twice} stored twice, {resent} counted");
    assert_eq!(said as f64, resent, "{stderr}");
    assert!(
        (1.0..=3.0).contains(&retries),
        "{retries} retries after a timeout"
    );

    // X-Ray: a segment per cycle; one stored twice only when counted.
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for s in moto.xray_segments().await {
        *per_id
            .entry(s["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_id.len() as u64, cycles, "a segment per cycle");
    assert!(per_id.values().all(|n| *n <= 2), "{per_id:?}");
    let seg_twice = per_id.values().map(|n| n - 1).sum::<usize>() as f64;
    let seg_resent = prom_value(&metrics, "pglog_xray_segments_resent_after_timeout_total");
    let seg_retries = prom_value(&metrics, "pglog_xray_retries_after_timeout_total");
    eprintln!("X-Ray: {} segments, {seg_twice} stored twice, {seg_retries} batches ({seg_resent} segments) sent again after a timeout", per_id.len());
    assert!(
        seg_twice >= 1.0 && seg_twice <= seg_resent,
        "{seg_twice} > {seg_resent}"
    );
    assert!((1.0..=3.0).contains(&seg_retries), "{seg_retries}");

    // CloudWatch Logs: each record once; the ones a timed-out request stored
    // were found in the stream and not sent again.
    let events = log_events(&moto, "/pglog/slow").await;
    let mut seen = HashSet::new();
    for e in &events {
        assert!(seen.insert(e.clone()), "stored twice: {e:?}");
    }
    let shipped = number_between(&stderr, "log shipping: ", " records shipped");
    let found = number_between(&stderr, "not records, ", " already shipped before");
    let timeouts = prom_value(&metrics, "pglog_logs_timeouts_total");
    eprintln!(
        "Logs: {} events, {shipped} shipped, {found} found in the stream after {timeouts} timeouts",
        events.len()
    );
    assert!(stderr.contains("the stream is read back"), "{stderr}");
    assert!(found >= 1 && timeouts >= 1.0, "{stderr}");
    assert_eq!(events.len() as u64, shipped + found);
}

/// SIGHUP reads the config and metric files again: new and changed queries
/// run from the next cycle, the interval changes, counters go on, and what
/// changed is logged. A wrong config is refused and the running one stays.
#[test]
fn sighup_reloads_the_settings_and_keeps_counters() {
    let pg = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("extra.toml");
    let config = dir.path().join("collector.toml");
    let query = |id: &str, sql: &str, metric: &str| gauge_query(id, sql, metric, None);
    let write_config = |interval: &str| {
        std::fs::write(
            &config,
            format!(
                "dsn = \"{}\"\ninstance = \"hup\"\ninterval = \"{interval}\"\nmetrics = \"{}\"\n",
                pg.dsn(),
                metrics.display()
            ),
        )
        .unwrap();
    };
    std::fs::write(&metrics, query("answer", "SELECT 42 AS v", "Answer")).unwrap();
    write_config("1s");
    let d = Daemon::start(&["--config", config.to_str().unwrap(), "--dry-run"], &[]);
    d.cycle_where("Answer and a counter", Duration::from_secs(30), |c| {
        value(c, "Answer") == Some(42.0) && !datums(c, "DatabaseDeadlocks").is_empty()
    });

    std::fs::write(
        &metrics,
        query("answer", "SELECT 43 AS v", "Answer")
            + &query("question", "SELECT 7 AS v", "Question"),
    )
    .unwrap();
    write_config("2s");
    d.signal(1);
    let c = d.cycle_where("the reloaded queries", Duration::from_secs(30), |c| {
        value(c, "Question").is_some()
    });
    assert_eq!(value(&c, "Question"), Some(7.0));
    assert_eq!(value(&c, "Answer"), Some(43.0));
    // A counter needs two reads: it is in the first cycle after the reload
    // because its last read was kept.
    assert!(!datums(&c, "DatabaseDeadlocks").is_empty(), "{c}");
    let next = d.next_cycle(Duration::from_secs(10));
    let start = |c: &serde_json::Value| c["segments"][0]["start_time"].as_f64().unwrap();
    assert!(start(&next) - start(&c) > 1.5, "the interval is 2 s now");
    let log = d.stderr();
    for said in [
        "query `question` added",
        "query `answer` changed",
        "`interval` changed from 1s to 2s",
    ] {
        assert!(log.contains(said), "{said}: {log}");
    }

    write_config("soon");
    d.signal(1);
    harness::wait_until("the refusal", Duration::from_secs(10), || {
        d.stderr().contains("rejected, the running ones stay")
    });
    assert!(d.stderr().contains("`interval`"), "{}", d.stderr());
    let c = d.next_cycle(Duration::from_secs(10));
    assert_eq!(value(&c, "Question"), Some(7.0));
    let (status, _) = d.terminate();
    assert!(status.success());
}

/// SIGTERM with AWS unreachable: the exit says how many datums, segments
/// and log records were not delivered.
#[test]
fn sigterm_says_how_much_was_not_delivered() {
    let pg = Pg::primary_with(LOGGING);
    let state = tempfile::tempdir().unwrap();
    let nowhere = Moto::unreachable_env();
    let d = Daemon::start(
        &[
            "--dsn",
            &pg.dsn(),
            "--interval",
            "1s",
            "--log-dir",
            pg.data_dir().join("log").to_str().unwrap(),
            "--state-dir",
            state.path().to_str().unwrap(),
        ],
        &nowhere,
    );
    harness::wait_until("a failed send", Duration::from_secs(30), || {
        d.stderr().contains("retrying")
    });
    std::thread::sleep(Duration::from_secs(3));
    d.signal(15);
    let (status, _, stderr) = d.wait(Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
    let datums = number_between(&stderr, "not delivered: ", " datums");
    let segments = number_between(&stderr, " datums, ", " segments");
    let records = number_between(&stderr, " segments, ", " log events");
    eprintln!("not delivered: {datums} datums, {segments} segments, {records} log records");
    assert!(
        stderr.contains("health check") && stderr.contains("buffering until it answers"),
        "{stderr}"
    );
    assert!(datums > 0 && segments > 0 && records > 0, "{stderr}");
}

/// A value column holding text that is not a number: warned about once
/// for its metric, the query's subsegment is a fault, and `--once` fails.
#[test]
fn values_that_are_not_numbers_are_warned_once_and_fail_once() {
    let pg = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("words.toml");
    std::fs::write(
        &metrics,
        gauge_query("words", "SELECT 'many'::text AS v", "Words", None),
    )
    .unwrap();
    let m = metrics.to_str().unwrap();
    let dsn = pg.dsn();
    let d = Daemon::start(
        &[
            "--dsn",
            &dsn,
            "--metrics",
            m,
            "--interval",
            "500ms",
            "--dry-run",
        ],
        &[],
    );
    let mut c = serde_json::Value::Null;
    for _ in 0..4 {
        c = d.next_cycle(Duration::from_secs(20));
    }
    let sub = c["segments"][0]["subsegments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "words")
        .unwrap()
        .clone();
    assert_eq!(sub["fault"], true, "{sub}");
    let log = d.stderr();
    assert_eq!(log.matches("not a number").count(), 1, "{log}");
    assert!(log.contains("Words") && log.contains("`many`"), "{log}");
    assert!(d.terminate().0.success());

    let (status, _, stderr) =
        Daemon::start(&["--dsn", &dsn, "--metrics", m, "--once", "--dry-run"], &[])
            .wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 failed queries"), "{stderr}");
}

/// A crash restart of PostgreSQL resets its statistics. The transactions
/// window never goes down (no slice below zero) and then counts exactly
/// what runs after the restart.
#[test]
fn transactions_window_is_exact_across_a_crash_restart() {
    let pg = Pg::primary_with("autovacuum = off");
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    let dsn = pg.dsn();
    let d = Daemon::start(&["--dsn", &dsn, "--interval", "1s", "--dry-run"], &[]);
    let windows = std::cell::RefCell::new(Vec::new());
    let next = |n: usize| {
        for _ in 0..n {
            let c = d.next_cycle(Duration::from_secs(30));
            if let Some(w) = value(&c, "TransactionsLast10Minutes") {
                windows.borrow_mut().push(w);
            }
        }
    };
    d.cycle_where("a window", Duration::from_secs(30), |c| {
        value(c, "TransactionsLast10Minutes").is_some()
    });
    assert_eq!(pg.pgbench(&["-n", "-c", "2", "-t", "100"]), 200);
    next(4);
    let before = *windows.borrow().last().unwrap();

    pg.kill();
    d.cycle_where("Up 0", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(0.0)
    });
    pg.start();
    d.cycle_where("Up 1", Duration::from_secs(60), |c| {
        value(c, "Up") == Some(1.0)
    });
    next(4);
    let after_restart = *windows.borrow().last().unwrap();
    assert_eq!(pg.pgbench(&["-n", "-c", "2", "-t", "50"]), 100);
    next(4);
    let end = *windows.borrow().last().unwrap();
    let w = windows.borrow().clone();
    eprintln!(
        "window before the crash {before}, after it {after_restart}, after 100 more {end}: {w:?}"
    );
    for pair in w.windows(2) {
        assert!(pair[1] >= pair[0], "the window went down: {w:?}");
    }
    assert!((before..=before + 15.0).contains(&after_restart), "{w:?}");
    assert!((end - after_restart - 100.0).abs() <= 15.0, "{w:?}");
    assert!(d.terminate().0.success());
}

/// A query that runs every hour keeps its series on `/metrics`, with the
/// time it was read, through the cycles in between, and a real Prometheus
/// scraping every second does not mark it stale.
#[test]
fn prometheus_keeps_a_slower_querys_series_until_it_runs_again() {
    let pg = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("hourly.toml");
    std::fs::write(
        &metrics,
        gauge_query("hourly", "SELECT 5 AS v", "Hourly", Some("1h")),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let dsn = pg.dsn();
    let d = Daemon::start(
        &[
            "--dsn",
            &dsn,
            "--instance",
            "prom",
            "--metrics",
            metrics.to_str().unwrap(),
            "--interval",
            "500ms",
            "--listen",
            &listen,
            "--dry-run",
        ],
        &[],
    );
    let first = d.cycle_where("Hourly", Duration::from_secs(30), |c| {
        value(c, "Hourly").is_some()
    });
    let read_at = first["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "Hourly")
        .unwrap()["timestamp"]
        .as_u64()
        .unwrap();
    for _ in 0..4 {
        let c = d.next_cycle(Duration::from_secs(10));
        assert!(
            value(&c, "Hourly").is_none(),
            "not due again within the hour"
        );
    }
    let body = http_get(&listen, "/metrics");
    let line = format!("pglog_hourly{{db_instance=\"prom\",role=\"primary\"}} 5 {read_at}\n");
    assert!(body.contains(&line), "{line} missing:\n{body}");

    // Prometheus, scraping while the query is not due: the series is still
    // there, with the time it was read.
    let prometheus = Prometheus::start(&listen);
    harness::wait_until("a few scrapes", Duration::from_secs(30), || {
        !prometheus.query("pglog_up").is_empty()
    });
    std::thread::sleep(Duration::from_secs(4));
    let hourly = prometheus.query("pglog_hourly");
    assert_eq!(hourly.len(), 1, "{hourly:?}");
    assert_eq!(hourly[0]["value"][1], "5", "{hourly:?}");
    let at = prometheus.query("timestamp(pglog_hourly)");
    assert_eq!(
        at[0]["value"][1],
        format!("{}", read_at as f64 / 1000.0),
        "{at:?}"
    );
    assert!(d.terminate().0.success());
}
