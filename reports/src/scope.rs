//! The line that says which records a report covers: its time window and
//! filters, and how many records they left out.

use crate::plain::{one_line, thousands};
use pglog_analyzer::Report;

/// `window: from 10:00:00.000 log time; filters: user ali*; 25 records
/// filtered out`, or `None` when the report covers every record. Control
/// characters are shown as `?`; renderers escape the rest.
pub(crate) fn scope_line(r: &Report) -> Option<String> {
    let i = &r.input;
    let filters = i.filters.summary();
    if i.window.is_none() && filters.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(w) = &i.window {
        parts.push(format!("window: {}", w.summary()));
    }
    if !filters.is_empty() {
        parts.push(format!("filters: {}", filters.join(", ")));
    }
    parts.push(format!("{} records filtered out", thousands(i.filtered)));
    Some(one_line(&parts.join("; "), 2000))
}
