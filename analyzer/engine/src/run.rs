//! Reading every input and folding it into one [`Analysis`].
//!
//! Work is a flat list of tasks run on a rayon pool: a whole input, or one
//! byte range of a large plain csvlog/jsonlog file. Each task folds into its
//! own [`Stats`]; results merge in input order with `+=`, so the output does
//! not depend on `jobs` or on where files were split.
//!
//! A range's classifier starts without the state of the records before its
//! warm-up. The state is handed on exactly instead: each range reports what
//! it changed and what it answered without knowing; in order, the exact
//! state at each range's start is built, and a range whose answers it would
//! have changed is read again resumed from it.

use crate::changes::{self, FileState};
use crate::filter::{AppliedFilters, Filters};
use crate::inputs::{expand_all, InputSpec};
use crate::pipeline::{self, InOrder, RangeWork};
use crate::report::{FileReport, Report, SkipKind, SkippedFile};
use crate::run_pgbouncer::{read_pgbouncer, PgbouncerRead};
use crate::segments::{SegmentBlocks, SegmentReader, Segments};
use crate::split::{plan_chunks, Chunk, Kind, STITCH_WARM_UP};
use crate::stats::blockers::{BlockerCarry, RangeBlockers};
use crate::stats::{Folder, Limits, Stats};
use crate::{AnalyzeError, AnalyzeOptions};
use pglog_logparse::classify::carry::{Carry, Handoff, Needs};
use pglog_logparse::held::HeldBytes;
use pglog_logparse::{
    source, Classifier, Event, FormatError, InputFormat, Item, LogReader, Malformed, Next, Opened,
    Prefix,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Everything an analysis found: the statistics and where they came from.
/// This is what `--save-state` writes and `pglog merge` combines.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Analysis {
    pub stats: Stats,
    pub sources: Vec<FileReport>,
    pub skipped: Vec<SkippedFile>,
    /// The window and filters the statistics cover.
    pub applied: AppliedFilters,
}

impl Analysis {
    /// Adds another analysis (other hosts or days).
    pub fn merge(&mut self, o: Analysis) {
        self.stats += &o.stats;
        self.sources.extend(o.sources);
        self.skipped.extend(o.skipped);
        if self.applied.is_empty() {
            self.applied = o.applied;
        }
    }

    pub fn report(&self, max_samples: usize) -> Report {
        let mut r = Report::build(
            &self.stats,
            self.sources.clone(),
            self.skipped.clone(),
            max_samples,
        );
        r.input.window = self.applied.window.clone();
        r.input.filters = self.applied.filters.clone();
        r
    }
}

/// Reads all inputs of `opts` and builds the report.
pub fn analyze(opts: &AnalyzeOptions) -> Result<Report, AnalyzeError> {
    Ok(run_analysis(opts)?.report(opts.malformed_samples))
}

/// Reads all inputs of `opts` into mergeable statistics.
pub fn run_analysis(opts: &AnalyzeOptions) -> Result<Analysis, AnalyzeError> {
    let expanded = expand_all(&opts.inputs, &opts.streams)?;
    let inputs = expanded.inputs;
    // `--since` becomes a `--begin` once the last record's time is known.
    let resolved = crate::since::resolved_options(opts, &inputs)?;
    let opts = resolved.as_ref().unwrap_or(opts);
    let at_start: Vec<Option<FileState>> = inputs
        .iter()
        .map(|i| match i {
            InputSpec::File { path, .. } => FileState::of(path),
            InputSpec::Stdin | InputSpec::Stream(_) => None,
        })
        .collect();
    let outcomes = read_all(&inputs, opts);

    let mut analysis = Analysis {
        stats: Stats::new(opts.limits),
        ..Analysis::default()
    };
    // Each left-out input with the error it is on its own, if it is one.
    let mut left_out: Vec<(SkippedFile, Option<AnalyzeError>)> = expanded
        .skipped
        .into_iter()
        .map(|(s, e)| (s, Some(e)))
        .collect();
    for (r, (input, before)) in outcomes.into_iter().zip(inputs.iter().zip(&at_start)) {
        match r {
            Ok(FileOutcome::Read(mut file, stats)) => {
                if let Some(before) = before {
                    file.changed = changes::change_since(&input_path(input), before);
                }
                analysis.sources.push(file);
                analysis.stats += &stats;
            }
            Ok(FileOutcome::Skipped(s)) => left_out.push((s, None)),
            Err(e) => left_out.push((skipped_for(input, &e), Some(e))),
        }
    }
    if analysis.sources.is_empty() {
        // One input that failed says why in its own words.
        if let [(_, Some(_))] = left_out.as_slice() {
            let (_, e) = left_out.pop().expect("one entry");
            return Err(e.expect("an error"));
        }
        return Err(AnalyzeError::NoLogs {
            skipped: left_out.into_iter().map(|(s, _)| s).collect(),
        });
    }
    analysis.skipped = left_out.into_iter().map(|(s, _)| s).collect();
    analysis.applied = opts
        .filter
        .as_ref()
        .map(Filters::describe)
        .unwrap_or_default();
    Ok(analysis)
}

/// The skipped entry for an input whose reading failed with `e`.
fn skipped_for(input: &InputSpec, e: &AnalyzeError) -> SkippedFile {
    let kind = match e {
        AnalyzeError::Open { .. } | AnalyzeError::Read { .. } | AnalyzeError::Decompress { .. } => {
            SkipKind::Unreadable
        }
        _ => SkipKind::NotLog,
    };
    SkippedFile {
        path: input.display_name(),
        reason: e.reason(),
        kind,
    }
}

/// Reads every input on a pool of `opts.jobs` threads; one outcome per input, in order.
fn read_all(inputs: &[InputSpec], opts: &AnalyzeOptions) -> Vec<Result<FileOutcome, AnalyzeError>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .expect("a thread pool with default settings");
    let jobs = pool.current_num_threads();
    pool.install(|| {
        let plans: Vec<Result<Plan, AnalyzeError>> = inputs
            .par_iter()
            .map(|input| plan_input(input, opts, jobs))
            .collect();
        // One flat task list, so a big file's chunks and other files share the pool.
        let tasks: Vec<(usize, Task)> = plans
            .iter()
            .enumerate()
            .flat_map(|(i, p)| match p {
                Ok(Plan::Whole | Plan::Decoded { .. }) => vec![(i, Task::Whole)],
                Ok(Plan::Chunks { chunks, .. }) => {
                    chunks.iter().map(|c| (i, Task::Chunk(*c))).collect()
                }
                _ => vec![],
            })
            .collect();
        let mut results: Vec<(usize, Result<TaskOutcome, AnalyzeError>)> = tasks
            .into_par_iter()
            .map(|(i, t)| (i, run_task(&inputs[i], plans[i].as_ref().ok(), t, opts)))
            .collect();
        let mut out = Vec::with_capacity(inputs.len());
        for (i, plan) in plans.into_iter().enumerate() {
            let mine: Vec<Result<TaskOutcome, AnalyzeError>> = {
                let (m, rest): (Vec<_>, Vec<_>) = results.into_iter().partition(|(j, _)| *j == i);
                results = rest;
                m.into_iter().map(|(_, r)| r).collect()
            };
            out.push(plan.and_then(|p| assemble(&inputs[i], p, mine, opts)));
        }
        out
    })
}

/// How one input is read.
enum Plan {
    /// Sequentially, by one task: stdin, compressed files, text logs, small files.
    Whole,
    /// In byte ranges that start at record boundaries.
    Chunks {
        format: InputFormat,
        prefix: Option<Prefix>,
        /// The prefix was inferred from the lines.
        prefix_inferred: bool,
        chunks: Vec<Chunk>,
        size: u64,
    },
    /// Compressed: decoded by one thread, its ranges read by the others.
    Decoded {
        format: InputFormat,
        prefix: Option<Prefix>,
        prefix_inferred: bool,
        compression: source::Compression,
        jobs: usize,
    },
}

/// A compressed file smaller than this is read whole, when the options do
/// not give a range size.
const DECODED_MIN_BYTES: u64 = 1 << 20;

#[derive(Clone, Copy)]
enum Task {
    Whole,
    Chunk(Chunk),
}

enum TaskOutcome {
    Whole(FileOutcome),
    Chunk(ChunkOutcome),
}

enum FileOutcome {
    Read(FileReport, Stats),
    Skipped(SkippedFile),
}

struct ChunkOutcome {
    chunk: Chunk,
    stats: Stats,
    /// What the range hands on to name lock holders in later ranges.
    blockers: BlockerCarry,
    /// Where the first record at or after `chunk.end` starts (the file size
    /// at EOF): the verified start of the next chunk.
    actual_end: u64,
    /// Lines read in `[chunk.start, actual_end)`.
    lines: u64,
    /// What the range's records changed in the classifier state.
    handoff: Handoff,
    /// What its classification depended on from before its warm-up.
    needs: Needs,
    /// A record starts at `chunk.next_warm_from`.
    next_warm_up_seen: bool,
}

/// How a range's classifier starts.
enum ClassifierStart {
    /// Knowing nothing before the warm-up, which primes it.
    Primed,
    /// With the exact state at the range's start; no warm-up is classified.
    Resumed(Carry),
}

fn input_path(input: &InputSpec) -> PathBuf {
    match input {
        InputSpec::Stdin => PathBuf::from("-"),
        InputSpec::File { path, .. } => path.clone(),
        InputSpec::Stream(s) => PathBuf::from(&s.name),
    }
}

fn is_explicit(input: &InputSpec) -> bool {
    !matches!(
        input,
        InputSpec::File {
            explicit: false,
            ..
        } | InputSpec::Stream(_)
    )
}

/// Reads from `inner` while adding the bytes read to the progress counter.
struct Counted<R> {
    inner: R,
    counter: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &self.counter {
            c.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

fn counted<R: Read + Send + 'static>(r: R, opts: &AnalyzeOptions) -> Box<dyn Read + Send> {
    counted_by(r, opts.progress.clone())
}

fn counted_by<R: Read + Send + 'static>(
    r: R,
    counter: Option<Arc<AtomicU64>>,
) -> Box<dyn Read + Send> {
    Box::new(Counted { inner: r, counter })
}

fn open_input(input: &InputSpec, opts: &AnalyzeOptions) -> io::Result<source::Input> {
    match input {
        InputSpec::Stdin => source::wrap(counted(io::stdin(), opts)),
        InputSpec::File { path, .. } => source::wrap(counted(File::open(path)?, opts)),
        InputSpec::Stream(s) => source::wrap(counted((s.open)()?, opts)),
    }
}

/// Decides how to read one input: byte ranges for a large plain csvlog,
/// jsonlog or stderr file. (Syslog files interleave the daemon's own lines
/// and split messages into numbered chunks; they are read whole.)
fn plan_input(input: &InputSpec, opts: &AnalyzeOptions, jobs: usize) -> Result<Plan, AnalyzeError> {
    let InputSpec::File { path, .. } = input else {
        return Ok(Plan::Whole);
    };
    let open_err = |source| AnalyzeError::Open {
        path: path.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(open_err)?.len();
    let chunk_bytes = opts
        .chunk_bytes
        .unwrap_or_else(|| crate::split::default_chunk_bytes(size, jobs));
    let file = File::open(path).map_err(open_err)?;
    let opened = source::wrap(Box::new(file)).map_err(open_err)?;
    if opened.compression != source::Compression::None {
        return Ok(plan_decoded(opened, size, opts, jobs));
    }
    // One worker gains nothing from ranges and would pay for their warm-ups.
    let one_worker = jobs <= 1 && opts.chunk_bytes.is_none();
    if one_worker || size < 2 * chunk_bytes.max(1) {
        return Ok(Plan::Whole);
    }
    let reader = match opts.reader_builder().build(opened.reader) {
        Ok(r) => r,
        // The whole-file task reports or skips it.
        Err(_) => return Ok(Plan::Whole),
    };
    let format = reader.format();
    if !matches!(
        format,
        InputFormat::Csv | InputFormat::Json | InputFormat::Stderr | InputFormat::Rds
    ) {
        return Ok(Plan::Whole);
    }
    let prefix = reader.prefix().cloned();
    let prefix_inferred = reader.prefix_inferred();
    let chunks = match plan_chunks(path, format, prefix.as_ref(), size, chunk_bytes) {
        Ok(c) => c,
        // Cut while being planned: read what is left whole (and report the change).
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Plan::Whole),
        Err(e) => return Err(open_err(e)),
    };
    if chunks.len() < 2 {
        return Ok(Plan::Whole);
    }
    Ok(Plan::Chunks {
        format,
        prefix,
        prefix_inferred,
        chunks,
        size,
    })
}

/// A large compressed csvlog, jsonlog or stderr file is decoded and read
/// in ranges at once; others are read whole.
fn plan_decoded(opened: source::Input, size: u64, opts: &AnalyzeOptions, jobs: usize) -> Plan {
    if opts.chunk_bytes.is_none() && size < DECODED_MIN_BYTES {
        return Plan::Whole;
    }
    let compression = opened.compression;
    let Ok(reader) = opts.reader_builder().build(opened.reader) else {
        return Plan::Whole;
    };
    let format = reader.format();
    if !matches!(
        format,
        InputFormat::Csv | InputFormat::Json | InputFormat::Stderr | InputFormat::Rds
    ) {
        return Plan::Whole;
    }
    Plan::Decoded {
        format,
        prefix: reader.prefix().cloned(),
        prefix_inferred: reader.prefix_inferred(),
        compression,
        jobs,
    }
}

fn run_task(
    input: &InputSpec,
    plan: Option<&Plan>,
    task: Task,
    opts: &AnalyzeOptions,
) -> Result<TaskOutcome, AnalyzeError> {
    match (task, plan) {
        (Task::Chunk(c), Some(Plan::Chunks { format, prefix, .. })) => read_chunk(
            &input_path(input),
            &FileAt(&input_path(input)),
            *format,
            prefix.as_ref(),
            c,
            ClassifierStart::Primed,
            opts,
        )
        .map(TaskOutcome::Chunk),
        (_, Some(plan @ Plan::Decoded { .. })) => {
            read_decoded(input, plan, opts).map(TaskOutcome::Whole)
        }
        _ => analyze_whole(input, opts).map(TaskOutcome::Whole),
    }
}

/// Puts one input's task results together, verifying chunk boundaries.
fn assemble(
    input: &InputSpec,
    plan: Plan,
    results: Vec<Result<TaskOutcome, AnalyzeError>>,
    opts: &AnalyzeOptions,
) -> Result<FileOutcome, AnalyzeError> {
    let (format, size, prefix, prefix_inferred) = match plan {
        Plan::Whole | Plan::Decoded { .. } => {
            return match results.into_iter().next() {
                Some(Ok(TaskOutcome::Whole(f))) => Ok(f),
                Some(Err(e)) => Err(e),
                _ => unreachable!("a whole-file task gives a whole-file outcome"),
            }
        }
        Plan::Chunks {
            format,
            size,
            prefix,
            prefix_inferred,
            ..
        } => (format, size, prefix, prefix_inferred),
    };
    let path = input_path(input);
    let name = input.display_name();
    let mut outcomes = Vec::with_capacity(results.len());
    for r in results {
        match r? {
            TaskOutcome::Chunk(c) => outcomes.push(c),
            TaskOutcome::Whole(_) => unreachable!("chunk tasks give chunk outcomes"),
        }
    }
    outcomes.sort_by_key(|c| c.chunk.start);
    let ranged = RangedFile {
        path: &path,
        format,
        prefix: prefix.as_ref(),
        opts,
    };
    let parts = ranged.read_again(ranged.verify_in_order(outcomes)?)?;
    let mut sum = RangeSum::new(opts.limits);
    for (out, base) in parts {
        sum.add(out, base, &name);
    }
    let stats = sum.stats;
    if stats.summary.records + stats.summary.filtered == 0 {
        // Not a log after all: the whole-file reader says so, or skips it.
        return analyze_whole(input, opts);
    }
    let file = ranged_report(
        name,
        format,
        source::Compression::None,
        prefix.as_ref(),
        prefix_inferred,
        size,
        &stats,
    );
    Ok(FileOutcome::Read(file, stats))
}

/// The statistics of one input's ranges, added in order.
struct RangeSum {
    stats: Stats,
    blockers: RangeBlockers,
}

impl RangeSum {
    fn new(limits: Limits) -> RangeSum {
        RangeSum {
            stats: Stats::new(limits),
            blockers: RangeBlockers::default(),
        }
    }

    /// Adds the next range's statistics, its lines numbered after `base`
    /// lines, and names the lock holders it left to the ranges before it.
    fn add(&mut self, mut out: ChunkOutcome, base: u64, name: &str) {
        for (line, file) in out.stats.summary.sample_positions_mut() {
            *line += base;
            file.clear();
            file.push_str(name);
        }
        self.stats += &out.stats;
        self.blockers
            .add(out.blockers, &mut self.stats.minute_detail);
    }
}

/// The file entry of an input read in ranges.
fn ranged_report(
    name: String,
    format: InputFormat,
    compression: source::Compression,
    prefix: Option<&Prefix>,
    prefix_inferred: bool,
    bytes: u64,
    stats: &Stats,
) -> FileReport {
    let mut file = FileReport {
        path: name,
        format: format.as_str().to_string(),
        compression: compression.as_str().to_string(),
        prefix: prefix.map(|p| p.as_str().to_string()),
        prefix_inferred,
        bytes,
        records: stats.summary.records,
        filtered: stats.summary.filtered,
        malformed: stats.summary.malformed,
        foreign_lines: stats.summary.foreign_lines,
        changed: None,
        ..Default::default()
    };
    file.set_language(&stats.summary);
    file
}

/// Reads a compressed input decoded by one thread, in ranges. Whatever goes
/// wrong (a cut or corrupt stream, no record) it is read whole again, which
/// reports it as always.
fn read_decoded(
    input: &InputSpec,
    plan: &Plan,
    opts: &AnalyzeOptions,
) -> Result<FileOutcome, AnalyzeError> {
    let Plan::Decoded {
        format,
        prefix,
        prefix_inferred,
        compression,
        jobs,
    } = plan
    else {
        unreachable!("a decoded plan");
    };
    let Ok(opened) = open_input(input, opts) else {
        return analyze_whole(input, opts);
    };
    let path = input_path(input);
    let name = input.display_name();
    // The decoder counts the compressed bytes for progress.
    let uncounted = AnalyzeOptions {
        progress: None,
        ..opts.clone()
    };
    let work = RangedFile {
        path: &path,
        format: *format,
        prefix: prefix.as_ref(),
        opts: &uncounted,
    };
    let mut order = DecodedOrder {
        in_order: RangeOrder::new(*format),
        bases: VecDeque::new(),
        sum: RangeSum::new(opts.limits),
        name: &name,
    };
    let kind = Kind {
        format: *format,
        prefix: prefix.as_ref(),
    };
    let chunk_bytes = opts
        .chunk_bytes
        .unwrap_or_else(|| pipeline::range_bytes(*jobs));
    let length =
        pipeline::read_in_parallel(opened.reader, kind, chunk_bytes, *jobs, &work, &mut order);
    let stats = order.sum.stats;
    match length {
        Some(len) if stats.summary.records + stats.summary.filtered > 0 => {
            let file = ranged_report(
                name,
                *format,
                *compression,
                prefix.as_ref(),
                *prefix_inferred,
                len,
                &stats,
            );
            Ok(FileOutcome::Read(file, stats))
        }
        _ => analyze_whole(input, opts),
    }
}

/// The ranges of a decoded stream are read like a file's, from the segments.
impl RangeWork for RangedFile<'_> {
    type Out = ChunkOutcome;

    fn read(
        &self,
        segments: &Arc<Segments>,
        chunk: Chunk,
        carry: Option<Carry>,
    ) -> Result<ChunkOutcome, AnalyzeError> {
        let start = match carry {
            None => ClassifierStart::Primed,
            Some(c) => ClassifierStart::Resumed(c),
        };
        self.read_from(&SegmentsAt(segments.clone()), chunk, start)
    }
}

/// Puts a decoded stream's ranges together as they come, in order.
struct DecodedOrder<'a> {
    in_order: RangeOrder,
    /// The line numbers the verified ranges' lines start after.
    bases: VecDeque<u64>,
    sum: RangeSum,
    name: &'a str,
}

impl InOrder<ChunkOutcome> for DecodedOrder<'_> {
    fn verify(
        &mut self,
        out: ChunkOutcome,
        read_now: &mut dyn FnMut(Chunk, Carry) -> Result<ChunkOutcome, AnalyzeError>,
    ) -> Result<Option<(ChunkOutcome, Option<Carry>)>, AnalyzeError> {
        Ok(self
            .in_order
            .take(out, read_now)?
            .map(|(out, base, again)| {
                self.bases.push_back(base);
                (out, again)
            }))
    }

    fn add(&mut self, out: ChunkOutcome) {
        let base = self.bases.pop_front().expect("a verified range");
        self.sum.add(out, base, self.name);
    }
}

/// Where a range's bytes are read from.
trait RangeSource {
    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>>;
    /// The bytes from `offset` (to `end`) when they are held in memory, to
    /// be read in place.
    fn held_at(&self, _offset: u64, _end: Option<u64>) -> Option<Box<dyn HeldBytes>> {
        None
    }
}

/// A plain file.
struct FileAt<'a>(&'a Path);

impl RangeSource for FileAt<'_> {
    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        let mut f = File::open(self.0)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(f))
    }
}

/// The held segments of a decoded stream.
struct SegmentsAt(Arc<Segments>);

impl RangeSource for SegmentsAt {
    fn open_at(&self, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(SegmentReader::new(self.0.clone(), offset)))
    }

    fn held_at(&self, _offset: u64, end: Option<u64>) -> Option<Box<dyn HeldBytes>> {
        Some(Box::new(SegmentBlocks::new(self.0.clone(), end)))
    }
}

/// A file read in ranges, whose outcomes are put together.
struct RangedFile<'a> {
    path: &'a Path,
    format: InputFormat,
    prefix: Option<&'a Prefix>,
    opts: &'a AnalyzeOptions,
}

/// A range's outcome, the line number its lines start after, and the exact
/// classifier state at its start when it must be read again with it.
type Part = (ChunkOutcome, u64, Option<Carry>);

impl RangedFile<'_> {
    fn read(&self, chunk: Chunk, start: ClassifierStart) -> Result<ChunkOutcome, AnalyzeError> {
        self.read_from(&FileAt(self.path), chunk, start)
    }

    fn read_from(
        &self,
        source: &dyn RangeSource,
        chunk: Chunk,
        start: ClassifierStart,
    ) -> Result<ChunkOutcome, AnalyzeError> {
        read_chunk(
            self.path,
            source,
            self.format,
            self.prefix,
            chunk,
            start,
            self.opts,
        )
    }

    /// In order: verifies each range's start and warm-up, and carries the
    /// exact classifier state from range to range.
    fn verify_in_order(&self, outcomes: Vec<ChunkOutcome>) -> Result<Vec<Part>, AnalyzeError> {
        let mut in_order = RangeOrder::new(self.format);
        let mut parts = Vec::with_capacity(outcomes.len());
        for out in outcomes {
            let read_now = |c, carry| self.read(c, ClassifierStart::Resumed(carry));
            parts.extend(in_order.take(out, read_now)?);
        }
        Ok(parts)
    }

    /// Reads the ranges that answered without state they needed again with
    /// it, in parallel.
    fn read_again(&self, parts: Vec<Part>) -> Result<Vec<(ChunkOutcome, u64)>, AnalyzeError> {
        parts
            .into_par_iter()
            .map(|(out, base, again)| match again {
                None => Ok((out, base)),
                Some(carry) => self
                    .read(out.chunk, ClassifierStart::Resumed(carry))
                    .map(|o| (o, base)),
            })
            .collect()
    }
}

/// Verifies ranges' outcomes in order, carrying the exact classifier state
/// from range to range.
struct RangeOrder {
    format: InputFormat,
    carry: Carry,
    /// Where the next range must start: the verified end of the one before.
    expected: u64,
    line_base: u64,
    warm_up_seen: Option<u64>,
}

impl RangeOrder {
    fn new(format: InputFormat) -> RangeOrder {
        RangeOrder {
            format,
            carry: Carry::default(),
            expected: 0,
            line_base: 0,
            warm_up_seen: None,
        }
    }

    /// Verifies the next range's outcome; `None` when the range before
    /// covered it.
    fn take(
        &mut self,
        mut out: ChunkOutcome,
        read_now: impl FnOnce(Chunk, Carry) -> Result<ChunkOutcome, AnalyzeError>,
    ) -> Result<Option<Part>, AnalyzeError> {
        let mut again = None;
        if out.chunk.start != self.expected {
            // The planned boundary was not where the previous range's
            // last record ended (e.g. inside a quoted csv field): read
            // again from the verified boundary.
            if self.expected >= out.chunk.end {
                return Ok(None);
            }
            let chunk = Chunk {
                start: self.expected,
                ..out.chunk
            };
            out = read_now(chunk, self.carry.clone())?;
        } else if !warm_up_held(&out, self.format, self.warm_up_seen)
            || self.carry.answers(&out.needs)
        {
            again = Some(self.carry.clone());
        }
        self.warm_up_seen = out.chunk.next_warm_from.filter(|_| out.next_warm_up_seen);
        self.carry.apply(&out.handoff);
        self.expected = out.actual_end;
        let base = self.line_base;
        self.line_base += out.lines;
        Ok(Some((out, base, again)))
    }
}

/// Did the range's classifier warm-up start at a record? In jsonlog every
/// line is one, and stderr records are joined as from the file's start once
/// the stitching warm-up is past. A csv candidate may lie inside a quoted
/// field: the range before must have seen a record start there.
fn warm_up_held(out: &ChunkOutcome, format: InputFormat, seen: Option<u64>) -> bool {
    format != InputFormat::Csv
        || out.chunk.warm_from >= out.chunk.start
        || seen == Some(out.chunk.warm_from)
}

/// Reads the records that start in `[chunk.start, chunk.end)`, and on past
/// `chunk.end` to the first record that starts there or later: its offset is
/// the verified start of the next range. Records before `chunk.start` (the
/// warm-up) join text logs' DETAIL/STATEMENT lines to records that started
/// before the range, and when `start` is `Primed` they prime the classifier:
/// statement text waiting for its `duration:` line, parallel workers'
/// leaders. Bytes are counted for progress on the first read only.
fn read_chunk(
    path: &Path,
    source: &dyn RangeSource,
    format: InputFormat,
    prefix: Option<&Prefix>,
    chunk: Chunk,
    start: ClassifierStart,
    opts: &AnalyzeOptions,
) -> Result<ChunkOutcome, AnalyzeError> {
    let read_err = |source| AnalyzeError::Read {
        path: path.to_path_buf(),
        source,
    };
    let open_at = |offset: u64| source.open_at(offset).map_err(read_err);
    // A reader of the bytes from `offset` (to `end`), counted by `progress`.
    let reader_at = |offset: u64, end: Option<u64>, progress: Option<Arc<AtomicU64>>| {
        let mut b = opts.reader_builder();
        b.format(format).prefix(prefix.cloned()).base_offset(offset);
        let built = match source.held_at(offset, end) {
            Some(held) => b.build_held(held),
            None => {
                let input = open_at(offset)?;
                b.build(match end {
                    Some(end) => Box::new(input.take(end - offset)),
                    None => counted_by(input, progress),
                })
            }
        };
        built.map_err(|e| match e {
            FormatError::Io(source) => read_err(source),
            e => AnalyzeError::Unrecognized {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
        })
    };
    let (mut classifier, prime) = match start {
        ClassifierStart::Primed => (Classifier::mid_log(), true),
        ClassifierStart::Resumed(carry) => (Classifier::resume(carry), false),
    };
    let progress = opts.progress.clone().filter(|_| prime);
    // In csv a wrong warm-up start could leave the reader inside a quoted
    // field at `chunk.start`, so the warm-up has its own reader there. Text
    // log lines carry no such state, and one reader must see the lines on
    // both sides to join them.
    let separate_warm_up = matches!(format, InputFormat::Csv | InputFormat::Json);
    let read_from = if separate_warm_up {
        if prime && chunk.warm_from < chunk.start {
            let mut reader = reader_at(chunk.warm_from, Some(chunk.start), None)?;
            while let Ok(Some(item)) = reader.next_item() {
                if let Item::Record(r) = item {
                    classifier.classify(r);
                }
            }
        }
        chunk.start
    } else {
        chunk.warm_from
    };
    let mut reader = reader_at(read_from, None, progress.clone())?;
    let mut folder = Folder::new(opts.limits);
    let name = path.display().to_string();
    // The first item at or past `chunk.end`: (offset, line).
    let mut past_end: Option<(u64, u64)> = None;
    // The line number (in this reader) of the item at `chunk.start`.
    let mut start_line: Option<u64> = None;
    // Text records before `chunk.start`: the first ones may lack lines
    // that joined records before `read_from`, so they do not prime.
    let mut warm_records = 0usize;
    let mut tracking = false;
    let mut next_warm_up_seen = false;
    // Every record is read into this one event.
    let mut event = Event::slot();
    loop {
        if let Some((offset, _)) = past_end {
            if !reader.unfinished_before(offset) {
                break;
            }
        }
        let Some(next) = reader.next_into(&mut event.record).map_err(read_err)? else {
            break;
        };
        let (offset, line) = match &next {
            Next::Record => (event.record.offset, event.record.line),
            Next::Malformed(m) => (m.offset, m.line),
        };
        if offset == chunk.start {
            start_line = Some(line);
        }
        if Some(offset) == chunk.next_warm_from && next == Next::Record {
            next_warm_up_seen = true;
        }
        if offset >= chunk.end {
            if past_end.is_none_or(|(o, _)| offset < o) {
                past_end = Some((offset, line));
            }
            continue;
        }
        match next {
            Next::Record if offset < chunk.start => {
                warm_records += 1;
                if prime && warm_records > STITCH_WARM_UP {
                    classifier.classify_in_place(&mut event);
                }
            }
            Next::Record => {
                if !tracking {
                    classifier.track_changes();
                    tracking = true;
                }
                classifier.classify_in_place(&mut event);
                fold(&mut folder, opts.filter.as_ref(), &event)
            }
            Next::Malformed(_) if offset < chunk.start => {}
            Next::Malformed(m) => {
                folder
                    .stats
                    .summary
                    .add_malformed(&name, m, opts.malformed_samples)
            }
        }
    }
    let (actual_end, end_line) =
        past_end.unwrap_or((reader.bytes_read() + read_from, reader.line_number()));
    // The progress counter saw bytes read past the end; they are counted
    // again by the next range. Take them back.
    if let Some(c) = &progress {
        let read_to = reader.bytes_read() + read_from;
        let overlap = read_to.saturating_sub(actual_end) + chunk.start - read_from;
        c.fetch_sub(overlap, Ordering::Relaxed);
    }
    // Lines are numbered from the reader's start; make them the range's.
    let start_line = start_line.unwrap_or(1);
    let (mut stats, blockers) = folder.finish_range();
    for (line, _) in stats.summary.sample_positions_mut() {
        *line = *line + 1 - start_line;
    }
    Ok(ChunkOutcome {
        chunk,
        stats,
        blockers,
        actual_end,
        lines: end_line - start_line,
        handoff: classifier.handoff(),
        needs: classifier.needs(),
        next_warm_up_seen,
    })
}

fn analyze_whole(input: &InputSpec, opts: &AnalyzeOptions) -> Result<FileOutcome, AnalyzeError> {
    let name = input.display_name();
    let path = input_path(input);
    let explicit = is_explicit(input);
    let opened = open_input(input, opts).map_err(|source| AnalyzeError::Open {
        path: path.clone(),
        source,
    })?;
    let compression = opened.compression;
    let read_failed = |path: PathBuf, source| match compression {
        source::Compression::None => AnalyzeError::Read { path, source },
        c => AnalyzeError::Decompress {
            path,
            compression: c.as_str(),
            source,
        },
    };
    let mut reader = match opts.reader_builder().open(opened.reader) {
        Ok(Opened::Postgres(r)) => r,
        Ok(Opened::Pgbouncer(r)) => {
            return match read_pgbouncer(r, &name, &path, compression, opts)? {
                PgbouncerRead::Read(file, stats) => Ok(FileOutcome::Read(file, stats)),
                PgbouncerRead::NoLines { .. } if !explicit => Ok(FileOutcome::Skipped(SkippedFile {
                    path: name,
                    reason: "no line is a pgbouncer log line".into(),
                    kind: SkipKind::NotLog,
                })),
                PgbouncerRead::NoLines { sample } => Err(AnalyzeError::Unrecognized {
                    path,
                    message: format!("no line parsed as a pgbouncer log; first line: {sample:?}. Choose the format with --input-format"),
                }),
            };
        }
        Err(FormatError::UnknownPrefix { .. }) if !explicit => {
            return Ok(FileOutcome::Skipped(SkippedFile {
                path: name,
                reason: "not a PostgreSQL log".into(),
                kind: SkipKind::NotLog,
            }))
        }
        Err(FormatError::Empty) => return empty_input(input),
        Err(FormatError::Io(source)) => return Err(read_failed(path, source)),
        Err(e) => {
            return Err(AnalyzeError::Unrecognized {
                path,
                message: e.to_string(),
            })
        }
    };

    let mut folder = Folder::new(opts.limits);
    let mut classifier = Classifier::new();
    // Every record is read into this one event.
    let mut event = Event::slot();
    loop {
        match reader.next_into(&mut event.record) {
            Ok(Some(Next::Record)) => {
                classifier.classify_in_place(&mut event);
                fold(&mut folder, opts.filter.as_ref(), &event)
            }
            Ok(Some(Next::Malformed(m))) => {
                folder
                    .stats
                    .summary
                    .add_malformed(&name, m, opts.malformed_samples)
            }
            Ok(None) => break,
            Err(source) => return Err(AnalyzeError::Read { path, source }),
        }
    }
    if let Some(e) = reader.take_read_error() {
        if folder.stats.summary.records + folder.stats.summary.filtered == 0 {
            return Err(read_failed(path, e));
        }
        // A cut compressed stream or a failing disk: keep what was read.
        let m = Malformed::reading_stopped(reader.line_number(), reader.bytes_read(), &e);
        folder
            .stats
            .summary
            .add_malformed(&name, m, opts.malformed_samples);
    }
    let stats = folder.finish();
    let bytes = reader.bytes_read();
    if bytes == 0 {
        return empty_input(input);
    }
    if stats.summary.records + stats.summary.filtered == 0 {
        if !explicit {
            return Ok(FileOutcome::Skipped(SkippedFile {
                path: name,
                reason: "no line is a PostgreSQL log record".into(),
                kind: SkipKind::NotLog,
            }));
        }
        return Err(AnalyzeError::Unrecognized {
            path,
            message: no_records_message(&reader),
        });
    }
    let mut file = FileReport {
        path: name,
        format: reader.format().as_str().to_string(),
        compression: opened.compression.as_str().to_string(),
        prefix: reader.prefix().map(|p| p.as_str().to_string()),
        prefix_inferred: reader.prefix_inferred(),
        bytes,
        records: stats.summary.records,
        filtered: stats.summary.filtered,
        malformed: stats.summary.malformed,
        foreign_lines: stats.summary.foreign_lines,
        changed: None,
        ..Default::default()
    };
    file.set_language(&stats.summary);
    Ok(FileOutcome::Read(file, stats))
}

/// Folds a classified record into the statistics, or counts it as left
/// out by the filters. The classifier saw it either way, so what later
/// records take from it (statement text, a leader's session) stays exact.
fn fold(folder: &mut Folder, filter: Option<&Filters>, e: &Event) {
    match filter {
        Some(f) if !f.keeps(e) => folder.stats.summary.filtered += 1,
        _ => folder.add(e),
    }
}

/// An input without a byte: an error when named, whatever the format;
/// left out when found in a directory.
fn empty_input(input: &InputSpec) -> Result<FileOutcome, AnalyzeError> {
    if is_explicit(input) {
        return Err(AnalyzeError::Empty {
            path: input_path(input),
        });
    }
    Ok(FileOutcome::Skipped(SkippedFile {
        path: input.display_name(),
        reason: "empty file".into(),
        kind: SkipKind::NotLog,
    }))
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
