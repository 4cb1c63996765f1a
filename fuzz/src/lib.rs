//! What the fuzz targets share: reading one input the way `pglog analyze`
//! reads a file (reader, classifier, folder, report), so a target is only
//! the choice of format and prefix.

use pglog_analyzer::stats::{Folder, Limits};
use pglog_analyzer::Analysis;
use pglog_logparse::{Classifier, InputFormat, Item, Prefix, ReaderBuilder};
use std::io::{Cursor, Read};

/// Small enough that inputs of `-max_len` (64 KiB) reach the paths for
/// records over the limit.
pub const MAX_RECORD_BYTES: usize = 8 * 1024;

/// Reads `input` to the end with `format` and `prefix`, folds every record
/// into statistics and builds the report from them, as `pglog analyze` does
/// for one file. Errors are fine; panics, hangs and memory blow-ups are not.
pub fn analyze(format: InputFormat, prefix: Option<Prefix>, input: Box<dyn Read + Send>) {
    let mut builder = ReaderBuilder::new();
    builder
        .format(format)
        .prefix(prefix)
        .max_record_bytes(MAX_RECORD_BYTES);
    let Ok(mut reader) = builder.build(input) else {
        return;
    };
    if let Some(p) = reader.prefix() {
        // A prefix the reader chose (or was given) must read back.
        Prefix::parse(p.as_str()).expect("the reader's prefix parses again");
    }
    let limits = Limits::default();
    let mut folder = Folder::new(limits);
    let mut classifier = Classifier::new();
    let name = "fuzz";
    while let Ok(Some(item)) = reader.next_item() {
        match item {
            Item::Record(r) => folder.add(&classifier.classify(r)),
            Item::Malformed(m) => folder.stats.summary.add_malformed(name, m, 5),
        }
    }
    let analysis = Analysis {
        stats: folder.finish(),
        ..Analysis::default()
    };
    report(&analysis);
}

/// Reads `input` as a pgbouncer log to the end, folds its lines and builds
/// the report, as `pglog analyze --input-format pgbouncer` does for one file.
pub fn analyze_pgbouncer(input: Box<dyn Read + Send>) {
    use pglog_analyzer::stats::pgbouncer::PgbouncerFolder;
    use pglog_logparse::format::pgbouncer::PgbouncerItem;
    use pglog_logparse::Opened;
    let mut builder = ReaderBuilder::new();
    builder
        .format(InputFormat::Pgbouncer)
        .max_record_bytes(MAX_RECORD_BYTES);
    let Ok(Opened::Pgbouncer(mut reader)) = builder.open(input) else {
        return;
    };
    let limits = Limits::default();
    let mut analysis = Analysis::default();
    let mut folder = PgbouncerFolder::new(limits);
    while let Ok(Some(item)) = reader.next_item() {
        match item {
            PgbouncerItem::Line(l) => folder.add(&l),
            PgbouncerItem::Malformed(m) => analysis.stats.summary.add_malformed("fuzz", m, 5),
            PgbouncerItem::Blank => {}
        }
    }
    analysis.stats.pgbouncer = folder.finish();
    // Merged with itself, as `pglog merge` would.
    let copy = analysis.stats.clone();
    analysis.stats += &copy;
    report(&analysis);
}

/// Builds the report of `analysis` and its JSON, as every output format does.
pub fn report(analysis: &Analysis) {
    let report = analysis.report(20);
    serde_json::to_vec(&report).expect("a report serializes");
}

/// Input as an owned reader.
pub fn reader(data: &[u8]) -> Box<dyn Read + Send> {
    Box::new(Cursor::new(data.to_vec()))
}

/// Splits `data` at its first newline: the `log_line_prefix` setting
/// (empty: let the reader detect it), then the log. `None` when there is no
/// newline or the setting does not parse.
pub fn prefix_and_log(data: &[u8]) -> Option<(Option<Prefix>, &[u8])> {
    let end = data.iter().position(|&b| b == b'\n')?;
    let log = &data[end + 1..];
    if end == 0 {
        return Some((None, log));
    }
    let setting = std::str::from_utf8(&data[..end]).ok()?;
    Some((Some(Prefix::parse(setting).ok()?), log))
}
