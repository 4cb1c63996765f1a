//! Normalizer and fingerprint throughput on every statement of the primary
//! sample log, in bytes of SQL per second: the lexer alone, the cached
//! fingerprinter the analyzer uses, and pg_query called on every statement
//! (what the cache saves). Each iteration asserts the statement count.
//! Run: `cargo bench -p pglog-analyzer`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pglog_analyzer::fingerprint::{lex_into, Fingerprinter};
use pglog_logparse::{Classifier, EventKind, Item, ReaderBuilder};
use std::path::PathBuf;

/// Statement texts of executed queries in the primary's csvlog.
fn statements() -> Vec<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/primary/postgresql.csv");
    let file = std::fs::File::open(path).unwrap();
    let mut reader = ReaderBuilder::new().build(Box::new(file)).unwrap();
    let mut classifier = Classifier::new();
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        if let Item::Record(r) = item {
            if let EventKind::Query(s) = classifier.classify(r).kind {
                out.extend(s.text);
            }
        }
    }
    out
}

fn normalize(c: &mut Criterion) {
    let stmts = statements();
    let n = stmts.len();
    assert!(n > 1000, "{n} statements");
    let bytes: usize = stmts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("normalize");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("lexer", |b| {
        let mut out = String::new();
        b.iter(|| {
            let mut seen = 0;
            for s in &stmts {
                lex_into(s, &mut out);
                seen += 1;
            }
            assert_eq!(seen, n);
        })
    });
    g.bench_function("fingerprint (cached)", |b| {
        let mut f = Fingerprinter::new();
        b.iter(|| {
            let seen = stmts
                .iter()
                .map(|s| f.key(s))
                .filter(|k| k.fingerprint != 0)
                .count();
            assert_eq!(seen, n);
        })
    });
    g.sample_size(10);
    g.bench_function("pg_query on every statement", |b| {
        b.iter(|| {
            let seen = stmts
                .iter()
                .filter(|s| pg_query::fingerprint(s, 0, 0).is_ok() || !s.is_empty())
                .count();
            assert_eq!(seen, n);
        })
    });
    g.finish();
}

criterion_group!(benches, normalize);
criterion_main!(benches);
