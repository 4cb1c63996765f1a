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
    assert!(stored(&a).is_ok(), "one count per bucket and one for longer");
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
    assert_eq!(sessions["peak_sessions"].as_i64(), Some(i64::MAX), "{sessions}");
    assert!(sessions["peak_at"].is_string(), "{sessions}");
}
