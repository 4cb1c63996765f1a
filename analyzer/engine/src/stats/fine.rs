//! The activity of a short log in 10-second slices, so that a chart of a
//! 5-minute log has tens of points, not five. Kept only while the log has
//! at most [`MAX_SLICES`] distinct slices (50 minutes of a busy log); past
//! that the minutes serve every chart, and the slices are dropped for good
//! (and so, exactly, when split ranges merge: the union is over the cap).

use super::Minute;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Milliseconds per slice.
pub const SLICE_MS: i64 = 10_000;
/// The most slices kept: 50 minutes' worth.
pub const MAX_SLICES: usize = 300;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FineSeries {
    /// Keyed by the slice's start, epoch ms (UTC).
    pub slices: BTreeMap<i64, Minute>,
    /// More than [`MAX_SLICES`] slices were seen: `slices` is empty.
    pub dropped: bool,
}

pub fn slice(t: i64) -> i64 {
    t - t.rem_euclid(SLICE_MS)
}

impl FineSeries {
    pub(crate) fn add(&mut self, start: i64, m: &Minute) {
        if self.dropped {
            return;
        }
        self.slices.entry(start).or_default().merge(m);
        self.enforce_cap();
    }

    pub(crate) fn merge(&mut self, o: &FineSeries) {
        if o.dropped {
            self.drop_all();
        }
        if self.dropped {
            return;
        }
        for (k, m) in &o.slices {
            self.slices.entry(*k).or_default().merge(m);
        }
        self.enforce_cap();
    }

    fn enforce_cap(&mut self) {
        if self.slices.len() > MAX_SLICES {
            self.drop_all();
        }
    }

    fn drop_all(&mut self) {
        self.slices.clear();
        self.dropped = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(starts: impl Iterator<Item = i64>) -> FineSeries {
        let mut f = FineSeries::default();
        let m = Minute {
            queries: 1,
            ..Minute::default()
        };
        for s in starts {
            f.add(s * SLICE_MS, &m);
        }
        f
    }

    /// Split ranges merge to what one pass keeps, under and over the cap.
    #[test]
    fn merged_halves_equal_one_pass() {
        for n in [10, MAX_SLICES as i64, MAX_SLICES as i64 + 1, 1000] {
            let whole = with(0..n);
            let mut a = with(0..n / 2);
            a.merge(&with(n / 2..n));
            assert_eq!(a, whole, "{n} slices");
            assert_eq!(whole.dropped, n as usize > MAX_SLICES);
        }
    }
}
