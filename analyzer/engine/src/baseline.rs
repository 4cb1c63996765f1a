//! `pglog analyze --baseline STATE`: another day's figures (a state written
//! by `--save-state`) beside each query and error message of the report,
//! and what got worse against that day, by the rules of `pglog diff`.

pub use crate::baseline_report::{BaselineReport, ErrorBaseline, QueryBaseline};
use crate::diff::{diff, span_hours, DiffOptions};
use crate::report::Report;
use crate::run::Analysis;
use crate::sections::{ms, round3};
use crate::state::{load_state, StateError};
use crate::stats::queries::QueryStats;
use crate::time_text::rfc3339;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A loaded baseline and the thresholds of its regressions.
#[derive(Debug)]
pub struct Baseline {
    pub path: PathBuf,
    pub analysis: Analysis,
    pub options: DiffOptions,
}

impl Baseline {
    /// Reads the state; an unreadable, foreign or damaged file is an error
    /// that names it.
    pub fn load(path: &Path, options: DiffOptions) -> Result<Baseline, StateError> {
        Ok(Baseline {
            path: path.to_path_buf(),
            analysis: load_state(path)?,
            options,
        })
    }

    /// Adds the baseline figures, the `baseline` and the `regressions`
    /// sections to `report`, the report of `current`.
    pub fn apply(&self, current: &Analysis, report: &mut Report) {
        let base = &self.analysis.stats;
        let hours = span_hours(&self.analysis);
        for q in &mut report.sections.queries {
            let found = u64::from_str_radix(&q.fingerprint, 16)
                .ok()
                .and_then(|fp| base.queries.by_fingerprint.get(&fp));
            q.baseline = Some(
                found
                    .filter(|b| b.calls > 0)
                    .map(|b| query_baseline(b, hours)),
            );
        }
        for m in &mut report.sections.errors.messages {
            m.baseline = Some(base.errors.messages.get(&m.message).map(|b| ErrorBaseline {
                count: b.count,
                per_hour: round3(b.count as f64 / hours),
            }));
        }
        report.baseline = Some(BaselineReport {
            file: self.path.display().to_string(),
            first_timestamp: base.summary.first_time_ms.map(rfc3339),
            last_timestamp: base.summary.last_time_ms.map(rfc3339),
            span_hours: hours,
            queries: base.queries.by_fingerprint.len() as u64,
            errors: base.errors.total,
            warnings: self.warnings(current),
        });
        report.regressions = Some(diff(&self.analysis, current, self.options));
    }

    /// What a DBA should know before trusting the comparison. None of it
    /// stops the report: comparing staging with production, or a replica
    /// with its primary, is sometimes the point.
    pub fn warnings(&self, current: &Analysis) -> Vec<String> {
        let file = self.path.display();
        let (base, now) = (&self.analysis.stats, &current.stats);
        let mut out = Vec::new();
        if base.summary.records == 0 {
            out.push(format!("{file}: the baseline holds no record"));
            return out;
        }
        let (old_dbs, new_dbs) = (databases(&self.analysis), databases(current));
        if !old_dbs.is_empty() && !new_dbs.is_empty() && old_dbs.is_disjoint(&new_dbs) {
            out.push(format!(
                "{file}: no database in common with these logs ({} against {}); it may be another server's state",
                join(&old_dbs),
                join(&new_dbs)
            ));
        }
        let shared = now
            .queries
            .by_fingerprint
            .iter()
            .filter(|(fp, q)| {
                q.calls > 0
                    && base
                        .queries
                        .by_fingerprint
                        .get(fp)
                        .is_some_and(|b| b.calls > 0)
            })
            .count();
        if shared == 0 && now.summary.queries > 0 {
            out.push(format!(
                "{file}: no query in common with these logs; every query is new against it"
            ));
        }
        let (s, n) = (&base.summary, &now.summary);
        if let (Some(bf), Some(bl), Some(nf), Some(nl)) = (
            s.first_time_ms,
            s.last_time_ms,
            n.first_time_ms,
            n.last_time_ms,
        ) {
            if bf <= nl && nf <= bl {
                out.push(format!(
                    "{file}: the baseline covers some of the same time as these logs ({} to {})",
                    rfc3339(bf),
                    rfc3339(bl)
                ));
            }
        }
        out
    }
}

fn query_baseline(b: &QueryStats, hours: f64) -> QueryBaseline {
    QueryBaseline {
        calls: b.calls,
        calls_per_hour: round3(b.calls as f64 / hours),
        mean_ms: round3(ms(b.total_us) / b.calls as f64),
        p95_ms: round3(b.sketch.quantile(0.95).unwrap_or(0.0)),
    }
}

/// The databases an analysis's queries ran in.
fn databases(a: &Analysis) -> BTreeSet<&str> {
    a.stats
        .queries
        .by_fingerprint
        .values()
        .flat_map(|q| q.by_database.keys().map(String::as_str))
        .collect()
}

fn join(names: &BTreeSet<&str>) -> String {
    names.iter().copied().collect::<Vec<_>>().join(", ")
}
