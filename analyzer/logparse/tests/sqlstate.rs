//! SQLSTATE inference from the stderr copy of a real server's log, checked
//! against the codes its csvlog copy carries (`sample-logs/errors/`, the
//! error workload of `generate-errors.sh`; `sample-logs/primary/`).

use pglog_logparse::{source, Classifier, Event, Item, ReaderBuilder};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel)
}

/// The ERROR/FATAL/PANIC events of a log, by process in log order: each
/// destination gets its own copy of a message, so processes interleave
/// differently in each file, but one process's records keep their order.
fn errors(rel: &str) -> Vec<Event> {
    let input = source::open(&sample(rel)).unwrap();
    let mut reader = ReaderBuilder::new().build(input.reader).unwrap();
    let mut classifier = Classifier::new();
    let mut by_pid: BTreeMap<Option<u32>, Vec<Event>> = BTreeMap::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Record(r) if r.severity.is_error() => {
                let e = classifier.classify(r);
                by_pid.entry(e.record.pid).or_default().push(e);
            }
            Item::Record(r) => {
                classifier.classify(r);
            }
            Item::Malformed(m) => panic!("{rel}:{}: {}", m.line, m.reason),
        }
    }
    by_pid.into_values().flatten().collect()
}

struct Figures {
    records: usize,
    matched: usize,
    wrong: Vec<String>,
    unknown: Vec<String>,
}

fn compare(dir: &str) -> Figures {
    let text = errors(&format!("{dir}/postgresql.log"));
    let truth = errors(&format!("{dir}/postgresql.csv"));
    assert_eq!(text.len(), truth.len(), "{dir}: error records");
    let mut f = Figures {
        records: text.len(),
        matched: 0,
        wrong: Vec::new(),
        unknown: Vec::new(),
    };
    for (t, c) in text.iter().zip(&truth) {
        assert_eq!(t.record.message, c.record.message, "{dir}: records pair up");
        assert!(
            !c.sqlstate_inferred && c.sqlstate.is_some(),
            "csvlog carries codes"
        );
        let want = c.sqlstate.unwrap();
        match t.sqlstate {
            Some(got) if got == want => f.matched += 1,
            Some(got) => f
                .wrong
                .push(format!("{got:?} for {want:?} {}", t.record.message)),
            None => f.unknown.push(format!("{want:?} {}", t.record.message)),
        }
    }
    eprintln!(
        "{dir}: {} of {} ERROR/FATAL records inferred as csvlog has them ({:.1}%), {} wrong, {} unknown: {:?}",
        f.matched,
        f.records,
        100.0 * f.matched as f64 / f.records as f64,
        f.wrong.len(),
        f.unknown.len(),
        f.unknown
    );
    f
}

#[test]
fn stderr_codes_equal_csvlog_codes_on_the_error_workload() {
    let f = compare("errors");
    assert!(f.records >= 500, "{} records", f.records);
    assert!(f.wrong.is_empty(), "wrong codes: {:#?}", f.wrong);
    assert!(
        f.matched * 100 >= f.records * 95,
        "{} of {} matched; unknown: {:#?}",
        f.matched,
        f.records,
        f.unknown
    );
}

#[test]
fn stderr_codes_equal_csvlog_codes_on_the_primary_sample() {
    let f = compare("primary");
    assert!(f.wrong.is_empty(), "wrong codes: {:#?}", f.wrong);
    // A RAISE of the application's own text: P0001, or another code given
    // by ERRCODE, which a text log cannot tell.
    assert_eq!(f.unknown, ["P0001 custom failure 7"]);
}

#[test]
fn the_committed_table_is_what_the_script_makes_of_the_logs() {
    // Needs python3, gettext's msgunfmt and the installed PostgreSQL 15
    // catalogs (/usr/share/locale/*/LC_MESSAGES/postgres-15.mo).
    let out = std::process::Command::new("python3")
        .arg(sample("sqlstate-table.py"))
        .arg("--check")
        .output()
        .expect("python3 runs sample-logs/sqlstate-table.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
