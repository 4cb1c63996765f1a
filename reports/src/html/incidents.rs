//! The incidents at the top of the HTML page: the shared lines, each cause
//! linked to its query's details, its error's row or its section.

use crate::incidents::{incident_lines, Target};
use pglog_analyzer::Report;
use serde::Serialize;

#[derive(Serialize)]
pub(super) struct CauseView {
    kind: &'static str,
    text: String,
    href: Option<String>,
}

#[derive(Serialize)]
pub(super) struct IncidentView {
    range: String,
    score: String,
    signals: Vec<String>,
    causes: Vec<CauseView>,
}

/// The fingerprints of the queries the incidents name, for their details.
pub(super) fn named_queries(r: &Report) -> impl Iterator<Item = &str> {
    r.sections.incidents.iter().flat_map(|i| {
        i.top_queries
            .iter()
            .map(|q| q.fingerprint.as_str())
            .chain(i.temp_files.iter().filter_map(|t| t.fingerprint.as_deref()))
    })
}

/// `detailed`: the fingerprints with a details section; `errors_shown`: the
/// error messages listed in the page, whose rows are `err-N`.
pub(super) fn views(
    r: &Report,
    clock: crate::Clock,
    detailed: &[String],
    errors_shown: usize,
) -> Vec<IncidentView> {
    let href = |t: &Target| match t {
        Target::Query(f) => detailed.iter().any(|d| d == f).then(|| format!("#q-{f}")),
        Target::Error { sqlstate, message } => Some(
            r.sections
                .errors
                .messages
                .iter()
                .take(errors_shown)
                .position(|m| &m.sqlstate == sqlstate && &m.message == message)
                .map_or("#errors".to_string(), |n| format!("#err-{n}")),
        ),
        Target::Section(s) => Some(format!("#{s}")),
    };
    r.sections
        .incidents
        .iter()
        .map(|i| {
            let l = incident_lines(i, clock);
            IncidentView {
                range: l.range,
                score: l.score,
                signals: l.signals,
                causes: l
                    .causes
                    .into_iter()
                    .map(|c| CauseView {
                        href: href(&c.target),
                        kind: c.kind,
                        text: c.text,
                    })
                    .collect(),
            }
        })
        .collect()
}
