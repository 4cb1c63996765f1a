//! Turns query rows into datums: gauges as read, counters as increases
//! since the last cycle (right across `stats_reset` and server restarts),
//! rates per second, ratios of increases, and sums over a trailing window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::catalogue::{Kind, Query};
use crate::pg::Rows;

/// One CloudWatch data point.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Datum {
    pub metric: String,
    pub unit: String,
    pub value: f64,
    pub dimensions: Vec<(String, String)>,
    #[serde(with = "epoch_ms")]
    pub timestamp: SystemTime,
}

mod epoch_ms {
    use serde::Serializer;
    use std::time::{SystemTime, UNIX_EPOCH};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64)
    }
}

struct Last {
    value: f64,
    reset: Option<String>,
    at: Instant,
}

struct Slice {
    start: Instant,
    end: Instant,
    amount: f64,
}

/// Counter and window state, kept across cycles.
#[derive(Default)]
pub struct Series {
    last: HashMap<String, Last>,
    windows: HashMap<String, VecDeque<Slice>>,
    own_at_last_run: HashMap<String, u64>,
}

#[derive(Default)]
struct Group {
    dims: Vec<(String, String)>,
    sum: f64,
    total: f64,
    seconds: f64,
    start: Option<Instant>,
    have: bool,
}

impl Series {
    /// Forgets every counter, for when the collector is talking to another
    /// server than before (its counters do not continue ours).
    pub fn clear(&mut self) {
        self.last.clear();
        self.windows.clear();
    }

    /// Increase of one counter since it was last read, or None the first
    /// time. A counter that went down, or whose reset marker changed, was
    /// reset: what it holds now is its increase since.
    fn delta(
        &mut self,
        key: String,
        value: f64,
        reset: Option<&str>,
        now: Instant,
    ) -> Option<(f64, Instant)> {
        let prev = self.last.insert(
            key,
            Last {
                value,
                reset: reset.map(str::to_string),
                at: now,
            },
        )?;
        let was_reset = value < prev.value || prev.reset.as_deref() != reset;
        Some((if was_reset { value } else { value - prev.value }, prev.at))
    }

    /// Datums for one query's rows. `base` holds DBInstance and Role;
    /// `own_transactions` is the collector's running count of its own.
    pub fn datums(
        &mut self,
        query: &Query,
        rows: &Rows,
        base: &[(String, String)],
        own_transactions: u64,
        now: Instant,
        wall: SystemTime,
    ) -> Vec<Datum> {
        let own_before = self
            .own_at_last_run
            .insert(query.id.clone(), own_transactions);
        let own_since = own_before
            .map(|b| own_transactions.saturating_sub(b))
            .unwrap_or(0) as f64;
        let label_idx: Vec<Option<usize>> = query.labels.iter().map(|l| rows.index(l)).collect();
        let key_idx: Vec<Option<usize>> = query.keys.iter().map(|k| rows.index(k)).collect();
        let reset_idx = query.reset.as_deref().and_then(|r| rows.index(r));
        let mut out = Vec::new();
        for v in &query.values {
            let Some(col) = rows.index(&v.column) else {
                tracing::warn!(query = %query.id, "column `{}` is not in the result", v.column);
                continue;
            };
            let total_col = v.total.as_deref().and_then(|t| rows.index(t));
            let mut groups: Vec<Group> = Vec::new();
            for row in &rows.rows {
                let cell = |i: Option<usize>| {
                    i.and_then(|i| row.get(i).cloned().flatten())
                        .unwrap_or_default()
                };
                let mut dims = base.to_vec();
                for (name, i) in query.labels.iter().zip(&label_idx) {
                    let mut v = cell(*i);
                    if v.is_empty() {
                        v = "none".into();
                    }
                    v.truncate(1024);
                    dims.push((name.clone(), v));
                }
                let Some(raw) = number(row.get(col).and_then(|c| c.as_deref())) else {
                    continue;
                };
                let series = || {
                    let mut k = format!("{}\u{1}{}", query.id, v.column);
                    for (_, d) in &dims[base.len()..] {
                        k.push('\u{1}');
                        k.push_str(d);
                    }
                    for i in &key_idx {
                        k.push('\u{2}');
                        k.push_str(&cell(*i));
                    }
                    k
                };
                let reset = reset_idx.map(|i| cell(Some(i)));
                let pos = groups
                    .iter()
                    .position(|g| g.dims == dims)
                    .unwrap_or_else(|| {
                        groups.push(Group {
                            dims: dims.clone(),
                            ..Group::default()
                        });
                        groups.len() - 1
                    });
                let g = &mut groups[pos];
                match v.kind {
                    Kind::Gauge => {
                        g.sum += raw;
                        g.have = true;
                    }
                    Kind::Counter | Kind::Rate | Kind::Window => {
                        if let Some((d, since)) = self.delta(series(), raw, reset.as_deref(), now) {
                            g.sum += d;
                            g.seconds = g.seconds.max(now.duration_since(since).as_secs_f64());
                            g.start = Some(g.start.map_or(since, |s| s.min(since)));
                            g.have = true;
                        }
                    }
                    Kind::Ratio => {
                        let total =
                            total_col.and_then(|i| number(row.get(i).and_then(|c| c.as_deref())));
                        let Some(total) = total else { continue };
                        let part = self.delta(series(), raw, reset.as_deref(), now);
                        let whole = self.delta(
                            format!("{}\u{3}total", series()),
                            total,
                            reset.as_deref(),
                            now,
                        );
                        if let (Some((p, _)), Some((w, _))) = (part, whole) {
                            g.sum += p;
                            g.total += w;
                            g.have = true;
                        }
                    }
                }
            }
            for g in groups.into_iter().filter(|g| g.have) {
                let value = match v.kind {
                    Kind::Gauge | Kind::Counter => Some(g.sum),
                    Kind::Rate => (g.seconds > 0.0).then(|| g.sum / g.seconds),
                    Kind::Ratio => (g.total > 0.0).then(|| 100.0 * g.sum / g.total),
                    Kind::Window => {
                        // Not clamped per slice: the server publishes our own
                        // transactions up to a second late, so a slice can be
                        // negative and the next one makes up for it.
                        let amount = if v.minus_own_transactions {
                            g.sum - own_since
                        } else {
                            g.sum
                        };
                        let window = v.window.unwrap_or(Duration::from_secs(600));
                        Some(self.window_sum(
                            &v.metric,
                            &g.dims,
                            g.start.unwrap_or(now),
                            now,
                            amount,
                            window,
                        ))
                    }
                };
                if let Some(value) = value.filter(|v| v.is_finite()) {
                    out.push(Datum {
                        metric: v.metric.clone(),
                        unit: v.unit.clone(),
                        value,
                        dimensions: g.dims,
                        timestamp: wall,
                    });
                }
            }
        }
        out
    }

    /// Adds `amount`, counted over (start, now], to the window of this
    /// series and returns the amount within the trailing `window`, prorating
    /// the slice that straddles its start.
    fn window_sum(
        &mut self,
        metric: &str,
        dims: &[(String, String)],
        start: Instant,
        now: Instant,
        amount: f64,
        window: Duration,
    ) -> f64 {
        let mut key = metric.to_string();
        for (k, v) in dims {
            key.push('\u{1}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        let slices = self.windows.entry(key).or_default();
        slices.push_back(Slice {
            start,
            end: now,
            amount,
        });
        let from = now.checked_sub(window);
        while let (Some(first), Some(from)) = (slices.front(), from) {
            if first.end <= from {
                slices.pop_front();
            } else {
                break;
            }
        }
        slices
            .iter()
            .map(|s| match from {
                Some(from) if s.start < from => {
                    let len = s.end.duration_since(s.start).as_secs_f64();
                    if len <= 0.0 {
                        s.amount
                    } else {
                        s.amount * s.end.duration_since(from).as_secs_f64() / len
                    }
                }
                _ => s.amount,
            })
            .sum::<f64>()
            .max(0.0)
    }
}

fn number(cell: Option<&str>) -> Option<f64> {
    let c = cell?.trim();
    match c {
        "t" => Some(1.0),
        "f" => Some(0.0),
        _ => c.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    fn rows(cols: &[&str], data: &[&[&str]]) -> Rows {
        Rows {
            columns: cols.iter().map(|c| c.to_string()).collect(),
            rows: data
                .iter()
                .map(|r| r.iter().map(|c| Some(c.to_string())).collect())
                .collect(),
        }
    }

    #[test]
    fn counters_survive_resets_and_windows_prorate() {
        let cat = Catalogue::built_in();
        let q = cat.queries.iter().find(|q| q.id == "transactions").unwrap();
        let mut s = Series::default();
        let t0 = Instant::now();
        let wall = SystemTime::now();
        let cols = ["datname", "xacts", "stats_reset"];
        assert!(s
            .datums(
                q,
                &rows(&cols, &[&["a", "100", "r1"], &["b", "5", ""]]),
                &[],
                0,
                t0,
                wall
            )
            .is_empty());
        // a: +50, b: reset to 3 (its marker changed) counts 3, own 10 left out.
        let d = s.datums(
            q,
            &rows(&cols, &[&["a", "150", "r1"], &["b", "3", "r2"]]),
            &[],
            10,
            t0 + Duration::from_secs(300),
            wall,
        );
        assert_eq!(d[0].value, 43.0);
        // 600 s later, half of a 10-minute slice of 100 plus the first one gone.
        let d = s.datums(
            q,
            &rows(&cols, &[&["a", "250", "r1"], &["b", "3", "r2"]]),
            &[],
            10,
            t0 + Duration::from_secs(900),
            wall,
        );
        assert_eq!(d[0].value, 100.0);
        let d = s.datums(
            q,
            &rows(&cols, &[&["a", "250", "r1"], &["b", "3", "r2"]]),
            &[],
            10,
            t0 + Duration::from_secs(1200),
            wall,
        );
        assert!((d[0].value - 50.0).abs() < 1e-9, "{}", d[0].value);
    }
}
