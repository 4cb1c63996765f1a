//! `pglog collect --once` from cron or a timer: each run goes on from the
//! counters and windows the last one saved in `--state-dir`.
mod daemon;
mod harness;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use daemon::{datums, value, Daemon};
use harness::Pg;

/// Metrics shipped as increases: none of them can come from a first run.
const FROM_INCREASES: [&str; 6] = [
    "TransactionsLast10Minutes",
    "Rollbacks",
    "DatabaseDeadlocks",
    "TempBytes",
    "CheckpointsRequested",
    "WalBytesPerSecond",
];

fn once(pg: &Pg, state: &Path) -> (serde_json::Value, String) {
    let d = Daemon::start(
        &[
            "--dsn",
            &pg.dsn(),
            "--instance",
            "db-cron",
            "--once",
            "--dry-run",
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &[],
    );
    let (status, lines, stderr) = d.wait(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{stderr}");
    (serde_json::from_str(&lines[0]).unwrap(), stderr)
}

fn metric_names(cycle: &serde_json::Value) -> BTreeSet<String> {
    cycle["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["metric"].as_str().unwrap().to_string())
        .collect()
}

/// Two runs 60 s apart, as a crontab line every minute would make them: the
/// second ships everything the first did plus every counter, rate and
/// window, and TransactionsLast10Minutes is what pgbench ran in between.
/// Then a state from another server, and a damaged one, are ignored and
/// said so, and the run still works.
#[test]
fn second_once_run_ships_counters_and_windows() {
    // Autovacuum off: its transactions would count too.
    let primary = Pg::primary_with("autovacuum = off");
    primary.pgbench(&["-i", "-s", "1", "-q"]);
    let state = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let (first, stderr) = once(&primary, state.path());
    assert!(stderr.contains("no saved state yet"), "{stderr}");
    for m in FROM_INCREASES {
        assert!(
            datums(&first, m).is_empty(),
            "{m} from a first run: {first}"
        );
    }
    let ran = primary.pgbench(&["-c", "2", "-t", "300"]);
    assert_eq!(ran, 600);
    std::thread::sleep(Duration::from_secs(60).saturating_sub(started.elapsed()));

    let (second, stderr) = once(&primary, state.path());
    assert!(
        stderr.contains("going on from the counters and windows"),
        "{stderr}"
    );
    let (names1, names2) = (metric_names(&first), metric_names(&second));
    assert!(names1.is_subset(&names2), "{names1:?} not in {names2:?}");
    for m in FROM_INCREASES {
        assert!(
            !datums(&second, m).is_empty(),
            "no {m} from the second run: {second}"
        );
    }
    let tx = value(&second, "TransactionsLast10Minutes").unwrap();
    eprintln!("TransactionsLast10Minutes {tx} after pgbench ran {ran}");
    assert!(
        (ran as f64 - 15.0..=ran as f64 + 15.0).contains(&tx),
        "TransactionsLast10Minutes {tx} after pgbench ran {ran}"
    );

    // The same instance name pointed at another cluster: its counters do
    // not continue these.
    let other = Pg::primary();
    let (third, stderr) = once(&other, state.path());
    assert!(stderr.contains("saved from another server"), "{stderr}");
    assert!(datums(&third, "TransactionsLast10Minutes").is_empty());

    let file = state.path().join("metrics-db-cron.json");
    std::fs::write(&file, b"{\"format\": 1, \"instance\"").unwrap();
    let (_, stderr) = once(&other, state.path());
    assert!(stderr.contains("damaged saved state"), "{stderr}");
    // ... and the run replaced it with a good one.
    let (_, stderr) = once(&other, state.path());
    assert!(
        stderr.contains("going on from the counters and windows"),
        "{stderr}"
    );

    // A state_dir that cannot be written (here: below a plain file, which
    // not even root can make a directory of): said, and the run still ships.
    let unwritable = file.join("sub");
    let (cycle, stderr) = once(&other, &unwritable);
    assert!(
        stderr.contains("cannot save the counters and windows"),
        "{stderr}"
    );
    assert_eq!(value(&cycle, "Up"), Some(1.0), "{cycle}");
}

/// A daemon stopped and started again on the same state_dir: its first
/// cycle goes on from the saved counters and window, so the window holds
/// what ran before the stop plus what ran while it was down, each once,
/// and the counters ship from that first cycle on (no cycle lost).
#[test]
fn restarted_daemon_continues_the_window() {
    let pg = Pg::primary_with("autovacuum = off");
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    let state = tempfile::tempdir().unwrap();
    let dsn = pg.dsn();
    let args = [
        "--dsn",
        &dsn,
        "--instance",
        "db-restart",
        "--interval",
        "1s",
        "--dry-run",
        "--state-dir",
        state.path().to_str().unwrap(),
    ];
    let window = |c: &serde_json::Value| value(c, "TransactionsLast10Minutes");

    let d = Daemon::start(&args, &[]);
    d.cycle_where("a window", Duration::from_secs(30), |c| window(c).is_some());
    let before = pg.pgbench(&["-n", "-c", "2", "-t", "100"]);
    assert_eq!(before, 200);
    // The server publishes a backend's counts up to a second late.
    d.cycle_where("pgbench's transactions", Duration::from_secs(30), |c| {
        window(c).is_some_and(|w| w >= before as f64)
    });
    // Two cycles more: the counts of pgbench's own setup queries are in.
    d.next_cycle(Duration::from_secs(10));
    let at_stop = window(&d.next_cycle(Duration::from_secs(10))).unwrap();
    assert!(d.terminate().0.success());

    let down = pg.pgbench(&["-n", "-c", "2", "-t", "50"]);
    assert_eq!(down, 100);
    let d = Daemon::start(&args, &[]);
    let first = d.next_cycle(Duration::from_secs(30));
    assert!(
        d.stderr()
            .contains("going on from the counters and windows"),
        "{}",
        d.stderr()
    );
    for m in FROM_INCREASES {
        assert!(
            !datums(&first, m).is_empty(),
            "no {m} from the restarted daemon's first cycle: {first}"
        );
    }
    let expected = (before + down) as f64;
    let w = window(&first).unwrap();
    let said = format!(
        "TransactionsLast10Minutes {at_stop} at the stop, {w} after the restart; pgbench ran {before} before and {down} while it was down"
    );
    eprintln!("{said}");
    assert!((expected - 15.0..=expected + 15.0).contains(&w), "{said}");
    assert!((w - at_stop - down as f64).abs() <= 15.0, "{said}");
    assert!(d.terminate().0.success());
}
