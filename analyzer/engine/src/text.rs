//! Cutting texts to a number of characters, for what the report keeps.

/// The first `max` characters of `s` (all of it when shorter).
pub(crate) fn head_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `s` cut at `max` characters, with `…` where it was cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    let head = head_chars(s, max);
    if head.len() < s.len() {
        format!("{head}…")
    } else {
        s.to_string()
    }
}
