//! Addition for totals and counts.

/// Adds `n` to a total or a count. A forged or damaged log may hold any
/// number (durations, bytes, tuples) and a forged state any count, so
/// totals saturate instead of overflowing; saturating addition of unsigned
/// numbers is still associative, so merges give the same total in any order.
pub(crate) fn add_to(total: &mut u64, n: u64) {
    *total = total.saturating_add(n);
}
