//! Text helpers shared by the sinks and the cycle.

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary (AWS limits are in bytes).
pub(crate) fn clip_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
