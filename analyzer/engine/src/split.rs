//! Splitting one large plain csvlog, jsonlog or stderr file into byte ranges
//! that workers read in parallel.
//!
//! A candidate boundary is the start of a line that looks like the start of
//! a record: a PostgreSQL timestamp followed by `,` for csv, `{` for json,
//! the `log_line_prefix` followed by a severity (not `DETAIL:` and the like)
//! for stderr.
//! In csv a quoted field (a statement, a plan) can hold such a line, so a
//! candidate is only a guess. It is verified after the fact: the worker of
//! the range before reads on past its end to the first record that starts
//! at or after it, and that record's offset must be the candidate. If it is
//! not, the range is read again from the verified offset (see `run.rs`).
//!
//! Before each range is a warm-up that its worker reads first. In stderr
//! logs it holds at least [`STITCH_WARM_UP`] record starts, so that lines are
//! joined into records there exactly as in a reading from the file's start.
//! Up to [`WARM_UP_BYTES`] of it prime the classifier; what that does not
//! settle is handed on exactly between ranges (see `run.rs`).

use pglog_logparse::format::stitch::WINDOW as STITCH_WINDOW;
use pglog_logparse::prefix::Label;
use pglog_logparse::time::parse_pg_timestamp;
use pglog_logparse::{InputFormat, Prefix};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes before a range that are read only to prime the classifier. Every
/// range of a compressed stream (16 MiB) pays for them; on the benchmark
/// day 64 KiB already left no range to read again, and 1 MiB cost 6%.
pub const WARM_UP_BYTES: u64 = 256 << 10;
/// Record starts before a stderr range. A line joins a record at most
/// [`STITCH_WINDOW`] records back, so after that many records a reader that
/// started in the middle holds the same records as one that started at the
/// beginning (every candidate line is a record, too long or not); twice
/// that is a margin.
pub const STITCH_WARM_UP: usize = 2 * STITCH_WINDOW;
/// Record starts are a few hundred bytes apart; a small window keeps
/// planning cheap.
const SCAN_WINDOW: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First byte of the range: a record start (to be verified).
    pub start: u64,
    /// Records starting at or after this belong to the next range.
    pub end: u64,
    /// Where the warm-up read starts (`start` when there is none).
    pub warm_from: u64,
    /// The next range's `warm_from`, when it lies in this range: the worker
    /// says whether a record starts there (a csv candidate may lie inside a
    /// quoted field).
    pub next_warm_from: Option<u64>,
}

/// About four ranges per worker, between 4 MiB and 256 MiB each.
pub fn default_chunk_bytes(size: u64, jobs: usize) -> u64 {
    (size / (jobs.max(1) as u64 * 4)).clamp(4 << 20, 256 << 20)
}

/// Byte ranges of about `chunk_bytes` that start at candidate record starts.
pub fn plan_chunks(
    path: &Path,
    format: InputFormat,
    prefix: Option<&Prefix>,
    size: u64,
    chunk_bytes: u64,
) -> io::Result<Vec<Chunk>> {
    let kind = Kind { format, prefix };
    let file = File::open(path)?;
    let mut scan = Scanner {
        file: &file,
        kind,
        buf: vec![0u8; SCAN_WINDOW],
    };
    let mut starts = vec![0u64];
    let mut target = chunk_bytes.max(1);
    while target < size {
        match scan.next_candidate(target, size)? {
            Some(b) if b > *starts.last().expect("non-empty") && b < size => {
                starts.push(b);
                target = b + chunk_bytes.max(1);
            }
            _ => break,
        }
    }
    let mut chunks: Vec<Chunk> = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(u64::MAX);
        let warm_from = if i == 0 {
            0
        } else {
            let from = start.saturating_sub(WARM_UP_BYTES).max(starts[i - 1]);
            let primed = scan
                .next_candidate(from, start)?
                .filter(|&w| w < start)
                .unwrap_or(start);
            match format {
                InputFormat::Csv | InputFormat::Json => primed,
                _ => primed.min(scan.nth_candidate_before(start, STITCH_WARM_UP)?),
            }
        };
        if let Some(prev) = chunks.last_mut() {
            prev.next_warm_from =
                (warm_from >= prev.start && warm_from < start).then_some(warm_from);
        }
        chunks.push(Chunk {
            start,
            end,
            warm_from,
            next_warm_from: None,
        });
    }
    Ok(chunks)
}

/// The first candidate record start in `[from, size)`: where a reader of
/// the file's tail begins.
pub fn record_start_from(
    path: &Path,
    format: InputFormat,
    prefix: Option<&Prefix>,
    from: u64,
    size: u64,
) -> io::Result<Option<u64>> {
    let file = File::open(path)?;
    Scanner {
        file: &file,
        kind: Kind { format, prefix },
        buf: vec![0u8; SCAN_WINDOW],
    }
    .next_candidate(from, size)
}

/// The first candidate record start in `bytes`, a stretch that begins in
/// the middle of a line (the tail of a decompressed stream).
pub fn record_start_in(
    format: InputFormat,
    prefix: Option<&Prefix>,
    bytes: &[u8],
) -> Option<usize> {
    let kind = Kind { format, prefix };
    let mut at = memchr::memchr(b'\n', bytes)? + 1;
    while at < bytes.len() {
        if looks_like_record_start(kind, &bytes[at..]) {
            return Some(at);
        }
        at += memchr::memchr(b'\n', &bytes[at..])? + 1;
    }
    None
}

/// Looks for candidate record starts, with one read buffer.
struct Scanner<'a> {
    file: &'a File,
    kind: Kind<'a>,
    buf: Vec<u8>,
}

impl Scanner<'_> {
    /// The first candidate record start at or after `from` and before `limit`.
    fn next_candidate(&mut self, from: u64, limit: u64) -> io::Result<Option<u64>> {
        let mut first = None;
        self.scan(from, limit, |at| {
            first = Some(at);
            false
        })?;
        Ok(first)
    }

    /// The `n`th candidate record start before `before`, counting back, or
    /// the file's start when there are fewer.
    fn nth_candidate_before(&mut self, before: u64, n: usize) -> io::Result<u64> {
        let mut span = SCAN_WINDOW as u64 / 4;
        loop {
            let from = before.saturating_sub(span);
            let mut found = Vec::new();
            self.scan(from, before, |at| {
                found.push(at);
                true
            })?;
            if found.len() >= n {
                return Ok(found[found.len() - n]);
            }
            if from == 0 {
                return Ok(0);
            }
            span *= 4;
        }
    }

    /// Calls `found` with each candidate record start in `[from, limit)`,
    /// in order, while it returns true.
    fn scan(
        &mut self,
        from: u64,
        limit: u64,
        mut found: impl FnMut(u64) -> bool,
    ) -> io::Result<()> {
        let (file, kind) = (self.file, self.kind);
        let buf = &mut self.buf;
        let mut pos = from;
        // A candidate is a line start: unless `from` is one, skip to the next.
        let mut skip_line = from > 0 && {
            let mut b = [0u8; 1];
            file.read_exact_at(&mut b, from - 1)?;
            b[0] != b'\n'
        };
        while pos < limit {
            let n = read_at_most(file, buf, pos)?;
            if n == 0 {
                return Ok(());
            }
            let window = &buf[..n];
            let eof = n < buf.len();
            let mut i = 0;
            if skip_line {
                match memchr::memchr(b'\n', window) {
                    Some(j) => i = j + 1,
                    None => {
                        pos += n as u64;
                        continue;
                    }
                }
                skip_line = false;
            }
            loop {
                if pos + i as u64 >= limit {
                    return Ok(());
                }
                let line = &window[i..];
                if line.len() < 64 && !eof {
                    // Too close to the window's end to judge: read again from here.
                    pos += i as u64;
                    break;
                }
                if looks_like_record_start(kind, line) && !found(pos + i as u64) {
                    return Ok(());
                }
                match memchr::memchr(b'\n', line) {
                    Some(j) => i += j + 1,
                    None if eof => return Ok(()),
                    None => {
                        pos += n as u64;
                        skip_line = true;
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

fn read_at_most(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], at + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// What a record start looks like in this file.
#[derive(Clone, Copy)]
pub(crate) struct Kind<'a> {
    pub format: InputFormat,
    pub prefix: Option<&'a Prefix>,
}

/// Whether `line` (with what follows it) looks like the start of a record:
/// a candidate boundary.
pub(crate) fn looks_like_record_start(kind: Kind<'_>, line: &[u8]) -> bool {
    match (kind.format, kind.prefix) {
        (InputFormat::Json, _) => line.starts_with(b"{\""),
        (InputFormat::Csv, _) => {
            parse_pg_timestamp(line).is_some_and(|(_, n)| line.get(n) == Some(&b','))
        }
        (_, Some(prefix)) => {
            let end = memchr::memchr(b'\n', line).unwrap_or(line.len());
            let line = line[..end].strip_suffix(b"\r").unwrap_or(&line[..end]);
            prefix
                .match_line(line)
                .is_some_and(|m| matches!(m.label, Label::Severity(_)))
        }
        _ => false,
    }
}
