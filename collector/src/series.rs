//! Turns query rows into datums: gauges as read, counters as increases
//! since the last cycle (right across `stats_reset` and server restarts),
//! rates per second, ratios of increases, and sums over a trailing window.
//!
//! The state kept between cycles serializes, so it can be saved and a later
//! process can go on from it (see `state.rs`). Its times are seconds since
//! the Unix epoch on the [`Clock`]'s scale.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::catalogue::{Kind, Query, BASE_DIMENSIONS};
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

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Last {
    value: f64,
    reset: Option<String>,
    at: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slice {
    start: f64,
    end: f64,
    amount: f64,
}

/// Monotonic time on the wall clock's scale: the wall clock at an anchor
/// plus the monotonic time since. Intervals within one process are never
/// bent by a clock step; realigning at the wall clock before the state is
/// saved makes its times comparable with the next process's.
#[derive(Debug, Clone, Copy)]
struct Clock {
    instant: Instant,
    unix: f64,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            instant: Instant::now(),
            unix: unix_seconds(SystemTime::now()),
        }
    }
}

impl Clock {
    fn unix(&self, t: Instant) -> f64 {
        match t.checked_duration_since(self.instant) {
            Some(after) => self.unix + after.as_secs_f64(),
            None => self.unix - self.instant.duration_since(t).as_secs_f64(),
        }
    }
}

pub fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Counter and window state, kept across cycles.
#[derive(Default, Serialize, Deserialize)]
pub struct Series {
    last: HashMap<String, Last>,
    windows: HashMap<String, VecDeque<Slice>>,
    /// Per window: what a slice came out below zero, taken from the next
    /// ones (the server publishes our own transactions up to a second
    /// late, so the next slice holds what this one lacked).
    owed: HashMap<String, f64>,
    own_at_last_run: HashMap<String, u64>,
    /// Metrics already warned about for a value that is not a number.
    #[serde(skip)]
    warned_not_numeric: std::collections::HashSet<String>,
    #[serde(skip)]
    clock: Clock,
}

/// The collector's own transactions: all it ran, and how many it had run
/// when the current connection was made (a server that restarted counts
/// only those since).
#[derive(Debug, Clone, Copy, Default)]
pub struct OwnTransactions {
    pub total: u64,
    pub at_connect: u64,
}

/// What one query's rows gave.
#[derive(Debug, Default)]
pub struct QueryData {
    pub datums: Vec<Datum>,
    /// Cells of value columns that held text that is not a number.
    pub not_numeric: usize,
}

#[derive(Default)]
struct Group {
    dims: Vec<(String, String)>,
    sum: f64,
    total: f64,
    seconds: f64,
    start: Option<f64>,
    have: bool,
    /// A counter of the group was reset since it was last read.
    reset: bool,
}

impl Series {
    /// Forgets every counter, for when the collector is talking to another
    /// server than before (its counters do not continue ours).
    pub fn clear(&mut self) {
        self.last.clear();
        self.windows.clear();
        self.owed.clear();
    }

    /// Moves the clock's anchor to the wall clock now, shifting every time
    /// kept by the same amount, so the times mean wall-clock times again
    /// after the wall clock was stepped.
    pub fn align_to_wall_clock(&mut self) {
        let now = Clock::default();
        let shift = now.unix - self.clock.unix(now.instant);
        self.clock = now;
        if shift.abs() < 1e-3 {
            return;
        }
        for last in self.last.values_mut() {
            last.at += shift;
        }
        for slice in self.windows.values_mut().flatten() {
            slice.start += shift;
            slice.end += shift;
        }
    }

    /// Goes on from `saved` (read back from a saved state, times on the
    /// wall clock) in place of what this one holds.
    pub fn continue_from(&mut self, saved: Series) {
        self.align_to_wall_clock();
        self.last = saved.last;
        self.windows = saved.windows;
        self.owed = saved.owed;
        self.own_at_last_run = saved.own_at_last_run;
    }

    /// Increase of one counter since it was last read, or None the first
    /// time. A counter that went down, or whose reset marker changed, was
    /// reset: what it holds now is its increase since.
    fn delta(
        &mut self,
        key: String,
        value: f64,
        reset: Option<&str>,
        now: f64,
    ) -> Option<(f64, f64, bool)> {
        let prev = self.last.insert(
            key,
            Last {
                value,
                reset: reset.map(str::to_string),
                at: now,
            },
        )?;
        let was_reset = value < prev.value || prev.reset.as_deref() != reset;
        Some((
            if was_reset { value } else { value - prev.value },
            prev.at,
            was_reset,
        ))
    }

    /// Datums for one query's rows. `base` holds DBInstance and Role.
    pub fn datums(
        &mut self,
        query: &Query,
        rows: &Rows,
        base: &[(String, String)],
        own: OwnTransactions,
        now: Instant,
        wall: SystemTime,
    ) -> QueryData {
        let now = self.clock.unix(now);
        let own_before = self.own_at_last_run.insert(query.id.clone(), own.total);
        let own_since = own_before.map(|b| own.total.saturating_sub(b)).unwrap_or(0) as f64;
        // After a reset the server counts only what came after it: at most
        // our own transactions on this connection.
        let own_since_reset = own_before
            .map(|b| own.total.saturating_sub(b.max(own.at_connect)))
            .unwrap_or(0) as f64;
        let mut not_numeric = 0;
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
                let text = row.get(col).and_then(|c| c.as_deref());
                let Some(raw) = number(text) else {
                    // NULL means no value; text that is not a number is a
                    // wrong query, said once per metric and counted.
                    if let Some(text) = text {
                        not_numeric += 1;
                        if self.warned_not_numeric.insert(v.metric.clone()) {
                            tracing::warn!(query = %query.id, "column `{}` of {} holds `{}`, not a number; its values are left out", v.column, v.metric, crate::text::clip_bytes(text, 80));
                        }
                    }
                    continue;
                };
                let series = || {
                    let mut k = format!("{}\u{1}{}", query.id, v.column);
                    // Every dimension but the two the whole cycle shares:
                    // a database-scope query's Database tells its rows apart.
                    for (_, d) in dims
                        .iter()
                        .filter(|(n, _)| !BASE_DIMENSIONS.contains(&n.as_str()))
                    {
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
                        if let Some((d, since, was_reset)) =
                            self.delta(series(), raw, reset.as_deref(), now)
                        {
                            g.sum += d;
                            g.reset |= was_reset;
                            g.seconds = g.seconds.max(now - since);
                            g.start = Some(g.start.map_or(since, |s| s.min(since)));
                            g.have = true;
                        }
                    }
                    Kind::Ratio | Kind::Mean => {
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
                        if let (Some((p, _, _)), Some((w, _, _))) = (part, whole) {
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
                    Kind::Mean => (g.total > 0.0).then(|| g.sum / g.total),
                    Kind::Window => {
                        let own = if g.reset { own_since_reset } else { own_since };
                        let amount = if v.minus_own_transactions {
                            g.sum - own
                        } else {
                            g.sum
                        };
                        let window = v.window.unwrap_or(Duration::from_secs(600));
                        let slice = Slice {
                            start: g.start.unwrap_or(now),
                            end: now,
                            amount,
                        };
                        Some(self.window_sum(
                            window_key(&v.metric, &g.dims),
                            slice,
                            window,
                            g.reset,
                        ))
                    }
                };
                if let Some(value) = value.map(|x| x * v.scale).filter(|x| x.is_finite()) {
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
        QueryData {
            datums: out,
            not_numeric,
        }
    }

    /// Adds `slice` (its amount counted over (start, end]) to the window
    /// `key` and returns the amount within the trailing `window`, prorating
    /// the slice that straddles its start. No slice is below zero: a
    /// shortfall is owed by the next slices, except across a reset (the
    /// server lost what would have made it up).
    fn window_sum(&mut self, key: String, mut slice: Slice, window: Duration, reset: bool) -> f64 {
        let owed = self.owed.entry(key.clone()).or_default();
        if reset {
            *owed = 0.0;
        }
        let amount = slice.amount - *owed;
        *owed = (-amount).max(0.0);
        slice.amount = amount.max(0.0);
        let now = slice.end;
        let slices = self.windows.entry(key).or_default();
        slices.push_back(slice);
        let from = now - window.as_secs_f64();
        while slices.front().is_some_and(|first| first.end <= from) {
            slices.pop_front();
        }
        slices
            .iter()
            .map(|s| {
                let len = s.end - s.start;
                if s.start < from && len > 0.0 {
                    s.amount * (s.end - from) / len
                } else {
                    s.amount
                }
            })
            .sum::<f64>()
            .max(0.0)
    }
}

/// One window per metric and dimensions.
fn window_key(metric: &str, dims: &[(String, String)]) -> String {
    let mut key = metric.to_string();
    for (k, v) in dims {
        key.push('\u{1}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
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
                own(0),
                t0,
                wall
            )
            .datums
            .is_empty());
        // a: +50, b: reset to 3 (its marker changed) counts 3, own 10 left out.
        let d = s
            .datums(
                q,
                &rows(&cols, &[&["a", "150", "r1"], &["b", "3", "r2"]]),
                &[],
                own(10),
                t0 + Duration::from_secs(300),
                wall,
            )
            .datums;
        assert_eq!(d[0].value, 43.0);
        // 600 s later, half of a 10-minute slice of 100 plus the first one gone.
        let d = s
            .datums(
                q,
                &rows(&cols, &[&["a", "250", "r1"], &["b", "3", "r2"]]),
                &[],
                own(10),
                t0 + Duration::from_secs(900),
                wall,
            )
            .datums;
        assert_eq!(d[0].value, 100.0);
        let d = s
            .datums(
                q,
                &rows(&cols, &[&["a", "250", "r1"], &["b", "3", "r2"]]),
                &[],
                own(10),
                t0 + Duration::from_secs(1200),
                wall,
            )
            .datums;
        assert!((d[0].value - 50.0).abs() < 1e-9, "{}", d[0].value);
    }

    fn own(total: u64) -> OwnTransactions {
        OwnTransactions {
            total,
            at_connect: 0,
        }
    }

    /// The transactions window of one cycle: (xacts, own total, own at connect).
    fn window_after(
        s: &mut Series,
        q: &Query,
        t0: Instant,
        step: u64,
        xacts: &str,
        own: (u64, u64),
    ) -> f64 {
        let d = s.datums(
            q,
            &rows(&["datname", "xacts", "stats_reset"], &[&["a", xacts, ""]]),
            &[],
            OwnTransactions {
                total: own.0,
                at_connect: own.1,
            },
            t0 + Duration::from_secs(step),
            SystemTime::now(),
        );
        d.datums[0].value
    }

    #[test]
    fn windows_never_go_down_and_survive_a_crash_restart() {
        let cat = Catalogue::built_in();
        let q = cat.queries.iter().find(|q| q.id == "transactions").unwrap();
        let mut s = Series::default();
        let t0 = Instant::now();
        s.datums(
            q,
            &rows(&["datname", "xacts", "stats_reset"], &[&["a", "1000", ""]]),
            &[],
            own(0),
            t0,
            SystemTime::now(),
        );
        // 100 by users, 20 of our own, 5 of which the server has not published yet.
        assert_eq!(window_after(&mut s, q, t0, 1, "1115", (20, 0)), 95.0);
        // Nothing by users: our late 5 arrive with 10 of 20 more. The slice
        // is 0, not -5; 5 are owed.
        assert_eq!(window_after(&mut s, q, t0, 2, "1130", (40, 0)), 95.0);
        // All published: the 5 owed are taken, the window is exact.
        assert_eq!(window_after(&mut s, q, t0, 3, "1160", (60, 0)), 100.0);
        // A crash restart: the server's counts start over (3 since), the
        // connection is new (made when we had run 70), and what was owed is
        // gone with the server's counts. 80 - 70 = 10 ran on this connection.
        assert_eq!(window_after(&mut s, q, t0, 4, "13", (80, 70)), 103.0);
        // 50 more by users after the restart.
        assert_eq!(window_after(&mut s, q, t0, 5, "83", (100, 70)), 153.0);
    }

    #[test]
    fn text_that_is_not_a_number_is_counted() {
        let cat = Catalogue::built_in();
        let q = cat.queries.iter().find(|q| q.id == "transactions").unwrap();
        let mut s = Series::default();
        let bad = rows(
            &["datname", "xacts", "stats_reset"],
            &[&["a", "lots", ""], &["b", "7", ""]],
        );
        let d = s.datums(q, &bad, &[], own(0), Instant::now(), SystemTime::now());
        assert_eq!(d.not_numeric, 1);
        let mut null = bad.clone();
        null.rows[0][1] = None;
        let d = s.datums(q, &null, &[], own(0), Instant::now(), SystemTime::now());
        assert_eq!(d.not_numeric, 0, "NULL is no value, not a wrong one");
    }
}
