//! A log classified in two parts, with the state handed on between them
//! (`classify::carry`), gives the events of one classification from the
//! start, wherever it is cut. Checked on the real sample logs whose
//! statements, durations and parallel workers lie apart.

use pglog_logparse::classify::carry::Carry;
use pglog_logparse::{source, Classifier, Event, Item, LogRecord, ReaderBuilder};
use std::path::PathBuf;

fn records(rel: &str) -> Vec<LogRecord> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel);
    let input = source::open(&path).unwrap();
    let mut reader = ReaderBuilder::new().build(input.reader).unwrap();
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        if let Item::Record(r) = item {
            out.push(r);
        }
    }
    out
}

fn classify(c: &mut Classifier, records: &[LogRecord]) -> Vec<Event> {
    records.iter().map(|r| c.classify(r.clone())).collect()
}

/// Cuts `rel` at every `step`th record; returns how many second parts
/// needed the state from before them.
fn cut_everywhere(rel: &str, step: usize) -> usize {
    let all = records(rel);
    let mut from_start = Classifier::new();
    from_start.track_changes();
    let whole = classify(&mut from_start, &all);
    let mut state_at_end = Carry::default();
    state_at_end.apply(&from_start.handoff());
    let mut resumed = 0;
    for cut in (1..all.len()).step_by(step) {
        let (head, tail) = all.split_at(cut);
        let mut first = Classifier::mid_log();
        first.track_changes();
        let mut events = classify(&mut first, head);
        let mut carry = Carry::default();
        carry.apply(&first.handoff());

        let mut second = Classifier::mid_log();
        second.track_changes();
        let mut rest = classify(&mut second, tail);
        if carry.answers(&second.needs()) {
            resumed += 1;
            rest = classify(&mut Classifier::resume(carry.clone()), tail);
        } else {
            // Whatever it did not ask for, the mid-log classifier knew.
            let exact = classify(&mut Classifier::resume(carry.clone()), tail);
            assert!(rest == exact, "{rel}: cut at record {cut}");
        }
        events.extend(rest);
        assert!(events == whole, "{rel}: cut at record {cut}");
        // The handoffs, whichever way the second part was classified, add
        // up to the state at the end.
        carry.apply(&second.handoff());
        assert!(
            carry == state_at_end,
            "{rel}: state after cut at record {cut}"
        );
    }
    resumed
}

#[test]
fn two_parts_classify_as_one_wherever_the_log_is_cut() {
    let resumed = cut_everywhere("concurrent/postgresql.csv", 97);
    assert!(
        resumed > 10,
        "statements and durations lie apart: {resumed}"
    );
    cut_everywhere("concurrent/postgresql.log", 151);
    cut_everywhere("primary/postgresql.csv", 211);
}
