//! The parallel split is exact: every log gives the same report, byte for
//! byte, whatever the range size and the thread count. Ranges go down to a
//! few hundred bytes, so that boundaries fall between a statement's text and
//! its `duration:` line, between a parallel worker and its leader, inside
//! quoted multi-line csv fields and among DETAIL/STATEMENT lines.
//!
//! `PGLOG_SPLIT_SWEEP=N` tries N range sizes per log instead of the few that
//! CI runs (for example `PGLOG_SPLIT_SWEEP=200`).

use super::statistics::assert_same;
use super::*;

/// Every sample log, each format. Syslog is read whole; it is here as a
/// control.
const LOGS: &[&str] = &[
    "concurrent/postgresql.csv",
    "concurrent/postgresql.json",
    "concurrent/postgresql.log",
    "primary/postgresql.csv",
    "primary/postgresql.json",
    "primary/postgresql.log",
    "replica/postgresql.csv",
    "replica/postgresql.json",
    "replica/postgresql.log",
    "rds/postgresql.csv",
    "rds/postgresql.json",
    "rds/postgresql.log",
    "rds/postgresql.syslog",
];

/// Range sizes per log in CI, besides the smallest ones and the default.
const CI_SIZES: usize = 3;
/// The smallest range tried.
const MIN_RANGE: u64 = 200;
/// In CI, a run reads at most about this many ranges, which keeps the large
/// logs' smallest ranges above a few hundred bytes.
const CI_MAX_RANGES: u64 = 2000;

/// `count` range sizes from `lo` bytes to 64 KiB, spread evenly on a log
/// scale with a fixed pseudo-random jitter (the same on every run), the
/// smallest first.
fn range_sizes(count: usize, seed: u64, lo: u64) -> Vec<u64> {
    let mut x = seed | 1;
    let (lo, hi) = ((lo as f64).ln(), 65536f64.ln());
    (0..count)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let jitter = (x % 1000) as f64 / 1000.0;
            let t = (i as f64 + jitter) / count as f64;
            (lo + t * (hi - lo)).exp() as u64
        })
        .collect()
}

/// The range sizes to try per log, and the smallest range for a log of
/// `size` bytes.
fn sweep(size: u64) -> (usize, u64) {
    match std::env::var("PGLOG_SPLIT_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => (n, MIN_RANGE),
        None => (CI_SIZES, MIN_RANGE.max(size / CI_MAX_RANGES)),
    }
}

/// The report of `path` read in ranges of `range` bytes (the default split
/// when `None`) by `jobs` threads.
fn report(path: &Path, range: Option<u64>, jobs: usize) -> Value {
    let jobs = jobs.to_string();
    let mut args = vec!["-j", jobs.as_str()];
    let range = range.map(|r| r.to_string());
    if let Some(r) = &range {
        args.extend(["--chunk-bytes", r.as_str()]);
    }
    analyze_path(path, &args)
}

/// Reads `path` whole, then at the smallest ranges, at `sweep()` sizes up
/// to 64 KiB and at the default split, with 1, 2 and 3 threads, and asserts
/// that every report equals the whole read, every field included.
fn assert_exact_at_any_split(path: &Path, seed: u64) {
    let size = std::fs::metadata(path).unwrap().len();
    let whole = report(path, Some(size + 1), 1);
    assert!(n(&whole, "/input/records") > 0, "{}", path.display());
    let (count, lo) = sweep(size);
    let mut runs: Vec<(Option<u64>, usize)> =
        vec![(Some(lo), 2), (Some(lo * 3 / 2 + 7), 3), (None, 2)];
    for (i, r) in range_sizes(count, seed, lo).into_iter().enumerate() {
        runs.push((Some(r), 1 + i % 3));
    }
    for (range, jobs) in runs {
        let doc = report(path, range, jobs);
        assert_same(
            &doc,
            &whole,
            &format!("{} in ranges of {range:?} bytes, -j {jobs}", path.display()),
        );
    }
}

#[test]
fn every_sample_log_gives_the_same_report_at_any_split() {
    for (i, log) in LOGS.iter().enumerate() {
        assert_exact_at_any_split(&sample(log), i as u64 + 1);
    }
}

#[test]
fn damaged_logs_give_the_same_report_and_lines_at_any_split() {
    let dir = tmp();
    for (i, log) in [
        "concurrent/postgresql.csv",
        "concurrent/postgresql.log",
        "primary/postgresql.log",
    ]
    .iter()
    .enumerate()
    {
        let damaged = with_garbage_lines(&std::fs::read(sample(log)).unwrap());
        let p = write(dir.path(), &log.replace('/', "-"), &damaged);
        assert_exact_at_any_split(&p, 100 + i as u64);
    }
}

#[test]
fn statements_far_from_their_duration_are_joined_at_the_default_warm_up() {
    // The sleeper's `SELECT pg_sleep(2.5)` text comes thousands of records
    // before its `duration:`; ranges of 64 KiB keep them far apart.
    let p = sample("concurrent/postgresql.csv");
    let out = Command::new("python3")
        .arg(sample("count.py"))
        .arg(&p)
        .output()
        .expect("python3 runs sample-logs/count.py");
    assert!(out.status.success());
    let oracle: Value = serde_json::from_slice(&out.stdout).unwrap();
    for jobs in [1, 2] {
        let doc = report(&p, Some(65536), jobs);
        assert_eq!(doc["summary"]["queries"], oracle["queries"], "-j {jobs}");
        let sleeper = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["normalized"].as_str().unwrap().contains("pg_sleep"))
            .expect("the sleeper's query");
        assert!(sleeper["max_ms"].as_f64().unwrap() > 2500.0, "{sleeper}");
    }
}

#[test]
fn range_sizes_cover_small_and_large_ranges() {
    let sizes = range_sizes(40, 7, MIN_RANGE);
    assert!(sizes.iter().all(|&s| (MIN_RANGE..=65536).contains(&s)));
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
    assert!(sizes[0] < 300 && sizes[39] > 50_000, "{sizes:?}");
    assert_eq!(
        sizes,
        range_sizes(40, 7, MIN_RANGE),
        "the same sizes on every run"
    );
    // The small logs, where the concurrent sessions' pairs straddle most
    // boundaries, are read at the smallest ranges in CI too.
    let concurrent = std::fs::metadata(sample("concurrent/postgresql.log"))
        .unwrap()
        .len();
    assert!(concurrent / CI_MAX_RANGES < 250, "{concurrent}");
}

#[test]
fn logs_the_test_clusters_write_give_the_same_report_at_any_split() {
    // Thin logs of real servers (a quiet primary, errors, a standby), a few
    // records each: ranges hold a record or none.
    let dir = super::thin::cluster_logs();
    let mut read = 0;
    for (i, name) in ["quiet", "errors", "standby"].iter().enumerate() {
        for (j, ext) in ["csv", "json", "log"].iter().enumerate() {
            assert_exact_at_any_split(
                &dir.join(format!("{name}.{ext}")),
                200 + 3 * i as u64 + j as u64,
            );
            read += 1;
        }
    }
    assert_eq!(read, 9);
}
