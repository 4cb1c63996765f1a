//! Addition for totals and counts.

use std::collections::BTreeMap;

/// Adds `n` to a total or a count. A forged or damaged log may hold any
/// number (durations, bytes, tuples) and a forged state any count, so
/// totals saturate instead of overflowing; saturating addition of unsigned
/// numbers is still associative, so merges give the same total in any order.
pub(crate) fn add_to(total: &mut u64, n: u64) {
    *total = total.saturating_add(n);
}

/// Adds `n` to the count of `key`.
pub(crate) fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => add_to(v, n),
        None => {
            map.insert(key.to_string(), n);
        }
    }
}
