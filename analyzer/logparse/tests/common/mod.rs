//! Helpers of the classifier's tests on the real sample logs.

use pglog_logparse::{source, Classifier, Event, Item, ReaderBuilder};
use std::path::PathBuf;

pub fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel)
}

/// Every record of a sample log, classified in order.
pub fn events(rel: &str) -> Vec<Event> {
    let input = source::open(&sample(rel)).unwrap();
    let mut reader = ReaderBuilder::new().build(input.reader).unwrap();
    let mut classifier = Classifier::new();
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Record(r) => out.push(classifier.classify(r)),
            Item::Malformed(m) => panic!("{rel}:{}: {}", m.line, m.reason),
        }
    }
    out
}
