//! A [`Sketch`] being filled, with its buckets as counters in a window of
//! indices: adding a value is an increment instead of a search of the
//! sparse buckets. The held minute's latency is filled this way (a minute
//! of queries is thousands of values in a few hundred buckets) and taken
//! as a sparse sketch when the minute changes. Values outside the window
//! go to a sparse sketch; the two merge exactly (a value's bucket decides
//! which part it is in, so equal values are never split).

use super::sketch::{widen, Bucket, Sketch, MIN_VALUE};

/// Bucket indices the counters cover: a factor of e^(2048/50) ≈ 6·10^17
/// between the lowest and the highest, centred on a minute's first value.
const WINDOW: usize = 2048;

pub(crate) struct DenseSketch {
    /// Counts of the buckets `base..base + WINDOW`; empty until first used.
    counts: Vec<u64>,
    base: i32,
    /// The counters in use are within `lo..=hi` (`lo > hi` when none).
    lo: usize,
    hi: usize,
    /// Of the values counted here (zeros and in the window), as a
    /// sketch keeps them.
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
    outside: Sketch,
}

impl Default for DenseSketch {
    fn default() -> Self {
        DenseSketch {
            counts: Vec::new(),
            base: 0,
            lo: usize::MAX,
            hi: 0,
            zeros: 0,
            count: 0,
            min: 0.0,
            max: 0.0,
            outside: Sketch::default(),
        }
    }
}

impl DenseSketch {
    /// As [`Sketch::add_at`].
    #[inline]
    pub(crate) fn add_at(&mut self, b: Bucket) {
        let v = b.value();
        if !v.is_finite() {
            return;
        }
        let slot = if v <= MIN_VALUE {
            None
        } else {
            match self.slot(b.index()) {
                Some(at) => Some(at),
                None => return self.outside.add_at(b),
            }
        };
        widen(self.count, &mut self.min, &mut self.max, v);
        self.count += 1;
        match slot {
            None => self.zeros += 1,
            Some(at) => {
                self.counts[at] = self.counts[at].saturating_add(1);
                self.lo = self.lo.min(at);
                self.hi = self.hi.max(at);
            }
        }
    }

    /// The counter of bucket `index`, when the window holds it.
    fn slot(&mut self, index: i32) -> Option<usize> {
        if self.lo > self.hi {
            if self.counts.is_empty() {
                self.counts = vec![0; WINDOW];
            }
            self.base = index.saturating_sub(WINDOW as i32 / 2);
        }
        let at = i64::from(index) - i64::from(self.base);
        (0..WINDOW as i64).contains(&at).then_some(at as usize)
    }

    /// The sketch of the values added since the last take; empties this.
    pub(crate) fn take(&mut self) -> Sketch {
        let mut buckets = Vec::new();
        if self.lo <= self.hi {
            for (at, c) in self.counts[self.lo..=self.hi].iter_mut().enumerate() {
                if *c > 0 {
                    buckets.push((self.base + (self.lo + at) as i32, *c));
                    *c = 0;
                }
            }
        }
        let mut s = Sketch::from_parts(buckets, self.zeros, self.count, self.min, self.max);
        s += &std::mem::take(&mut self.outside);
        self.lo = usize::MAX;
        self.hi = 0;
        self.zeros = 0;
        self.count = 0;
        self.min = 0.0;
        self.max = 0.0;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zeros, values far apart (outside any window), repeated and not
    /// finite ones give the sketch of adding each to a sketch, also after
    /// a take.
    #[test]
    fn dense_equals_sparse() {
        let values = [
            0.5,
            0.0,
            3.0,
            1e300,
            0.004,
            0.5,
            1e-12,
            f64::NAN,
            2.5e-5,
            7e9,
            -1.0,
            0.5,
            1e-300,
            f64::INFINITY,
            123.456,
        ];
        let mut dense = DenseSketch::default();
        for round in 0..2 {
            let mut sparse = Sketch::default();
            for (i, v) in values.iter().enumerate() {
                let v = v * (1.0 + round as f64) + (i % 3) as f64 * 1e-3;
                sparse.add_at(Bucket::of(v));
                dense.add_at(Bucket::of(v));
            }
            assert_eq!(dense.take(), sparse);
        }
        assert_eq!(dense.take(), Sketch::default());
    }
}
