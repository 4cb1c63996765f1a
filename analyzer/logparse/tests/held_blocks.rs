//! A source reading held blocks in place gives the same lines as reading
//! the same bytes as a stream.

use pglog_logparse::buffer::ByteSource;
use pglog_logparse::held::{Block, HeldBytes};
use std::io::{self, Cursor};
use std::sync::Arc;

/// Blocks of `bytes` cut at `cuts`.
struct Cut {
    blocks: Vec<Block>,
}

impl Cut {
    fn new(bytes: &[u8], cuts: &[usize]) -> Cut {
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(bytes.len());
        let blocks = bounds
            .windows(2)
            .map(|w| Block {
                start: w[0] as u64,
                // Spare bytes past `len` are not the stream's.
                bytes: Arc::new([&bytes[w[0]..w[1]], b"junk\n"].concat()),
                len: w[1] - w[0],
            })
            .collect();
        Cut { blocks }
    }
}

impl HeldBytes for Cut {
    fn block_at(&mut self, pos: u64) -> io::Result<Option<Block>> {
        Ok(self
            .blocks
            .iter()
            .find(|b| b.start <= pos && pos < b.end())
            .cloned())
    }
}

fn lines(mut src: ByteSource, max: usize) -> Vec<(u64, u64, Vec<u8>, bool, bool)> {
    let mut got = Vec::new();
    while let Some(l) = src.next_line(max).unwrap() {
        // How much of a line too long is kept depends on the buffering.
        let kept = if l.too_long {
            &l.bytes[..1000]
        } else {
            l.bytes
        };
        got.push((l.number, l.offset, kept.to_vec(), l.terminated, l.too_long));
    }
    got.push((
        src.line_number(),
        src.offset(),
        Vec::new(),
        src.at_eof(),
        false,
    ));
    got
}

#[test]
fn held_blocks_read_as_the_same_stream() {
    let text: Vec<u8> = (0..4000)
        .flat_map(|i| {
            match i % 7 {
                0 => vec![b'x'; 3000 + i],
                _ => format!("line {i} {}", "y".repeat(i % 50)).into_bytes(),
            }
            .into_iter()
            .chain(*b"\n")
        })
        .chain(*b"tail without newline")
        .collect();
    let plain = lines(ByteSource::new(Box::new(Cursor::new(text.clone()))), 2000);
    // At line starts, as a decoded stream is cut, and anywhere: a line
    // that goes on in the next block is copied, not lost.
    let at_lines: Vec<usize> = memchr::memchr_iter(b'\n', &text)
        .step_by(301)
        .map(|i| i + 1)
        .collect();
    let anywhere: Vec<usize> = (1..text.len()).step_by(77_777).collect();
    for cuts in [at_lines, anywhere, Vec::new()] {
        let held = ByteSource::held(Box::new(Cut::new(&text, &cuts)), 0);
        assert_eq!(lines(held, 2000), plain, "cut at {cuts:?}");
    }
}

#[test]
fn a_held_source_starts_at_its_base() {
    let text = b"one\ntwo\nthree\n";
    let mut src = ByteSource::held(Box::new(Cut::new(text, &[4, 8])), 4);
    let l = src.next_line(100).unwrap().unwrap();
    assert_eq!((l.number, l.offset, l.bytes), (1, 4, &b"two"[..]));
    let l = src.next_line(100).unwrap().unwrap();
    assert_eq!((l.number, l.offset, l.bytes), (2, 8, &b"three"[..]));
    assert!(src.next_line(100).unwrap().is_none());
    assert_eq!(src.bytes_read(), 10);
}
