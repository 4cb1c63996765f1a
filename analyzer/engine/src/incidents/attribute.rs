//! What changed in an incident window against the steady minutes (those
//! outside every window): the queries that added the most time and those
//! whose p95 rose most, errors new or risen, lock waits with their waiting
//! and blocking statements, client bursts, temp spills and checkpoints.
//! Figures expected "at the baseline rate" are the steady minutes' total
//! scaled to the window's length.

use super::detect::{round, Window};
use crate::incident_report::{
    Incident, IncidentClient, IncidentError, IncidentLock, IncidentQuery, IncidentTempFiles,
};
use crate::stats::minute_detail::{ClientCell, MinuteCells, QueryCell, CLIENT_KINDS};
use crate::stats::Stats;
use crate::time_text::rfc3339;
use std::collections::BTreeMap;

/// Rows kept of each list.
const TOP: usize = 5;
/// A query's p95 must at least double to be listed for its rise.
const P95_RISE: f64 = 2.0;
/// Calls a query needs in the window for its p95 to count.
const MIN_P95_CALLS: u64 = 3;
/// A client is listed when one of its counts at least doubled its steady
/// rate and rose by at least `CLIENT_MIN_RISE`: a name near its baseline
/// explains nothing.
const CLIENT_RISE: f64 = 2.0;
const CLIENT_MIN_RISE: f64 = 5.0;

/// The window's and the steady minutes' detail, and how many minutes each spans.
struct Sides<'a> {
    inside: Vec<&'a MinuteCells>,
    outside: Vec<&'a MinuteCells>,
    /// Window minutes over steady minutes: scales a steady total to the window.
    scale: f64,
}

pub fn incident(stats: &Stats, w: &Window, steady: &[i64]) -> Incident {
    let d = &stats.minute_detail.minutes;
    let window_minutes = (w.end.saturating_sub(w.start) / 60_000).max(1) as f64;
    let sides = Sides {
        inside: d.range(w.start..w.end).map(|(_, m)| m).collect(),
        outside: steady.iter().filter_map(|t| d.get(t)).collect(),
        scale: if steady.is_empty() {
            0.0
        } else {
            window_minutes / steady.len() as f64
        },
    };
    Incident {
        start: rfc3339(w.start),
        end: rfc3339(w.end),
        score: w.score,
        signals: w.signals.clone(),
        top_queries: top_queries(stats, &sides),
        top_errors: top_errors(&sides),
        locks: locks(stats, &sides),
        clients: clients(&sides),
        temp_files: temp_files(stats, &sides),
        checkpoints: stats
            .minutes
            .range(w.start..w.end)
            .map(|(_, m)| m.checkpoints)
            .fold(0, u64::saturating_add),
    }
}

fn normalized(stats: &Stats, fp: u64) -> String {
    stats
        .queries
        .by_fingerprint
        .get(&fp)
        .map(|q| q.normalized.clone())
        .unwrap_or_default()
}

fn sum_queries<'a>(cells: &[&'a MinuteCells]) -> BTreeMap<u64, QueryCell> {
    let mut out: BTreeMap<u64, QueryCell> = BTreeMap::new();
    for m in cells {
        for (fp, c) in &m.queries {
            out.entry(*fp).or_default().merge(c);
        }
    }
    out
}

/// The queries that added the most time against their steady rate, then
/// those whose p95 at least doubled (not already listed), by the rise.
fn top_queries(stats: &Stats, s: &Sides) -> Vec<IncidentQuery> {
    let inside = sum_queries(&s.inside);
    let outside = sum_queries(&s.outside);
    let row = |fp: u64, c: &QueryCell| IncidentQuery {
        fingerprint: format!("{fp:016x}"),
        normalized: normalized(stats, fp),
        calls: c.calls,
        total_ms: round(c.total_us as f64 / 1000.0),
        baseline_p95_ms: outside.get(&fp).and_then(|o| o.quantile_ms(0.95)),
        p95_ms: c.quantile_ms(0.95),
    };
    let added = |fp: &u64, c: &QueryCell| {
        let steady = outside.get(fp).map_or(0, |o| o.total_us) as f64 * s.scale;
        c.total_us as f64 - steady
    };
    let mut by_time: Vec<(f64, u64)> = inside
        .iter()
        .map(|(fp, c)| (added(fp, c), *fp))
        .filter(|(a, _)| *a > 0.0)
        .collect();
    by_time.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<IncidentQuery> = by_time
        .iter()
        .take(TOP)
        .map(|(_, fp)| row(*fp, &inside[fp]))
        .collect();
    let mut by_rise: Vec<(f64, u64)> = inside
        .iter()
        .filter(|(_, c)| c.calls >= MIN_P95_CALLS)
        .filter_map(|(fp, c)| {
            let base = outside.get(fp)?.quantile_ms(0.95)?;
            let rise = c.quantile_ms(0.95)? / base;
            (rise >= P95_RISE).then_some((rise, *fp))
        })
        .collect();
    by_rise.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, fp) in by_rise {
        let f = format!("{fp:016x}");
        if out.len() >= 2 * TOP {
            break;
        }
        if !out.iter().any(|q| q.fingerprint == f) {
            out.push(row(fp, &inside[&fp]));
        }
    }
    out
}

/// Errors above their steady rate, by how far.
fn top_errors(s: &Sides) -> Vec<IncidentError> {
    let mut inside: BTreeMap<&str, (u64, &crate::stats::minute_detail::ErrorCell)> =
        BTreeMap::new();
    for m in &s.inside {
        for (k, c) in &m.errors {
            let e = inside.entry(k.as_str()).or_insert((0, c));
            e.0 = e.0.saturating_add(c.count);
        }
    }
    let mut outside: BTreeMap<&str, u64> = BTreeMap::new();
    for m in &s.outside {
        for (k, c) in &m.errors {
            if inside.contains_key(k.as_str()) {
                let n = outside.entry(k.as_str()).or_default();
                *n = n.saturating_add(c.count);
            }
        }
    }
    let mut rows: Vec<(f64, IncidentError)> = inside
        .iter()
        .filter_map(|(k, (count, c))| {
            let baseline = outside.get(k).copied().unwrap_or(0) as f64 * s.scale;
            let rise = *count as f64 - baseline;
            (rise > 0.0).then(|| {
                let e = IncidentError {
                    sqlstate: c.sqlstate.clone(),
                    message: c.message.clone(),
                    count: *count,
                    baseline_count: round(baseline),
                };
                (rise, e)
            })
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.message.cmp(&b.1.message)));
    rows.into_iter().take(TOP).map(|(_, e)| e).collect()
}

#[derive(Default)]
struct LockSum {
    waits: u64,
    max_wait_us: u64,
    waiting: BTreeMap<u64, u64>,
    blocking: BTreeMap<u64, u64>,
}

/// Lock waits by mode and object, most waits first, with the waiting
/// statements (most waits first) and the holder's most named statement.
fn locks(stats: &Stats, s: &Sides) -> Vec<IncidentLock> {
    let mut by_lock: BTreeMap<(&str, &str), LockSum> = BTreeMap::new();
    for m in &s.inside {
        for c in m.locks.values() {
            let l = by_lock
                .entry((c.mode.as_str(), c.object.as_str()))
                .or_default();
            l.waits = l.waits.saturating_add(c.waits);
            l.max_wait_us = l.max_wait_us.max(c.max_wait_us);
            if let Some(fp) = c.waiting {
                let n = l.waiting.entry(fp).or_default();
                *n = n.saturating_add(c.waits.max(1));
            }
            for (fp, n) in &c.blocking {
                let b = l.blocking.entry(*fp).or_default();
                *b = b.saturating_add(*n);
            }
        }
    }
    let mut rows: Vec<IncidentLock> = by_lock
        .into_iter()
        .map(|((mode, object), l)| IncidentLock {
            mode: mode.to_string(),
            object: object.to_string(),
            waits: l.waits,
            max_wait_ms: round(l.max_wait_us as f64 / 1000.0),
            waiting: most_first(&l.waiting)
                .into_iter()
                .take(TOP)
                .map(|fp| normalized(stats, fp))
                .collect(),
            blocking: most_first(&l.blocking)
                .first()
                .map(|fp| normalized(stats, *fp)),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.waits
            .cmp(&a.waits)
            .then(b.max_wait_ms.total_cmp(&a.max_wait_ms))
            .then(a.object.cmp(&b.object))
            .then(a.mode.cmp(&b.mode))
    });
    rows.truncate(TOP);
    rows
}

fn most_first(counts: &BTreeMap<u64, u64>) -> Vec<u64> {
    let mut v: Vec<(u64, u64)> = counts.iter().map(|(k, n)| (*k, *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(k, _)| k).collect()
}

fn sum_clients<'a>(cells: &[&'a MinuteCells]) -> BTreeMap<&'a (u8, String), ClientCell> {
    let mut out: BTreeMap<&(u8, String), ClientCell> = BTreeMap::new();
    for m in cells {
        for (k, c) in &m.clients {
            let e = out.entry(k).or_default();
            e.connections = e.connections.saturating_add(c.connections);
            e.auth_failures = e.auth_failures.saturating_add(c.auth_failures);
            e.errors = e.errors.saturating_add(c.errors);
        }
    }
    out
}

fn activity(c: &ClientCell) -> f64 {
    c.connections as f64 + c.auth_failures as f64 + c.errors as f64
}

/// Whether `inside` (a count in the window) rose clearly above `expected`
/// (its steady count scaled to the window).
fn rose_clearly(inside: u64, expected: f64) -> bool {
    let i = inside as f64;
    i >= expected * CLIENT_RISE && i - expected >= CLIENT_MIN_RISE
}

/// Whether any of the client's counts rose clearly above its steady rate.
fn client_rose(c: &ClientCell, steady: &ClientCell, scale: f64) -> bool {
    [
        (c.connections, steady.connections),
        (c.auth_failures, steady.auth_failures),
        (c.errors, steady.errors),
    ]
    .into_iter()
    .any(|(i, o)| rose_clearly(i, o as f64 * scale))
}

/// Applications, users and hosts whose counts rose clearly (see
/// [`client_rose`]), by their burst: connections, auth failures and errors
/// above their steady rate, weighted by the share of the name's activity
/// that falls in the window (a name busy all day is a weaker suspect than
/// one seen only in the incident).
fn clients(s: &Sides) -> Vec<IncidentClient> {
    let inside = sum_clients(&s.inside);
    let outside = sum_clients(&s.outside);
    let mut rows: Vec<(f64, u8, IncidentClient)> = inside
        .iter()
        .filter_map(|(k, c)| {
            let o = outside.get(k).copied().unwrap_or_default();
            if !client_rose(c, &o, s.scale) {
                return None;
            }
            let over = |i: u64, o: u64| (i as f64 - o as f64 * s.scale).max(0.0);
            let burst = over(c.connections, o.connections)
                + over(c.auth_failures, o.auth_failures)
                + over(c.errors, o.errors);
            let share = activity(c) / (activity(c) + activity(&o));
            let rank = burst * share;
            (rank > 0.0).then(|| {
                let row = IncidentClient {
                    kind: CLIENT_KINDS[k.0 as usize].to_string(),
                    name: k.1.clone(),
                    connections: c.connections,
                    baseline_connections: round(o.connections as f64 * s.scale),
                    auth_failures: c.auth_failures,
                    errors: c.errors,
                };
                (rank, k.0, row)
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.name.cmp(&b.2.name))
    });
    rows.into_iter().take(TOP).map(|(_, _, c)| c).collect()
}

/// Temp files of the window by query, most bytes first.
fn temp_files(stats: &Stats, s: &Sides) -> Vec<IncidentTempFiles> {
    let mut by_query: BTreeMap<Option<u64>, (u64, u64)> = BTreeMap::new();
    for m in &s.inside {
        for (fp, c) in &m.temp {
            let e = by_query.entry(*fp).or_default();
            e.0 = e.0.saturating_add(c.files);
            e.1 = e.1.saturating_add(c.bytes);
        }
    }
    let mut rows: Vec<IncidentTempFiles> = by_query
        .into_iter()
        .map(|(fp, (files, bytes))| IncidentTempFiles {
            fingerprint: fp.map(|f| format!("{f:016x}")),
            normalized: fp.map(|f| normalized(stats, f)),
            files,
            bytes,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    rows.truncate(TOP);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(connections: u64, auth_failures: u64, errors: u64) -> ClientCell {
        ClientCell {
            connections,
            auth_failures,
            errors,
        }
    }

    #[test]
    fn a_client_near_its_baseline_is_not_a_rise() {
        // Steady 40 a minute: 45 or 79 in the window is near it, 80 doubled.
        assert!(!client_rose(&cell(45, 0, 0), &cell(400, 0, 0), 0.1));
        assert!(!client_rose(&cell(79, 0, 0), &cell(400, 0, 0), 0.1));
        assert!(client_rose(&cell(80, 0, 0), &cell(400, 0, 0), 0.1));
        // New, but too few to tell from noise.
        assert!(!client_rose(&cell(0, 4, 0), &cell(0, 0, 0), 0.1));
        assert!(client_rose(&cell(0, 5, 0), &cell(0, 0, 0), 0.1));
        // One count rising is enough, the others steady.
        assert!(client_rose(&cell(40, 0, 30), &cell(400, 0, 10), 0.1));
    }
}
