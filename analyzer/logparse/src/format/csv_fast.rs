//! csvlog's fast path: splits a row the way csv-core would, for the rows
//! the server writes (fields bare, or quoted with `""` escapes, the row
//! ending in `\n`), and gives up on any other shape.

use super::word_bytes::{bits_of, first, word_at};

/// What the fast path made of the bytes at a row start.
pub(super) enum Fast {
    /// A row of `spans.len()` fields, `usize` bytes long with its newline.
    Row(usize),
    /// The row goes past the buffered bytes.
    NeedMore,
    /// A shape the fast path does not handle; csv-core reads this row.
    Fallback,
}

/// Where a field's text is: in the input row itself (no `""` escapes, the
/// common case, read without copying) or in the unescaped copy buffer.
#[derive(Clone, Copy)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub copied: bool,
}

/// The fields of one row, at most `N`, without a growable vector's checks.
pub(super) struct Spans<const N: usize> {
    items: [Span; N],
    len: usize,
}

impl<const N: usize> Spans<N> {
    pub fn new() -> Spans<N> {
        Spans {
            items: [Span {
                start: 0,
                end: 0,
                copied: false,
            }; N],
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn is_full(&self) -> bool {
        self.len == N
    }

    /// False when full.
    fn push(&mut self, s: Span) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = s;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    pub fn as_slice(&self) -> &[Span] {
        &self.items[..self.len]
    }
}

/// Splits the row at the start of `input` into `spans` (unescaped copies
/// in `out`). A row with more than `N - 1` fields falls back, so that
/// csv-core names what is wrong with it.
/// Kept out of line: inlined into the reader it took about 170 more
/// instructions per row (callgrind), the loop state spilling around it.
#[inline(never)]
pub(super) fn fast_row<const N: usize>(
    input: &[u8],
    out: &mut Vec<u8>,
    spans: &mut Spans<N>,
) -> Fast {
    out.clear();
    spans.clear();
    let mut i = 0;
    loop {
        if spans.is_full() {
            return Fast::Fallback;
        }
        match input.get(i) {
            None => return Fast::NeedMore,
            Some(b'"') => {
                i += 1;
                let field_start = i;
                // Where the field starts in `out`, once an escaped quote
                // makes copying necessary.
                let mut copied: Option<usize> = None;
                let mut seg = field_start;
                loop {
                    let Some(quote) = find_quote(&input[i..]).map(|j| i + j) else {
                        return Fast::NeedMore;
                    };
                    match input.get(quote + 1) {
                        Some(b'"') => {
                            copied.get_or_insert(out.len());
                            out.extend_from_slice(&input[seg..quote]);
                            out.push(b'"');
                            i = quote + 2;
                            seg = i;
                        }
                        Some(&c @ (b',' | b'\n')) => {
                            let span = match copied {
                                Some(start) => {
                                    out.extend_from_slice(&input[seg..quote]);
                                    Span {
                                        start,
                                        end: out.len(),
                                        copied: true,
                                    }
                                }
                                None => Span {
                                    start: field_start,
                                    end: quote,
                                    copied: false,
                                },
                            };
                            if !spans.push(span) {
                                return Fast::Fallback;
                            }
                            i = quote + 2;
                            if c == b'\n' {
                                return Fast::Row(i);
                            }
                            break;
                        }
                        None => return Fast::NeedMore,
                        Some(_) => return Fast::Fallback,
                    }
                }
            }
            Some(_) => {
                let Some(end) = bare_end(input, i) else {
                    return Fast::NeedMore;
                };
                let stop = input[end];
                if stop == b'"' || stop == b'\r' {
                    return Fast::Fallback;
                }
                if !spans.push(Span {
                    start: i,
                    end,
                    copied: false,
                }) {
                    return Fast::Fallback;
                }
                i = end + 1;
                if stop == b'\n' {
                    return Fast::Row(i);
                }
            }
        }
    }
}

/// The index of the first `,`, `\n`, `"` or `\r` at or after `at`: a bare
/// field's end. Bare fields are short (numbers, times, ids), too short for
/// a vectorised search's setup; eight bytes are tested at a time.
fn bare_end(input: &[u8], mut at: usize) -> Option<usize> {
    while let Some(w) = word_at(input, at) {
        let bits = bits_of(w, b',') | bits_of(w, b'\n') | bits_of(w, b'"') | bits_of(w, b'\r');
        if bits != 0 {
            return Some(at + first(bits));
        }
        at += 8;
    }
    input[at..]
        .iter()
        .position(|&c| matches!(c, b',' | b'\n' | b'"' | b'\r'))
        .map(|j| at + j)
}

/// The first `"` in `s`. Most quoted fields are short (names, tags, an
/// empty `""`), so the first eight bytes are tested as one word before
/// paying memchr's setup.
fn find_quote(s: &[u8]) -> Option<usize> {
    let Some(head) = word_at(s, 0) else {
        return memchr::memchr(b'"', s);
    };
    match bits_of(head, b'"') {
        0 => memchr::memchr(b'"', &s[8..]).map(|j| j + 8),
        bits => Some(first(bits)),
    }
}

#[cfg(test)]
mod tests {
    //! The fast path against csv-core on every row of the sample csvlogs,
    //! cut short and with bytes that break the server's shapes put in:
    //! whenever the fast path reads a row, csv-core reads the same fields.

    use super::{fast_row, find_quote, Fast, Spans};
    use std::io::Read;
    use std::path::{Path, PathBuf};

    fn csvlogs(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                csvlogs(&path, out);
            } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
                out.push(path);
            }
        }
    }

    fn sample_bytes() -> Vec<Vec<u8>> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
        let mut paths = Vec::new();
        csvlogs(&root, &mut paths);
        paths.sort();
        assert!(paths.len() >= 10, "sample csvlogs: {paths:?}");
        paths
            .iter()
            .map(|p| {
                let mut bytes = Vec::new();
                crate::source::open(p)
                    .unwrap()
                    .reader
                    .read_to_end(&mut bytes)
                    .unwrap();
                bytes
            })
            .collect()
    }

    /// csv-core's first record of `input`: its length and fields.
    fn core_row(input: &[u8]) -> Option<(usize, Vec<Vec<u8>>)> {
        let mut rdr = csv_core::Reader::new();
        let mut out = vec![0u8; input.len() + 1];
        let mut ends = vec![0usize; 64];
        let (res, nin, _, nend) = rdr.read_record(input, &mut out, &mut ends);
        if !matches!(res, csv_core::ReadRecordResult::Record) {
            return None;
        }
        let mut start = 0;
        let fields = ends[..nend]
            .iter()
            .map(|&end| {
                let f = out[start..end].to_vec();
                start = end;
                f
            })
            .collect();
        Some((nin, fields))
    }

    /// Fast and csv-core agree on the row at the start of `input`; true
    /// when the fast path read it.
    fn agree(input: &[u8]) -> bool {
        if input.starts_with(b"\n") || input.starts_with(b"\r\n") {
            // A blank line is the reader's own to count (csv-core skips it).
            return false;
        }
        let mut copy = Vec::new();
        let mut spans = Spans::<27>::new();
        let Fast::Row(n) = fast_row(input, &mut copy, &mut spans) else {
            return false;
        };
        let fields: Vec<Vec<u8>> = spans
            .as_slice()
            .iter()
            .map(|s| {
                let text = if s.copied { &copy[..] } else { input };
                text[s.start..s.end].to_vec()
            })
            .collect();
        assert_eq!(
            core_row(input),
            Some((n, fields)),
            "{}",
            String::from_utf8_lossy(input)
        );
        true
    }

    /// Each row with the next one after it (the reader's buffer holds more
    /// than one row).
    fn rows(bytes: &[u8]) -> Vec<&[u8]> {
        let mut starts = vec![0];
        let mut at = 0;
        while let Some((n, _)) = core_row(&bytes[at..]) {
            at += n;
            starts.push(at);
            if at >= bytes.len() {
                break;
            }
        }
        starts
            .windows(3)
            .map(|w| &bytes[w[0]..w[2]])
            .chain(starts.windows(2).last().map(|w| &bytes[w[0]..w[1]]))
            .collect()
    }

    #[test]
    fn the_fast_path_reads_every_sample_row_as_csv_core_does() {
        let (mut rows_read, mut total) = (0, 0);
        for bytes in sample_bytes() {
            for row in rows(&bytes) {
                total += 1;
                rows_read += agree(row) as usize;
            }
        }
        assert!(total > 10_000, "{total} rows");
        assert_eq!(rows_read, total, "the server's rows take the fast path");
    }

    #[test]
    fn cut_or_changed_rows_are_read_as_csv_core_does_or_left_to_it() {
        for bytes in sample_bytes() {
            for (i, row) in rows(&bytes).into_iter().enumerate() {
                let len = core_row(row).map_or(row.len(), |(n, _)| n);
                // Every few rows: enough of each kind, and the test quick.
                if i % 64 == 0 {
                    for cut in 0..len {
                        assert!(!agree(&row[..cut]), "a cut row was read");
                    }
                }
                if i % 8 != 0 {
                    continue;
                }
                for k in 0..8 {
                    let at = len * k / 8;
                    for b in [b'"', b'\r', b',', b'\n', b'x'] {
                        let mut changed = row.to_vec();
                        changed.insert(at, b);
                        agree(&changed);
                    }
                    let mut changed = row.to_vec();
                    changed.remove(at);
                    agree(&changed);
                }
            }
        }
    }

    #[test]
    fn find_quote_finds_what_memchr_finds() {
        for bytes in sample_bytes() {
            for start in (0..bytes.len()).step_by(7) {
                let s = &bytes[start..(start + 40).min(bytes.len())];
                assert_eq!(find_quote(s), memchr::memchr(b'"', s));
            }
        }
    }
}
