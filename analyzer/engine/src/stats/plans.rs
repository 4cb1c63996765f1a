//! The slowest plans of the whole run, kept with their whole text (up to a
//! per-plan cap) so that the report can read them into trees however large
//! they are. Every other plan is kept only as the head its query's `plans`
//! show. Memory stays bounded: at most `limits.slowest_plans` plans, and
//! whole texts only while their sum stays within `limits.plan_text_bytes`;
//! the plans past that keep only their head.
//!
//! The kept set is the same in any input order or split: it is the top of
//! one order (slowest first, then earliest, then fingerprint), and a plan
//! within the byte budget of the merged set was within it in its own part.

use super::Limits;
use crate::text::head_chars;
use serde::{Deserialize, Serialize};

/// Why a kept plan's text is shorter than the plan the server logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanCut {
    /// Longer than the per-plan cap (`limits.whole_plan_chars`).
    PlanCap,
    /// Among the slowest plans, but past the run's budget for whole plan texts.
    Budget,
    /// Not among the slowest plans of the run: only the head its query shows is kept.
    Head,
}

/// An auto_explain plan of the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSample {
    pub time_ms: Option<i64>,
    pub duration_ms: f64,
    /// `text` or `json`.
    pub format: String,
    pub plan: String,
    pub user: Option<String>,
    pub database: Option<String>,
    /// `Query Parameters:` (PostgreSQL 16+); `None` is SQL NULL.
    #[serde(default)]
    pub params: Vec<Option<String>>,
    /// `Query Identifier:` (compute_query_id with auto_explain.log_verbose).
    #[serde(default)]
    pub query_id: Option<i64>,
    /// Characters of the plan as the server logged it.
    #[serde(default)]
    pub logged_chars: usize,
    /// Why `plan` holds less than was logged; `None` when it is whole.
    #[serde(default)]
    pub cut: Option<PlanCut>,
}

/// A plan among the slowest of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowPlan {
    /// The query's fingerprint; `None` when the plan came without its text.
    pub fingerprint: Option<u64>,
    pub normalized: Option<String>,
    pub sample: PlanSample,
}

impl SlowPlan {
    fn key(&self) -> (f64, Option<i64>, Option<u64>) {
        (
            self.sample.duration_ms,
            self.sample.time_ms,
            self.fingerprint,
        )
    }
}

/// Is `a` before `b` in the order of the kept set (slowest first)?
fn before(a: (f64, Option<i64>, Option<u64>), b: (f64, Option<i64>, Option<u64>)) -> bool {
    a.0.total_cmp(&b.0)
        .reverse()
        .then(a.1.cmp(&b.1))
        .then(a.2.cmp(&b.2))
        .is_lt()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlowestPlans {
    /// Slowest first.
    pub plans: Vec<SlowPlan>,
}

impl SlowestPlans {
    /// Would a plan of this duration, time and query enter the set?
    pub fn wants(
        &self,
        duration_ms: f64,
        time_ms: Option<i64>,
        fingerprint: Option<u64>,
        l: &Limits,
    ) -> bool {
        l.slowest_plans > 0
            && (self.plans.len() < l.slowest_plans
                || self
                    .plans
                    .last()
                    .is_some_and(|last| before((duration_ms, time_ms, fingerprint), last.key())))
    }

    /// Adds `p` in its place (when it [`wants`](Self::wants) it), then keeps
    /// the set within its limits.
    pub fn offer(&mut self, p: SlowPlan, l: &Limits) {
        if !self.wants(p.sample.duration_ms, p.sample.time_ms, p.fingerprint, l) {
            return;
        }
        let k = p.key();
        let at = self
            .plans
            .iter()
            .position(|x| before(k, x.key()))
            .unwrap_or(self.plans.len());
        self.plans.insert(at, p);
        self.plans.truncate(l.slowest_plans);
        self.keep_within_budget(l);
    }

    pub fn merge(&mut self, o: &SlowestPlans, l: &Limits) {
        for p in &o.plans {
            if self.wants(p.sample.duration_ms, p.sample.time_ms, p.fingerprint, l) {
                self.offer(p.clone(), l);
            }
        }
    }

    /// Whole texts while their sum is within the budget; past it, heads.
    fn keep_within_budget(&mut self, l: &Limits) {
        let mut bytes = 0usize;
        for p in &mut self.plans {
            bytes = bytes.saturating_add(p.sample.plan.len());
            if bytes > l.plan_text_bytes && p.sample.plan.chars().count() > l.plan_chars {
                let head = head_chars(&p.sample.plan, l.plan_chars);
                bytes = bytes - p.sample.plan.len() + head.len();
                p.sample.plan = head.to_string();
                p.sample.cut = Some(PlanCut::Budget);
            }
        }
    }
}

/// What the report says of a plan kept in part.
pub fn cut_note(p: &PlanSample, l: &Limits) -> Option<String> {
    let note = match p.cut? {
        PlanCut::PlanCap => format!(
            "cut: the server logged {} characters and the first {} are kept (the per-plan cap), so the tree is read from a cut text",
            p.logged_chars, l.whole_plan_chars
        ),
        PlanCut::Budget => format!(
            "cut: the slowest plans' whole texts reached the run's budget of {} bytes, so only the first {} of its {} characters are kept",
            l.plan_text_bytes, l.plan_chars, p.logged_chars
        ),
        PlanCut::Head => format!(
            "cut: the first {} of {} characters are kept here; the run's {} slowest plans are kept whole (see `plans`)",
            l.plan_chars, p.logged_chars, l.slowest_plans
        ),
    };
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(i: usize) -> SlowPlan {
        // Durations repeat so that ties break on time, then fingerprint.
        SlowPlan {
            fingerprint: Some((i % 7) as u64),
            normalized: None,
            sample: PlanSample {
                time_ms: Some((i % 5) as i64),
                duration_ms: (i % 13) as f64,
                format: "text".into(),
                plan: "x".repeat(100 + (i * 37) % 400),
                user: None,
                database: None,
                params: Vec::new(),
                query_id: None,
                logged_chars: 100 + (i * 37) % 400,
                cut: None,
            },
        }
    }

    fn limits() -> Limits {
        Limits {
            slowest_plans: 10,
            plan_chars: 50,
            plan_text_bytes: 1500,
            ..Limits::default()
        }
    }

    #[test]
    fn the_kept_set_is_the_same_in_any_order_and_split() {
        let l = limits();
        let mut whole = SlowestPlans::default();
        for i in 0..200 {
            whole.offer(plan(i), &l);
        }
        assert_eq!(whole.plans.len(), 10);
        let bytes: usize = whole.plans.iter().map(|p| p.sample.plan.len()).sum();
        assert!(bytes <= l.plan_text_bytes + 10 * l.plan_chars, "{bytes}");
        assert!(whole
            .plans
            .iter()
            .any(|p| p.sample.cut == Some(PlanCut::Budget)));
        let mut reversed = SlowestPlans::default();
        for i in (0..200).rev() {
            reversed.offer(plan(i), &l);
        }
        assert_eq!(reversed, whole);
        for cut in [1, 50, 137] {
            let (mut a, mut b) = (SlowestPlans::default(), SlowestPlans::default());
            for i in 0..cut {
                a.offer(plan(i), &l);
            }
            for i in cut..200 {
                b.offer(plan(i), &l);
            }
            b.merge(&a, &l);
            assert_eq!(b, whole, "split at {cut}");
        }
    }
}
