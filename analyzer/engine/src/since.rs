//! `--since` on files: the window starts a duration before the log's last
//! record, so the time of that record is found first.
//!
//! A plain csvlog, jsonlog or stderr file is read from its tail only (the
//! last [`TAIL_BYTES`], more when no timed record is there); a compressed,
//! syslog or other file needs a full pass of the reader, without
//! classification.

use crate::filter::{Filters, TimeBound};
use crate::inputs::InputSpec;
use crate::run::builder;
use crate::split::record_start_from;
use crate::{AnalyzeError, AnalyzeOptions};
use pglog_logparse::{source, InputFormat, Item, LogReader};
use rayon::prelude::*;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of a plain file's end is read first.
const TAIL_BYTES: u64 = 256 << 10;

/// The filters with `since` turned into a `begin`: the latest record time
/// of all inputs, less the duration.
pub fn resolve(
    filters: &Filters,
    inputs: &[InputSpec],
    opts: &AnalyzeOptions,
) -> Result<Filters, AnalyzeError> {
    let Some(since) = &filters.since else {
        return Ok(filters.clone());
    };
    let mut last = None;
    let times: Vec<Result<Option<i64>, AnalyzeError>> = inputs
        .par_iter()
        .map(|input| match input {
            InputSpec::Stdin => Err(AnalyzeError::SinceNeedsFiles),
            InputSpec::File { path, .. } => last_record_time(path, opts),
        })
        .collect();
    for t in times {
        last = last.max(t?);
    }
    let last = last.ok_or(AnalyzeError::SinceWithoutTimes)?;
    Ok(Filters {
        begin: Some(TimeBound::instant(last - since.ms)),
        ..filters.clone()
    })
}

/// The latest record time in a file; `None` when none has a time (or it
/// is not a log, which the analysis itself reports).
fn last_record_time(path: &Path, opts: &AnalyzeOptions) -> Result<Option<i64>, AnalyzeError> {
    let open_err = |source| AnalyzeError::Open {
        path: path.to_path_buf(),
        source,
    };
    let opened = source::wrap(Box::new(File::open(path).map_err(open_err)?)).map_err(open_err)?;
    let compressed = opened.compression != source::Compression::None;
    let Ok(reader) = builder(opts).build(opened.reader) else {
        return Ok(None);
    };
    let size = std::fs::metadata(path).map_err(open_err)?.len();
    let (format, prefix) = (reader.format(), reader.prefix().cloned());
    let tail_readable = !compressed
        && matches!(
            format,
            InputFormat::Csv | InputFormat::Json | InputFormat::Stderr | InputFormat::Rds
        );
    if !tail_readable {
        return Ok(latest(reader));
    }
    drop(reader);
    let mut tail = TAIL_BYTES;
    loop {
        let from = size.saturating_sub(tail);
        let start = match from {
            0 => Some(0),
            _ => record_start_from(path, format, prefix.as_ref(), from, size).map_err(open_err)?,
        };
        if let Some(start) = start {
            let mut f = File::open(path).map_err(open_err)?;
            f.seek(SeekFrom::Start(start)).map_err(open_err)?;
            let mut b = builder(opts);
            b.format(format).prefix(prefix.clone()).base_offset(start);
            if let Ok(r) = b.build(Box::new(f.take(size - start)) as Box<dyn Read + Send>) {
                if let Some(t) = latest(r) {
                    return Ok(Some(t));
                }
            }
        }
        if from == 0 {
            return Ok(None);
        }
        tail *= 4;
    }
}

/// The latest time among the records the reader gives.
fn latest(mut reader: LogReader) -> Option<i64> {
    let mut last = None;
    while let Ok(Some(item)) = reader.next_item() {
        if let Item::Record(r) = item {
            last = last.max(r.time.map(|t| t.epoch_ms));
        }
    }
    last
}
