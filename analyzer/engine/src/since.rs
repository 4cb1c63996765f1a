//! `--since` on files: the window starts a duration before the log's last
//! record, so the time of that record is found first.
//!
//! A plain csvlog, jsonlog or stderr file is read from its tail only (the
//! last [`TAIL_BYTES`], more when no timed record is there). A compressed
//! one is decompressed once more, keeping only its tail, which is read. A
//! syslog file (its daemon's lines cannot be told from a record start by a
//! byte scan) takes a full pass of the reader, without classification.

use crate::filter::{Filters, TimeBound};
use crate::inputs::InputSpec;
use crate::split::{record_start_from, record_start_in};
use crate::stream::StreamInput;
use crate::{AnalyzeError, AnalyzeOptions};
use pglog_logparse::{source, InputFormat, Item, LogReader, Prefix};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How much of a plain file's end is read first.
const TAIL_BYTES: u64 = 256 << 10;

/// The options with `--since` turned into a `--begin`; `None` when there
/// is no `--since`. The inputs' tails are read on `opts.jobs` threads.
pub fn resolved_options(
    opts: &AnalyzeOptions,
    inputs: &[InputSpec],
) -> Result<Option<AnalyzeOptions>, AnalyzeError> {
    let Some(f) = opts.filter.as_ref().filter(|f| f.since.is_some()) else {
        return Ok(None);
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .expect("a thread pool with default settings");
    let filter = pool.install(|| resolve(f, inputs, opts))?;
    Ok(Some(AnalyzeOptions {
        filter: Some(filter),
        ..opts.clone()
    }))
}

/// The filters with `since` turned into a `begin`: the latest record time
/// of all inputs, less the duration.
fn resolve(
    filters: &Filters,
    inputs: &[InputSpec],
    opts: &AnalyzeOptions,
) -> Result<Filters, AnalyzeError> {
    let Some(since) = &filters.since else {
        return Ok(filters.clone());
    };
    let times: Vec<Result<Option<i64>, AnalyzeError>> = inputs
        .par_iter()
        .map(|input| match input {
            InputSpec::Stdin => Err(AnalyzeError::SinceNeedsFiles),
            InputSpec::File { path, .. } => last_record_time(path, opts),
            InputSpec::Stream(s) => last_stream_time(s, opts),
        })
        .collect();
    let (mut last, mut failed) = (None, None);
    for t in times {
        match t {
            Ok(t) => last = last.max(t),
            Err(AnalyzeError::SinceNeedsFiles) => return Err(AnalyzeError::SinceNeedsFiles),
            // The analysis reports a file that cannot be read.
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    let last = match (last, failed) {
        (Some(t), _) => t,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(AnalyzeError::SinceWithoutTimes),
    };
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
    let opened = open(path).map_err(open_err)?;
    let compressed = opened.compression != source::Compression::None;
    let Ok(reader) = opts.reader_builder().build(opened.reader) else {
        return Ok(None);
    };
    let (format, prefix) = (reader.format(), reader.prefix().cloned());
    let tail_readable = matches!(
        format,
        InputFormat::Csv | InputFormat::Json | InputFormat::Stderr | InputFormat::Rds
    );
    if !tail_readable {
        return Ok(latest(reader));
    }
    drop(reader);
    let tail = Tail {
        path,
        format,
        prefix: prefix.as_ref(),
        opts,
    };
    let found = match compressed {
        false => tail.of_file(),
        true => tail.of_stream(),
    };
    match found.map_err(open_err)? {
        Some(t) => Ok(Some(t)),
        // No timed record in the stream's tail (one huge record): read it all.
        None if compressed => Ok(opts
            .reader_builder()
            .build(open(path).map_err(open_err)?.reader)
            .ok()
            .and_then(latest)),
        None => Ok(None),
    }
}

/// The latest record time in a stream, read through once more (it cannot
/// be read from its end).
fn last_stream_time(s: &StreamInput, opts: &AnalyzeOptions) -> Result<Option<i64>, AnalyzeError> {
    let opened = (s.open)()
        .and_then(source::wrap)
        .map_err(|source| AnalyzeError::Open {
            path: s.name.clone().into(),
            source,
        })?;
    Ok(opts
        .reader_builder()
        .build(opened.reader)
        .ok()
        .and_then(latest))
}

fn open(path: &Path) -> io::Result<source::Input> {
    source::wrap(Box::new(File::open(path)?))
}

/// Reads the records at the end of a file of a known format.
struct Tail<'a> {
    path: &'a Path,
    format: InputFormat,
    prefix: Option<&'a Prefix>,
    opts: &'a AnalyzeOptions,
}

impl Tail<'_> {
    fn reader(&self, input: Box<dyn Read + Send>, offset: u64) -> Option<LogReader> {
        let mut b = self.opts.reader_builder();
        b.format(self.format)
            .prefix(self.prefix.cloned())
            .base_offset(offset);
        b.build(input).ok()
    }

    /// A plain file: seeks to its last [`TAIL_BYTES`], then four times as
    /// many, until a timed record is found.
    fn of_file(&self) -> io::Result<Option<i64>> {
        let size = std::fs::metadata(self.path)?.len();
        let mut tail = TAIL_BYTES;
        loop {
            let from = size.saturating_sub(tail);
            let start = match from {
                0 => Some(0),
                _ => record_start_from(self.path, self.format, self.prefix, from, size)?,
            };
            if let Some(start) = start {
                let mut f = File::open(self.path)?;
                f.seek(SeekFrom::Start(start))?;
                let input: Box<dyn Read + Send> = Box::new(f.take(size - start));
                if let Some(t) = self.reader(input, start).and_then(latest) {
                    return Ok(Some(t));
                }
            }
            if from == 0 {
                return Ok(None);
            }
            tail *= 4;
        }
    }

    /// A compressed file cannot be entered at its end: decompresses it
    /// all, keeping only its last [`TAIL_BYTES`] or more, and reads those.
    fn of_stream(&self) -> io::Result<Option<i64>> {
        let mut input = open(self.path)?.reader;
        let (mut older, mut newer) = (Vec::new(), Vec::with_capacity(TAIL_BYTES as usize));
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A cut stream: its records so far are what the analysis reads.
                Err(_) => break,
            };
            newer.extend_from_slice(&buf[..n]);
            if newer.len() as u64 >= TAIL_BYTES {
                older = std::mem::replace(&mut newer, std::mem::take(&mut older));
                newer.clear();
            }
        }
        let whole = older.is_empty();
        older.extend_from_slice(&newer);
        let start = match whole {
            true => Some(0),
            false => record_start_in(self.format, self.prefix, &older),
        };
        let Some(start) = start else {
            return Ok(None);
        };
        let tail: Box<dyn Read + Send> = Box::new(io::Cursor::new(older.split_off(start)));
        Ok(self.reader(tail, 0).and_then(latest))
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
