//! Bytes of a 64-bit word equal to a given byte, found without a loop: the
//! fast readers test the first words of a short field this way before
//! paying a vectorised search's setup.

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The word of the eight bytes at `s[at..]`, first byte lowest.
pub(super) fn word_at(s: &[u8], at: usize) -> Option<u64> {
    s.get(at..at + 8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("eight bytes")))
}

/// The high bit of each byte of `word` that is `byte`: exact, no carries
/// between bytes (a byte's low seven bits plus 0x7f stay in the byte).
pub(super) fn bits_of(word: u64, byte: u8) -> u64 {
    let t = word ^ (ONES * byte as u64);
    !(((t & LOW7) + LOW7) | t) & HIGH
}

/// The index of the first byte that `bits` (from [`bits_of`]) marks.
pub(super) fn first(bits: u64) -> usize {
    (bits.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::{bits_of, first, word_at};

    #[test]
    fn bits_mark_exactly_the_equal_bytes() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes = seed.to_le_bytes();
            let byte = bytes[(seed >> 59) as usize % 8] ^ (seed as u8 & 0x81);
            let bits = bits_of(seed, byte);
            for (i, &b) in bytes.iter().enumerate() {
                assert_eq!(
                    bits >> (8 * i + 7) & 1 == 1,
                    b == byte,
                    "{seed:#x} {byte:#x}"
                );
            }
            if bits != 0 {
                assert_eq!(first(bits), bytes.iter().position(|&b| b == byte).unwrap());
            }
        }
        assert_eq!(word_at(b"0123456", 0), None);
        assert_eq!(
            word_at(b"x01234567", 1),
            Some(u64::from_le_bytes(*b"01234567"))
        );
    }
}
