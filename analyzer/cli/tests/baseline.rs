//! `pglog analyze --baseline STATE` and `pglog diff` over two windows, on
//! the real logs in `sample-logs/`: the pgbench run of `concurrent/` is the
//! baseline day of the primary's workload, which shares its pgbench
//! statements and adds its own queries and errors.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

fn pglog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(args)
        .output()
        .expect("pglog runs")
}

fn ok(args: &[&str]) -> Output {
    let out = pglog(args);
    assert!(
        out.status.success(),
        "pglog {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args).stdout).expect("one JSON document")
}

/// The JSON report of `log`, and its state written to `state`.
fn report_and_state(log: &str, state: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "-q", "--format", "json", "--save-state"];
    args.push(state.to_str().unwrap());
    args.extend_from_slice(extra);
    args.push(log);
    json(&args)
}

fn hours_between(first: &Value, last: &Value) -> f64 {
    // `2026-12-01T10:01:50.817Z`: the report's UTC times, always this shape.
    let ms = |v: &Value| {
        let t = v.as_str().unwrap();
        let num = |r: std::ops::Range<usize>| t[r].parse::<i64>().unwrap();
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
        (secs * 1000 + num(20..23)) as f64
    };
    (ms(last) - ms(first)) / 3_600_000.0
}

fn by_fingerprint(doc: &Value) -> BTreeMap<String, &Value> {
    doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["fingerprint"].as_str().unwrap().to_string(), q))
        .collect()
}

fn by_message(doc: &Value) -> BTreeMap<String, &Value> {
    doc["errors"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["message"].as_str().unwrap().to_string(), m))
        .collect()
}

fn fingerprints(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

struct Day {
    _dir: tempfile::TempDir,
    state: PathBuf,
    /// The baseline day's own report.
    base: Value,
    /// Today's report without a baseline.
    plain: Value,
    /// Today's report against the baseline.
    with: Value,
}

fn primary_against_concurrent() -> Day {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("concurrent.state");
    let base = report_and_state(&sample("concurrent/postgresql.csv"), &state, &[]);
    let primary = sample("primary/postgresql.csv");
    let plain = json(&["analyze", "-q", "--format", "json", &primary]);
    let with = json(&[
        "analyze",
        "-q",
        "--format",
        "json",
        "--baseline",
        state.to_str().unwrap(),
        &primary,
    ]);
    Day {
        _dir: dir,
        state,
        base,
        plain,
        with,
    }
}

#[test]
fn baseline_figures_are_the_baseline_days_own() {
    let d = primary_against_concurrent();
    let base = by_fingerprint(&d.base);
    let hours = hours_between(
        &d.base["summary"]["first_timestamp"],
        &d.base["summary"]["last_timestamp"],
    );
    let (mut known, mut new) = (0, 0);
    for (fp, q) in by_fingerprint(&d.with) {
        match base.get(&fp).filter(|b| b["calls"].as_u64().unwrap() > 0) {
            Some(b) => {
                known += 1;
                let got = &q["baseline"];
                assert_eq!(got["calls"], b["calls"], "{fp}");
                assert_eq!(got["mean_ms"], b["mean_ms"], "{fp}");
                assert_eq!(got["p95_ms"], b["p95_ms"], "{fp}");
                let per_hour = b["calls"].as_f64().unwrap() / hours;
                let got = got["calls_per_hour"].as_f64().unwrap();
                assert!(
                    (got - per_hour).abs() <= 0.001 + per_hour * 1e-9,
                    "{fp}: {got} vs {per_hour}"
                );
            }
            None => {
                new += 1;
                assert!(q["baseline"].is_null(), "{fp} is new: {}", q["baseline"]);
                assert!(q.as_object().unwrap().contains_key("baseline"));
            }
        }
    }
    // pgbench's statements are in both; the primary's own queries are new.
    assert!(known >= 10, "{known} queries with a baseline");
    assert!(new >= 10, "{new} new queries");
    let new_update = by_fingerprint(&d.with)
        .into_values()
        .find(|q| q["normalized"] == "UPDATE orders SET note = note WHERE id = $1")
        .expect("the primary's lock-wait update");
    assert!(new_update["baseline"].is_null());

    let base_errors = by_message(&d.base);
    let mut messages = 0;
    for (m, e) in by_message(&d.with) {
        messages += 1;
        match base_errors.get(&m) {
            Some(b) => {
                assert_eq!(e["baseline"]["count"], b["count"], "{m}");
                let per_hour = b["count"].as_f64().unwrap() / hours;
                let got = e["baseline"]["per_hour"].as_f64().unwrap();
                assert!((got - per_hour).abs() <= 0.001 + per_hour * 1e-9, "{m}");
            }
            None => assert!(e["baseline"].is_null(), "{m} is new"),
        }
    }
    assert!(messages > 10);

    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reports/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let broken: Vec<String> = validator
        .iter_errors(&d.with)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    assert!(broken.is_empty(), "{broken:?}");

    let b = &d.with["baseline"];
    assert_eq!(b["file"], d.state.to_str().unwrap());
    assert_eq!(b["first_timestamp"], d.base["summary"]["first_timestamp"]);
    assert_eq!(b["last_timestamp"], d.base["summary"]["last_timestamp"]);
    assert_eq!(b["errors"], d.base["errors"]["total"]);
    assert_eq!(b["warnings"], Value::Array(vec![]));

    // Everything else is today's report as it is without a baseline.
    let mut stripped = d.with.clone();
    let o = stripped.as_object_mut().unwrap();
    o.remove("baseline");
    o.remove("regressions");
    for q in o["queries"].as_array_mut().unwrap() {
        q.as_object_mut().unwrap().remove("baseline");
    }
    for m in o["errors"]["messages"].as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("baseline");
    }
    assert_eq!(stripped, d.plain);
    assert!(d.plain.get("baseline").is_none() && d.plain.get("regressions").is_none());
    assert!(d.plain["queries"][0].get("baseline").is_none());
}

#[test]
fn regressions_are_pglog_diff_and_list_what_the_data_has() {
    let d = primary_against_concurrent();
    let r = &d.with["regressions"];
    // The same lists as `pglog diff` of the two days' states.
    let today = d._dir.path().join("primary.state");
    report_and_state(&sample("primary/postgresql.csv"), &today, &[]);
    let diff = json(&[
        "diff",
        "--format",
        "json",
        d.state.to_str().unwrap(),
        today.to_str().unwrap(),
    ]);
    assert_eq!(r, &diff);

    // Worked out from the two days' own reports: slower means p95 up 20%
    // or more, among queries with 10 calls or more today.
    let base = by_fingerprint(&d.base);
    let mut slower = BTreeSet::new();
    for (fp, q) in by_fingerprint(&d.plain) {
        let Some(b) = base.get(&fp) else { continue };
        let (old, now) = (b["p95_ms"].as_f64().unwrap(), q["p95_ms"].as_f64().unwrap());
        if q["calls"].as_u64().unwrap() >= 10 && b["calls"].as_u64().unwrap() > 0 && old > 0.0 {
            assert!((now / old - 1.2).abs() > 0.01, "{fp} is too close to call");
            if now >= old * 1.2 {
                slower.insert(fp);
            }
        }
    }
    assert!(
        !slower.is_empty(),
        "the primary's pgbench ran slower than the baseline's"
    );
    assert_eq!(fingerprints(&r["slower"]), slower);

    // New errors: the messages the baseline day did not have.
    let base_errors = by_message(&d.base);
    let new_errors: BTreeSet<String> = by_message(&d.plain)
        .into_keys()
        .filter(|m| !base_errors.contains_key(m))
        .collect();
    let listed: BTreeSet<String> = r["new_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert!(listed.contains("division by zero"));
    assert_eq!(listed, new_errors);
}

#[test]
fn regressions_render_in_every_format() {
    let d = primary_against_concurrent();
    let primary = sample("primary/postgresql.csv");
    let state = d.state.to_str().unwrap();
    let slower = d.with["regressions"]["slower"].as_array().unwrap().len();
    let out = |format: &str| {
        let o = ok(&[
            "analyze",
            "-q",
            "--format",
            format,
            "--baseline",
            state,
            &primary,
        ]);
        String::from_utf8(o.stdout).unwrap()
    };
    let text = out("text");
    assert!(text.contains("regressions against the baseline"), "{text}");
    assert!(text.contains(&format!("slower (p95): {slower}")));
    assert!(text.contains("p95 then"));
    let md = out("md");
    assert!(md.contains("## Regressions against the baseline"));
    assert!(md.contains(&format!("### Slower (p95): {slower}")));
    assert!(md.contains("### Top queries then and now"));
    let html = out("html");
    assert!(html.contains("<h2 id=\"baseline\">Against the baseline</h2>"));
    assert!(html.contains(&format!("slower (p95): {slower}</h3>")));
    let nav = |html: &str| html.contains("<a href=\"#baseline\">Baseline</a>");
    assert!(nav(&html), "the navigation leads to the baseline section");
    // Without a baseline, nothing of it.
    let plain = ok(&["analyze", "-q", "--format", "md", &primary]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("baseline"));
    let plain = ok(&["analyze", "-q", "--format", "html", &primary]);
    assert!(!nav(&String::from_utf8_lossy(&plain.stdout)));
}

#[test]
fn a_bad_baseline_is_an_error_naming_the_file() {
    let primary = sample("primary/postgresql.csv");
    let readme = sample("README.md");
    for (state, says) in [
        (readme.as_str(), "not a pglog state file"),
        ("/nonexistent/day.state", "No such file"),
    ] {
        let out = pglog(&[
            "analyze",
            "-q",
            "--format",
            "json",
            "--baseline",
            state,
            &primary,
        ]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("--baseline: {state}")) && err.contains(says),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "no report after a bad baseline");
    }
}

#[test]
fn a_doubtful_baseline_warns_and_the_report_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let primary = sample("primary/postgresql.csv");
    // The errors workload ran none of the primary's timed queries.
    let errors = dir.path().join("errors.state");
    report_and_state(&sample("errors/postgresql.csv"), &errors, &[]);
    // The replica logged during the same seconds as the primary.
    let replica = dir.path().join("replica.state");
    report_and_state(&sample("replica/postgresql.csv"), &replica, &[]);
    for (state, says) in [
        (&errors, "no query in common with these logs"),
        (
            &replica,
            "the baseline covers some of the same time as these logs",
        ),
    ] {
        let s = state.to_str().unwrap();
        let out = ok(&[
            "analyze",
            "-q",
            "--format",
            "json",
            "--baseline",
            s,
            &primary,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("warning: --baseline {s}: {says}")),
            "{err}"
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let warnings = doc["baseline"]["warnings"].as_array().unwrap();
        assert!(warnings.iter().any(|w| w.as_str().unwrap().contains(says)));
    }
}

/// The primary's log, split where its errors workload starts.
const OLD: [&str; 2] = ["2026-12-01T00:03:00Z", "2026-12-01T00:03:08Z"];
const NEW: [&str; 2] = ["2026-12-01T00:03:08Z", "2026-12-01T00:04:00Z"];

#[test]
fn window_diff_equals_the_diff_of_two_saved_windows() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample("primary/postgresql.csv");
    let (old, new) = (dir.path().join("old.state"), dir.path().join("new.state"));
    for (state, [b, e]) in [(&old, OLD), (&new, NEW)] {
        report_and_state(&log, state, &["--begin", b, "--end", e]);
    }
    let saved = json(&[
        "diff",
        "--format",
        "json",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    for jobs in ["1", "2"] {
        let windows = json(&[
            "diff", "--format", "json", "-j", jobs, "--begin", OLD[0], "--end", OLD[1], "--begin",
            NEW[0], "--end", NEW[1], &log,
        ]);
        assert_eq!(windows, saved, "-j {jobs}");
    }
    for list in [
        "more_frequent",
        "new_queries",
        "new_errors",
        "new_sqlstates",
    ] {
        assert!(
            !saved[list].as_array().unwrap().is_empty(),
            "{list} is empty: the windows differ in the data"
        );
    }
    // Filters apply to both windows, as `analyze` applies them.
    let filter = ["--exclude-application", "pgbench"];
    for (state, [b, e]) in [(&old, OLD), (&new, NEW)] {
        report_and_state(
            &log,
            state,
            &[&filter[..], &["--begin", b, "--end", e]].concat(),
        );
    }
    let saved = json(&[
        "diff",
        "--format",
        "json",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
    ]);
    let windows = json(&[
        "diff", "--format", "json", filter[0], filter[1], "--begin", OLD[0], "--end", OLD[1],
        "--begin", NEW[0], "--end", NEW[1], &log,
    ]);
    assert_eq!(windows, saved);
}

#[test]
fn window_diff_refuses_what_it_cannot_do() {
    let log = sample("primary/postgresql.csv");
    let cases: [(&[&str], &str); 3] = [
        (
            &["diff", "--begin", OLD[0], "--end", OLD[1], &log],
            "two windows need --begin and --end twice each",
        ),
        (
            &[
                "diff", "--begin", OLD[0], "--end", OLD[1], "--begin", NEW[0], "--end", NEW[1], "-",
            ],
            "standard input",
        ),
        (&["diff", &log], "give two state files (OLD NEW)"),
    ];
    for (args, says) in cases {
        let out = pglog(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
