//! Per-query statistics, keyed by fingerprint, with a bounded number of
//! distinct queries.

use super::plans::PlanSample;
use super::sketch::{Bucket, Sketch};
use super::who::{WhoId, Whos};
use super::{bump, Limits};
use crate::fingerprint::QueryKey;
use crate::text::truncate_chars;
use crate::totals::add_to;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::AddAssign;

/// Duration totals of the extended protocol's parse or bind steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    pub count: u64,
    /// Microseconds: integer sums are the same in any merge order.
    pub total_us: u64,
    pub max_ms: f64,
}

impl StepStats {
    pub fn add(&mut self, ms: f64) {
        self.count += 1;
        add_to(&mut self.total_us, micros(ms));
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn total_ms(&self) -> f64 {
        self.total_us as f64 / 1000.0
    }
}

/// Log durations have three decimals in ms, so whole microseconds hold them exactly.
pub fn micros(ms: f64) -> u64 {
    round_to_u64(ms.max(0.0) * 1000.0)
}

/// `x.round() as u64`, inline: without SSE4.1 `f64::round` is a call into
/// libm, three per statement record. Below 2^53 the integer part is exact
/// and so is what is left (Sterbenz), so comparing that with 0.5 rounds
/// half away from zero as `round` does; NaN, negatives and large values
/// convert as `as u64` does.
#[inline]
fn round_to_u64(x: f64) -> u64 {
    const EXACT_BELOW: f64 = 9_007_199_254_740_992.0;
    if x.is_nan() || x >= EXACT_BELOW {
        return x as u64;
    }
    let whole = x as u64;
    whole + u64::from(x - whole as f64 >= 0.5)
}

impl AddAssign<&StepStats> for StepStats {
    fn add_assign(&mut self, o: &StepStats) {
        add_to(&mut self.count, o.count);
        add_to(&mut self.total_us, o.total_us);
        self.max_ms = self.max_ms.max(o.max_ms);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HourCell {
    pub calls: u64,
    pub total_us: u64,
}

/// One executed statement, kept as an example of its query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub time_ms: Option<i64>,
    pub duration_ms: f64,
    pub user: Option<String>,
    pub database: Option<String>,
    pub application: Option<String>,
    pub text: String,
    pub params: Vec<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryStats {
    pub normalized: String,
    /// pg_query rejected the text; it was grouped by the fallback normalizer.
    pub parse_failed: bool,
    /// Why the text was not given to pg_query; it was grouped by the
    /// fallback normalizer.
    pub parse_skipped: Option<String>,
    pub calls: u64,
    pub total_us: u64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub sketch: Sketch,
    pub by_user: BTreeMap<String, u64>,
    pub by_database: BTreeMap<String, u64>,
    pub by_application: BTreeMap<String, u64>,
    /// Calls by `user@database`, the key pg_stat_statements uses.
    pub by_user_database: BTreeMap<String, u64>,
    /// Keyed by the hour's start, epoch ms (UTC).
    pub hours: BTreeMap<i64, HourCell>,
    pub parse: StepStats,
    pub bind: StepStats,
    pub temp_files: u64,
    pub temp_bytes: u64,
    pub lock_waits: u64,
    pub lock_wait_us: u64,
    pub errors: u64,
    pub cancels: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The slowest calls, slowest first.
    pub samples: Vec<Sample>,
    /// The slowest plans, slowest first.
    pub plans: Vec<PlanSample>,
    /// Calls not yet in the breakdowns and hours; empty outside a fold.
    #[serde(skip)]
    held: HeldCalls,
}

/// The calls of one query since its runner or hour last changed: a
/// session runs the same statements over and over, so its calls are
/// counted here and go into the breakdown maps and `hours` at once.
/// Adding `n` calls of one name at once is adding it `n` times (a name
/// that did not fit under the cap the first time never fits later), so
/// the maps end up as if each call had been added.
#[derive(Debug, Clone, Default, PartialEq)]
struct HeldCalls {
    /// Who ran them, and how many.
    who: Option<(WhoId, u64)>,
    /// The hour's start (epoch ms) and its calls.
    hour: Option<(i64, HourCell)>,
}

impl QueryStats {
    /// Adds a call. Its runner and hour are held (see [`HeldCalls`]):
    /// [`QueryStats::put_held`] must run before the breakdowns or hours
    /// are read.
    pub(crate) fn add_call(
        &mut self,
        bucket: Bucket,
        ms: f64,
        time_ms: Option<i64>,
        who: (WhoId, &Whos),
        limits: &Limits,
    ) {
        if self.calls == 0 {
            self.min_ms = ms;
            self.max_ms = ms;
        } else {
            self.min_ms = self.min_ms.min(ms);
            self.max_ms = self.max_ms.max(ms);
        }
        self.calls += 1;
        let us = micros(ms);
        add_to(&mut self.total_us, us);
        self.sketch.add_at(bucket);
        match &mut self.held.who {
            Some((id, n)) if *id == who.0 => *n += 1,
            _ => {
                self.put_held_who(who.1, limits);
                self.held.who = Some((who.0, 1));
            }
        }
        if let Some(t) = time_ms {
            let start = t - t.rem_euclid(3_600_000);
            match &mut self.held.hour {
                Some((h, cell)) if *h == start => {
                    cell.calls += 1;
                    add_to(&mut cell.total_us, us);
                }
                _ => {
                    self.put_held_hour();
                    self.held.hour = Some((
                        start,
                        HourCell {
                            calls: 1,
                            total_us: us,
                        },
                    ));
                }
            }
        }
        self.seen(time_ms);
    }

    /// Puts the held calls into the breakdowns and hours.
    pub(crate) fn put_held(&mut self, whos: &Whos, limits: &Limits) {
        self.put_held_who(whos, limits);
        self.put_held_hour();
    }

    fn put_held_who(&mut self, whos: &Whos, limits: &Limits) {
        let Some((id, n)) = self.held.who.take() else {
            return;
        };
        let names = whos.names(id);
        let cap = limits.breakdown;
        bump_capped(&mut self.by_user, &names.user, n, cap);
        bump_capped(&mut self.by_database, &names.database, n, cap);
        bump_capped(&mut self.by_application, &names.application, n, cap);
        bump_capped(&mut self.by_user_database, &names.user_database, n, cap);
    }

    fn put_held_hour(&mut self) {
        if let Some((start, cell)) = self.held.hour.take() {
            let h = self.hours.entry(start).or_default();
            add_to(&mut h.calls, cell.calls);
            add_to(&mut h.total_us, cell.total_us);
        }
    }

    pub fn seen(&mut self, time_ms: Option<i64>) {
        if let Some(t) = time_ms {
            self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
    }

    /// Keeps `sample` if it is among the `n` slowest.
    pub fn offer_sample(&mut self, n: usize, ms: f64, make: impl FnOnce() -> Sample) {
        if n == 0 {
            return;
        }
        if self.samples.len() >= n {
            let last = self.samples.last().expect("n > 0");
            if ms < last.duration_ms {
                return;
            }
        }
        keep_slowest(&mut self.samples, make(), n, |s| (s.duration_ms, s.time_ms));
    }

    pub fn offer_plan(&mut self, n: usize, plan: PlanSample) {
        if n == 0 {
            return;
        }
        keep_slowest(&mut self.plans, plan, n, |p| (p.duration_ms, p.time_ms));
    }
}

/// Inserts `item` into `v` (slowest first) and trims it to `n`. Ties break on
/// time, so the kept set does not depend on the order items arrive in.
fn keep_slowest<T>(v: &mut Vec<T>, item: T, n: usize, key: impl Fn(&T) -> (f64, Option<i64>)) {
    let k = key(&item);
    let pos = v
        .iter()
        .position(|x| {
            let kx = key(x);
            kx.0 < k.0 || (kx.0 == k.0 && kx.1 > k.1)
        })
        .unwrap_or(v.len());
    if pos < n {
        v.insert(pos, item);
        v.truncate(n);
    }
}

/// Breakdown maps keep at most `cap` names; the rest count under `(other)`.
fn bump_capped(map: &mut BTreeMap<String, u64>, key: &str, n: u64, cap: usize) {
    if map.len() >= cap && !map.contains_key(key) {
        bump(map, "(other)", n);
    } else {
        bump(map, key, n);
    }
}

fn merge_capped(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>, cap: usize) {
    for (k, &v) in from {
        bump_capped(into, k, v, cap);
    }
}

impl QueryStats {
    fn merge(&mut self, o: &QueryStats, limits: &Limits) {
        debug_assert!(o.held == HeldCalls::default(), "held calls put first");
        if self.normalized.is_empty() {
            self.normalized.clone_from(&o.normalized);
            self.parse_failed = o.parse_failed;
            self.parse_skipped.clone_from(&o.parse_skipped);
        }
        if o.calls > 0 {
            if self.calls == 0 {
                self.min_ms = o.min_ms;
                self.max_ms = o.max_ms;
            } else {
                self.min_ms = self.min_ms.min(o.min_ms);
                self.max_ms = self.max_ms.max(o.max_ms);
            }
        }
        add_to(&mut self.calls, o.calls);
        add_to(&mut self.total_us, o.total_us);
        self.sketch += &o.sketch;
        merge_capped(&mut self.by_user, &o.by_user, limits.breakdown);
        merge_capped(&mut self.by_database, &o.by_database, limits.breakdown);
        merge_capped(
            &mut self.by_application,
            &o.by_application,
            limits.breakdown,
        );
        merge_capped(
            &mut self.by_user_database,
            &o.by_user_database,
            limits.breakdown,
        );
        for (h, c) in &o.hours {
            let e = self.hours.entry(*h).or_default();
            add_to(&mut e.calls, c.calls);
            add_to(&mut e.total_us, c.total_us);
        }
        self.parse += &o.parse;
        self.bind += &o.bind;
        add_to(&mut self.temp_files, o.temp_files);
        add_to(&mut self.temp_bytes, o.temp_bytes);
        add_to(&mut self.lock_waits, o.lock_waits);
        add_to(&mut self.lock_wait_us, o.lock_wait_us);
        add_to(&mut self.errors, o.errors);
        add_to(&mut self.cancels, o.cancels);
        self.seen(o.first_ms);
        self.seen(o.last_ms);
        for s in &o.samples {
            keep_slowest(&mut self.samples, s.clone(), limits.samples, |s| {
                (s.duration_ms, s.time_ms)
            });
        }
        for p in &o.plans {
            keep_slowest(&mut self.plans, p.clone(), limits.plans, |p| {
                (p.duration_ms, p.time_ms)
            });
        }
    }

    /// What to rank by when the table is full: total time, then calls.
    fn weight(&self) -> (u64, u64) {
        (
            self.total_us
                .saturating_add(self.parse.total_us)
                .saturating_add(self.bind.total_us),
            self.calls,
        )
    }
}

/// All queries of the analysis. Memory is bounded: when more than
/// `limits.queries` distinct fingerprints are held, the lightest fifth (by
/// total time, then calls) is folded into `other`, whose totals stay exact.
/// Below the cap, results do not depend on the input order or split.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryTable {
    /// Fingerprints are hashes already: a fast hasher is enough.
    pub by_fingerprint: HashMap<u64, QueryStats, foldhash::fast::FixedState>,
    /// Everything folded out of the table.
    pub other: QueryStats,
    /// Distinct fingerprints folded into `other` (counted per fold; a query
    /// folded twice counts twice).
    pub evicted: u64,
    /// The collector's own queries (`/* pglog */`), left out.
    pub own_queries: u64,
    /// SQL `PREPARE` statements: timed as their query's parse step, not calls.
    pub prepares: u64,
}

impl QueryTable {
    /// Puts every query's held calls into its breakdowns and hours.
    pub(crate) fn put_held(&mut self, whos: &Whos, limits: &Limits) {
        for q in self.by_fingerprint.values_mut() {
            q.put_held(whos, limits);
        }
    }

    pub fn entry(&mut self, key: &QueryKey) -> &mut QueryStats {
        self.by_fingerprint
            .entry(key.fingerprint)
            .or_insert_with(|| QueryStats {
                normalized: key.normalized.to_string(),
                parse_failed: key.parse_failed,
                parse_skipped: key.parse_skipped.as_deref().map(str::to_string),
                ..QueryStats::default()
            })
    }

    /// Folds the lightest queries into `other` when over the cap.
    pub fn enforce_cap(&mut self, limits: &Limits) {
        if self.by_fingerprint.len() <= limits.queries {
            return;
        }
        let keep = limits.queries * 4 / 5;
        let mut ranked: Vec<(u64, (u64, u64))> = self
            .by_fingerprint
            .iter()
            .map(|(k, q)| (*k, q.weight()))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (k, _) in &ranked[keep..] {
            if let Some(q) = self.by_fingerprint.remove(k) {
                let mut q = q;
                q.samples.clear();
                q.plans.clear();
                self.other.merge(&q, limits);
                self.evicted += 1;
            }
        }
        self.other.normalized = "(other queries)".into();
    }

    pub fn merge(&mut self, o: &QueryTable, limits: &Limits) {
        for (k, q) in &o.by_fingerprint {
            self.by_fingerprint.entry(*k).or_default().merge(q, limits);
        }
        self.other.merge(&o.other, limits);
        add_to(&mut self.evicted, o.evicted);
        add_to(&mut self.own_queries, o.own_queries);
        add_to(&mut self.prepares, o.prepares);
        self.enforce_cap(limits);
    }

    /// Trims a sample or plan text to the configured size.
    pub fn clip(text: &str, max: usize) -> String {
        truncate_chars(text, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_to_u64_is_round_as_u64() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            -0.6,
            -1e300,
            0.49999999999999994,
            4503599627370495.5,
            9007199254740991.0,
            9007199254740992.0,
            1.8e19,
            1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Durations as logged (three decimals), and any bit pattern.
            values.push((seed % 100_000_000) as f64 / 1000.0 * 1000.0);
            values.push(f64::from_bits(seed));
            // Halves, and the values just below them.
            let half = (seed >> 12) as f64 + 0.5;
            values.push(half);
            values.push(f64::from_bits(half.to_bits() - 1));
        }
        for x in values {
            assert_eq!(round_to_u64(x), x.round() as u64, "{x:e}");
        }
    }

    /// Calls held by runner and hour, with runners that come back and
    /// more names than the breakdown cap, give the maps of adding each
    /// call to them.
    #[test]
    fn held_calls_equal_direct_adds() {
        let limits = Limits {
            breakdown: 3,
            ..Limits::default()
        };
        let runners = ["a", "a", "b", "c", "a", "d", "d", "e", "b", "f", "a", "a"];
        let mut whos = Whos::default();
        let mut held = QueryStats::default();
        let mut direct = QueryStats::default();
        for (i, user) in runners.iter().cycle().take(60).enumerate() {
            let (db, app) = (if i % 7 == 0 { "x" } else { "y" }, "app");
            let t = (i as i64 / 5) * 1_800_000 + i as i64;
            let ms = 0.25 * i as f64;
            let id = whos.id(user, db, app);
            held.add_call(Bucket::of(ms), ms, Some(t), (id, &whos), &limits);
            let cap = limits.breakdown;
            bump_capped(&mut direct.by_user, user, 1, cap);
            bump_capped(&mut direct.by_database, db, 1, cap);
            bump_capped(&mut direct.by_application, app, 1, cap);
            bump_capped(
                &mut direct.by_user_database,
                &format!("{user}@{db}"),
                1,
                cap,
            );
            let h = direct.hours.entry(t - t.rem_euclid(3_600_000)).or_default();
            h.calls += 1;
            h.total_us += micros(ms);
        }
        held.put_held(&whos, &limits);
        assert_eq!(held.by_user, direct.by_user);
        assert_eq!(held.by_database, direct.by_database);
        assert_eq!(held.by_application, direct.by_application);
        assert_eq!(held.by_user_database, direct.by_user_database);
        assert_eq!(held.hours, direct.hours);
        // d, e and f, four calls in each round of twelve, did not fit.
        assert_eq!(held.by_user.get("(other)"), Some(&20));
        assert_eq!(held.held, HeldCalls::default());
    }
}
