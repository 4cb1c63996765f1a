//! The bytes the simple lexer path must look at, found eight at a time:
//! most of a statement (words, single spaces, punctuation) is copied as it
//! is, and testing it a byte at a time was most of the lexer's cost.

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` whose low seven bits are `n` or more
/// (`n <= 0x80`): exact, as a byte's low bits plus `0x80 - n` stay in it.
#[inline(always)]
fn at_least(w: u64, n: u8) -> u64 {
    ((w & LOW7) + ONES * u64::from(0x80 - n)) & HIGH
}

/// The marks of a word: its special ASCII bytes (controls, `"` to `'`,
/// `-` to `9`) and its spaces.
#[inline(always)]
fn marks(w: u64) -> (u64, u64) {
    let ascii = !w & HIGH;
    let control = !at_least(w, 0x20);
    let quotes = at_least(w, 0x22) & !at_least(w, 0x28);
    let numbers = at_least(w, 0x2d) & !at_least(w, 0x3a);
    let spaces = at_least(w, 0x20) & !at_least(w, 0x21);
    ((control | quotes | numbers) & ascii, spaces & ascii)
}

/// The first index from `at` whose byte is a control character, one of
/// `"#$%&'`, `-./`, a digit, or a space right after a space; `b.len()` if
/// none is. Every other byte is one the simple path copies as it is.
pub(super) fn next_special(b: &[u8], mut at: usize) -> usize {
    // The high bit of the first byte when the byte before `at` is a space.
    let mut carry = if at > 0 && b[at - 1] == b' ' { 0x80 } else { 0 };
    while at < b.len() {
        let w = match b.get(at..at + 8) {
            Some(s) => u64::from_le_bytes(s.try_into().expect("eight bytes")),
            None => {
                // Padded with a byte that is never special.
                let mut tail = [b'a'; 8];
                tail[..b.len() - at].copy_from_slice(&b[at..]);
                u64::from_le_bytes(tail)
            }
        };
        let (special, spaces) = marks(w);
        let found = special | (spaces & ((spaces << 8) | carry));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        carry = spaces >> 56;
        at += 8;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::next_special;

    fn special_at(b: &[u8], i: usize) -> bool {
        let c = b[i];
        c < 0x20
            || (b'"'..=b'\'').contains(&c)
            || (b'-'..=b'9').contains(&c)
            || (c == b' ' && i > 0 && b[i - 1] == b' ')
    }

    #[test]
    fn finds_what_a_byte_loop_finds() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..100_000 {
            let len = (next() % 24) as usize;
            // Mostly the bytes near the special ones, some of any value.
            let b: Vec<u8> = (0..len)
                .map(|_| match next() % 4 {
                    0 => (next() % 256) as u8,
                    1 => b' ',
                    _ => 0x1c + (next() % 0x24) as u8,
                })
                .collect();
            let at = if len == 0 {
                0
            } else {
                (next() as usize) % (len + 1)
            };
            let want = (at..len).find(|&i| special_at(&b, i)).unwrap_or(len);
            assert_eq!(next_special(&b, at), want, "{b:?} from {at}");
        }
    }
}
