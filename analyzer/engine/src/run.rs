//! Reading every input and folding it into one report.

use crate::inputs::{expand_inputs, InputSpec};
use crate::report::{FileReport, Report, SkippedFile};
use crate::summary::Summary;
use crate::{AnalyzeError, AnalyzeOptions};
use pglog_logparse::{
    source, Classifier, FormatError, Item, LogReader, Malformed, MalformedKind, ReaderBuilder,
};
use rayon::prelude::*;

/// Reads all inputs of `opts` and builds the report. Files are read in
/// parallel; results merge in input order, so output does not depend on `jobs`.
pub fn analyze(opts: &AnalyzeOptions) -> Result<Report, AnalyzeError> {
    let inputs = expand_inputs(&opts.inputs)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .expect("a thread pool with default settings");
    let results: Vec<Result<FileOutcome, AnalyzeError>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| analyze_one(input, opts))
            .collect()
    });

    let mut total = Summary::default();
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(FileOutcome::Read(file, summary)) => {
                sources.push(file);
                total += summary;
            }
            Ok(FileOutcome::Skipped(s)) => skipped.push(s),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => {}
        1 => return Err(errors.pop().expect("one error")),
        _ => return Err(AnalyzeError::Several(errors)),
    }
    if sources.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    Ok(Report::build(
        total,
        sources,
        skipped,
        opts.malformed_samples,
    ))
}

enum FileOutcome {
    Read(FileReport, Summary),
    Skipped(SkippedFile),
}

fn analyze_one(input: &InputSpec, opts: &AnalyzeOptions) -> Result<FileOutcome, AnalyzeError> {
    let name = input.display_name();
    let path = match input {
        InputSpec::Stdin => std::path::PathBuf::from("-"),
        InputSpec::File { path, .. } => path.clone(),
    };
    let explicit = !matches!(
        input,
        InputSpec::File {
            explicit: false,
            ..
        }
    );
    let opened = source::open(&path).map_err(|source| AnalyzeError::Open {
        path: path.clone(),
        source,
    })?;
    let mut builder = ReaderBuilder::new();
    builder
        .format(opts.format)
        .prefix(opts.prefix.clone())
        .max_record_bytes(opts.max_record_bytes);
    let mut reader = match builder.build(opened.reader) {
        Ok(r) => r,
        Err(FormatError::UnknownPrefix { .. }) if !explicit => {
            return Ok(FileOutcome::Skipped(SkippedFile {
                path: name,
                reason: "not a PostgreSQL log".into(),
            }))
        }
        Err(FormatError::Io(source)) => return Err(AnalyzeError::Read { path, source }),
        Err(e) => {
            return Err(AnalyzeError::Unrecognized {
                path,
                message: e.to_string(),
            })
        }
    };

    let mut summary = Summary::default();
    let mut classifier = Classifier::new();
    loop {
        match reader.next_item() {
            Ok(Some(Item::Record(r))) => summary.add_event(&classifier.classify(r)),
            Ok(Some(Item::Malformed(m))) => summary.add_malformed(&name, m, opts.malformed_samples),
            Ok(None) => break,
            Err(source) => return Err(AnalyzeError::Read { path, source }),
        }
    }
    if let Some(e) = reader.take_read_error() {
        // A cut compressed stream or a failing disk: keep what was read.
        let m = Malformed {
            line: reader.line_number(),
            kind: MalformedKind::Truncated,
            reason: format!("reading stopped: {e}"),
        };
        summary.add_malformed(&name, m, opts.malformed_samples);
    }
    let bytes = reader.bytes_read();
    if summary.records == 0 && bytes > 0 {
        if !explicit {
            return Ok(FileOutcome::Skipped(SkippedFile {
                path: name,
                reason: "no line is a PostgreSQL log record".into(),
            }));
        }
        return Err(AnalyzeError::Unrecognized {
            path,
            message: no_records_message(&reader),
        });
    }
    let file = FileReport {
        path: name,
        format: reader.format().as_str(),
        compression: opened.compression.as_str(),
        prefix: reader.prefix().map(|p| p.as_str().to_string()),
        bytes,
        records: summary.records,
        malformed: summary.malformed,
    };
    Ok(FileOutcome::Read(file, summary))
}

fn no_records_message(reader: &LogReader) -> String {
    let sample = reader.sample_line();
    match reader.prefix() {
        Some(p) => format!(
            "no line parsed as a {} log with log_line_prefix {:?}; first line: {:?}. \
             Give the server's setting with --prefix '<log_line_prefix>' (SHOW log_line_prefix;), \
             or choose the format with --input-format",
            reader.format().as_str(),
            p.as_str(),
            sample
        ),
        None => format!(
            "no line parsed as a {} log; first line: {:?}. Choose the format with --input-format, \
             or for stderr logs give --prefix '<log_line_prefix>'",
            reader.format().as_str(),
            sample
        ),
    }
}
