//! A mergeable quantile sketch for durations (DDSketch, Masson et al. 2019).
//!
//! Values fall in logarithmic buckets `(γ^(i-1), γ^i]` with
//! γ = (1 + α) / (1 - α). A quantile is answered with the bucket's middle
//! value, which is within a relative error α = 1% of the true quantile.
//! Two sketches merge by adding bucket counts, so the result does not depend
//! on how the input was split. Storage is one counter per occupied bucket
//! range: a day of durations from 1 µs to 1 h needs under 1,100 buckets.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// The documented relative error of every quantile.
pub const RELATIVE_ERROR: f64 = 0.01;
/// Values at or below this (ms) are counted as zero.
const MIN_VALUE: f64 = 1e-6;

/// 1 / ln(γ), written out: `ln` is not const (checked by a test).
const INV_LN_GAMMA: f64 = 49.99833328888678;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    /// Index of `counts[0]`.
    start: i32,
    counts: Vec<u64>,
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
}

impl Sketch {
    pub fn add(&mut self, v: f64) {
        self.add_at(Bucket::of(v));
    }

    /// Adds a value whose bucket was computed once for several sketches.
    pub fn add_at(&mut self, b: Bucket) {
        let v = b.value;
        if !v.is_finite() {
            return;
        }
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        if v <= MIN_VALUE {
            self.zeros += 1;
            return;
        }
        self.add_bucket(b.index, 1);
    }

    fn add_bucket(&mut self, i: i32, n: u64) {
        if self.counts.is_empty() {
            self.start = i;
            self.counts.push(0);
        } else if i < self.start {
            let grow = (self.start - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.start = i;
        } else if i >= self.start + self.counts.len() as i32 {
            self.counts.resize((i - self.start) as usize + 1, 0);
        }
        self.counts[(i - self.start) as usize] += n;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many values are at most `v` (bucket resolution: within α of `v`).
    pub fn count_at_most(&self, v: f64) -> u64 {
        if v < MIN_VALUE {
            return if v >= 0.0 { self.zeros } else { 0 };
        }
        let last = bucket(v);
        let mut n = self.zeros;
        for (k, &c) in self.counts.iter().enumerate() {
            if self.start + k as i32 > last {
                break;
            }
            n += c;
        }
        n
    }

    /// The `q` quantile (0..=1), within [`RELATIVE_ERROR`]; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        if q <= 0.0 {
            return Some(self.min);
        }
        if q >= 1.0 {
            return Some(self.max);
        }
        // Nearest rank: the smallest value with at least q of all at or below it.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1) - 1;
        if rank < self.zeros {
            return Some(self.min.max(0.0).min(MIN_VALUE));
        }
        let mut seen = self.zeros;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen > rank {
                let i = self.start + k as i32;
                let g = gamma();
                let v = 2.0 * g.powi(i) / (g + 1.0);
                return Some(v.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// A value with its bucket index (the logarithm is the costly part).
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    value: f64,
    index: i32,
}

impl Bucket {
    pub fn of(value: f64) -> Bucket {
        let index = if value > MIN_VALUE && value.is_finite() {
            bucket(value)
        } else {
            0
        };
        Bucket { value, index }
    }
}

fn bucket(v: f64) -> i32 {
    (v.ln() * INV_LN_GAMMA).ceil() as i32
}

impl AddAssign<&Sketch> for Sketch {
    fn add_assign(&mut self, o: &Sketch) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o.clone();
            return;
        }
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.count += o.count;
        self.zeros += o.zeros;
        for (k, &c) in o.counts.iter().enumerate() {
            if c > 0 {
                self.add_bucket(o.start + k as i32, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_the_documented_error() {
        let mut s = Sketch::default();
        let values: Vec<f64> = (1..=10_000).map(|i| i as f64 * 0.37).collect();
        for &v in &values {
            s.add(v);
        }
        for q in [0.5, 0.95, 0.99] {
            let exact = values[(q * values.len() as f64).ceil() as usize - 1];
            let got = s.quantile(q).unwrap();
            assert!(
                (got - exact).abs() <= exact * RELATIVE_ERROR,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(s.quantile(0.0), Some(0.37));
        assert_eq!(s.quantile(1.0), Some(3700.0));
    }

    #[test]
    fn the_written_out_constant_is_one_over_ln_gamma() {
        assert!((INV_LN_GAMMA - 1.0 / gamma().ln()).abs() < 1e-9);
    }

    #[test]
    fn merging_equals_adding_everything_to_one() {
        let (mut a, mut b, mut all) = (Sketch::default(), Sketch::default(), Sketch::default());
        for i in 0..5000 {
            let v = ((i * 7919) % 100_003) as f64 / 13.0;
            all.add(v);
            if i % 3 == 0 {
                a.add(v)
            } else {
                b.add(v)
            }
        }
        a += &b;
        assert_eq!(a.count(), all.count());
        for q in [0.1, 0.5, 0.9, 0.99] {
            assert_eq!(a.quantile(q), all.quantile(q));
        }
    }
}
