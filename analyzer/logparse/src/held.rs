//! Input already held in memory in blocks (a decompressed stream cut at line
//! starts): the buffer.rs `ByteSource` reads a block in place instead of
//! copying it into its own buffer, and copies only the few bytes of a
//! record that continues from one block into the next.

use std::io;
use std::ops::Deref;
use std::sync::Arc;

/// `bytes[..len]` of a stream, from offset `start` on.
#[derive(Clone)]
pub struct Block {
    pub start: u64,
    pub bytes: Arc<Vec<u8>>,
    pub len: usize,
}

impl Block {
    /// The stream offset just past the block.
    pub fn end(&self) -> u64 {
        self.start + self.len as u64
    }
}

/// Blocks of one stream, in order, without gaps.
pub trait HeldBytes: Send {
    /// The block holding stream offset `pos` (it may start before `pos`);
    /// `None` at the stream's end.
    fn block_at(&mut self, pos: u64) -> io::Result<Option<Block>>;
}

/// A source's buffered bytes: its own buffer, or a held block read in place.
pub(crate) struct Storage {
    pub owned: Vec<u8>,
    pub held: Option<Block>,
}

impl Storage {
    pub fn owned(capacity: usize) -> Storage {
        Storage {
            owned: Vec::with_capacity(capacity),
            held: None,
        }
    }

    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.owned.capacity()
    }
}

impl Deref for Storage {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.held {
            Some(b) => &b.bytes[..b.len],
            None => &self.owned,
        }
    }
}
