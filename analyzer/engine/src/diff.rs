//! `pglog diff OLD NEW`: what changed between two analyses (two days, or
//! before and after a release): queries that got slower or more frequent,
//! queries and errors that are new.

use crate::run::Analysis;
use crate::stats::queries::QueryStats;
use std::collections::BTreeSet;

/// Thresholds of what counts as a change.
#[derive(Debug, Clone, Copy)]
pub struct DiffOptions {
    /// Relative growth that counts (0.2 = 20% more).
    pub threshold: f64,
    /// Queries with fewer calls than this in NEW are left out.
    pub min_calls: u64,
    /// Rows per list.
    pub top: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            threshold: 0.2,
            min_calls: 10,
            top: 50,
        }
    }
}

pub use crate::diff_report::{DiffReport, NewError, QueryChange};

pub(crate) fn span_hours(a: &Analysis) -> f64 {
    match (a.stats.summary.first_time_ms, a.stats.summary.last_time_ms) {
        (Some(f), Some(l)) if l > f => (l - f) as f64 / 3_600_000.0,
        _ => 1.0,
    }
}

fn mean(q: &QueryStats) -> f64 {
    if q.calls == 0 {
        0.0
    } else {
        q.total_us as f64 / 1000.0 / q.calls as f64
    }
}

pub fn diff(old: &Analysis, new: &Analysis, o: DiffOptions) -> DiffReport {
    let (oh, nh) = (span_hours(old), span_hours(new));
    let change = |fp: u64, a: Option<&QueryStats>, b: &QueryStats, ratio: f64| {
        let empty = QueryStats::default();
        let a = a.unwrap_or(&empty);
        QueryChange {
            fingerprint: format!("{fp:016x}"),
            normalized: b.normalized.clone(),
            old_calls: a.calls,
            new_calls: b.calls,
            old_calls_per_hour: a.calls as f64 / oh,
            new_calls_per_hour: b.calls as f64 / nh,
            old_mean_ms: mean(a),
            new_mean_ms: mean(b),
            old_p95_ms: a.sketch.quantile(0.95).unwrap_or(0.0),
            new_p95_ms: b.sketch.quantile(0.95).unwrap_or(0.0),
            ratio,
        }
    };
    let (mut slower, mut more_frequent, mut new_queries) = (vec![], vec![], vec![]);
    for (fp, b) in &new.stats.queries.by_fingerprint {
        if b.calls < o.min_calls {
            continue;
        }
        match old.stats.queries.by_fingerprint.get(fp) {
            Some(a) if a.calls > 0 => {
                let (p_old, p_new) = (
                    a.sketch.quantile(0.95).unwrap_or(0.0),
                    b.sketch.quantile(0.95).unwrap_or(0.0),
                );
                if p_old > 0.0 && p_new >= p_old * (1.0 + o.threshold) {
                    slower.push(change(*fp, Some(a), b, p_new / p_old));
                }
                let (r_old, r_new) = (a.calls as f64 / oh, b.calls as f64 / nh);
                if r_new >= r_old * (1.0 + o.threshold) {
                    more_frequent.push(change(*fp, Some(a), b, r_new / r_old));
                }
            }
            _ => new_queries.push(change(*fp, None, b, f64::INFINITY)),
        }
    }
    let by_ratio = |x: &QueryChange, y: &QueryChange| {
        y.ratio
            .total_cmp(&x.ratio)
            .then(y.new_calls.cmp(&x.new_calls))
            .then(x.fingerprint.cmp(&y.fingerprint))
    };
    slower.sort_by(by_ratio);
    more_frequent.sort_by(by_ratio);
    new_queries.sort_by(|x, y| {
        (y.new_mean_ms * y.new_calls as f64)
            .total_cmp(&(x.new_mean_ms * x.new_calls as f64))
            .then(x.fingerprint.cmp(&y.fingerprint))
    });
    for v in [&mut slower, &mut more_frequent, &mut new_queries] {
        v.truncate(o.top);
    }
    let mut new_errors: Vec<NewError> = new
        .stats
        .errors
        .messages
        .iter()
        .filter(|(k, _)| !old.stats.errors.messages.contains_key(*k))
        .map(|(k, m)| NewError {
            message: k.clone(),
            severity: m.severity.clone(),
            sqlstate: m.sqlstate.clone(),
            count: m.count,
            sample: m.sample.message.clone(),
        })
        .collect();
    new_errors.sort_by(|a, b| b.count.cmp(&a.count).then(a.message.cmp(&b.message)));
    new_errors.truncate(o.top);
    let old_states: BTreeSet<&String> = old.stats.errors.by_sqlstate.keys().collect();
    let new_sqlstates = new
        .stats
        .errors
        .by_sqlstate
        .keys()
        .filter(|k| !old_states.contains(k))
        .cloned()
        .collect();
    DiffReport {
        schema: "pglog.diff/1",
        old_span_hours: oh,
        new_span_hours: nh,
        threshold: o.threshold,
        min_calls: o.min_calls,
        slower,
        more_frequent,
        new_queries,
        new_errors,
        new_sqlstates,
    }
}
