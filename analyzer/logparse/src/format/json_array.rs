//! A JSON array of objects, pretty-printed or not, read one element at a
//! time: what `gcloud logging read --format=json` and
//! `az monitor log-analytics query` print. Elements are cut by a byte scan
//! (string and nesting aware) so that memory stays bounded by the record
//! size limit, whatever the size of the array.

use crate::buffer::ByteSource;
use std::io;

/// Does the input start with an array (after white space)?
pub fn is_array(head: &[u8]) -> bool {
    head.trim_ascii_start().starts_with(b"[")
}

/// The next array element, found at the start of `src`'s buffer.
pub enum Element {
    /// An object of `len` buffered bytes, starting at line `number`.
    Object {
        number: u64,
        offset: u64,
        len: usize,
    },
    /// An object longer than the limit, dropped; it started at line `number`.
    TooLong { number: u64, offset: u64 },
    /// Bytes that are not an object, up to the end of their line.
    Garbage {
        number: u64,
        offset: u64,
        len: usize,
    },
    /// An object with a string that a raw newline cuts (JSON strings hold
    /// none): dropped up to the line where the next object starts.
    Broken { number: u64, offset: u64 },
}

enum Stop {
    /// Just past the object's closing brace.
    End(usize),
    /// At a newline inside a string.
    Broken(usize),
}

/// Where an element ends, scanning from where a previous fill stopped.
#[derive(Default)]
struct Scan {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Where the object ends or breaks, if it does in `bytes`.
    fn run(&mut self, bytes: &[u8]) -> Option<Stop> {
        for (i, &c) in bytes.iter().enumerate() {
            if self.in_string {
                match c {
                    b'\n' => return Some(Stop::Broken(i)),
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(Stop::End(i + 1));
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Skips the array's punctuation and white space, then finds the next
/// element. The element's bytes stay buffered: the caller reads
/// `src.available()[..len]` and then consumes `len`.
pub fn next_element(src: &mut ByteSource, max: usize) -> io::Result<Option<Element>> {
    loop {
        let avail = src.available();
        if avail.is_empty() {
            if !src.fill_more()? {
                return Ok(None);
            }
            continue;
        }
        let skip = avail
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b',' | b'[' | b']'))
            .count();
        if skip > 0 {
            src.consume(skip);
            continue;
        }
        let number = src.line_number();
        let offset = src.offset();
        if avail[0] != b'{' {
            let len = match memchr::memchr(b'\n', avail) {
                Some(i) => i + 1,
                None => avail.len(),
            };
            return Ok(Some(Element::Garbage {
                number,
                offset,
                len,
            }));
        }
        return scan_object(src, max, number, offset).map(Some);
    }
}

fn scan_object(src: &mut ByteSource, max: usize, number: u64, offset: u64) -> io::Result<Element> {
    let mut scan = Scan::default();
    let mut scanned = 0;
    let mut dropped = false;
    loop {
        if let Some(stop) = scan.run(&src.available()[scanned..]) {
            let end = match stop {
                Stop::End(end) => end,
                Stop::Broken(at) => {
                    src.consume(scanned + at);
                    skip_to_object_line(src)?;
                    return Ok(Element::Broken { number, offset });
                }
            };
            let len = scanned + end;
            if dropped || len > max {
                src.consume(len);
                return Ok(Element::TooLong { number, offset });
            }
            return Ok(Element::Object {
                number,
                offset,
                len,
            });
        }
        scanned = src.available().len();
        if scanned > max {
            // Not kept: the rest is scanned and dropped as it comes.
            src.consume(scanned);
            scanned = 0;
            dropped = true;
        }
        if !src.fill_more()? {
            // Cut short: what there is goes to the parser, which says so.
            if dropped {
                return Ok(Element::TooLong { number, offset });
            }
            return Ok(Element::Object {
                number,
                offset,
                len: src.available().len(),
            });
        }
    }
}

/// Drops lines up to one that starts an object (after white space).
fn skip_to_object_line(src: &mut ByteSource) -> io::Result<()> {
    loop {
        src.fill_to(4096)?;
        let avail = src.available();
        let Some(nl) = memchr::memchr(b'\n', avail) else {
            let n = avail.len();
            src.consume(n);
            if !src.fill_more()? {
                return Ok(());
            }
            continue;
        };
        src.consume(nl + 1);
        if src.available().trim_ascii_start().starts_with(b"{") {
            return Ok(());
        }
    }
}

/// The complete elements at the start of `head`, for sniffing (an empty
/// one where an element is broken).
pub fn head_elements(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = head.trim_ascii_start().strip_prefix(b"[").unwrap_or(&[]);
    std::iter::from_fn(move || {
        let start = rest
            .iter()
            .position(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b','))?;
        rest = &rest[start..];
        if rest.first() != Some(&b'{') {
            return None;
        }
        let end = match Scan::default().run(rest)? {
            Stop::End(end) => end,
            // As the reader does: the next object starts on a later line.
            Stop::Broken(at) => {
                let mut next = at;
                loop {
                    let nl = memchr::memchr(b'\n', &rest[next..])?;
                    next += nl + 1;
                    if rest[next..].trim_ascii_start().starts_with(b"{") {
                        break;
                    }
                }
                rest = &rest[next..];
                return Some(&[][..]);
            }
        };
        let (element, after) = rest.split_at(end);
        rest = after;
        Some(element)
    })
}
