//! Incident detection: the minutes that stand out against the same log's
//! own baseline (`detect`), merged into windows, ranked, and what changed in
//! each (`attribute`). The rule, thresholds and score are in the README's
//! *Incidents*.

mod attribute;
mod detect;

use crate::incident_report::Incident;
use crate::stats::Stats;

/// The incidents of the analysed log, worst first; none for a log with
/// fewer than [`detect::MIN_MINUTES`] minutes of activity.
pub fn incidents(stats: &Stats) -> Vec<Incident> {
    let windows = detect::windows(&stats.minutes);
    let steady = detect::steady_minutes(&stats.minutes, &windows);
    let mut out: Vec<Incident> = windows
        .iter()
        .map(|w| attribute::incident(stats, w, &steady))
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.start.cmp(&b.start)));
    out
}
