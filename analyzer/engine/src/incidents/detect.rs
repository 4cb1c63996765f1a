//! Which minutes stand out, series by series, and the windows they make.
//!
//! For each series the baseline is the median of the log's own minutes and
//! its spread the MAD (scaled by 1.4826 to match a standard deviation on
//! normal data); for counts the spread is at least √median (a Poisson
//! count's standard deviation), at least 1. A minute is flagged on a series
//! when its value is above the median by `Z` spreads, by at least the
//! series' minimum effect, and by a factor of at least its minimum ratio.
//! Only rises count: a drop of throughput shows as the latency it causes.

use crate::incident_report::IncidentSignal;
use crate::stats::Minute;
use std::collections::BTreeMap;

/// Minutes with activity a log needs for a baseline.
pub const MIN_MINUTES: usize = 10;
/// Spreads above the median that flag a minute.
pub const Z: f64 = 4.0;
/// Queries a minute needs for its latency to count.
const MIN_QUERIES: u64 = 5;
/// A signal's strength in the score is capped, so that one extreme series
/// does not outweigh several clear ones.
const MAX_STRENGTH: f64 = 100.0;
const MINUTE_MS: i64 = 60_000;

/// One per-minute series and its thresholds.
pub struct Rule {
    pub name: &'static str,
    pub unit: &'static str,
    /// Per-minute counts per value unit, for the Poisson floor; `None` for
    /// a series that is no count.
    count_per_unit: Option<f64>,
    min_effect: f64,
    min_ratio: f64,
    value: fn(&Minute) -> Option<f64>,
}

fn latency_ok(m: &Minute) -> bool {
    m.queries >= MIN_QUERIES
}

pub const RULES: [Rule; 12] = [
    Rule {
        name: "p95_ms",
        unit: "ms",
        count_per_unit: None,
        min_effect: 100.0,
        min_ratio: 2.0,
        value: |m| {
            if latency_ok(m) {
                m.latency.quantile(0.95)
            } else {
                None
            }
        },
    },
    Rule {
        name: "mean_ms",
        unit: "ms",
        count_per_unit: None,
        min_effect: 50.0,
        min_ratio: 2.0,
        value: |m| latency_ok(m).then(|| m.query_us as f64 / 1000.0 / m.queries as f64),
    },
    Rule {
        name: "queries_per_s",
        unit: "per_s",
        count_per_unit: Some(60.0),
        min_effect: 5.0,
        min_ratio: 2.0,
        value: |m| Some(m.queries as f64 / 60.0),
    },
    Rule {
        name: "errors_per_s",
        unit: "per_s",
        count_per_unit: Some(60.0),
        min_effect: 10.0 / 60.0,
        min_ratio: 3.0,
        // Authentication failures are FATAL too, but their own series.
        value: |m| Some(m.errors.saturating_sub(m.auth_failures) as f64 / 60.0),
    },
    Rule {
        name: "cancellations",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 3.0,
        min_ratio: 3.0,
        value: |m| Some(m.cancellations as f64),
    },
    Rule {
        name: "lock_waits",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 3.0,
        min_ratio: 3.0,
        value: |m| Some(m.lock_waits as f64),
    },
    Rule {
        name: "lock_wait_ms",
        unit: "ms",
        count_per_unit: None,
        min_effect: 5000.0,
        min_ratio: 3.0,
        value: |m| Some(m.lock_wait_us as f64 / 1000.0),
    },
    Rule {
        name: "deadlocks",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 1.0,
        min_ratio: 2.0,
        value: |m| Some(m.deadlocks as f64),
    },
    Rule {
        name: "connections",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 30.0,
        min_ratio: 3.0,
        value: |m| Some(m.connections as f64),
    },
    Rule {
        name: "auth_failures",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 5.0,
        min_ratio: 3.0,
        value: |m| Some(m.auth_failures as f64),
    },
    Rule {
        name: "temp_bytes",
        unit: "bytes",
        count_per_unit: None,
        min_effect: 16.0 * 1024.0 * 1024.0,
        min_ratio: 4.0,
        value: |m| Some(m.temp_bytes as f64),
    },
    Rule {
        name: "checkpoints",
        unit: "per_minute",
        count_per_unit: Some(1.0),
        min_effect: 3.0,
        min_ratio: 3.0,
        value: |m| Some(m.checkpoints as f64),
    },
];

/// A series' baseline over the log's minutes.
#[derive(Debug, Clone, Copy)]
struct Baseline {
    median: f64,
    spread: f64,
}

impl Rule {
    fn baseline(&self, minutes: &BTreeMap<i64, Minute>) -> Option<Baseline> {
        let mut v: Vec<f64> = minutes.values().filter_map(self.value).collect();
        if v.len() < MIN_MINUTES {
            return None;
        }
        let median = median(&mut v);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        let mut spread = 1.4826 * self::median(&mut dev);
        if let Some(per) = self.count_per_unit {
            spread = spread.max((median * per).max(1.0).sqrt() / per);
        }
        Some(Baseline { median, spread })
    }

    fn flags(&self, b: &Baseline, v: f64) -> bool {
        let rise = v - b.median;
        rise >= Z * b.spread && rise >= self.min_effect && v >= self.min_ratio * b.median
    }

    fn strength(&self, b: &Baseline, v: f64) -> f64 {
        if b.spread > 0.0 {
            ((v - b.median) / b.spread).min(MAX_STRENGTH)
        } else {
            MAX_STRENGTH
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A stretch of flagged minutes, `[start, end)` in epoch ms, with the
/// signals that flagged it, strongest first, and its score.
#[derive(Debug, Clone)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub signals: Vec<IncidentSignal>,
    pub score: f64,
}

/// The windows of flagged minutes. Each series' flagged minutes make
/// spans, neighbours and minutes one minute apart merging (a burst with a
/// quiet minute inside is one burst); spans of different series merge when
/// they share a minute. So bursts of different kinds in adjacent minutes
/// stay apart: they are different causes.
pub fn windows(minutes: &BTreeMap<i64, Minute>) -> Vec<Window> {
    if minutes.len() < MIN_MINUTES {
        return Vec::new();
    }
    let baselines: Vec<Option<Baseline>> = RULES.iter().map(|r| r.baseline(minutes)).collect();
    // One lock wait is logged when it passes deadlock_timeout and its wait
    // time when it ends, often in the next minute: series of one family
    // (see `family`) make their spans together, so one cause is one window.
    let mut flagged: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for (r, b) in RULES.iter().zip(&baselines) {
        let Some(b) = b else { continue };
        let own = flagged.entry(family(r.name)).or_default();
        for (t, m) in minutes {
            if (r.value)(m).is_some_and(|v| r.flags(b, v)) {
                own.push(*t);
            }
        }
    }
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for mut times in flagged.into_values() {
        times.sort_unstable();
        times.dedup();
        let mut own: Vec<(i64, i64)> = Vec::new();
        for t in times {
            match own.last_mut() {
                Some((_, end)) if t.saturating_sub(*end) <= MINUTE_MS => {
                    *end = t.saturating_add(MINUTE_MS)
                }
                _ => own.push((t, t.saturating_add(MINUTE_MS))),
            }
        }
        spans.extend(own);
    }
    spans.sort();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some((_, e)) if start < *e => *e = (*e).max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
        .into_iter()
        .map(|(start, end)| window(minutes, &baselines, start, end))
        .collect()
}

/// The family a series belongs to: the series of one cause (a lock's waits
/// and wait time, latency's p95 and mean, a client burst's connections and
/// authentication failures) make their spans together.
fn family(name: &str) -> &'static str {
    match name {
        "p95_ms" | "mean_ms" => "latency",
        "lock_waits" | "lock_wait_ms" | "deadlocks" => "locks",
        "connections" | "auth_failures" => "clients",
        "errors_per_s" | "cancellations" => "errors",
        "temp_bytes" => "temp",
        "queries_per_s" => "load",
        _ => "other",
    }
}

fn window(
    minutes: &BTreeMap<i64, Minute>,
    baselines: &[Option<Baseline>],
    start: i64,
    end: i64,
) -> Window {
    let mut signals: Vec<(f64, IncidentSignal)> = Vec::new();
    for (r, b) in RULES.iter().zip(baselines) {
        let Some(b) = b else { continue };
        let peak = minutes
            .range(start..end)
            .filter_map(|(_, m)| (r.value)(m))
            .filter(|v| r.flags(b, *v))
            .max_by(f64::total_cmp);
        if let Some(peak) = peak {
            let s = IncidentSignal {
                name: r.name.to_string(),
                baseline: round(b.median),
                peak: round(peak),
                unit: r.unit.to_string(),
            };
            signals.push((r.strength(b, peak), s));
        }
    }
    signals.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    let score = round(signals.iter().map(|(s, _)| s).sum());
    Window {
        start,
        end,
        signals: signals.into_iter().map(|(_, s)| s).collect(),
        score,
    }
}

/// Minutes outside every window: the baseline of attribution.
pub fn steady_minutes(minutes: &BTreeMap<i64, Minute>, windows: &[Window]) -> Vec<i64> {
    minutes
        .keys()
        .copied()
        .filter(|t| !windows.iter().any(|w| (w.start..w.end).contains(t)))
        .collect()
}

/// Three decimals: the figures are read by people, and JSON stays short.
pub fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(n: i64) -> BTreeMap<i64, Minute> {
        (0..n)
            .map(|i| {
                let mut m = Minute {
                    queries: 600 + (i % 3) as u64 * 10,
                    query_us: 600 * 2000,
                    connections: 5 + (i % 2) as u64,
                    errors: (i % 4 == 0) as u64,
                    ..Minute::default()
                };
                for _ in 0..600 {
                    m.latency.add(2.0 + (i % 5) as f64 * 0.1);
                }
                (i * MINUTE_MS, m)
            })
            .collect()
    }

    #[test]
    fn a_steady_log_has_no_window() {
        assert!(windows(&steady(60)).is_empty());
    }

    #[test]
    fn a_short_log_has_no_window() {
        let mut m = steady(9);
        m.get_mut(&0).unwrap().errors = 10_000;
        assert!(windows(&m).is_empty());
    }

    #[test]
    fn bursts_one_minute_apart_make_one_window() {
        let mut m = steady(60);
        for t in [20, 22, 40] {
            m.get_mut(&(t * MINUTE_MS)).unwrap().errors = 300;
        }
        // Another kind of burst in the next minute is another window.
        m.get_mut(&(41 * MINUTE_MS)).unwrap().connections = 500;
        // A small rise stays under the minimum effect.
        m.get_mut(&(50 * MINUTE_MS)).unwrap().errors = 6;
        let w = windows(&m);
        let spans: Vec<(i64, i64)> = w
            .iter()
            .map(|w| (w.start / MINUTE_MS, w.end / MINUTE_MS))
            .collect();
        assert_eq!(spans, [(20, 23), (40, 41), (41, 42)]);
        assert_eq!(w[0].signals[0].name, "errors_per_s");
        assert_eq!(w[0].signals[0].peak, 5.0);
        assert_eq!(w[0].signals[0].baseline, 0.0);
    }
}
