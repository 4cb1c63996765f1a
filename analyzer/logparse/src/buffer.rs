//! A sliding read buffer that hands out lines and keeps line numbers.
//! All formats read through it, so memory stays bounded by the longest record
//! allowed, whatever the input size.

use crate::held::{HeldBytes, Storage};
use std::io::{self, Read};

const CHUNK: usize = 256 * 1024;
/// How much of a line that is too long is kept, so that readers can tell
/// what kind of line it was (a new message, or part of one).
const LONG_HEAD: usize = 4096;
/// The first read is small and reads grow to `CHUNK`: a reader of a small
/// range of a file reads little past it.
const FIRST_CHUNK: usize = 16 * 1024;

pub struct ByteSource {
    inner: Box<dyn Read + Send>,
    /// Held blocks read in place, instead of `inner`.
    held: Option<Box<dyn HeldBytes>>,
    /// Bytes read are `buf[..filled]`; the rest of the own buffer is zeroed
    /// once and kept, so a refill does not zero the buffer again.
    buf: Storage,
    filled: usize,
    start: usize,
    eof: bool,
    /// 1-based number of the line that begins at `start`.
    line: u64,
    bytes_read: u64,
    /// A read error ends the input like EOF does; it is kept for the caller.
    error: Option<io::Error>,
    /// Where the input starts in its file, when reading from the middle.
    base: u64,
    /// The first bytes of the last line that was too long.
    long_head: Vec<u8>,
}

/// A line handed out by [`ByteSource::next_line`].
pub struct Line<'a> {
    pub number: u64,
    /// Byte offset of the line's start in the (decompressed) input.
    pub offset: u64,
    /// Without the `\n` (and a `\r` before it). When `too_long`, only its
    /// first few KiB.
    pub bytes: &'a [u8],
    /// False for a last line that has no newline: the input was cut.
    pub terminated: bool,
    pub too_long: bool,
}

impl ByteSource {
    pub fn new(inner: Box<dyn Read + Send>) -> ByteSource {
        ByteSource {
            inner,
            held: None,
            buf: Storage::owned(CHUNK),
            filled: 0,
            start: 0,
            eof: false,
            line: 1,
            bytes_read: 0,
            error: None,
            base: 0,
            long_head: Vec::new(),
        }
    }

    /// A source whose first byte is at `base` in its file, so that offsets
    /// are the file's.
    pub fn with_base(inner: Box<dyn Read + Send>, base: u64) -> ByteSource {
        ByteSource {
            base,
            ..ByteSource::new(inner)
        }
    }

    /// A source of bytes held in memory, read in place, from offset `base`
    /// of its stream on.
    pub fn held(blocks: Box<dyn HeldBytes>, base: u64) -> ByteSource {
        ByteSource {
            held: Some(blocks),
            ..ByteSource::with_base(Box::new(io::empty()), base)
        }
    }

    /// Byte offset of the first unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.base + self.bytes_read - (self.filled - self.start) as u64
    }

    /// Bytes read from the (decompressed) input so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The unconsumed bytes currently buffered.
    pub fn available(&self) -> &[u8] {
        &self.buf[self.start..self.filled]
    }

    /// The read error that ended the input early, if one did.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// The input has no more bytes to give (some may still be buffered).
    pub fn exhausted(&self) -> bool {
        self.eof
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.start == self.filled
    }

    /// Reads one more chunk. Returns false when the input is exhausted.
    pub fn fill_more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.held.is_some() {
            return Ok(self.fill_held());
        }
        self.compact();
        let old_len = self.filled;
        let want = (self.bytes_read as usize).clamp(FIRST_CHUNK, CHUNK);
        let buf = &mut self.buf.owned;
        if buf.len() < old_len + want {
            buf.resize(old_len + want, 0);
        }
        let n = loop {
            match self.inner.read(&mut buf[old_len..old_len + want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // A cut compressed stream, say: what was read stays readable.
                    self.eof = true;
                    self.error = Some(e);
                    return Ok(false);
                }
            }
        };
        self.filled = old_len + n;
        self.bytes_read += n as u64;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Moves the unconsumed bytes to the start of the own buffer once they
    /// are the smaller half.
    fn compact(&mut self) {
        if self.start > 0 && self.start >= self.filled / 2 {
            self.buf.owned.copy_within(self.start..self.filled, 0);
            self.filled -= self.start;
            self.start = 0;
        }
    }

    /// Reads on from held blocks: the block the unconsumed bytes lie in is
    /// read in place; a record that continues from the block before is
    /// copied, with the next bytes, into the own buffer.
    fn fill_held(&mut self) -> bool {
        let at = self.base + self.bytes_read;
        let from = self.offset();
        let held = self.held.as_mut().expect("a held source");
        let block = match held.block_at(at) {
            Ok(Some(b)) if b.start <= at && at < b.end() => b,
            Ok(None) => {
                self.eof = true;
                return false;
            }
            Ok(Some(_)) => {
                self.eof = true;
                self.error = Some(io::Error::other("a held block out of place"));
                return false;
            }
            Err(e) => {
                self.eof = true;
                self.error = Some(e);
                return false;
            }
        };
        if block.start <= from {
            self.start = (from - block.start) as usize;
            self.filled = block.len;
            self.bytes_read = block.end() - self.base;
            self.buf.held = Some(block);
            return true;
        }
        if let Some(b) = self.buf.held.take() {
            self.buf.owned.clear();
            self.buf
                .owned
                .extend_from_slice(&b.bytes[self.start..self.filled]);
            self.filled -= self.start;
            self.start = 0;
        }
        self.compact();
        let skip = (at - block.start) as usize;
        let n = (block.len - skip).min(CHUNK);
        let buf = &mut self.buf.owned;
        buf.truncate(self.filled);
        buf.extend_from_slice(&block.bytes[skip..skip + n]);
        self.filled += n;
        self.bytes_read += n as u64;
        true
    }

    /// Buffers at least `n` bytes, or all that is left.
    pub fn fill_to(&mut self, n: usize) -> io::Result<()> {
        while self.available().len() < n && self.fill_more()? {}
        Ok(())
    }

    /// Drops `n` buffered bytes, counting the lines they end.
    pub fn consume(&mut self, n: usize) {
        let end = self.start + n;
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.start..end]).count() as u64;
        self.start = end;
    }

    /// The next line, or `None` at the end of input. A line longer than
    /// `max_len` is skipped without being buffered whole and comes back with
    /// `too_long` set.
    pub fn next_line(&mut self, max_len: usize) -> io::Result<Option<Line<'_>>> {
        let offset = self.offset();
        let mut searched = 0;
        loop {
            let avail = &self.buf[self.start..self.filled];
            if let Some(i) = memchr::memchr(b'\n', &avail[searched..]) {
                let len = searched + i;
                let number = self.line;
                let s = self.start;
                self.start += len + 1;
                self.line += 1;
                if len > max_len {
                    self.long_head.clear();
                    self.long_head
                        .extend_from_slice(&self.buf[s..s + len.min(LONG_HEAD)]);
                    return Ok(Some(Line {
                        number,
                        offset,
                        bytes: &self.long_head,
                        terminated: true,
                        too_long: true,
                    }));
                }
                let mut bytes = &self.buf[s..s + len];
                if let [rest @ .., b'\r'] = bytes {
                    bytes = rest;
                }
                return Ok(Some(Line {
                    number,
                    offset,
                    bytes,
                    terminated: true,
                    too_long: false,
                }));
            }
            searched = avail.len();
            if searched > max_len {
                return self.skip_long_line(offset).map(Some);
            }
            if !self.fill_more()? {
                let avail_len = self.filled - self.start;
                if avail_len == 0 {
                    return Ok(None);
                }
                let number = self.line;
                let s = self.start;
                self.start = self.filled;
                return Ok(Some(Line {
                    number,
                    offset,
                    bytes: &self.buf[s..self.filled],
                    terminated: false,
                    too_long: false,
                }));
            }
        }
    }

    fn skip_long_line(&mut self, offset: u64) -> io::Result<Line<'_>> {
        let number = self.line;
        let avail = &self.buf[self.start..self.filled];
        self.long_head.clear();
        self.long_head
            .extend_from_slice(&avail[..avail.len().min(LONG_HEAD)]);
        loop {
            let avail = &self.buf[self.start..self.filled];
            if let Some(i) = memchr::memchr(b'\n', avail) {
                self.start += i + 1;
                self.line += 1;
                return Ok(Line {
                    number,
                    offset,
                    bytes: &self.long_head,
                    terminated: true,
                    too_long: true,
                });
            }
            self.start = self.filled;
            if !self.fill_more()? {
                return Ok(Line {
                    number,
                    offset,
                    bytes: &self.long_head,
                    terminated: false,
                    too_long: true,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_numbers_and_cut_tail() {
        let data = b"a\r\nbb\n\nlast".to_vec();
        let mut src = ByteSource::new(Box::new(io::Cursor::new(data)));
        let mut got = Vec::new();
        while let Some(l) = src.next_line(100).unwrap() {
            got.push((l.number, l.bytes.to_vec(), l.terminated));
        }
        assert_eq!(
            got,
            vec![
                (1, b"a".to_vec(), true),
                (2, b"bb".to_vec(), true),
                (3, b"".to_vec(), true),
                (4, b"last".to_vec(), false)
            ]
        );
    }

    #[test]
    fn long_line_is_skipped_not_buffered() {
        let mut data = vec![b'x'; 3 * CHUNK];
        data.extend_from_slice(b"\nok\n");
        let mut src = ByteSource::new(Box::new(io::Cursor::new(data)));
        let l = src.next_line(1000).unwrap().unwrap();
        assert!(l.too_long);
        assert_eq!(l.number, 1);
        let l = src.next_line(1000).unwrap().unwrap();
        assert_eq!((l.number, l.bytes), (2, &b"ok"[..]));
        assert!(src.buf.capacity() < 2 * CHUNK + 1000);
    }
}
