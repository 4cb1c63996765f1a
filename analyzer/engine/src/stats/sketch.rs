//! A mergeable quantile sketch for durations (DDSketch, Masson et al. 2019).
//!
//! Values fall in logarithmic buckets `(γ^(i-1), γ^i]` with
//! γ = (1 + α) / (1 - α). A quantile is answered with the bucket's middle
//! value, which is within a relative error α = 1% of the true quantile.
//! Two sketches merge by adding bucket counts, so the result does not depend
//! on how the input was split. Storage is one counter per occupied bucket,
//! so memory follows the number of distinct buckets, never the spread of
//! the values: a day of durations from 1 µs to 1 h needs under 1,100.

use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// The documented relative error of every quantile.
pub const RELATIVE_ERROR: f64 = 0.01;
/// Values at or below this (ms) are counted as zero.
pub(crate) const MIN_VALUE: f64 = 1e-6;

/// 1 / ln(γ), written out: `ln` is not const (checked by a test).
const INV_LN_GAMMA: f64 = 49.99833328888678;

fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

/// Counters saturate, so that no forged state (`pglog merge`) makes them
/// overflow; a real analysis never comes near 2^64 values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SketchFields")]
pub struct Sketch {
    /// (bucket index, count) of the occupied buckets, by index. A range
    /// of counters from the lowest to the highest index took 290 KB for
    /// two values 10^306 apart, in every minute of a forged log.
    buckets: Vec<(i32, u64)>,
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
        widen(self.count, &mut self.min, &mut self.max, v);
        self.count += 1;
        if v <= MIN_VALUE {
            self.zeros += 1;
            return;
        }
        self.add_bucket(b.index, 1);
    }

    fn add_bucket(&mut self, i: i32, n: u64) {
        match self.buckets.binary_search_by_key(&i, |&(k, _)| k) {
            Ok(at) => {
                let c = &mut self.buckets[at].1;
                *c = c.saturating_add(n);
            }
            Err(at) => self.buckets.insert(at, (i, n)),
        }
    }

    /// A sketch of the given parts; `buckets` by index, each occupied.
    pub(crate) fn from_parts(
        buckets: Vec<(i32, u64)>,
        zeros: u64,
        count: u64,
        min: f64,
        max: f64,
    ) -> Sketch {
        Sketch {
            buckets,
            zeros,
            count,
            min,
            max,
        }
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
        for &(i, c) in &self.buckets {
            if i > last {
                break;
            }
            n = n.saturating_add(c);
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
        for &(i, c) in &self.buckets {
            seen = seen.saturating_add(c);
            if seen > rank {
                let g = gamma();
                let v = 2.0 * g.powi(i) / (g + 1.0);
                return Some(v.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// Widens the range `min..=max` of `count` values to hold `v` too.
#[inline]
pub(crate) fn widen(count: u64, min: &mut f64, max: &mut f64, v: f64) {
    if count == 0 {
        *min = v;
        *max = v;
    } else {
        *min = min.min(v);
        *max = max.max(v);
    }
}

/// A value with its bucket index (the logarithm is the costly part).
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    value: f64,
    index: i32,
}

impl Bucket {
    pub(crate) fn value(self) -> f64 {
        self.value
    }

    /// The bucket's index; 0 for a zero or a value that is not finite.
    pub(crate) fn index(self) -> i32 {
        self.index
    }

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
        self.count = self.count.saturating_add(o.count);
        self.zeros = self.zeros.saturating_add(o.zeros);
        for &(i, c) in &o.buckets {
            self.add_bucket(i, c);
        }
    }
}

/// [`Sketch`] as stored, checked before use: buckets out of order or that
/// no finite value has, a minimum above the maximum (quantiles clamp
/// between them), and buckets that do not add up to the count (the
/// histogram subtracts one from the other) are a damaged state.
#[derive(Deserialize)]
struct SketchFields {
    buckets: Vec<(i32, u64)>,
    zeros: u64,
    count: u64,
    min: f64,
    max: f64,
}

impl TryFrom<SketchFields> for Sketch {
    type Error = String;

    fn try_from(f: SketchFields) -> Result<Sketch, String> {
        // Values at or below MIN_VALUE are zeros; f64::MAX has the top bucket.
        let (lowest, highest) = (bucket(MIN_VALUE), bucket(f64::MAX));
        let in_order = f.buckets.windows(2).all(|w| w[0].0 < w[1].0);
        if !in_order {
            return Err("sketch buckets out of order".to_string());
        }
        if let Some(&(i, _)) = f
            .buckets
            .iter()
            .find(|(i, _)| !(lowest..=highest).contains(i))
        {
            return Err(format!("sketch bucket {i} outside {lowest}..={highest}"));
        }
        let ordered = f.min <= f.max;
        if f.count > 0 && !ordered {
            return Err(format!("sketch minimum {} above maximum {}", f.min, f.max));
        }
        let held = f
            .buckets
            .iter()
            .try_fold(f.zeros, |n, &(_, c)| n.checked_add(c));
        if held != Some(f.count) {
            return Err(format!(
                "sketch of {} values holds {}",
                f.count,
                held.map_or("more than 2^64".to_string(), |n| n.to_string())
            ));
        }
        Ok(Sketch {
            buckets: f.buckets,
            zeros: f.zeros,
            count: f.count,
            min: f.min,
            max: f.max,
        })
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

    /// `s` written and read back as a state file holds it.
    fn stored(s: &Sketch) -> Result<Sketch, postcard::Error> {
        postcard::from_bytes(&postcard::to_stdvec(s).unwrap())
    }

    #[test]
    fn a_stored_sketch_reads_back_the_same() {
        let mut s = Sketch::default();
        for v in [0.0, 1e-9, 0.5, 3.0, 1e300, f64::MAX] {
            s.add(v);
        }
        assert_eq!(stored(&s).unwrap(), s);
        assert_eq!(stored(&Sketch::default()).unwrap(), Sketch::default());
    }

    #[test]
    fn stored_sketches_no_analysis_makes_are_refused() {
        let one = |buckets: Vec<(i32, u64)>, count: u64, min: f64, max: f64| Sketch {
            buckets,
            zeros: 0,
            count,
            min,
            max,
        };
        let refused = [
            // Buckets no finite value falls in, or out of order.
            one(vec![(i32::MAX, 1)], 1, 1.0, 2.0),
            one(vec![(i32::MIN, 1)], 1, 1.0, 1.0),
            one(vec![(2, 1), (1, 1)], 2, 1.0, 1.0),
            one(vec![(1, 1), (1, 1)], 2, 1.0, 1.0),
            // Buckets that do not add up to the count (the histogram
            // subtracted one from the other).
            one(vec![(0, 3)], 1, 1.0, 1.0),
            one(vec![(0, u64::MAX), (1, 1)], 0, 1.0, 1.0),
            // Quantiles clamp between the minimum and the maximum.
            one(vec![(0, 1)], 1, 2.0, 1.0),
            one(vec![(0, 1)], 1, f64::NAN, 1.0),
        ];
        for s in refused {
            assert!(stored(&s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn memory_follows_the_values_not_their_spread() {
        let (mut a, mut b) = (Sketch::default(), Sketch::default());
        a.add(1e-5);
        b.add(1e300);
        a += &b;
        a.add(1e-5);
        assert_eq!(a.buckets.len(), 2);
        assert_eq!(a.count_at_most(1.0), 2);
        for (q, exact) in [(0.5, 1e-5), (0.99, 1e300)] {
            let got = a.quantile(q).unwrap();
            assert!((got - exact).abs() <= exact * RELATIVE_ERROR, "q{q}: {got}");
        }
    }

    #[test]
    fn merged_counts_saturate() {
        let mut a = Sketch {
            buckets: vec![(bucket(1.0), u64::MAX)],
            zeros: 0,
            count: u64::MAX,
            min: 1.0,
            max: 1.0,
        };
        a += &a.clone();
        assert_eq!(a.count(), u64::MAX);
        assert_eq!(a.count_at_most(1.0), u64::MAX);
        assert_eq!(a.quantile(0.5), Some(1.0));
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
