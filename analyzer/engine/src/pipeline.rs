//! A compressed input read in parallel: one thread decodes it into ranges
//! cut at candidate record starts (`stream_split.rs`), the pool's workers
//! read the ranges as they come, and the outcomes are verified and put
//! together in stream order, as for the ranges of a plain file (`run.rs`).
//!
//! Memory is bounded: the decoder waits while a few ranges per worker are
//! not done, and a segment is released once no range still to be read or
//! read again reaches back to it. The ranges are read on a pool of their own
//! while the calling thread puts them together, at once as they come.

use crate::segments::Segments;
use crate::split::{Chunk, Kind};
use crate::stream_split::decode_in_ranges;
use crate::AnalyzeError;
use pglog_logparse::classify::carry::Carry;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

/// Ranges not done, beyond one per worker, before the decoder waits: the
/// decoder is ahead of the workers, so a range is ready whenever one is
/// done, and a range done before the one before it waits without stalling.
const SPARE_SEGMENTS: usize = 2;
/// What the ranges not done may hold at most, however many workers.
const HELD_BYTES: u64 = 64 << 20;
/// Range sizes: each range's warm-up (about `split::WARM_UP_BYTES`) is read
/// twice, so ranges are as large as the held bytes allow.
const RANGE_BYTES: std::ops::RangeInclusive<u64> = (4 << 20)..=(16 << 20);
/// With more than one worker, the bytes left at the stream's end are cut
/// into ranges this much smaller, so that the workers finish together.
const TAIL_SPLIT: u64 = 4;

/// Ranges not done before the decoder waits, `jobs` workers wide.
fn held_ranges(jobs: usize) -> usize {
    jobs.max(1) + SPARE_SEGMENTS
}

/// The size of the ranges a decoded stream is cut into for `jobs` workers.
pub(crate) fn range_bytes(jobs: usize) -> u64 {
    let each = HELD_BYTES / held_ranges(jobs) as u64;
    each.clamp(*RANGE_BYTES.start(), *RANGE_BYTES.end())
}

/// Reads one range of the decoded stream.
pub(crate) trait RangeWork: Sync {
    type Out: Send;
    /// Reads `chunk`: primed by its warm-up, or resumed from `carry`.
    fn read(
        &self,
        segments: &Arc<Segments>,
        chunk: Chunk,
        carry: Option<Carry>,
    ) -> Result<Self::Out, AnalyzeError>;
}

/// Puts the ranges' outcomes together, in stream order.
pub(crate) trait InOrder<O> {
    /// Verifies the next range's outcome (reading it again at once with
    /// `read_now` where it started elsewhere). Gives the outcome and the
    /// state to read it again with, if needed; `None` when the range before
    /// covered it.
    #[allow(clippy::type_complexity)]
    fn verify(
        &mut self,
        out: O,
        read_now: &mut dyn FnMut(Chunk, Carry) -> Result<O, AnalyzeError>,
    ) -> Result<Option<(O, Option<Carry>)>, AnalyzeError>;
    /// Adds the next verified range's final outcome.
    fn add(&mut self, out: O);
}

enum Message<O> {
    Planned(Chunk),
    Read(usize, Result<O, AnalyzeError>),
    ReadAgain(usize, Result<O, AnalyzeError>),
    Decoded(io::Result<Option<u64>>),
}

/// Reads `decoded` in ranges of about `chunk_bytes` on `jobs` workers. The stream's length, or `None` when decoding
/// or a range failed: the caller reads the input whole, which reports it.
pub(crate) fn read_in_parallel<W: RangeWork>(
    decoded: Box<dyn Read + Send>,
    kind: Kind<'_>,
    chunk_bytes: u64,
    jobs: usize,
    work: &W,
    order: &mut dyn InOrder<W::Out>,
) -> Option<u64> {
    // The ranges are read on a pool of their own, so that the coordinating
    // thread never reads one itself: a range it read would hold up the
    // ranges done meanwhile, and so the room the decoder waits for.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .ok()?;
    let segments = Segments::new(held_ranges(jobs));
    let (tx, rx) = mpsc::channel::<Message<W::Out>>();
    let times = Times::default();
    let started = Instant::now();
    let length = std::thread::scope(|threads| {
        let (held, sent, times) = (segments.clone(), tx.clone(), &times);
        threads.spawn(move || {
            let _decoding = Timed(&times.decoding, Instant::now());
            let planned = |c| sent.send(Message::Planned(c)).is_ok();
            let tail = match jobs {
                0 | 1 => chunk_bytes,
                _ => chunk_bytes / TAIL_SPLIT,
            };
            let r = decode_in_ranges(decoded, kind, chunk_bytes, tail, &held, planned);
            held.finish(match &r {
                Ok(Some(len)) => Ok(*len),
                Ok(None) => Err("reading given up".into()),
                Err(e) => Err(e.to_string()),
            });
            let _ = sent.send(Message::Decoded(r));
        });
        let length = pool.in_place_scope_fifo(|s| {
            let mut c = Coordinator {
                segments: &segments,
                planned: Vec::new(),
                firsts: BTreeMap::new(),
                finals: BTreeMap::new(),
                next_verify: 0,
                next_add: 0,
            };
            let spawn = |idx: usize, chunk: Chunk, carry: Option<Carry>| {
                let (held, sent, times) = (segments.clone(), tx.clone(), &times);
                s.spawn_fifo(move |_| {
                    let _reading = Timed(&times.reading, Instant::now());
                    let again = carry.is_some();
                    let count = match again {
                        false => &times.ranges,
                        true => &times.read_again,
                    };
                    count.fetch_add(1, Ordering::Relaxed);
                    let r = work.read(&held, chunk, carry);
                    let _ = sent.send(match again {
                        false => Message::Read(idx, r),
                        true => Message::ReadAgain(idx, r),
                    });
                });
            };
            let length = c.run(&rx, work, order, spawn, &times.idle);
            // Unblocks the decoder and readers when given up.
            segments.cancel();
            length
        });
        drop(tx);
        length
    });
    if std::env::var_os("PGLOG_PIPELINE_STATS").is_some() {
        eprintln!("{}", times.summary(&segments, started, jobs));
    }
    length
}

/// Where a decoded stream's time went, for `PGLOG_PIPELINE_STATS`: in
/// nanoseconds, summed over threads.
#[derive(Default)]
struct Times {
    /// The decoder thread, from start to end (waits for room included).
    decoding: AtomicU64,
    /// Workers reading ranges (waits for bytes included).
    reading: AtomicU64,
    /// The coordinating thread with nothing to put together or read.
    idle: AtomicU64,
    /// Ranges read, and ranges read again from the exact state before them.
    ranges: AtomicU64,
    read_again: AtomicU64,
}

impl Times {
    fn summary(&self, segments: &Segments, started: Instant, jobs: usize) -> String {
        let s = |n: &AtomicU64| n.load(Ordering::Relaxed) as f64 / 1e9;
        let wall = started.elapsed().as_secs_f64();
        let (room, bytes) = (s(&segments.waits.room), s(&segments.waits.bytes));
        let reading = s(&self.reading);
        format!(
            "pipeline: {wall:.3} s wall, {jobs} workers; decoder {:.3} s busy, {room:.3} s waiting for room; \
             workers {:.3} s reading, {bytes:.3} s waiting for bytes, {:.3} s of {:.3} s not reading; \
             coordinator {:.3} s idle; {} ranges, {} read again",
            s(&self.decoding) - room,
            reading - bytes,
            wall * jobs as f64 - reading + bytes,
            wall * jobs as f64,
            s(&self.idle),
            self.ranges.load(Ordering::Relaxed),
            self.read_again.load(Ordering::Relaxed),
        )
    }
}

/// Adds the time from `.1` to its end to the counter `.0`.
struct Timed<'a>(&'a AtomicU64, Instant);

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        let n = self.1.elapsed().as_nanos() as u64;
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

struct Coordinator<'a, O> {
    segments: &'a Arc<Segments>,
    planned: Vec<Chunk>,
    /// First reads, waiting for the ranges before them to be verified.
    firsts: BTreeMap<usize, O>,
    /// Final outcomes (`None`: covered by the range before), waiting to be added.
    finals: BTreeMap<usize, Option<O>>,
    next_verify: usize,
    next_add: usize,
}

impl<O> Coordinator<'_, O> {
    fn run<W: RangeWork<Out = O>>(
        &mut self,
        rx: &mpsc::Receiver<Message<O>>,
        work: &W,
        order: &mut dyn InOrder<O>,
        spawn: impl Fn(usize, Chunk, Option<Carry>),
        idle: &AtomicU64,
    ) -> Option<u64> {
        let mut length = None;
        loop {
            if length.is_some() && self.next_add == self.planned.len() {
                return length;
            }
            let message = match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {
                    let _idle = Timed(idle, Instant::now());
                    rx.recv().ok()?
                }
            };
            match message {
                Message::Planned(chunk) => {
                    spawn(self.planned.len(), chunk, None);
                    self.planned.push(chunk);
                }
                Message::Decoded(Ok(Some(len))) => length = Some(len),
                Message::Decoded(_) => return None,
                Message::Read(idx, r) => {
                    self.firsts.insert(idx, r.ok()?);
                    self.verify(work, order, &spawn).ok()?;
                }
                Message::ReadAgain(idx, r) => {
                    self.finals.insert(idx, Some(r.ok()?));
                }
            }
            self.add(order);
        }
    }

    /// Verifies the first reads that are next in order.
    fn verify<W: RangeWork<Out = O>>(
        &mut self,
        work: &W,
        order: &mut dyn InOrder<O>,
        spawn: &impl Fn(usize, Chunk, Option<Carry>),
    ) -> Result<(), AnalyzeError> {
        while let Some(out) = self.firsts.remove(&self.next_verify) {
            let idx = self.next_verify;
            self.next_verify += 1;
            let segments = self.segments;
            let mut read_now = |c: Chunk, carry: Carry| work.read(segments, c, Some(carry));
            match order.verify(out, &mut read_now)? {
                Some((_, Some(carry))) => spawn(idx, self.planned[idx], Some(carry)),
                done => {
                    self.finals.insert(idx, done.map(|(o, _)| o));
                }
            }
        }
        Ok(())
    }

    /// Adds the final outcomes that are next in order and releases the
    /// bytes no range needs any more.
    fn add(&mut self, order: &mut dyn InOrder<O>) {
        let before = self.next_add;
        while let Some(out) = self.finals.remove(&self.next_add) {
            if let Some(out) = out {
                order.add(out);
            }
            self.next_add += 1;
        }
        if self.next_add > before {
            // Later ranges' warm-ups start no earlier than this one's.
            let floor = self.planned.get(self.next_add).or(self.planned.last());
            if let Some(c) = floor {
                self.segments
                    .release_below(c.warm_from, self.next_add - before);
            }
        }
    }
}
