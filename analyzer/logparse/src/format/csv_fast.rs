//! csvlog's fast path: splits a row the way csv-core would, for the rows
//! the server writes (fields bare, or quoted with `""` escapes, the row
//! ending in `\n`), and gives up on any other shape.

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
                // Bare fields are short (numbers, times, ids): a plain loop
                // beats a vectorised search's setup.
                let Some(end) = input[i..]
                    .iter()
                    .position(|&c| matches!(c, b',' | b'\n' | b'"' | b'\r'))
                    .map(|j| i + j)
                else {
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

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The first `"` in `s`. Most quoted fields are short (names, tags, an
/// empty `""`), so the first eight bytes are tested as one word before
/// paying memchr's setup.
fn find_quote(s: &[u8]) -> Option<usize> {
    let Some(head) = s.first_chunk::<8>() else {
        return memchr::memchr(b'"', s);
    };
    match quote_bits(u64::from_le_bytes(*head)) {
        0 => memchr::memchr(b'"', &s[8..]).map(|j| j + 8),
        bits => Some((bits.trailing_zeros() / 8) as usize),
    }
}

/// The high bit of each byte of `word` that is `"`: exact, no carries
/// between bytes (a byte's low seven bits plus 0x7f stay in the byte).
fn quote_bits(word: u64) -> u64 {
    let t = word ^ (ONES * b'"' as u64);
    !(((t & LOW7) + LOW7) | t) & HIGH
}
