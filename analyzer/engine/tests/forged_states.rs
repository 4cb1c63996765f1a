//! State files (`--save-state`) that no analysis writes: `pglog merge`
//! reports them damaged, or reports them without a panic.

use pglog_analyzer::{load_state, save_state, Analysis, StateError};

fn stored(a: &Analysis) -> Result<Analysis, StateError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forged.state");
    save_state(a, &path).unwrap();
    load_state(&path)
}

#[test]
fn a_session_histogram_with_more_buckets_than_the_report_is_damaged() {
    let mut a = Analysis::default();
    a.stats.sessions.duration_histogram = vec![1; 8];
    assert!(
        stored(&a).is_ok(),
        "one count per bucket and one for longer"
    );
    a.stats.sessions.duration_histogram = vec![1; 9];
    match stored(&a) {
        Err(StateError::Damaged { path, .. }) => assert!(path.ends_with("forged.state")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn session_counts_at_the_ends_of_time_are_reported() {
    let mut a = Analysis::default();
    a.stats.sessions.deltas = [(i64::MIN, i64::MAX), (0, i64::MAX), (i64::MAX, 1)].into();
    let a = stored(&a).expect("a state of any deltas reads back");
    let report = serde_json::to_value(a.report(20)).unwrap();
    let sessions = &report["sessions"];
    assert_eq!(
        sessions["peak_sessions"].as_i64(),
        Some(i64::MAX),
        "{sessions}"
    );
    assert!(sessions["peak_at"].is_string(), "{sessions}");
}

#[test]
fn a_forged_state_merged_with_itself_saturates() {
    let mut a = Analysis::default();
    a.stats.summary.records = u64::MAX - 1;
    a.stats.summary.severities.insert("LOG".into(), u64::MAX);
    a.stats.sessions.connections = u64::MAX;
    a.stats.sessions.duration_histogram = vec![u64::MAX; 8];
    a.stats.sessions.deltas = [(60, i64::MAX), (120, i64::MIN)].into();
    a.stats.errors.total = u64::MAX;
    let a = stored(&a).unwrap();
    let mut merged = a.clone();
    merged.merge(a);
    assert_eq!(merged.stats.summary.records, u64::MAX);
    assert_eq!(merged.stats.summary.severities["LOG"], u64::MAX);
    assert_eq!(merged.stats.sessions.connections, u64::MAX);
    assert_eq!(merged.stats.sessions.duration_histogram, vec![u64::MAX; 8]);
    assert_eq!(merged.stats.sessions.deltas[&60], i64::MAX);
    assert_eq!(merged.stats.errors.total, u64::MAX);
    serde_json::to_value(merged.report(20)).expect("the merged report is built");
}

#[test]
fn maintenance_counts_and_input_sizes_near_the_top_are_reported() {
    let mut a = Analysis::default();
    for table in ["app.public.a", "app.public.b"] {
        let m = a.stats.maintenance.entry(table.into()).or_default();
        m.vacuums = u64::MAX;
        m.analyzes = 1;
    }
    let a = stored(&a).unwrap();
    let mut merged = a.clone();
    merged.merge(a);
    let file = pglog_analyzer::FileReport {
        path: "forged.log".into(),
        format: "csv".into(),
        compression: "none".into(),
        prefix: None,
        prefix_inferred: false,
        bytes: u64::MAX,
        ..Default::default()
    };
    merged.sources = vec![file.clone(), file];
    let report = serde_json::to_value(merged.report(20)).unwrap();
    assert_eq!(report["input"]["bytes"].as_u64(), Some(u64::MAX));
    let tables: Vec<&str> = report["autovacuum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["app.public.a", "app.public.b"]);
}

#[test]
fn event_detail_counts_near_the_top_saturate() {
    use pglog_analyzer::stats::events::{SkipCell, WraparoundCell};
    let mut a = Analysis::default();
    let e = &mut a.stats.events;
    for db in ["xid:a", "xid:b"] {
        e.wraparound.by_database.insert(
            db.into(),
            WraparoundCell {
                database: Some(db[4..].into()),
                warnings: u64::MAX,
                refusals: u64::MAX,
                min_remaining: Some(u64::MAX),
                ..Default::default()
            },
        );
    }
    e.vacuum.skipped.insert(
        "t".into(),
        SkipCell {
            vacuum: u64::MAX,
            analyze: u64::MAX,
            ..Default::default()
        },
    );
    e.other.records = u64::MAX;
    e.transactions
        .prepared_statements_missing
        .insert("p".into(), u64::MAX);
    let a = stored(&a).unwrap();
    let mut merged = a.clone();
    merged.merge(a);
    let report = serde_json::to_value(merged.report(20)).unwrap();
    assert_eq!(report["wraparound"]["warnings"].as_u64(), Some(u64::MAX));
    assert_eq!(report["wraparound"]["refusals"].as_u64(), Some(u64::MAX));
    assert_eq!(
        report["vacuum_events"]["skipped"]["t"]["vacuum"].as_u64(),
        Some(u64::MAX)
    );
    assert_eq!(report["other_events"]["records"].as_u64(), Some(u64::MAX));
    assert_eq!(
        report["transaction_state"]["prepared_statements_missing"]["p"].as_u64(),
        Some(u64::MAX)
    );
}
