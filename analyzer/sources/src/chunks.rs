//! The bridge from an async download to the blocking `Read` the analyzer
//! pulls from: a task fetches chunks into a bounded channel as the reader
//! takes them, so at most a few chunks of an object are in memory however
//! large it is, and a reader that stops early stops the download.

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

/// Chunks fetched ahead of the reader.
const AHEAD: usize = 8;

pub(crate) fn channel() -> (mpsc::Sender<io::Result<Bytes>>, ChunkReader) {
    let (tx, rx) = mpsc::channel(AHEAD);
    (
        tx,
        ChunkReader {
            rx,
            chunk: Bytes::new(),
        },
    )
}

/// Reads the chunks in order; an error chunk is the reader's error, and
/// the sender's end is the end of the stream.
pub(crate) struct ChunkReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.chunk = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
