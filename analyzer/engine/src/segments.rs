//! Decompressed bytes held in bounded memory for the workers that parse
//! them: segments in stream order, each starting at a line start, and
//! readers that see them as one stream from any held offset.
//!
//! Each segment is one range's bytes. The decoder waits while `cap` ranges
//! are not done yet (their segments, and those their warm-ups reach back
//! to, are held), unless a reader waits
//! for bytes not decoded yet (a record that reaches far past its range):
//! that reader could otherwise wait for a segment that is never decoded.
//!
//! A released segment's buffer goes back to the decoder once no reader
//! holds it, so that decoding neither allocates nor zero-fills anew.

use pglog_logparse::held::{Block, HeldBytes};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Decoded bytes from `start` on.
#[derive(Clone)]
pub(crate) struct Segment {
    pub start: u64,
    pub bytes: Arc<Vec<u8>>,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// Released buffers kept for reuse (some may still be held by a reader).
const RETIRED_MAX: usize = 2;

pub(crate) struct Segments {
    state: Mutex<Held>,
    changed: Condvar,
    cap: usize,
    /// How long the decoder and the readers waited, for `PGLOG_PIPELINE_STATS`.
    pub waits: Waits,
}

/// Nanoseconds waited, by whom.
#[derive(Default)]
pub(crate) struct Waits {
    /// The decoder, for room.
    pub room: AtomicU64,
    /// Readers, for bytes not decoded yet.
    pub bytes: AtomicU64,
}

impl Waits {
    fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
}

struct Held {
    segments: VecDeque<Segment>,
    /// Segments added whose ranges are not done yet.
    unfinished: usize,
    /// Bytes below this were released.
    floor: u64,
    /// Set when the decoder stopped: the stream's length, or why it failed.
    end: Option<Result<u64, String>>,
    /// Readers waiting for bytes not decoded yet.
    waiting: usize,
    /// The reading was given up: the decoder and readers stop.
    cancelled: bool,
    /// Released segments' buffers, oldest first.
    retired: VecDeque<Arc<Vec<u8>>>,
}

impl Segments {
    pub fn new(cap: usize) -> Arc<Segments> {
        Arc::new(Segments {
            state: Mutex::new(Held {
                segments: VecDeque::new(),
                unfinished: 0,
                floor: 0,
                end: None,
                waiting: 0,
                cancelled: false,
                retired: VecDeque::new(),
            }),
            changed: Condvar::new(),
            cap: cap.max(2),
            waits: Waits::default(),
        })
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the next segment, after waiting for room. False when cancelled.
    pub fn push(&self, segment: Segment) -> bool {
        let mut h = self.held();
        let since = Instant::now();
        while h.unfinished >= self.cap && h.waiting == 0 && !h.cancelled {
            h = self.changed.wait(h).unwrap_or_else(|p| p.into_inner());
        }
        Waits::add(&self.waits.room, since);
        if h.cancelled {
            return false;
        }
        h.segments.push_back(segment);
        h.unfinished += 1;
        self.changed.notify_all();
        true
    }

    /// The decoder stopped: at the stream's end of `len` bytes, or failing.
    pub fn finish(&self, end: Result<u64, String>) {
        self.held().end = Some(end);
        self.changed.notify_all();
    }

    /// Gives up: readers fail and the decoder stops at its next segment.
    pub fn cancel(&self) {
        self.held().cancelled = true;
        self.changed.notify_all();
    }

    /// `done` more ranges are done, and no reader needs bytes below `offset`
    /// any more.
    pub fn release_below(&self, offset: u64, done: usize) {
        let mut h = self.held();
        h.unfinished = h.unfinished.saturating_sub(done);
        while h.segments.front().is_some_and(|s| s.end() <= offset) {
            let s = h.segments.pop_front().expect("a front segment");
            h.floor = s.end();
            if h.retired.len() == RETIRED_MAX {
                h.retired.pop_front();
            }
            h.retired.push_back(s.bytes);
        }
        self.changed.notify_all();
    }

    /// A released buffer no reader holds any more, to decode into (its
    /// bytes are stale but initialized).
    pub fn spare_buffer(&self) -> Option<Vec<u8>> {
        let mut h = self.held();
        let free = h.retired.iter().position(|b| Arc::strong_count(b) == 1)?;
        let bytes = h.retired.remove(free)?;
        // Only the store held it, under its lock: nothing can clone it now.
        Arc::try_unwrap(bytes).ok()
    }

    /// The segment holding byte `pos`, waiting for it to be decoded; `None`
    /// at the stream's end.
    fn segment_at(&self, pos: u64) -> io::Result<Option<Segment>> {
        let mut h = self.held();
        loop {
            if pos < h.floor || h.cancelled {
                return Err(io::Error::other("decompressed bytes no longer held"));
            }
            if let Some(s) = h.segments.iter().rev().find(|s| s.start <= pos) {
                if pos < s.end() {
                    return Ok(Some(s.clone()));
                }
            }
            match &h.end {
                Some(Ok(len)) if pos >= *len => return Ok(None),
                Some(Ok(_)) => return Err(io::Error::other("a gap in the decompressed bytes")),
                Some(Err(why)) => return Err(io::Error::other(why.clone())),
                None => {}
            }
            h.waiting += 1;
            self.changed.notify_all();
            let since = Instant::now();
            h = self.changed.wait(h).unwrap_or_else(|p| p.into_inner());
            Waits::add(&self.waits.bytes, since);
            h.waiting -= 1;
        }
    }
}

/// The held segments as blocks read in place, up to `end` when given.
pub(crate) struct SegmentBlocks {
    segments: Arc<Segments>,
    end: Option<u64>,
}

impl SegmentBlocks {
    pub fn new(segments: Arc<Segments>, end: Option<u64>) -> SegmentBlocks {
        SegmentBlocks { segments, end }
    }
}

impl HeldBytes for SegmentBlocks {
    fn block_at(&mut self, pos: u64) -> io::Result<Option<Block>> {
        let end = self.end.unwrap_or(u64::MAX);
        if pos >= end {
            return Ok(None);
        }
        Ok(self.segments.segment_at(pos)?.map(|s| Block {
            start: s.start,
            len: (s.bytes.len() as u64).min(end - s.start) as usize,
            bytes: s.bytes,
        }))
    }
}

/// Reads the held segments as one stream from an offset.
pub(crate) struct SegmentReader {
    segments: Arc<Segments>,
    pos: u64,
    current: Option<Segment>,
}

impl SegmentReader {
    pub fn new(segments: Arc<Segments>, pos: u64) -> SegmentReader {
        SegmentReader {
            segments,
            pos,
            current: None,
        }
    }
}

impl Read for SegmentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(s) = &self.current {
                if (s.start..s.end()).contains(&self.pos) {
                    let from = &s.bytes[(self.pos - s.start) as usize..];
                    let n = from.len().min(buf.len());
                    buf[..n].copy_from_slice(&from[..n]);
                    self.pos += n as u64;
                    return Ok(n);
                }
            }
            match self.segments.segment_at(self.pos)? {
                Some(s) => self.current = Some(s),
                None => return Ok(0),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(start: u64, bytes: &[u8]) -> Segment {
        Segment {
            start,
            bytes: Arc::new(bytes.to_vec()),
        }
    }

    #[test]
    fn a_released_buffer_is_reused_once_no_reader_holds_it() {
        let segments = Segments::new(4);
        assert!(segments.push(segment(0, b"first line\n")));
        assert!(segments.push(segment(11, b"second line\n")));
        let mut reader = SegmentReader::new(segments.clone(), 0);
        let mut head = [0u8; 5];
        reader.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"first");
        segments.release_below(11, 1);
        // The reader still holds the first segment's bytes.
        assert!(segments.spare_buffer().is_none());
        drop(reader);
        assert_eq!(
            segments.spare_buffer().as_deref(),
            Some(&b"first line\n"[..])
        );
        assert!(segments.spare_buffer().is_none());
        // Bytes released are no longer readable; the next segment still is.
        let mut rest = String::new();
        SegmentReader::new(segments.clone(), 0)
            .read_to_string(&mut rest)
            .unwrap_err();
        segments.finish(Ok(23));
        SegmentReader::new(segments.clone(), 11)
            .read_to_string(&mut rest)
            .unwrap();
        assert_eq!(rest, "second line\n");
    }
}
