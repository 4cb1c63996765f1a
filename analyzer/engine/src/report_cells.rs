//! Report values that several sections share.

use crate::stats::activity::LockCell;
use serde::Serialize;

/// One bucket of a session-duration histogram.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SessionBucket {
    /// Upper bound in seconds; `null` for the open bucket.
    pub le_s: Option<f64>,
    pub count: u64,
}

/// Lock waits of one lock mode, object or type.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct LockCellReport {
    pub waits: u64,
    pub acquired: u64,
    pub wait_ms: f64,
}

impl From<&LockCell> for LockCellReport {
    fn from(c: &LockCell) -> Self {
        LockCellReport {
            waits: c.waits,
            acquired: c.acquired,
            wait_ms: c.wait_us as f64 / 1000.0,
        }
    }
}
