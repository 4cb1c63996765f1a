//! Vacuum, wraparound, lock and transaction-state events, and the report of
//! unclassified messages, on the real server log written by
//! `sample-logs/generate-maintenance-events.sh` (near-wraparound XIDs set
//! with pg_resetwal, autovacuum workers terminated and canceled, lock
//! waits of several lock types, aborted transactions, ...).

use super::statistics::{assert_same, json_of, save_state};
use super::*;

const FORMATS: [&str; 3] = [
    "maintenance-events/postgresql.csv.gz",
    "maintenance-events/postgresql.json.gz",
    "maintenance-events/postgresql.log.gz",
];

/// The report's parts this family adds, and the event counts.
fn sections(doc: &Value) -> Value {
    serde_json::json!({
        "events": doc["summary"]["events"],
        "wraparound": doc["wraparound"],
        "vacuum_events": doc["vacuum_events"],
        "lock_events": doc["lock_events"],
        "transaction_state": doc["transaction_state"],
        "other_events": doc["other_events"],
    })
}

#[test]
fn every_format_gives_the_same_event_details() {
    let base = sections(&analyze_path(&sample(FORMATS[0]), &[]));
    for f in &FORMATS[1..] {
        let other = sections(&analyze_path(&sample(f), &[]));
        assert_same(&other, &base, &format!("{f} against {}", FORMATS[0]));
    }
}

#[test]
fn wraparound_is_reported_by_database_with_the_ids_left() {
    let doc = analyze_path(&sample(FORMATS[2]), &[]);
    let w = &doc["wraparound"];
    let events = &doc["summary"]["events"];
    assert_eq!(w["warnings"], events["wraparound_warning"]);
    assert_eq!(w["refusals"], events["wraparound_refusal"]);
    assert_eq!(w["oldest_xmin_warnings"], events["oldest_xmin_far_in_past"]);
    assert_eq!(w["failsafe_vacuums"], events["vacuum_failsafe"]);
    // The database autovacuum could not freeze (its table was locked)
    // refused new XIDs past the stop limit: fewer than 3,000,000 left.
    let first = &w["by_database"][0];
    assert_eq!(first["database"], "wrapdb");
    assert_eq!(first["refusals"], 3);
    assert!(
        first["min_remaining"].as_u64().unwrap() < 3_000_000,
        "{first}"
    );
    // At startup the server names it by OID.
    assert!(w["by_database"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["database"].is_null() && d["database_oid"].as_u64().is_some()));
    let failsafe: u64 = w["failsafe_by_database"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(failsafe, n(&doc, "/wraparound/failsafe_vacuums"));

    let text = pglog(&["analyze", sample(FORMATS[2]).to_str().unwrap()]);
    let text = String::from_utf8(text.stdout).unwrap();
    let headline = text
        .lines()
        .find(|l| l.starts_with("WRAPAROUND: database \"wrapdb\""))
        .unwrap_or_else(|| panic!("no wraparound headline in\n{text}"));
    assert!(
        headline.contains("3 commands refused") && headline.contains(" transactions left"),
        "{headline}"
    );
    // Headline items come before the queries and errors.
    assert!(text.find("WRAPAROUND:").unwrap() < text.find("error x").unwrap());
}

#[test]
fn vacuum_lock_and_transaction_details() {
    let doc = analyze_path(&sample(FORMATS[0]), &[]);
    let v = &doc["vacuum_events"];
    // VACUUM and ANALYZE (SKIP_LOCKED) warned; autovacuum logged its skips.
    assert_eq!(v["skipped"]["t"]["vacuum"], 1);
    assert_eq!(v["skipped"]["t"]["analyze"], 1);
    assert_eq!(v["skipped"]["t"]["autovacuum"], 0);
    let skipme = &v["skipped"]["skipme"];
    assert!(skipme["autovacuum"].as_u64().unwrap() >= 1);
    assert_eq!(skipme["autovacuum"], skipme["lock_not_available"]);
    assert_eq!(
        v["orphan_temp_tables_dropped"]["postgres.pg_temp_3.orphan"],
        1
    );
    assert_eq!(v["manual"]["postgres.public.t"]["vacuums_finished"], 1);
    assert_eq!(v["launcher_started"], 1);
    assert_eq!(v["launcher_stopped"], 1);
    // pg_terminate_backend() of the slow worker (and any worker a fast
    // shutdown ends).
    assert!(v["autovacuum_terminated"].as_u64().unwrap() >= 1);
    assert_eq!(v["autovacuum_cancel_requests"], 1);
    assert!(doc["cancellations"]["autovacuum"].as_u64().unwrap() >= 1);

    let l = &doc["lock_events"];
    assert_eq!(l["deadlocks_avoided"], 1);
    assert_eq!(l["deadlocks_while_waiting"], 1);
    assert_eq!(l["not_available"]["t"]["row"], 1);
    assert_eq!(l["not_available"]["t"]["relation"], 1);
    for t in ["advisory", "tuple", "transactionid", "relation"] {
        assert!(
            l["by_lock_type"][t]["waits"].as_u64().unwrap() >= 1,
            "{t}: {l}"
        );
    }
    let by_type: u64 = l["by_lock_type"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["waits"].as_u64().unwrap())
        .sum();
    assert_eq!(by_type, n(&doc, "/locks/waits"));

    let t = &doc["transaction_state"];
    // SELECT 1 and SELECT 2 after a division by zero (and the deadlock
    // victim's next statement, when the victim has one).
    assert!(t["aborted"].as_u64().unwrap() >= 2);
    assert_eq!(t["aborted_by_application"]["psql"], t["aborted"]);
    assert_eq!(t["no_transaction_in_progress"], 2);
    assert_eq!(t["already_in_progress"], 1);
    assert_eq!(t["prepared_statements_missing"]["nope"], 2);
    assert_eq!(t["prepared_statements_existing"]["p"], 1);
    assert_eq!(t["cursors_missing"]["c"], 2);
    assert_eq!(t["cursors_existing"]["c"], 1);
    assert_eq!(t["nonstandard_string_escapes"]["quote"], 1);
    assert_eq!(t["nonstandard_string_escapes"]["backslash"], 1);
}

#[test]
fn unclassified_messages_are_grouped_and_add_up() {
    // The log's DEBUG1 lines are `debug`; as LOG lines no kind knows them.
    let dir = tmp();
    let path = unknown_copy(dir.path());
    let doc = analyze_path(&path, &[]);
    let o = &doc["other_events"];
    let records = n(&doc, "/other_events/records");
    assert_eq!(records, n(&doc, "/summary/events/other"));
    let share = o["share"].as_f64().unwrap();
    let want = records as f64 / n(&doc, "/input/records") as f64;
    assert!((share - want).abs() < 1e-6, "{share} {want}");
    let messages = o["messages"].as_array().unwrap();
    let kept: u64 = messages.iter().map(|m| m["count"].as_u64().unwrap()).sum();
    assert_eq!(kept + n(&doc, "/other_events/folded"), records);
    // Values are blanked: both `MultiXactId wrap limit` lines are one group.
    let wrap = messages
        .iter()
        .find(|m| m["message"] == "MultiXactId wrap limit is ?, limited by database with OID ?")
        .unwrap_or_else(|| panic!("{o}"));
    assert_eq!(wrap["count"], 2);
    assert_eq!(wrap["severity"], "LOG");
    assert!(wrap["example"]
        .as_str()
        .unwrap()
        .starts_with("MultiXactId wrap limit is 2147483648"));
    assert!(wrap["first_seen"].as_str().is_some());
    // Most frequent first.
    assert!(messages
        .windows(2)
        .all(|p| p[0]["count"].as_u64() >= p[1]["count"].as_u64()));

    let md = pglog(&["analyze", "--format", "md", path.to_str().unwrap()]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("## Unclassified messages"), "{md}");
    assert!(
        md.contains("| 2 | LOG | MultiXactId wrap limit is ?, limited by database with OID ? |")
    );
    assert!(md.contains("## Wraparound"));
    let text = pglog(&["analyze", path.to_str().unwrap()]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with(&format!(
            "unclassified: {records} records ({:.2}%) are `other`",
            share * 100.0
        ))),
        "{text}"
    );
}

#[test]
fn event_details_are_the_same_at_any_split() {
    // Decompressed, so that the reader splits it into ranges.
    let dir = tmp();
    let mut csv = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(sample(FORMATS[0])).unwrap()),
        &mut csv,
    )
    .unwrap();
    let p = write(dir.path(), "postgresql.csv", &csv);
    let whole = sections(&analyze_path(&p, &["-j", "1"]));
    for (range, jobs) in [("4000", "2"), ("20000", "3")] {
        let doc = sections(&analyze_path(&p, &["-j", jobs, "--chunk-bytes", range]));
        assert_same(&doc, &whole, &format!("ranges of {range} bytes, -j {jobs}"));
    }
}

#[test]
fn merged_states_keep_the_event_details() {
    // A state of this log merged with one of the primary's: the details add
    // up as in one analysis of both.
    let dir = tmp();
    let a = save_state(FORMATS[0], dir.path(), "a.state");
    let b = save_state("primary/postgresql.csv", dir.path(), "b.state");
    let merged = json_of(&[
        "merge",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let together = analyze_json(&[
        sample(FORMATS[0]).to_str().unwrap(),
        sample("primary/postgresql.csv").to_str().unwrap(),
    ]);
    assert_same(
        &sections(&merged),
        &sections(&together),
        "merged vs together",
    );
    assert!(merged["other_events"]["messages"][0]["count"].as_u64() > Some(0));
    assert_eq!(merged["wraparound"]["by_database"][0]["database"], "wrapdb");
}

/// The jsonlog copy with its DEBUG records (jsonlog writes no level) made
/// LOG records.
fn unknown_copy(dir: &Path) -> PathBuf {
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(sample(FORMATS[1])).unwrap()),
        &mut text,
    )
    .unwrap();
    let debug = r#""error_severity":"DEBUG""#;
    assert!(text.contains(debug));
    write(
        dir,
        "postgresql.json",
        text.replace(debug, r#""error_severity":"LOG""#).as_bytes(),
    )
}
