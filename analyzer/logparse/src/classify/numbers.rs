//! Numbers read out of a message's words: checkpoint, vacuum and analyze
//! reports, connection timings.

/// The first number after `key` in `s`.
pub(crate) fn number_after(s: &str, key: &str) -> Option<f64> {
    let i = s.find(key)? + key.len();
    let num: String = s[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

/// The integer just before `suffix`, e.g. `3` in `3 removed`.
pub(crate) fn number_before(s: &str, suffix: &str) -> Option<u64> {
    let i = s.find(suffix)?;
    let head = &s[..i];
    // The digits end `head`; whatever precedes them may be any character.
    head[head.trim_end_matches(|c: char| c.is_ascii_digit()).len()..]
        .parse()
        .ok()
}
