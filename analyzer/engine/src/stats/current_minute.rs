//! The minute of the records being folded, held apart from the map of
//! minutes: a log is written in time order, so nearly every record falls
//! in the minute of the one before and needs no map lookup. Adding up a
//! minute apart and merging it in gives the same totals and sketch as
//! adding each record to the map.

use super::dense_sketch::DenseSketch;
use super::fine::{slice, FineSeries};
use super::sketch::Bucket;
use super::Minute;
use std::collections::btree_map::{BTreeMap, Entry};

#[derive(Default)]
pub(crate) struct CurrentMinute {
    /// The 10-second slice's start (epoch ms) and what it has gathered so
    /// far: it goes into its minute and into `fine`.
    held: Option<(i64, Minute)>,
    /// The held slice's query durations, to be added to its `latency`.
    latency: DenseSketch,
    /// The slices put so far, for short logs' charts.
    fine: FineSeries,
}

impl CurrentMinute {
    /// The slice of time `t`; a different one held before goes into
    /// `minutes` first.
    pub(crate) fn at<'a>(
        &'a mut self,
        t: i64,
        minutes: &mut BTreeMap<i64, Minute>,
    ) -> &'a mut Minute {
        let start = slice(t);
        if self.held.as_ref().is_some_and(|(s, _)| *s != start) {
            self.flush(minutes);
        }
        &mut self
            .held
            .get_or_insert_with(|| (start, Minute::default()))
            .1
    }

    /// Adds a query's duration to the latency of the slice of time `t`,
    /// and returns the slice.
    pub(crate) fn add_latency<'a>(
        &'a mut self,
        t: i64,
        minutes: &mut BTreeMap<i64, Minute>,
        b: Bucket,
    ) -> &'a mut Minute {
        self.at(t, minutes);
        self.latency.add_at(b);
        &mut self.held.as_mut().expect("held by at").1
    }

    /// Puts the held slice into its minute in `minutes`, and into the
    /// slices.
    pub(crate) fn flush(&mut self, minutes: &mut BTreeMap<i64, Minute>) {
        if let Some((start, mut m)) = self.held.take() {
            m.latency += &self.latency.take();
            self.fine.add(start, &m);
            match minutes.entry(start - start.rem_euclid(60_000)) {
                Entry::Vacant(v) => {
                    v.insert(m);
                }
                Entry::Occupied(mut o) => o.get_mut().merge(&m),
            }
        }
    }

    /// The slices put so far.
    pub(crate) fn take_fine(&mut self) -> FineSeries {
        std::mem::take(&mut self.fine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of minutes that come back (a log of interleaved sources)
    /// give the same minutes as adding each to the map.
    #[test]
    fn held_minutes_equal_direct_adds() {
        let times = [0i64, 10, 70_000, 70_001, 5, 130_000, 69_999, 60_000];
        let mut direct: BTreeMap<i64, Minute> = BTreeMap::new();
        let mut held: BTreeMap<i64, Minute> = BTreeMap::new();
        let mut cur = CurrentMinute::default();
        for (i, t) in times.iter().enumerate() {
            let start = t - t.rem_euclid(60_000);
            let ms = 0.5 + i as f64;
            let d = direct.entry(start).or_default();
            d.latency.add_at(Bucket::of(ms));
            let h = cur.add_latency(start, &mut held, Bucket::of(ms));
            for m in [d, h] {
                m.queries += 1;
                m.query_us += i as u64;
            }
        }
        cur.flush(&mut held);
        assert_eq!(held, direct);
        assert_eq!(held.len(), 3);
    }
}
