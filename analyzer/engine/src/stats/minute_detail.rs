//! Per-minute detail for saying what changed in an incident window: calls,
//! time and a coarse latency histogram by query, errors by SQLSTATE and
//! message, connections, auth failures and errors by application, user and
//! host, lock waits with the waiting and blocking statements, and temp files
//! by query.
//!
//! Memory is bounded by a budget of `minute_detail_cells` cells in all.
//! Below it everything is kept, and cells add up, so ranges of a split and
//! saved states merge exactly. When the budget is passed, every minute is
//! cut to its `minute_detail_keys` heaviest cells of each kind (queries by
//! time, the rest summed into `other_queries`; the other kinds by count,
//! the rest dropped); if that is not enough, new cells are dropped. What is
//! dropped is counted in `dropped_records`.

use super::{normalize_message, Limits};
use crate::totals::add_to;
use pglog_logparse::classify::activity::LockWait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Buckets of the per-query histogram: bucket `i` holds durations up to
/// `0.1 ms · 2^i`; the last one everything above.
pub const LATENCY_BUCKETS: usize = 20;
const FIRST_BOUND_MS: f64 = 0.1;

/// The histogram bucket of a duration.
pub fn latency_bucket(ms: f64) -> usize {
    if !(ms > FIRST_BOUND_MS) {
        return 0;
    }
    // ceil(log2(x)) from the float's exponent and mantissa: a call of
    // `log2` per query costs more than the rest of the cell.
    let bits = (ms / FIRST_BOUND_MS).to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as usize - 1023;
    let above = usize::from(bits & ((1 << 52) - 1) != 0);
    (exponent + above).min(LATENCY_BUCKETS - 1)
}

/// The upper bound (ms) of bucket `i`; the open last bucket answers twice
/// its lower bound.
pub fn bucket_bound_ms(i: usize) -> f64 {
    FIRST_BOUND_MS * 2f64.powi(i as i32)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryCell {
    pub calls: u64,
    pub total_us: u64,
    pub histogram: [u64; LATENCY_BUCKETS],
}

impl QueryCell {
    pub fn add(&mut self, ms: f64) {
        add_to(&mut self.calls, 1);
        add_to(&mut self.total_us, super::queries::micros(ms));
        add_to(&mut self.histogram[latency_bucket(ms)], 1);
    }

    pub fn merge(&mut self, o: &QueryCell) {
        add_to(&mut self.calls, o.calls);
        add_to(&mut self.total_us, o.total_us);
        for (a, b) in self.histogram.iter_mut().zip(o.histogram.iter()) {
            add_to(a, *b);
        }
    }

    /// The quantile `q` as its bucket's upper bound; `None` without calls.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let n: u64 = self.histogram.iter().fold(0, |a, b| a.saturating_add(*b));
        if n == 0 {
            return None;
        }
        let rank = (q * n as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, c) in self.histogram.iter().enumerate() {
            seen = seen.saturating_add(*c);
            if seen >= rank {
                return Some(bucket_bound_ms(i));
            }
        }
        Some(bucket_bound_ms(LATENCY_BUCKETS - 1))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorCell {
    pub sqlstate: Option<String>,
    pub message: String,
    pub count: u64,
}

/// What one application, user or host did in a minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientCell {
    pub connections: u64,
    pub auth_failures: u64,
    /// ERROR, FATAL and PANIC records.
    pub errors: u64,
}

/// The client kinds, as the report names them.
pub const CLIENT_KINDS: [&str; 3] = ["application", "user", "host"];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockCell {
    pub mode: String,
    pub object: String,
    /// The waiting statement's fingerprint, when the wait logged one.
    pub waiting: Option<u64>,
    pub waits: u64,
    pub max_wait_us: u64,
    /// Fingerprints of the lock holders' last logged statements, with the
    /// waits that named them.
    pub blocking: BTreeMap<u64, u64>,
}

/// Blocking statements a lock cell names at most.
const BLOCKERS_KEPT: usize = 8;

impl LockCell {
    fn add_blocker(&mut self, blocking: u64, n: u64) {
        if self.blocking.len() < BLOCKERS_KEPT || self.blocking.contains_key(&blocking) {
            add_to(self.blocking.entry(blocking).or_default(), n);
        }
    }
}

/// The key of a lock wait's cell in a minute: mode, object and waiting
/// statement.
pub(crate) fn lock_key(wait: &LockWait, waiting: Option<u64>) -> String {
    format!(
        "{}\t{}\t{}",
        wait.mode,
        wait.object,
        waiting.map(|f| format!("{f:016x}")).unwrap_or_default()
    )
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TempCell {
    pub files: u64,
    pub bytes: u64,
}

/// The detail of one minute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteCells {
    /// By fingerprint.
    pub queries: BTreeMap<u64, QueryCell>,
    /// Queries past the minute's cap of kept ones.
    pub other_queries: QueryCell,
    /// By `SQLSTATE` and the message with its values blanked.
    pub errors: BTreeMap<String, ErrorCell>,
    /// By (kind index in [`CLIENT_KINDS`], name).
    pub clients: BTreeMap<(u8, String), ClientCell>,
    /// By mode, object and waiting fingerprint.
    pub locks: BTreeMap<String, LockCell>,
    /// By fingerprint; `None` for temp files whose statement was not logged.
    pub temp: BTreeMap<Option<u64>, TempCell>,
}

impl MinuteCells {
    fn cells(&self) -> usize {
        self.queries.len()
            + self.errors.len()
            + self.clients.len()
            + self.locks.len()
            + self.temp.len()
    }

    /// Keeps the `cap` heaviest queries (by time, then calls, then
    /// fingerprint) and sums the rest into `other_queries`; returns their calls.
    fn cap_queries(&mut self, cap: usize) -> u64 {
        if self.queries.len() <= cap {
            return 0;
        }
        let mut moved = 0u64;
        let mut all: Vec<(u64, QueryCell)> =
            std::mem::take(&mut self.queries).into_iter().collect();
        all.sort_by(|(fa, a), (fb, b)| {
            b.total_us
                .cmp(&a.total_us)
                .then(b.calls.cmp(&a.calls))
                .then(fa.cmp(fb))
        });
        for (i, (fp, c)) in all.into_iter().enumerate() {
            if i < cap {
                self.queries.insert(fp, c);
            } else {
                moved = moved.saturating_add(c.calls);
                self.other_queries.merge(&c);
            }
        }
        moved
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteDetail {
    /// Keyed by the minute's start, epoch ms (UTC), as `Stats.minutes`.
    pub minutes: BTreeMap<i64, MinuteCells>,
    /// Cells held in all `minutes`.
    pub cells: u64,
    /// Records whose cell was not kept (a cap was reached).
    pub dropped_records: u64,
}

/// Keeps the `keys` cells of `m` with the most records (then the first
/// keys); returns the records of those dropped.
fn keep_heaviest<K: Ord + Clone, V>(
    m: &mut BTreeMap<K, V>,
    keys: usize,
    records: impl Fn(&V) -> u64,
) -> u64 {
    if m.len() <= keys {
        return 0;
    }
    let mut order: Vec<(u64, K)> = m.iter().map(|(k, v)| (records(v), k.clone())).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut dropped = 0u64;
    for (n, k) in order.into_iter().skip(keys) {
        m.remove(&k);
        dropped = dropped.saturating_add(n);
    }
    dropped
}

/// A cell of a minute's map, made if the caps allow; `None` (and the
/// record counted as dropped) when not.
fn capped_entry<'a, K: Ord + Clone, V: Default>(
    m: &'a mut BTreeMap<K, V>,
    k: &K,
    room: bool,
    dropped: &mut u64,
) -> Option<&'a mut V> {
    if !m.contains_key(k) {
        if !room {
            add_to(dropped, 1);
            return None;
        }
        m.insert(k.clone(), V::default());
    }
    m.get_mut(k)
}

impl MinuteDetail {
    fn has_room(&self, l: &Limits) -> bool {
        (self.cells as usize) < l.minute_detail_cells
    }

    /// The minute's cells and whether one more of kind `len` fits.
    fn minute(&mut self, start: i64) -> &mut MinuteCells {
        self.minutes.entry(start).or_default()
    }

    pub fn add_error(&mut self, start: i64, sqlstate: Option<&str>, message: &str, l: &Limits) {
        let message = normalize_message(message);
        let key = format!("{}\t{message}", sqlstate.unwrap_or(""));
        let total_room = self.has_room(l);
        let mut dropped = 0;
        let m = self.minute(start);
        let room = total_room;
        let before = m.errors.len();
        if let Some(c) = capped_entry(&mut m.errors, &key, room, &mut dropped) {
            if c.count == 0 {
                c.sqlstate = sqlstate.map(str::to_string);
                c.message = message;
            }
            add_to(&mut c.count, 1);
        }
        let grown = m.errors.len() - before;
        self.account(grown, dropped);
    }

    /// Adds to the cells of `names` (application, user, host; `None` when
    /// the record does not name it).
    pub fn add_client(
        &mut self,
        start: i64,
        names: [Option<&str>; 3],
        add: ClientCell,
        l: &Limits,
    ) {
        for (kind, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let total_room = self.has_room(l);
            let mut dropped = 0;
            let m = self.minute(start);
            let room = total_room;
            let before = m.clients.len();
            let key = (kind as u8, name.to_string());
            if let Some(c) = capped_entry(&mut m.clients, &key, room, &mut dropped) {
                add_to(&mut c.connections, add.connections);
                add_to(&mut c.auth_failures, add.auth_failures);
                add_to(&mut c.errors, add.errors);
            }
            let grown = m.clients.len() - before;
            self.account(grown, dropped);
        }
    }

    /// Adds a lock wait to its cell, keyed `key` (see [`lock_key`]).
    #[allow(clippy::too_many_arguments)]
    pub fn add_lock(
        &mut self,
        start: i64,
        key: &str,
        wait: &LockWait,
        waiting: Option<u64>,
        blocking: Option<u64>,
        counts_wait: bool,
        l: &Limits,
    ) {
        let key = key.to_string();
        let total_room = self.has_room(l);
        let mut dropped = 0;
        let m = self.minute(start);
        let room = total_room;
        let before = m.locks.len();
        if let Some(c) = capped_entry(&mut m.locks, &key, room, &mut dropped) {
            if c.mode.is_empty() {
                c.mode = wait.mode.clone();
                c.object = wait.object.clone();
                c.waiting = waiting;
            }
            if counts_wait {
                add_to(&mut c.waits, 1);
            }
            let us = super::queries::micros(wait.wait_ms.unwrap_or(0.0));
            c.max_wait_us = c.max_wait_us.max(us);
            if let Some(b) = blocking {
                c.add_blocker(b, 1);
            }
        }
        let grown = m.locks.len() - before;
        self.account(grown, dropped);
    }

    /// Names `n` more waits of the lock cell `key` of minute `start` as
    /// blocked by the statement `blocking`; nothing if the cell was not kept.
    pub(crate) fn add_blocker(&mut self, start: i64, key: &str, blocking: u64, n: u64) {
        let cell = self
            .minutes
            .get_mut(&start)
            .and_then(|m| m.locks.get_mut(key));
        if let Some(c) = cell {
            c.add_blocker(blocking, n);
        }
    }

    pub fn add_temp(&mut self, start: i64, fingerprint: Option<u64>, bytes: u64, l: &Limits) {
        let total_room = self.has_room(l);
        let mut dropped = 0;
        let m = self.minute(start);
        let room = total_room;
        let before = m.temp.len();
        if let Some(c) = capped_entry(&mut m.temp, &fingerprint, room, &mut dropped) {
            add_to(&mut c.files, 1);
            add_to(&mut c.bytes, bytes);
        }
        let grown = m.temp.len() - before;
        self.account(grown, dropped);
    }

    fn account(&mut self, grown: usize, dropped: u64) {
        add_to(&mut self.cells, grown as u64);
        add_to(&mut self.dropped_records, dropped);
    }

    /// Adds a minute's cells to the minute's.
    fn merge_minute(&mut self, start: i64, o: &MinuteCells, l: &Limits) {
        let total_room = self.has_room(l);
        let m = self.minutes.entry(start).or_default();
        let before = m.cells();
        let mut dropped = 0u64;
        for (fp, c) in &o.queries {
            match m.queries.get_mut(fp) {
                Some(q) => q.merge(c),
                None if total_room => {
                    m.queries.insert(*fp, c.clone());
                }
                None => {
                    add_to(&mut dropped, c.calls);
                    m.other_queries.merge(c);
                }
            }
        }
        m.other_queries.merge(&o.other_queries);
        for (k, c) in &o.errors {
            let room = total_room;
            let mut d = 0;
            if let Some(e) = capped_entry(&mut m.errors, k, room, &mut d) {
                if e.count == 0 {
                    e.sqlstate = c.sqlstate.clone();
                    e.message = c.message.clone();
                }
                add_to(&mut e.count, c.count);
            } else {
                add_to(&mut dropped, c.count);
            }
        }
        for (k, c) in &o.clients {
            let room = total_room;
            let mut d = 0;
            if let Some(e) = capped_entry(&mut m.clients, k, room, &mut d) {
                add_to(&mut e.connections, c.connections);
                add_to(&mut e.auth_failures, c.auth_failures);
                add_to(&mut e.errors, c.errors);
            } else {
                add_to(
                    &mut dropped,
                    c.connections
                        .saturating_add(c.auth_failures)
                        .saturating_add(c.errors),
                );
            }
        }
        for (k, c) in &o.locks {
            let room = total_room;
            let mut d = 0;
            if let Some(e) = capped_entry(&mut m.locks, k, room, &mut d) {
                if e.mode.is_empty() {
                    e.mode = c.mode.clone();
                    e.object = c.object.clone();
                    e.waiting = c.waiting;
                }
                add_to(&mut e.waits, c.waits);
                e.max_wait_us = e.max_wait_us.max(c.max_wait_us);
                for (b, n) in &c.blocking {
                    e.add_blocker(*b, *n);
                }
            } else {
                add_to(&mut dropped, c.waits.max(1));
            }
        }
        for (k, c) in &o.temp {
            let room = total_room;
            let mut d = 0;
            if let Some(e) = capped_entry(&mut m.temp, k, room, &mut d) {
                add_to(&mut e.files, c.files);
                add_to(&mut e.bytes, c.bytes);
            } else {
                add_to(&mut dropped, c.files);
            }
        }
        let after = m.cells();
        self.cells = self
            .cells
            .saturating_add(after as u64)
            .saturating_sub(before as u64);
        add_to(&mut self.dropped_records, dropped);
        if self.cells as usize > l.minute_detail_cells {
            self.compact(l);
        }
    }

    /// Cuts every minute to its heaviest `minute_detail_keys` cells of
    /// each kind.
    fn compact(&mut self, l: &Limits) {
        let keys = l.minute_detail_keys;
        let mut dropped = 0u64;
        let mut cells = 0u64;
        for m in self.minutes.values_mut() {
            dropped = dropped
                .saturating_add(m.cap_queries(keys))
                .saturating_add(keep_heaviest(&mut m.errors, keys, |c| c.count))
                .saturating_add(keep_heaviest(&mut m.clients, keys, |c| {
                    c.connections
                        .saturating_add(c.auth_failures)
                        .saturating_add(c.errors)
                }))
                .saturating_add(keep_heaviest(&mut m.locks, keys, |c| c.waits.max(1)))
                .saturating_add(keep_heaviest(&mut m.temp, keys, |c| c.files));
            cells = cells.saturating_add(m.cells() as u64);
        }
        self.cells = cells;
        add_to(&mut self.dropped_records, dropped);
    }

    pub fn merge(&mut self, o: &MinuteDetail, l: &Limits) {
        add_to(&mut self.dropped_records, o.dropped_records);
        for (start, m) in &o.minutes {
            self.merge_minute(*start, m, l);
        }
    }
}

/// The queries of the minute being folded, held in a hash map (a lookup
/// per query record) and put into [`MinuteDetail`] when the minute changes.
#[derive(Default)]
pub(crate) struct HeldQueries {
    start: Option<i64>,
    queries: HashMap<u64, QueryCell, foldhash::fast::FixedState>,
    /// Queries of the minute past the budget of cells.
    other: QueryCell,
}

impl HeldQueries {
    pub(crate) fn add(
        &mut self,
        start: i64,
        fingerprint: u64,
        ms: f64,
        d: &mut MinuteDetail,
        l: &Limits,
    ) {
        if self.start != Some(start) {
            self.flush(d, l);
            self.start = Some(start);
        }
        let full = self.queries.len() >= l.minute_detail_cells;
        match self.queries.get_mut(&fingerprint) {
            Some(c) => c.add(ms),
            None if full => self.other.add(ms),
            None => {
                let mut c = QueryCell::default();
                c.add(ms);
                self.queries.insert(fingerprint, c);
            }
        }
    }

    pub(crate) fn flush(&mut self, d: &mut MinuteDetail, l: &Limits) {
        if let Some(start) = self.start.take() {
            let cells = MinuteCells {
                queries: self.queries.drain().collect(),
                other_queries: std::mem::take(&mut self.other),
                ..MinuteCells::default()
            };
            add_to(&mut d.dropped_records, cells.other_queries.calls);
            d.merge_minute(start, &cells, l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_double() {
        assert_eq!(latency_bucket(0.05), 0);
        assert_eq!(latency_bucket(0.1), 0);
        assert_eq!(latency_bucket(0.15), 1);
        assert_eq!(latency_bucket(0.4), 2);
        assert_eq!(latency_bucket(0.41), 3);
        for ms in [0.11, 0.2, 0.33, 1.0, 7.5, 100.0, 1234.5, 52_428.8] {
            let by_log = ((ms / 0.1f64).log2().ceil() as usize).min(LATENCY_BUCKETS - 1);
            assert_eq!(latency_bucket(ms), by_log, "{ms}");
        }
        assert_eq!(latency_bucket(1e9), LATENCY_BUCKETS - 1);
        assert_eq!(latency_bucket(f64::NAN), 0);
        let mut c = QueryCell::default();
        for _ in 0..95 {
            c.add(0.3);
        }
        for _ in 0..5 {
            c.add(3000.0);
        }
        assert_eq!(c.quantile_ms(0.95), Some(0.4));
        assert_eq!(c.quantile_ms(0.99), Some(bucket_bound_ms(15)));
    }

    /// Minutes split between two ranges merge to the same detail as one
    /// fold of all.
    #[test]
    fn split_minutes_merge_exactly() {
        let l = Limits::default();
        let mut whole = MinuteDetail::default();
        let mut parts = [MinuteDetail::default(), MinuteDetail::default()];
        let mut held = HeldQueries::default();
        let mut held_parts = [HeldQueries::default(), HeldQueries::default()];
        for i in 0..40u64 {
            let start = (i as i64 / 20) * 60_000;
            let p = (i % 2) as usize;
            held.add(start, i % 3, i as f64, &mut whole, &l);
            held_parts[p].add(start, i % 3, i as f64, &mut parts[p], &l);
            for d in [&mut whole, &mut parts[p]] {
                fold_client_and_error(d, start, i, &l);
            }
        }
        held.flush(&mut whole, &l);
        for (h, p) in held_parts.iter_mut().zip(parts.iter_mut()) {
            h.flush(p, &l);
        }
        let [mut a, b] = parts;
        a.merge(&b, &l);
        assert_eq!(a, whole);
        let m = &whole.minutes[&0];
        assert_eq!(m.errors["23505\tdup ?"].count, 20);
        assert_eq!(m.queries[&0].calls, 7);
        assert_eq!(whole.dropped_records, 0);
        let cells: usize = whole.minutes.values().map(MinuteCells::cells).sum();
        assert_eq!(whole.cells as usize, cells);
    }

    fn fold_client_and_error(d: &mut MinuteDetail, start: i64, i: u64, l: &Limits) {
        d.add_error(start, Some("23505"), &format!("dup {i}"), l);
        let host = format!("10.0.0.{}", i % 5);
        let c = ClientCell {
            connections: 1,
            ..ClientCell::default()
        };
        d.add_client(start, [Some("app"), None, Some(host.as_str())], c, l);
    }

    /// Past the budget of cells, new cells are dropped (queries summed
    /// apart), and the records counted.
    #[test]
    fn cells_past_the_budget_are_counted() {
        let l = Limits {
            minute_detail_keys: 3,
            minute_detail_cells: 5,
            ..Limits::default()
        };
        let mut d = MinuteDetail::default();
        for i in 0..20u64 {
            fold_client_and_error(&mut d, 0, i, &l);
        }
        // The error, `app` and three hosts fill the budget; the other two
        // hosts' records are dropped.
        assert_eq!(d.cells, 5);
        assert_eq!(d.dropped_records, 8);
        let mut held = HeldQueries::default();
        for i in 0..10u64 {
            held.add(60_000, i, 1.0, &mut d, &l);
        }
        held.flush(&mut d, &l);
        let m = &d.minutes[&60_000];
        assert!(m.queries.is_empty());
        assert_eq!(m.other_queries.calls, 10);
        assert_eq!((d.cells, d.dropped_records), (5, 18));
    }

    /// A merge that passes the budget cuts every minute to its heaviest
    /// keys of each kind.
    #[test]
    fn a_merge_past_the_budget_keeps_the_heaviest() {
        let l = Limits {
            minute_detail_keys: 3,
            minute_detail_cells: 5,
            ..Limits::default()
        };
        let mut big = MinuteDetail::default();
        let mut held = HeldQueries::default();
        for i in 0..10u64 {
            held.add(0, i, 1.0 + i as f64, &mut big, &Limits::default());
        }
        held.flush(&mut big, &Limits::default());
        let mut d = MinuteDetail::default();
        d.merge(&big, &l);
        let m = &d.minutes[&0];
        assert_eq!(m.queries.keys().copied().collect::<Vec<_>>(), [7, 8, 9]);
        assert_eq!(m.other_queries.calls, 7);
        assert_eq!((d.cells, d.dropped_records), (3, 7));
    }
}
