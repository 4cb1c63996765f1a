//! Counts by a name from a small fixed set (a severity, an event's name),
//! held apart from their map: nearly every record names one of a few, and
//! comparing a static name's address is cheaper than looking its text up
//! in a map of strings. Counts are sums, so adding them to the map later
//! gives the same map.

use crate::totals::bump;
use std::collections::BTreeMap;

/// Names held at once; another one first puts the held counts into the map.
const HELD: usize = 8;

#[derive(Debug, Default)]
pub(crate) struct HeldKeys {
    held: Vec<(&'static str, u64)>,
}

impl HeldKeys {
    /// Counts one of `key`.
    #[inline]
    pub(crate) fn add(&mut self, key: &'static str, map: &mut BTreeMap<String, u64>) {
        // The same name is the same static text, so its address tells.
        if let Some((_, n)) = self.held.iter_mut().find(|(k, _)| std::ptr::eq(*k, key)) {
            *n += 1;
            return;
        }
        if self.held.len() == HELD {
            self.flush(map);
        }
        self.held.push((key, 1));
    }

    /// Puts the held counts into `map`.
    pub(crate) fn flush(&mut self, map: &mut BTreeMap<String, u64>) {
        for (k, n) in self.held.drain(..) {
            bump(map, k, n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// More names than are held at once, in any order, give the counts
    /// of adding each to the map.
    #[test]
    fn held_counts_equal_direct_bumps() {
        let names: Vec<&'static str> = (0..20)
            .map(|i| &*Box::leak(format!("k{}", i % 11).into_boxed_str()))
            .collect();
        let mut direct = BTreeMap::new();
        let mut held_map = BTreeMap::new();
        let mut held = HeldKeys::default();
        for (i, k) in names.iter().cycle().take(200).enumerate() {
            let k = if i % 3 == 0 { "query" } else { k };
            bump(&mut direct, k, 1);
            held.add(k, &mut held_map);
        }
        held.flush(&mut held_map);
        assert_eq!(held_map, direct);
        assert_eq!(held_map.values().sum::<u64>(), 200);
    }
}
