//! Splitting a decompressed stream into ranges as it is decoded: the same
//! ranges as `split.rs` plans for a plain file (candidate record starts about
//! `chunk_bytes` apart, the same warm-ups), found in the decoded bytes.
//!
//! Each range's bytes are one segment, so every segment starts at a line
//! start and no line spans two of them. The decoder keeps the few segments
//! the next warm-up may reach back to.

use crate::segments::{Segment, Segments};
use crate::split::{looks_like_record_start, Chunk, Kind, STITCH_WARM_UP, WARM_UP_BYTES};
use pglog_logparse::InputFormat;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

/// Decoded bytes asked for at a time.
const READ_STEP: usize = 256 << 10;
/// A line start is judged on at least this many bytes (as in `split.rs`).
const JUDGED_BYTES: usize = 64;
/// The first span looked back over for the warm-up's record starts.
const FIRST_LOOK_BACK: u64 = 16 << 10;

/// Decodes `decoded` into `segments`, calling `planned` with each range
/// once the bytes it reads past its end are held too; the bytes left once
/// the stream ended go in ranges of about `tail_bytes`. Returns the stream's
/// length, or false from `planned` or a cancelled store stops it early.
pub(crate) fn decode_in_ranges(
    mut decoded: impl Read,
    kind: Kind<'_>,
    chunk_bytes: u64,
    tail_bytes: u64,
    segments: &Segments,
    mut planned: impl FnMut(Chunk) -> bool,
) -> io::Result<Option<u64>> {
    let chunk_bytes = chunk_bytes.max(1) as usize;
    let tail_bytes = tail_bytes.clamp(1, chunk_bytes as u64) as usize;
    let mut planner = Planner {
        kind,
        history: VecDeque::new(),
    };
    let mut pending = Pending {
        bytes: Vec::with_capacity(chunk_bytes + READ_STEP),
        filled: 0,
        start: 0,
    };
    // Where the search for the next cut goes on (an index into `pending`).
    let mut scan_at: Option<usize> = None;
    // The range of the last segment held, waiting for the next one.
    let mut waiting: Option<Chunk> = None;
    let mut warm_from = 0u64;
    let mut at_end = false;
    // Decode more only when the bytes held are no longer enough for a cut:
    // reading on every cut would hold ever more when ranges are smaller
    // than a read, and copy it all again at each cut.
    let mut read_more = true;
    loop {
        if read_more && !at_end {
            at_end = pending.read_from(&mut decoded)? == 0;
        }
        let buf = pending.bytes();
        if buf.len() <= chunk_bytes && !at_end {
            read_more = true;
            continue;
        }
        let size = match at_end {
            true => tail_bytes,
            false => chunk_bytes,
        };
        let cut = if buf.len() <= size {
            buf.len()
        } else {
            match find_cut(kind, buf, scan_at.unwrap_or(size), at_end) {
                Cut::At(c) => c,
                Cut::NeedMore(resume) if !at_end => {
                    scan_at = Some(resume);
                    read_more = true;
                    continue;
                }
                Cut::NeedMore(_) => buf.len(),
            }
        };
        scan_at = None;
        read_more = false;
        let next = segments
            .spare_buffer()
            .unwrap_or_else(|| Vec::with_capacity(chunk_bytes + READ_STEP));
        let segment = pending.cut(cut, next);
        let start = segment.start;
        let end = segment.end();
        if !segments.push(segment.clone()) {
            return Ok(None);
        }
        if let Some(c) = waiting.take() {
            if !planned(c) {
                return Ok(None);
            }
        }
        let last = at_end && pending.bytes().is_empty();
        planner.history.push_back(segment);
        if last {
            return Ok(planned(Chunk {
                start,
                end: u64::MAX,
                warm_from,
                next_warm_from: None,
            })
            .then_some(end));
        }
        let next_warm = planner.warm_from(end);
        waiting = Some(Chunk {
            start,
            end,
            warm_from,
            next_warm_from: (next_warm >= start && next_warm < end).then_some(next_warm),
        });
        warm_from = next_warm;
        planner.forget_below(warm_from);
    }
}

/// The bytes decoded past the last cut, `bytes[..filled]`, from offset
/// `start` on. The rest of `bytes` is initialized already (a reused buffer's
/// or zeroed once), so reads go there without zero-filling.
struct Pending {
    bytes: Vec<u8>,
    filled: usize,
    start: u64,
}

impl Pending {
    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.filled]
    }

    /// Reads the next decoded bytes: how many, 0 at the stream's end.
    fn read_from(&mut self, decoded: &mut impl Read) -> io::Result<usize> {
        let want = self.filled + READ_STEP;
        if self.bytes.len() < want {
            self.bytes.resize(want, 0);
        }
        loop {
            match decoded.read(&mut self.bytes[self.filled..want]) {
                Ok(n) => {
                    self.filled += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Cuts the first `cut` bytes off as a segment; the rest moves to the
    /// start of `next`, which is decoded into from then on.
    fn cut(&mut self, cut: usize, mut next: Vec<u8>) -> Segment {
        let rest = self.filled - cut;
        if next.len() < rest {
            next.resize(rest, 0);
        }
        next[..rest].copy_from_slice(&self.bytes[cut..self.filled]);
        let mut bytes = std::mem::replace(&mut self.bytes, next);
        bytes.truncate(cut);
        let segment = Segment {
            start: self.start,
            bytes: Arc::new(bytes),
        };
        self.start += cut as u64;
        self.filled = rest;
        segment
    }
}

enum Cut {
    /// The next range starts at this index.
    At(usize),
    /// More bytes are needed; the search goes on from this index.
    NeedMore(usize),
}

/// The first candidate record start at or after index `from` of `buf`.
fn find_cut(kind: Kind<'_>, buf: &[u8], from: usize, eof: bool) -> Cut {
    if from >= buf.len() {
        return Cut::NeedMore(from);
    }
    let mut i = from;
    if i > 0 && buf[i - 1] != b'\n' {
        match memchr::memchr(b'\n', &buf[i..]) {
            Some(j) => i += j + 1,
            None => return Cut::NeedMore(buf.len()),
        }
    }
    while i < buf.len() {
        let line = &buf[i..];
        if line.len() < JUDGED_BYTES && !eof && memchr::memchr(b'\n', line).is_none() {
            return Cut::NeedMore(i);
        }
        if looks_like_record_start(kind, line) {
            return Cut::At(i);
        }
        match memchr::memchr(b'\n', line) {
            Some(j) => i += j + 1,
            None => return Cut::NeedMore(buf.len()),
        }
    }
    Cut::NeedMore(i)
}

/// Warm-ups from the segments decoded last.
struct Planner<'a> {
    kind: Kind<'a>,
    history: VecDeque<Segment>,
}

impl Planner<'_> {
    /// Where the warm-up of the range that starts at `start` (the end of the
    /// history) begins, as `split::plan_chunks` puts it.
    fn warm_from(&self, start: u64) -> u64 {
        let prev = self.history.back().map_or(0, |s| s.start);
        let from = start.saturating_sub(WARM_UP_BYTES).max(prev);
        let mut primed = start;
        if let Some(last) = self.history.back() {
            scan(self.kind, last, from, start, |at| {
                primed = at;
                false
            });
        }
        match self.kind.format {
            InputFormat::Csv | InputFormat::Json => primed,
            _ => primed.min(self.nth_candidate_before(start, STITCH_WARM_UP)),
        }
    }

    /// The `n`th candidate record start before `before`, counting back, or
    /// the stream's start when there are fewer. It looks back over a span
    /// that grows fourfold, as `split.rs` does in a file: judging every line
    /// of a whole range costs the decoder thread more than decoding it.
    fn nth_candidate_before(&self, before: u64, n: usize) -> u64 {
        let oldest = self.history.front().map_or(0, |s| s.start);
        let mut span = FIRST_LOOK_BACK;
        let mut found: Vec<u64> = Vec::new();
        loop {
            let from = before.saturating_sub(span).max(oldest);
            found.clear();
            for s in self
                .history
                .iter()
                .filter(|s| s.end() > from && s.start < before)
            {
                scan(self.kind, s, from.max(s.start), before, |at| {
                    found.push(at);
                    true
                });
            }
            if found.len() >= n {
                return found[found.len() - n];
            }
            if from == oldest {
                return 0;
            }
            span = span.saturating_mul(4);
        }
    }

    /// Later warm-ups start at or after `offset`: drops what lies before.
    fn forget_below(&mut self, offset: u64) {
        while self.history.front().is_some_and(|s| s.end() <= offset) {
            self.history.pop_front();
        }
    }
}

/// Calls `found` with each candidate record start of `segment` in
/// `[from, to)`, in order, while it returns true.
fn scan(kind: Kind<'_>, segment: &Segment, from: u64, to: u64, mut found: impl FnMut(u64) -> bool) {
    let bytes = &segment.bytes[..];
    let mut i = from.saturating_sub(segment.start) as usize;
    let hi = (to.saturating_sub(segment.start) as usize).min(bytes.len());
    if i >= hi {
        return;
    }
    // A candidate is a line start (a segment starts at one).
    if i > 0 && bytes[i - 1] != b'\n' {
        match memchr::memchr(b'\n', &bytes[i..]) {
            Some(j) => i += j + 1,
            None => return,
        }
    }
    while i < hi {
        if looks_like_record_start(kind, &bytes[i..]) && !found(segment.start + i as u64) {
            return;
        }
        match memchr::memchr(b'\n', &bytes[i..]) {
            Some(j) => i += j + 1,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample(name: &str) -> Vec<u8> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/concurrent");
        std::fs::read(dir.join(name)).expect("a sample log")
    }

    #[test]
    fn ranges_cover_the_stream_and_its_tail_is_cut_finer() {
        let bytes = sample("postgresql.csv");
        let kind = Kind {
            format: InputFormat::Csv,
            prefix: None,
        };
        let chunk_bytes = 100_000u64;
        let segments = Segments::new(usize::MAX);
        let mut chunks = Vec::new();
        let tail_bytes = chunk_bytes / 4;
        let len = decode_in_ranges(&bytes[..], kind, chunk_bytes, tail_bytes, &segments, |c| {
            chunks.push(c);
            true
        })
        .unwrap();
        assert_eq!(len, Some(bytes.len() as u64));
        assert_eq!(chunks[0].start, 0);
        for pair in chunks.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            let at = pair[1].start as usize;
            assert!(looks_like_record_start(kind, &bytes[at..]), "a cut at {at}");
        }
        let last = chunks.last().unwrap();
        assert_eq!(last.end, u64::MAX);
        // The bytes left once the stream ended are ranges about `tail_bytes`.
        let tail: Vec<u64> = chunks
            .iter()
            .rev()
            .take_while(|c| c.end == u64::MAX || c.end - c.start < chunk_bytes)
            .map(|c| c.end.min(bytes.len() as u64) - c.start)
            .collect();
        assert!(tail.len() > 1, "{tail:?}");
        assert!(tail.iter().all(|&n| n <= 2 * tail_bytes), "{tail:?}");
    }

    /// Ranges smaller than a read: the decoder stays about a read ahead of
    /// the ranges planned, instead of holding ever more of the stream.
    #[test]
    fn small_ranges_keep_the_decoder_close() {
        struct Counted<'a>(&'a [u8], &'a std::cell::Cell<u64>);
        impl Read for Counted<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.set(self.1.get() + n as u64);
                Ok(n)
            }
        }
        let bytes = sample("postgresql.csv");
        let kind = Kind {
            format: InputFormat::Csv,
            prefix: None,
        };
        let chunk_bytes = 8192u64;
        let decoded = std::cell::Cell::new(0u64);
        let segments = Segments::new(usize::MAX);
        let mut ranges = 0;
        let mut furthest_ahead = 0;
        let input = Counted(&bytes[..], &decoded);
        decode_in_ranges(input, kind, chunk_bytes, chunk_bytes, &segments, |c| {
            ranges += 1;
            if c.end != u64::MAX {
                furthest_ahead = furthest_ahead.max(decoded.get() - c.end);
            }
            true
        })
        .unwrap();
        assert!(ranges > 50, "{ranges} ranges");
        let bound = 2 * (READ_STEP as u64 + chunk_bytes);
        assert!(furthest_ahead <= bound, "{furthest_ahead} bytes ahead");
    }

    /// The look-back over growing spans finds the record start a scan of
    /// every held segment finds, near and far back.
    #[test]
    fn look_back_finds_what_a_full_scan_finds() {
        let bytes = sample("postgresql.log");
        let prefix = pglog_logparse::Prefix::parse("%m [%p] %u@%d/%a ").unwrap();
        let kind = Kind {
            format: InputFormat::Stderr,
            prefix: Some(&prefix),
        };
        let mut planner = Planner {
            kind,
            history: VecDeque::new(),
        };
        let mut start = 0usize;
        while start < bytes.len() {
            let mut end = (start + 30_000).min(bytes.len());
            end += memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len() - end, |j| j + 1);
            planner.history.push_back(Segment {
                start: start as u64,
                bytes: Arc::new(bytes[start..end].to_vec()),
            });
            start = end;
        }
        let mut all = Vec::new();
        for s in &planner.history {
            scan(kind, s, s.start, s.end(), |at| {
                all.push(at);
                true
            });
        }
        assert!(all.len() > 1000, "{} record starts", all.len());
        for before in [all[700], all[all.len() / 2] + 1, bytes.len() as u64] {
            for n in [1, 64, 500, all.len() + 1] {
                let earlier: Vec<u64> = all.iter().copied().filter(|&a| a < before).collect();
                let want = match earlier.len() >= n {
                    true => earlier[earlier.len() - n],
                    false => 0,
                };
                assert_eq!(
                    planner.nth_candidate_before(before, n),
                    want,
                    "{before} {n}"
                );
            }
        }
    }
}
