//! Durations far apart in every minute (a forged log: a real record whose
//! duration and time a script replaces) keep memory to what the log holds.
//! Alone in its test binary, so the peak RSS is this test's.

use pglog_analyzer::{analyze, AnalyzeOptions};
use std::path::Path;

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}

#[test]
fn two_durations_ten_to_the_300_apart_in_every_minute() {
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/replica/postgresql.log");
    let text = std::fs::read_to_string(sample).unwrap();
    let record = text
        .lines()
        .find(|l| l.contains("LOG:  duration: ") && l.contains(" ms  statement: SELECT"))
        .expect("the replica's log has a timed statement");
    let (time, rest) = record.split_at("2026-12-01 00:03:17.935".len());
    let after = &rest[rest.find("duration: ").unwrap() + "duration: ".len()..];
    let (old, tail) = after.split_at(after.find(" ms").unwrap());
    let head = &rest[..rest.len() - after.len()];
    assert!(old.parse::<f64>().is_ok() && time.ends_with(".935"));

    let huge = format!("1{}.000", "0".repeat(300));
    let minutes = 2000;
    let mut log = String::new();
    for m in 0..minutes {
        let stamp = format!(
            "2026-12-0{} {:02}:{:02}:00.000",
            1 + m / 1440,
            m / 60 % 24,
            m % 60
        );
        for duration in ["0.002", huge.as_str()] {
            log.push_str(&format!("{stamp}{head}{duration}{tail}\n"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spread.log");
    std::fs::write(&path, log).unwrap();

    let report = analyze(&AnalyzeOptions {
        inputs: vec![path.display().to_string()],
        jobs: 1,
        ..AnalyzeOptions::default()
    })
    .unwrap();
    let doc = serde_json::to_value(&report).unwrap();
    assert_eq!(doc["summary"]["queries"].as_u64(), Some(2 * minutes as u64));
    let p99 = doc["latency"]["p99_ms"].as_f64().unwrap();
    assert!((p99 / 1e300 - 1.0).abs() <= 0.01, "p99 {p99}");
    let peak = peak_rss_mb();
    assert!(
        peak < 256,
        "peak RSS {peak} MB for a log of {} records",
        2 * minutes
    );
}
