//! Parser throughput on the real sample logs, per format, in bytes/s.
//! Each iteration reads the whole log from memory and asserts the record
//! count the sample generator's independent counter wrote, so a faster but
//! wrong parser cannot pass. Run: `cargo bench -p pglog-logparse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pglog_logparse::{Classifier, Item, ReaderBuilder};
use std::io::Cursor;
use std::path::PathBuf;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs")
}

/// The primary's record count from `expected-counts.json`.
fn expected_records() -> u64 {
    let text = std::fs::read_to_string(samples().join("expected-counts.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["primary"]["records"].as_u64().unwrap()
}

/// The log repeated to about 8 MiB, so buffering and sniffing do not dominate.
fn load(name: &str) -> (Vec<u8>, u64) {
    let one = std::fs::read(samples().join("primary").join(name)).unwrap();
    let copies = (8 << 20) / one.len() + 1;
    (one.repeat(copies), copies as u64)
}

fn count(data: &[u8], classify: bool) -> u64 {
    let mut reader = ReaderBuilder::new()
        .build(Box::new(Cursor::new(data.to_vec())))
        .unwrap();
    let mut classifier = Classifier::new();
    let mut n = 0;
    while let Some(item) = reader.next_item().unwrap() {
        if let Item::Record(r) = item {
            if classify {
                std::hint::black_box(classifier.classify(r));
            }
            n += 1;
        }
    }
    n
}

fn parse(c: &mut Criterion) {
    let per_copy = expected_records();
    for (name, label) in [
        ("postgresql.csv", "csvlog"),
        ("postgresql.json", "jsonlog"),
        ("postgresql.log", "stderr"),
    ] {
        let (data, copies) = load(name);
        let mut g = c.benchmark_group(label);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function("read", |b| {
            b.iter(|| assert_eq!(count(&data, false), per_copy * copies))
        });
        g.bench_function("read+classify", |b| {
            b.iter(|| assert_eq!(count(&data, true), per_copy * copies))
        });
        g.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
