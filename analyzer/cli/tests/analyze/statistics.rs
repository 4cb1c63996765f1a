//! Query statistics against pg_stat_statements, and their independence from
//! how the work is split, which format was read, and whether the results
//! went through saved states.

use super::*;
use pglog_analyzer::fingerprint::{is_own_query, Fingerprinter};
use std::collections::BTreeMap;

/// Calls per (fingerprint, `user@database`) from a report's `queries`.
fn calls_by_key(doc: &Value) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for q in doc["queries"].as_array().unwrap() {
        let fp = q["fingerprint"].as_str().unwrap().to_string();
        for (ud, calls) in q["by_user_database"].as_object().unwrap() {
            *m.entry((fp.clone(), ud.clone())).or_default() += calls.as_u64().unwrap();
        }
    }
    m
}

/// Where two documents first differ, for a readable failure.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => first_difference(v, w, &format!("{path}/{k}")),
                    _ => Some(format!("{path}/{k}: present on one side only")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}/{i}"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: {:.200} vs {:.200}",
            a.to_string(),
            b.to_string()
        )),
    }
}

pub(crate) fn assert_same(a: &Value, b: &Value, what: &str) {
    if let Some(d) = first_difference(a, b, "") {
        panic!("{what}: {d}");
    }
}

/// The report without what names the input files (which differ between
/// formats and between a state and its merge).
fn without_inputs(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("input");
    doc
}

#[test]
fn calls_per_query_equal_pg_stat_statements() {
    let pgss: Value = serde_json::from_str(
        &std::fs::read_to_string(sample("expected-pg-stat-statements.json")).unwrap(),
    )
    .unwrap();
    let mut fp = Fingerprinter::new();
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in pgss.as_array().unwrap() {
        let query = row["query"].as_str().unwrap();
        assert!(!is_own_query(query));
        let key = fp.key(query);
        let ud = format!(
            "{}@{}",
            row["user"].as_str().unwrap(),
            row["database"].as_str().unwrap()
        );
        *expected
            .entry((format!("{:016x}", key.fingerprint), ud))
            .or_default() += row["calls"].as_u64().unwrap();
    }
    assert!(
        expected.len() > 40,
        "the workload runs many distinct statements"
    );
    // PostgreSQL 15's pg_stat_statements counts a transaction-control
    // statement run as a prepared statement (pgbench -M prepared) only on its
    // first execution per session; the log has every one. Those are checked
    // as at least pg_stat_statements' count.
    let tx_control: Vec<String> = ["BEGIN", "COMMIT"]
        .iter()
        .map(|q| format!("{:016x}", fp.key(q).fingerprint))
        .collect();
    // pg_stat_statements does not track DEALLOCATE at all.
    let untracked = [format!("{:016x}", fp.key("DEALLOCATE acct").fingerprint)];
    for file in [
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "primary/postgresql.log",
    ] {
        let doc = analyze_path(&sample(file), &[]);
        let got = calls_by_key(&doc);
        let mismatches: Vec<String> = expected
            .keys()
            .chain(got.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|k| {
                if untracked.contains(&k.0) {
                    expected.get(*k).is_some()
                } else if tx_control.contains(&k.0) {
                    got.get(*k) < expected.get(*k)
                } else {
                    expected.get(*k) != got.get(*k)
                }
            })
            .map(|k| {
                format!(
                    "{k:?}: pg_stat_statements {:?}, pglog {:?}",
                    expected.get(k),
                    got.get(k)
                )
            })
            .collect();
        assert!(mismatches.is_empty(), "{file}:\n{}", mismatches.join("\n"));
        assert_eq!(n(&doc, "/other_queries/own_queries"), 3, "{file}");
    }
}

/// The normalized text of each query equals pg_stat_statements' for the
/// same statement: `$n` numbered as the server numbers its constants, and
/// `GROUP BY 1, 2` / `ORDER BY 1` kept as the column positions they are.
/// Compared where the two are meant to agree: queries (not utility
/// statements, which pglog shows with placeholders and pg_stat_statements
/// 15 with their first values), without `IN` lists (which pglog folds into
/// one `$1`), and whose fingerprint names one pg_stat_statements entry.
#[test]
fn normalized_texts_equal_pg_stat_statements() {
    let pgss: Value = serde_json::from_str(
        &std::fs::read_to_string(sample("expected-pg-stat-statements.json")).unwrap(),
    )
    .unwrap();
    let mut fp = Fingerprinter::new();
    let rows: Vec<(u64, &str)> = pgss
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["query"].as_str().unwrap())
        .map(|q| (fp.key(q).fingerprint, q))
        .collect();
    let comparable: Vec<(String, &str)> = rows
        .iter()
        .filter(|(f, q)| {
            let lower = q.to_ascii_lowercase();
            ["select", "insert", "update", "delete", "with"]
                .iter()
                .any(|w| lower.starts_with(w))
                && !lower.contains(" in (")
                && rows.iter().filter(|(g, _)| g == f).count() == 1
        })
        .map(|(f, q)| (format!("{f:016x}"), *q))
        .collect();
    assert!(comparable.len() >= 25, "{}", comparable.len());
    assert!(
        comparable
            .iter()
            .any(|(_, q)| q.contains("group by 1, 2 order by 1")),
        "the workload has a query with column positions"
    );
    for file in [
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "primary/postgresql.log",
    ] {
        let doc = analyze_path(&sample(file), &[]);
        let ours: BTreeMap<&str, &str> = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["fingerprint"].as_str().unwrap(),
                    q["normalized"].as_str().unwrap(),
                )
            })
            .collect();
        let differ: Vec<String> = comparable
            .iter()
            .filter(|(f, q)| ours.get(f.as_str()) != Some(q))
            .map(|(f, q)| {
                format!(
                    "pg_stat_statements: {q}\npglog:              {:?}",
                    ours.get(f.as_str())
                )
            })
            .collect();
        assert!(differ.is_empty(), "{file}:\n{}", differ.join("\n"));
    }
}

#[test]
fn any_jobs_and_any_split_give_the_same_report() {
    for file in [
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "primary/postgresql.log",
        "rds/postgresql.log",
    ] {
        let p = sample(file);
        let base = without_inputs(analyze_path(&p, &["-j", "1"]));
        assert!(base["queries"].as_array().unwrap().len() > 20);
        // Small ranges put boundaries inside quoted multi-line statements and plans.
        for extra in [
            &["-j", "2"][..],
            &["-j", "8"],
            &["-j", "2", "--chunk-bytes", "65536"],
            &["-j", "2", "--chunk-bytes", "4099"],
            &["-j", "3", "--chunk-bytes", "777"],
        ] {
            let doc = analyze_path(&p, extra);
            assert_same(&without_inputs(doc), &base, &format!("{file} {extra:?}"));
        }
    }
}

#[test]
fn csv_and_json_give_the_same_report_and_stderr_the_same_queries() {
    let csv = without_inputs(analyze_path(&sample("primary/postgresql.csv"), &[]));
    let json = without_inputs(analyze_path(&sample("primary/postgresql.json"), &[]));
    assert_same(&csv, &json, "csv vs json");
    let text = without_inputs(analyze_path(&sample("primary/postgresql.log"), &[]));
    // The text log has no client host or SQLSTATE (not in its prefix), so
    // only what it carries is compared: every query statistic.
    assert_eq!(text["queries"], csv["queries"]);
    assert_eq!(text["latency"], csv["latency"]);
    assert_eq!(text["minutes"], csv["minutes"]);
    assert_eq!(text["locks"], csv["locks"]);
    assert_eq!(text["temp_files"], csv["temp_files"]);
    assert_eq!(text["checkpoints"], csv["checkpoints"]);
    assert_eq!(text["autovacuum"], csv["autovacuum"]);
    assert_eq!(
        text["sessions"]["peak_sessions"],
        csv["sessions"]["peak_sessions"]
    );
}

#[test]
fn query_statistics_are_consistent() {
    let doc = analyze_path(&sample("primary/postgresql.csv"), &[]);
    let queries = doc["queries"].as_array().unwrap();
    let calls: u64 = queries.iter().map(|q| q["calls"].as_u64().unwrap()).sum();
    assert_eq!(
        calls + n(&doc, "/other_queries/own_queries") + n(&doc, "/other_queries/prepares"),
        n(&doc, "/summary/queries")
    );
    assert_eq!(n(&doc, "/other_queries/prepares"), 1);
    for q in queries.iter().filter(|q| q["calls"].as_u64().unwrap() > 0) {
        let f = |k: &str| q[k].as_f64().unwrap();
        assert!(
            f("min_ms") <= f("p50_ms") && f("p50_ms") <= f("p95_ms"),
            "{q}"
        );
        assert!(
            f("p95_ms") <= f("p99_ms") && f("p99_ms") <= f("max_ms"),
            "{q}"
        );
        let by_user: u64 = q["by_user"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by_user, q["calls"].as_u64().unwrap());
        assert!(q["samples"].as_array().unwrap().len() <= 5);
        assert_eq!(q["fingerprint"].as_str().unwrap().len(), 16);
    }
    // IN lists of any length are one query.
    let in_lists: Vec<&Value> = queries
        .iter()
        .filter(|q| q["normalized"].as_str().unwrap().contains("WHERE id IN ("))
        .collect();
    assert_eq!(in_lists.len(), 1, "{in_lists:?}");
    assert_eq!(in_lists[0]["calls"], 2);
    // Extended-protocol parse and bind time goes to the executed query.
    assert!(queries
        .iter()
        .any(|q| q["parse"]["count"].as_u64().unwrap() > 0 && q["calls"].as_u64().unwrap() > 0));
    // Plans, temp files and lock waits are attributed to their queries.
    assert!(queries
        .iter()
        .any(|q| !q["plans"].as_array().unwrap().is_empty()));
    assert!(queries
        .iter()
        .any(|q| q["temp_bytes"].as_u64().unwrap() > 0));
    assert_eq!(n(&doc, "/locks/deadlocks"), 1);
    assert_eq!(
        doc["locks"]["deadlock_samples"][0]["sides"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(n(&doc, "/errors/total") >= n(&doc, "/summary/severities/ERROR"));
    assert!(n(&doc, "/sessions/peak_sessions") >= 1);
    assert!(!doc["minutes"].as_array().unwrap().is_empty());
}

#[test]
fn the_query_table_is_bounded_and_its_totals_stay_exact() {
    let full = analyze_path(&sample("primary/postgresql.csv"), &[]);
    let capped = analyze_path(&sample("primary/postgresql.csv"), &["--max-queries", "10"]);
    let kept = capped["queries"].as_array().unwrap();
    assert!(kept.len() <= 10, "{} kept", kept.len());
    assert!(n(&capped, "/other_queries/queries") > 0);
    let calls: u64 = kept.iter().map(|q| q["calls"].as_u64().unwrap()).sum();
    assert_eq!(
        calls
            + n(&capped, "/other_queries/calls")
            + n(&capped, "/other_queries/own_queries")
            + n(&capped, "/other_queries/prepares"),
        n(&full, "/summary/queries")
    );
    // The heaviest query survives the cap.
    assert_eq!(kept[0]["fingerprint"], full["queries"][0]["fingerprint"]);
}

pub(super) fn save_state(file: &str, dir: &Path, name: &str) -> PathBuf {
    let state = dir.join(name);
    let out = pglog(&[
        "analyze",
        "--format",
        "json",
        "-o",
        "/dev/null",
        "--save-state",
        state.to_str().unwrap(),
        sample(file).to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    state
}

/// Runs pglog, which must succeed, and parses its JSON output.
pub(super) fn json_of(args: &[&str]) -> Value {
    let out = pglog(args);
    assert!(
        out.status.success(),
        "pglog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// The reports of `pglog merge` of two sample logs' states, and of one
/// analysis of both.
pub(super) fn merged_and_together(a: &str, b: &str) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let sa = save_state(a, dir.path(), "a.state");
    let sb = save_state(b, dir.path(), "b.state");
    let merged = json_of(&[
        "merge",
        "--format",
        "json",
        sa.to_str().unwrap(),
        sb.to_str().unwrap(),
    ]);
    let together = analyze_json(&[sample(a).to_str().unwrap(), sample(b).to_str().unwrap()]);
    (merged, together)
}

#[test]
fn merged_states_equal_one_analysis_of_all_logs() {
    let (merged, together) =
        merged_and_together("primary/postgresql.csv", "replica/postgresql.csv");
    assert_same(&merged, &together, "merged vs together");
    assert!(
        n(&merged, "/restartpoints/completed") > 0,
        "the replica's part is in"
    );
}

#[test]
fn diff_lists_new_queries_and_errors_and_nothing_against_itself() {
    let dir = tempfile::tempdir().unwrap();
    let p = save_state("primary/postgresql.csv", dir.path(), "p.state");
    let r = save_state("replica/postgresql.csv", dir.path(), "r.state");
    let d = json_of(&[
        "diff",
        "--format",
        "json",
        "--min-calls",
        "1",
        r.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
    assert_eq!(d["schema"], "pglog.diff/1");
    assert!(d["new_queries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["normalized"].as_str().unwrap().contains("pgbench")));
    assert!(d["new_errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["message"] == "division by zero"));
    let same = json_of(&[
        "diff",
        "--format",
        "json",
        "--min-calls",
        "1",
        p.to_str().unwrap(),
        p.to_str().unwrap(),
    ]);
    for k in [
        "slower",
        "more_frequent",
        "new_queries",
        "new_errors",
        "new_sqlstates",
    ] {
        assert_eq!(same[k].as_array().unwrap().len(), 0, "{k}");
    }
    let text = pglog(&["diff", r.to_str().unwrap(), p.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("new errors:"));
}

#[test]
fn a_file_that_is_not_a_state_is_named() {
    let out = pglog(&["merge", sample("primary/postgresql.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("postgresql.csv") && err.contains("not a pglog state file"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let s = save_state("replica/postgresql.csv", dir.path(), "s.state");
    let mut bytes = std::fs::read(&s).unwrap();
    bytes[8] = 99;
    std::fs::write(&s, &bytes).unwrap();
    let out = pglog(&["merge", s.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("version 99") && err.contains("analyze the logs again"),
        "{err}"
    );
}

#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    // Under cron (stderr a file or pipe) a successful run writes nothing there.
    let out = pglog(&[
        "analyze",
        "--format",
        "json",
        "-o",
        "/dev/null",
        sample("primary/postgresql.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn damaged_lines_are_reported_at_the_same_place_for_any_split() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["primary/postgresql.csv", "primary/postgresql.log"] {
        let damaged = with_garbage_lines(&std::fs::read(sample(file)).unwrap());
        let p = dir.path().join(file.replace('/', "-"));
        std::fs::write(&p, &damaged).unwrap();
        let base = analyze_path(&p, &["-j", "1"]);
        assert!(n(&base, "/input/malformed") >= 10, "{file}");
        // A garbage line inside a multi-line record spoils that record only.
        assert!(n(&base, "/input/records") > 2950, "{file}");
        for extra in [
            &["-j", "2", "--chunk-bytes", "5000"][..],
            &["-j", "3", "--chunk-bytes", "65536"],
        ] {
            let doc = analyze_path(&p, extra);
            assert_same(
                &without_inputs(doc.clone()),
                &without_inputs(base.clone()),
                &format!("{file} {extra:?}"),
            );
            assert_same(
                &doc["input"]["malformed_samples"],
                &base["input"]["malformed_samples"],
                &format!("{file} {extra:?} samples"),
            );
        }
    }
}

#[test]
fn credentials_are_masked_unless_asked_not_to() {
    let p = sample("primary/postgresql.csv");
    let masked = pglog(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&masked.stdout);
    // roles.sql creates roles with PASSWORD 'secret'.
    assert!(
        !text.contains("PASSWORD 'secret'"),
        "a password in the report"
    );
    assert!(text.contains("PASSWORD '***'"));
    let raw = pglog(&[
        "analyze",
        "--no-redact",
        "--format",
        "json",
        p.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&raw.stdout).contains("PASSWORD 'secret'"));
}
