//! Prefix inference on logs a real server wrote with many `log_line_prefix`
//! settings (`sample-logs/prefixes/`, made by `generate-prefixes.sh`; the
//! settings are in its `prefixes.tsv`). Each stderr log is read without
//! `--prefix` and must give what its csvlog copy gives.

use super::{analyze_path, counts, pglog, sample, tmp, write};
use serde_json::Value;
use std::collections::BTreeMap;

/// The manifest: each stderr file and the server's exact setting.
fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(sample("prefixes/prefixes.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (file, prefix) = l.split_once('\t').unwrap();
            (file.to_string(), prefix.to_string())
        })
        .collect()
}

/// Statements per user (or database) over all query groups.
fn queries_by(doc: &Value, key: &str) -> BTreeMap<String, u64> {
    let mut by = BTreeMap::new();
    for q in doc["queries"].as_array().unwrap() {
        for (k, v) in q[key].as_object().unwrap() {
            *by.entry(k.clone()).or_default() += v.as_u64().unwrap();
        }
    }
    by
}

/// The counts to compare: without SQLSTATEs when the stderr log has no
/// `%e` (they are then inferred from the message, which the csvlog need not).
fn comparable(doc: &Value, with_sqlstates: bool) -> Value {
    let mut c = counts(doc);
    if !with_sqlstates {
        c.as_object_mut().unwrap().remove("sqlstates");
    }
    c
}

/// The document without what names the prefix and how it was found.
fn without_prefix_fields(mut doc: Value) -> Value {
    doc["input"]
        .as_object_mut()
        .unwrap()
        .remove("prefix")
        .expect("input.prefix is reported");
    for s in doc["input"]["sources"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.remove("prefix");
        s.remove("prefix_inferred");
    }
    doc
}

#[test]
fn every_prefix_is_inferred_with_the_counts_of_its_csvlog() {
    let files = manifest();
    assert!(files.len() >= 15, "{} settings", files.len());
    for (file, setting) in &files {
        let log = sample(&format!("prefixes/{file}"));
        let csv = log.with_extension("csv");
        let doc = analyze_path(&log, &[]);
        let want = analyze_path(&csv, &[]);
        let src = &doc["input"]["sources"][0];
        assert_eq!(src["format"], "stderr", "{file}");
        assert_eq!(
            src["prefix"].as_str(),
            Some(setting.as_str()),
            "{file}: the server's setting"
        );
        assert_eq!(src["prefix_inferred"], true, "{file}");
        assert_eq!(
            doc["input"]["prefix"][log.to_str().unwrap()],
            setting.as_str(),
            "{file}"
        );
        let with_codes = setting.contains("%e");
        assert_eq!(
            comparable(&doc, with_codes),
            comparable(&want, with_codes),
            "{file}"
        );
        assert_eq!(doc["input"]["malformed"], 0, "{file}");
        assert!(
            want["input"]["records"].as_u64().unwrap() > 20,
            "{file}: a real workload"
        );
        if setting.contains("%u") {
            assert_eq!(
                queries_by(&doc, "by_user"),
                queries_by(&want, "by_user"),
                "{file}: users"
            );
        }
        if setting.contains("%d") {
            assert_eq!(
                queries_by(&doc, "by_database"),
                queries_by(&want, "by_database"),
                "{file}: databases"
            );
        }
    }
}

#[test]
fn the_inferred_prefix_parses_like_the_setting() {
    for (file, setting) in manifest() {
        let log = sample(&format!("prefixes/{file}"));
        let inferred = analyze_path(&log, &[]);
        let given = analyze_path(&log, &["--prefix", &setting]);
        assert_eq!(
            given["input"]["sources"][0]["prefix_inferred"], false,
            "{file}"
        );
        assert_eq!(
            without_prefix_fields(inferred),
            without_prefix_fields(given),
            "{file}: the same report as with --prefix"
        );
    }
}

#[test]
fn a_query_id_is_not_read_into_the_user_name() {
    let (file, setting) = manifest()
        .into_iter()
        .find(|(_, p)| p.contains("%Q"))
        .expect("a %Q setting in the manifest");
    let doc = analyze_path(&sample(&format!("prefixes/{file}")), &[]);
    assert_eq!(doc["input"]["sources"][0]["prefix"], setting.as_str());
    let users = queries_by(&doc, "by_user");
    assert!(!users.is_empty());
    for user in users.keys() {
        assert!(
            !user.contains("queryid") && !user.contains('['),
            "user {user:?}"
        );
    }
    let plain: Vec<String> = users.into_keys().collect();
    assert_eq!(plain, ["alice", "bob", "postgres"]);
}

#[test]
fn a_given_or_rds_prefix_is_not_called_inferred() {
    let rds = analyze_path(&sample("rds/postgresql.log"), &["--input-format", "rds"]);
    assert_eq!(rds["input"]["sources"][0]["prefix_inferred"], false);
    let csv = analyze_path(&sample("rds/postgresql.csv"), &[]);
    assert_eq!(csv["input"]["sources"][0]["prefix_inferred"], false);
    assert_eq!(
        csv["input"]["prefix"],
        serde_json::json!({}),
        "no prefix for csvlog"
    );
}

#[test]
fn the_summary_and_stderr_name_the_inferred_prefix_once() {
    let a = sample("prefixes/04-default.log");
    let b = sample("replica/postgresql.log");
    let c = sample("prefixes/05-debian.log");
    let out = pglog(&[
        "analyze",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("log_line_prefix inferred: '%m [%p] ' (2 file(s))"),
        "{text}"
    );
    assert!(
        text.contains("log_line_prefix inferred: '%m [%p] %q%u@%d ' (1 file(s))"),
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    let notes: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("note: log_line_prefix"))
        .collect();
    assert_eq!(notes.len(), 2, "one note per distinct prefix: {err}");
    assert!(
        notes[0].contains("'%m [%p] '") && notes[0].contains("and 1 more"),
        "{err}"
    );

    let given = pglog(&["analyze", "--prefix", "%m [%p] ", a.to_str().unwrap()]);
    assert!(given.status.success());
    assert!(!String::from_utf8_lossy(&given.stderr).contains("inferred"));
    assert!(!String::from_utf8_lossy(&given.stdout).contains("inferred"));
}

#[test]
fn a_log_no_prefix_fits_exits_2_naming_the_closest() {
    // A few real lines among many that are no log at all (the sample
    // folder's README): the best candidate parses too few to be trusted.
    let log = std::fs::read_to_string(sample("prefixes/04-default.log")).unwrap();
    let readme = std::fs::read_to_string(sample("README.md")).unwrap();
    let head: Vec<&str> = log
        .lines()
        .filter(|l| !l.starts_with('\t'))
        .take(5)
        .collect();
    let mut text = head.join("\n");
    text.push('\n');
    for _ in 0..3 {
        text.push_str(&readme);
    }
    let dir = tmp();
    let p = write(dir.path(), "mixed.log", text.as_bytes());
    let out = pglog(&["analyze", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no report");
    let err = String::from_utf8_lossy(&out.stderr);
    let sampled = text
        .lines()
        .filter(|l| !l.starts_with('\t') && !l.trim().is_empty())
        .count();
    let want = format!("closest: '%m [%p] ' parsed 5 of {sampled} lines");
    assert!(err.contains(&want), "{want:?} in {err}");
    assert!(err.contains("--prefix"), "{err}");
}
