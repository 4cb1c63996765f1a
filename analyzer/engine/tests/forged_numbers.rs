//! Real log records whose numbers no server writes (a forged or damaged
//! log): durations of 10^40 ms, temp files of 2^64 - 1 bytes. Totals
//! saturate instead of overflowing, when read and when merged.

use pglog_analyzer::{run_analysis, Analysis, AnalyzeOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with the number after every `marker` replaced by `number`.
fn replace_numbers(text: &str, marker: &str, number: &str) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut replaced = 0;
    while let Some(at) = rest.find(marker) {
        let after = at + marker.len();
        out.push_str(&rest[..after]);
        let digits = rest[after..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len() - after);
        if digits > 0 {
            out.push_str(number);
            replaced += 1;
        }
        rest = &rest[after + digits..];
    }
    out.push_str(rest);
    (out, replaced)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The report of the logs at `paths`, each analyzed alone and the analyses
/// merged, as `pglog merge` does with their states.
fn merged_report(paths: &[&Path]) -> Value {
    let mut merged: Option<Analysis> = None;
    for p in paths {
        let opts = AnalyzeOptions {
            inputs: vec![p.display().to_string()],
            jobs: 1,
            ..AnalyzeOptions::default()
        };
        let a = run_analysis(&opts).expect("the log is read");
        match &mut merged {
            None => merged = Some(a),
            Some(m) => m.merge(a),
        }
    }
    serde_json::to_value(merged.expect("one log").report(20)).unwrap()
}

const SATURATED_MS: f64 = u64::MAX as f64 / 1000.0;

#[test]
fn durations_beyond_any_total_saturate() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "9".repeat(40);
    let (log, n) = replace_numbers(&sample("rds/postgresql.log"), "duration: ", &huge);
    assert!(n > 10, "the sample has durations ({n})");
    let path = write(dir.path(), "huge-durations.log", &log);

    for doc in [merged_report(&[&path]), merged_report(&[&path, &path])] {
        let queries = doc["queries"].as_array().unwrap();
        let timed: Vec<&Value> = queries
            .iter()
            .filter(|q| q["calls"].as_u64() > Some(0))
            .collect();
        assert!(!timed.is_empty());
        for q in timed {
            assert_eq!(q["total_ms"].as_f64(), Some(SATURATED_MS), "{q}");
            assert!(q["mean_ms"].as_f64().is_some_and(f64::is_finite), "{q}");
        }
    }
}

#[test]
fn temp_file_sizes_beyond_any_total_saturate() {
    let dir = tempfile::tempdir().unwrap();
    let (log, n) = replace_numbers(
        &sample("rds/postgresql.log"),
        ", size ",
        &u64::MAX.to_string(),
    );
    assert!(n >= 2, "the sample has temp files ({n})");
    let path = write(dir.path(), "huge-temp-files.log", &log);

    for doc in [merged_report(&[&path]), merged_report(&[&path, &path])] {
        let temp = &doc["temp_files"];
        assert_eq!(temp["bytes"].as_u64(), Some(u64::MAX), "{temp}");
        assert_eq!(doc["summary"]["temp_file_bytes"].as_u64(), Some(u64::MAX));
    }
}
