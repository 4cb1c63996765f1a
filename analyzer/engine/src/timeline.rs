//! The report's time series in buckets sized to the log's span, so that a
//! chart of a 20-minute log and one of a week both show some tens to a few
//! hundred points. Built from the per-minute statistics: counts add up,
//! and a bucket's p95 comes from its minutes' merged latency sketches, not
//! from their p95s.

use crate::stats::sketch::Sketch;
use crate::stats::{Minute, Stats};
use crate::time_text::rfc3339;
use serde::Serialize;
use std::collections::BTreeMap;

/// Bucket sizes tried in turn, in seconds: 10 seconds (when the log's
/// slices were kept), minute, 5 and 15 minutes, hour, 6 hours, day. The
/// first that gives at most [`MAX_POINTS`] buckets over the span is taken;
/// longer spans take whole days enough to stay under it.
const BUCKETS_S: [i64; 7] = [10, 60, 300, 900, 3600, 6 * 3600, 86_400];
/// The most buckets a series has.
pub const MAX_POINTS: i64 = 300;

/// The log's activity over time, in buckets of `bucket_s` seconds.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Timeline {
    /// Seconds per bucket: 10, 60, 300, 900, 3600, 21600, or whole days.
    pub bucket_s: i64,
    /// Every bucket from the log's first minute to its last, quiet ones too
    /// (zero counts, `null` latency), oldest first.
    pub points: Vec<TimelinePoint>,
}

/// One bucket of the timeline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TimelinePoint {
    /// The bucket's start (RFC 3339, UTC).
    pub start: String,
    /// Timed queries that ended in the bucket.
    pub queries: u64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// ERROR, FATAL and PANIC records.
    pub errors: u64,
    /// Connections received.
    pub connections: u64,
    pub temp_bytes: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// The most sessions open at once in the bucket; `null` when no session
    /// is known then.
    pub sessions_open: Option<i64>,
}

/// The bucket size for a span from `first` to `last` (epoch ms, inclusive);
/// 10 seconds only when `slices` were kept.
pub fn bucket_ms(first: i64, last: i64, slices: bool) -> i64 {
    let span_s = (last.saturating_sub(first) / 1000).max(0);
    let points = |b: i64| span_s / b + 1;
    BUCKETS_S
        .iter()
        .copied()
        .filter(|b| slices || *b >= 60)
        .find(|b| points(*b) <= MAX_POINTS)
        .unwrap_or_else(|| {
            let days = span_s / 86_400 / (MAX_POINTS - 1) + 1;
            days.saturating_mul(86_400)
        })
        .saturating_mul(1000)
}

/// A bucket's gathered minutes.
#[derive(Default)]
struct Bucket {
    minute: Minute,
    sessions_open: Option<i64>,
}

impl Timeline {
    pub fn build(stats: &Stats, open_by_minute: &[(i64, i64)]) -> Timeline {
        let first = stats.minutes.keys().next().copied();
        let last = stats.minutes.keys().next_back().copied();
        let first = first
            .into_iter()
            .chain(open_by_minute.first().map(|m| m.0))
            .min();
        let last = last
            .into_iter()
            .chain(open_by_minute.last().map(|m| m.0))
            .max();
        let (Some(first), Some(last)) = (first, last) else {
            return Timeline::default();
        };
        let fine = &stats.fine;
        let size = bucket_ms(first, last.saturating_add(59_999), !fine.dropped);
        // Saturating: a saved state may hold any time.
        let start_of = |t: i64| t.saturating_sub(t.rem_euclid(size));
        let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
        let parts = if size < 60_000 {
            &fine.slices
        } else {
            &stats.minutes
        };
        for (m, c) in parts {
            buckets.entry(start_of(*m)).or_default().minute.merge(c);
        }
        // Sessions are known by the minute: a slice takes its minute's peak.
        for (m, open) in open_by_minute {
            let within = if size < 60_000 { 60_000 / size } else { 1 };
            for i in 0..within {
                let b = buckets
                    .entry(start_of(*m).saturating_add(i * size))
                    .or_default();
                b.sessions_open = Some(b.sessions_open.map_or(*open, |o| o.max(*open)));
            }
        }
        let mut points = Vec::new();
        // Bounded by the bucket size's choice; the checked step also stops a forged
        // state's times at the ends of the range.
        let mut t = start_of(first);
        for _ in 0..=MAX_POINTS {
            points.push(point(t, buckets.get(&t)));
            match t.checked_add(size) {
                Some(next) if next <= last => t = next,
                _ => break,
            }
        }
        Timeline {
            bucket_s: size / 1000,
            points,
        }
    }
}

fn point(start: i64, b: Option<&Bucket>) -> TimelinePoint {
    let empty = Bucket::default();
    let b = b.unwrap_or(&empty);
    let m = &b.minute;
    TimelinePoint {
        start: rfc3339(start),
        queries: m.queries,
        mean_ms: (m.queries > 0).then(|| round3(m.query_us as f64 / 1000.0 / m.queries as f64)),
        p95_ms: p95(&m.latency),
        errors: m.errors,
        connections: m.connections,
        temp_bytes: m.temp_bytes,
        checkpoints: m.checkpoints,
        sessions_open: b.sessions_open,
    }
}

fn p95(s: &Sketch) -> Option<f64> {
    s.quantile(0.95).map(round3)
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn buckets_follow_the_span() {
        assert_eq!(bucket_ms(0, 5 * MIN, true), 10_000);
        assert_eq!(bucket_ms(0, 5 * MIN, false), 60_000);
        assert_eq!(bucket_ms(0, 60 * MIN, true), 60_000);
        assert_eq!(bucket_ms(0, 299 * MIN, false), 60_000);
        assert_eq!(bucket_ms(0, 300 * MIN, false), 300_000);
        assert_eq!(bucket_ms(0, 24 * 60 * MIN, false), 300_000);
        assert_eq!(bucket_ms(0, 3 * 24 * 60 * MIN, false), 900_000);
        assert_eq!(bucket_ms(0, 7 * 24 * 60 * MIN, false), 3_600_000);
        // 60 days by 6 hours is 241 points; 90 days needs whole days.
        assert_eq!(bucket_ms(0, 60 * 24 * 60 * MIN, false), 6 * 3_600_000);
        assert_eq!(bucket_ms(0, 90 * 24 * 60 * MIN, false), 86_400_000);
        let years = bucket_ms(0, 50 * 365 * 24 * 60 * MIN, false);
        assert!(50 * 365 * 24 * 60 * MIN / years < MAX_POINTS);
        assert_eq!(bucket_ms(i64::MIN, i64::MAX, false) % 86_400_000, 0);
    }
}
