//! Live metrics from the shipped log: each record is classified by the
//! analyzer's classifier, and the ones that matter for alarms are counted
//! per minute of their own time. The cycle drains the counts and ships them
//! as datums stamped with their minute, so an alarm sees an error within a
//! cycle of it being logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pglog_logparse::{Event, EventKind};

use crate::series::Datum;

/// What one record contributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    Error {
        severity: &'static str,
        class: String,
    },
    SlowQuery,
    Deadlock,
    LockWait,
    TempFileBytes(u64),
    Checkpoint,
    AuthFailure,
}

/// The signal of one classified record, if it has one.
pub fn signal(event: &Event, slow_ms: f64) -> Option<Signal> {
    let sev = event.record.severity;
    match &event.kind {
        EventKind::Deadlock { .. } => return Some(Signal::Deadlock),
        EventKind::LockWait(_) => return Some(Signal::LockWait),
        EventKind::TempFile { size, .. } => return Some(Signal::TempFileBytes(*size)),
        EventKind::Checkpoint { .. } | EventKind::Restartpoint { .. } => {
            return Some(Signal::Checkpoint)
        }
        EventKind::AuthFailure => return Some(Signal::AuthFailure),
        EventKind::Query(s) | EventKind::StatementStep(s) => {
            let own = s.text.as_deref().is_some_and(pglog_logparse::is_own_query);
            if !own && s.duration_ms.is_some_and(|d| d >= slow_ms) {
                return Some(Signal::SlowQuery);
            }
        }
        // `duration: N ms` after the statement text was logged on its own.
        EventKind::Duration { ms } if *ms >= slow_ms => return Some(Signal::SlowQuery),
        _ => {}
    }
    if sev.is_error() {
        let class = event
            .sqlstate
            .map(|s| s.class().to_string())
            .unwrap_or_else(|| "unknown".into());
        return Some(Signal::Error {
            severity: sev.as_str(),
            class,
        });
    }
    None
}

/// Counts per (minute, metric, extra dimensions), shared by the log
/// shipper, which adds what CloudWatch Logs accepted, and the cycle, which
/// drains them.
#[derive(Clone, Default)]
pub struct LogCounts(Arc<Mutex<BTreeMap<CountKey, f64>>>);

/// (minute, metric, extra dimensions)
type CountKey = (i64, &'static str, Vec<(String, String)>);

impl LogCounts {
    pub fn add(&self, time_ms: i64, s: &Signal) {
        let minute = time_ms - time_ms.rem_euclid(60_000);
        let (metric, dims, v): (&'static str, Vec<(String, String)>, f64) = match s {
            Signal::Error { severity, class } => (
                "LogErrors",
                vec![
                    ("Severity".into(), severity.to_string()),
                    ("SqlStateClass".into(), class.clone()),
                ],
                1.0,
            ),
            Signal::SlowQuery => ("SlowQueries", vec![], 1.0),
            Signal::Deadlock => ("Deadlocks", vec![], 1.0),
            Signal::LockWait => ("LockWaits", vec![], 1.0),
            Signal::TempFileBytes(b) => ("TempFileBytes", vec![], *b as f64),
            Signal::Checkpoint => ("Checkpoints", vec![], 1.0),
            Signal::AuthFailure => ("AuthFailures", vec![], 1.0),
        };
        *self
            .0
            .lock()
            .unwrap()
            .entry((minute, metric, dims))
            .or_default() += v;
    }

    /// Everything counted so far, as datums stamped with their minute.
    pub fn drain(&self, instance: &str) -> Vec<Datum> {
        let counts = std::mem::take(&mut *self.0.lock().unwrap());
        counts
            .into_iter()
            .map(|((minute, metric, extra), value)| {
                let mut dimensions = vec![("DBInstance".to_string(), instance.to_string())];
                dimensions.extend(extra);
                Datum {
                    metric: metric.into(),
                    unit: if metric == "TempFileBytes" {
                        "Bytes".into()
                    } else {
                        "Count".into()
                    },
                    value,
                    dimensions,
                    timestamp: UNIX_EPOCH + Duration::from_millis(minute.max(0) as u64),
                }
            })
            .collect()
    }
}

impl std::fmt::Debug for LogCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogCounts")
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}
