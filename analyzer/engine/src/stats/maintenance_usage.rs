//! Per-table totals of the figures autovacuum and autoanalyze reports carry
//! (as far as the server's version writes them: WAL usage from 13, frozen
//! pages from 16; see the classifier's `vacuum_report`).

use crate::totals::add_to;
use pglog_logparse::classify::vacuum_report::MaintenanceUsage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MaintenanceTotals {
    pub index_scans: u64,
    pub pages_frozen: u64,
    pub tuples_frozen: u64,
    pub buffer_hits: u64,
    /// Blocks read (`misses` up to PostgreSQL 16, `reads` from 17).
    pub buffer_reads: u64,
    pub buffer_dirtied: u64,
    pub wal_records: u64,
    pub wal_fpi: u64,
    pub wal_bytes: u64,
}

impl MaintenanceTotals {
    pub fn add(&mut self, u: &MaintenanceUsage) {
        let v = |x: Option<u64>| x.unwrap_or(0);
        self.merge(&MaintenanceTotals {
            index_scans: v(u.index_scans),
            pages_frozen: v(u.pages_frozen),
            tuples_frozen: v(u.tuples_frozen),
            buffer_hits: v(u.buffer_hits),
            buffer_reads: v(u.buffer_reads),
            buffer_dirtied: v(u.buffer_dirtied),
            wal_records: v(u.wal_records),
            wal_fpi: v(u.wal_fpi),
            wal_bytes: v(u.wal_bytes),
        });
    }

    pub fn merge(&mut self, o: &MaintenanceTotals) {
        for (total, v) in [
            (&mut self.index_scans, o.index_scans),
            (&mut self.pages_frozen, o.pages_frozen),
            (&mut self.tuples_frozen, o.tuples_frozen),
            (&mut self.buffer_hits, o.buffer_hits),
            (&mut self.buffer_reads, o.buffer_reads),
            (&mut self.buffer_dirtied, o.buffer_dirtied),
            (&mut self.wal_records, o.wal_records),
            (&mut self.wal_fpi, o.wal_fpi),
            (&mut self.wal_bytes, o.wal_bytes),
        ] {
            add_to(total, v);
        }
    }
}
