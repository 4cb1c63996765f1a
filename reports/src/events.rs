//! The terminal and Markdown lines of the event details: wraparound (a
//! headline item), vacuum, lock and transaction-state events, and the most
//! frequent unclassified (`other`) messages.

use crate::plain::{one_line, thousands};
use pglog_analyzer::event_details::WraparoundDatabase;
use pglog_analyzer::Report;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Databases and unclassified messages the terminal summary lists.
const TOP_TEXT: usize = 3;
/// Unclassified messages the Markdown report lists.
const TOP_MARKDOWN: usize = 20;

fn database(d: &WraparoundDatabase) -> String {
    match (&d.database, d.database_oid) {
        (Some(name), _) => format!("database \"{}\"", one_line(name, 60)),
        (None, Some(oid)) => format!("database with OID {oid}"),
        (None, None) => "a database".into(),
    }
}

fn ids(d: &WraparoundDatabase) -> &'static str {
    if d.multixact {
        "MultiXactIds"
    } else {
        "transactions"
    }
}

/// `N word` parts of the counts that are not zero, joined by `, `.
fn nonzero(parts: &[(u64, &str)]) -> String {
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn total(m: &BTreeMap<String, u64>) -> u64 {
    m.values().fold(0, |a, b| a.saturating_add(*b))
}

/// Wraparound warnings and refusals: the most urgent of a summary.
pub fn write_headline<W: Write>(
    r: &Report,
    out: &mut W,
    alert: impl Fn(&str) -> String,
) -> io::Result<()> {
    let w = &r.sections.events.wraparound;
    for d in w.by_database.iter().take(TOP_TEXT) {
        let left = d
            .min_remaining
            .map(|n| format!(", {} {} left", thousands(n), ids(d)))
            .unwrap_or_default();
        let what = nonzero(&[(d.refusals, "commands refused"), (d.warnings, "warnings")]);
        writeln!(
            out,
            "{} {} must be vacuumed: {what}{left}",
            alert("WRAPAROUND:"),
            database(d)
        )?;
    }
    if w.by_database.len() > TOP_TEXT {
        writeln!(
            out,
            "  ... {} more databases in the JSON report",
            w.by_database.len() - TOP_TEXT
        )?;
    }
    if w.oldest_xmin_warnings > 0 || w.oldest_multixact_warnings > 0 {
        writeln!(
            out,
            "{} oldest xmin (or multixact) is far in the past: {} warnings; an old transaction, prepared transaction or replication slot holds vacuum back",
            alert("WRAPAROUND:"),
            thousands(w.oldest_xmin_warnings.saturating_add(w.oldest_multixact_warnings))
        )?;
    }
    Ok(())
}

/// Vacuum, lock and transaction-state lines, and the unclassified messages.
pub fn write_text<W: Write>(r: &Report, out: &mut W) -> io::Result<()> {
    for line in activity_lines(r) {
        writeln!(out, "{line}")?;
    }
    let o = &r.sections.events.other_events;
    if o.records > 0 {
        let top: Vec<String> = o
            .messages
            .iter()
            .take(TOP_TEXT)
            .map(|m| format!("{} x{}", one_line(&m.message, 70), thousands(m.count)))
            .collect();
        writeln!(
            out,
            "unclassified: {} records ({:.2}%) are `other`; most frequent: {}",
            thousands(o.records),
            o.share * 100.0,
            top.join("; ")
        )?;
    }
    Ok(())
}

/// One line each for vacuum, lock and transaction-state events that occurred.
fn activity_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let e = &r.sections.events;
    let v = &e.vacuum_events;
    let skipped = v.skipped.values().fold(0u64, |a, c| {
        a.saturating_add(c.vacuum).saturating_add(c.analyze)
    });
    let vacuum = nonzero(&[
        (e.wraparound.failsafe_vacuums, "failsafe vacuums"),
        (skipped, "skipped (lock not available or relation gone)"),
        (
            total(&v.orphan_temp_tables_dropped),
            "orphan temp tables dropped",
        ),
        (v.autovacuum_terminated, "autovacuum workers terminated"),
        (v.autovacuum_worker_timeouts, "worker start timeouts"),
        (v.autovacuum_cancel_requests, "autovacuum cancels requested"),
        (total(&v.uninitialized_pages), "uninitialized pages"),
    ]);
    if !vacuum.is_empty() {
        lines.push(format!("vacuum: {vacuum}"));
    }
    let l = &e.lock_events;
    let not_available = l.not_available.values().fold(0u64, |a, c| {
        a.saturating_add(c.row).saturating_add(c.relation)
    });
    let locks = nonzero(&[
        (l.deadlocks_avoided, "deadlocks avoided"),
        (
            l.deadlocks_while_waiting,
            "deadlocks detected while waiting",
        ),
        (not_available, "locks not available (NOWAIT)"),
    ]);
    if !locks.is_empty() {
        lines.push(format!("lock events: {locks}"));
    }
    let t = &e.transaction_state;
    let transactions = nonzero(&[
        (t.aborted, "statements in aborted transactions"),
        (
            t.no_transaction_in_progress,
            "COMMIT/ROLLBACK without a transaction",
        ),
        (t.already_in_progress, "BEGIN within a transaction"),
        (
            total(&t.prepared_statements_missing),
            "unknown prepared statements",
        ),
        (total(&t.cursors_missing), "unknown cursors"),
        (
            total(&t.nonstandard_string_escapes),
            "nonstandard \\' or \\\\ escapes",
        ),
    ]);
    if !transactions.is_empty() {
        lines.push(format!("transactions: {transactions}"));
    }
    lines
}

/// Markdown tables of wraparound and of the unclassified messages.
pub fn write_markdown<W: Write>(
    r: &Report,
    out: &mut W,
    cell: impl Fn(&str, usize) -> String,
    clock: crate::Clock,
) -> io::Result<()> {
    let when = |t: &Option<String>| t.as_deref().map_or("-".into(), |t| clock.show(t));
    let e = &r.sections.events;
    if !e.wraparound.by_database.is_empty() {
        writeln!(out, "\n## Wraparound\n")?;
        writeln!(
            out,
            "| database | IDs | commands refused | warnings | fewest left | first ({0}) | last ({0}) |",
            clock.label()
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---|---|")?;
        for d in &e.wraparound.by_database {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&database(d), 80),
                ids(d),
                thousands(d.refusals),
                thousands(d.warnings),
                d.min_remaining.map_or("-".into(), thousands),
                when(&d.first_seen),
                when(&d.last_seen)
            )?;
        }
    }
    let lines = activity_lines(r);
    if !lines.is_empty() {
        writeln!(out, "\n## Vacuum, locks and transactions\n")?;
        for l in lines {
            writeln!(out, "- {}", cell(&l, 400))?;
        }
    }
    let o = &e.other_events;
    if o.records > 0 {
        writeln!(out, "\n## Unclassified messages\n")?;
        writeln!(
            out,
            "{} records ({:.2}%) are of no known kind (`other`).\n",
            thousands(o.records),
            o.share * 100.0
        )?;
        writeln!(out, "| count | severity | message | example |")?;
        writeln!(out, "|---:|---|---|---|")?;
        for m in o.messages.iter().take(TOP_MARKDOWN) {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                thousands(m.count),
                m.severity,
                cell(&m.message, 120),
                cell(&m.example, 120)
            )?;
        }
        if o.messages.len() > TOP_MARKDOWN {
            writeln!(
                out,
                "\n{} more messages in the JSON report.",
                o.messages.len() - TOP_MARKDOWN
            )?;
        }
    }
    Ok(())
}
