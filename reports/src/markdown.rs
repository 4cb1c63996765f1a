//! The terminal summary as Markdown, for tickets and email (`--format md`).
//! Log text is untrusted: every cell is escaped so that it renders as the
//! text it is, never as markup, links or HTML.

use crate::plain::{human_bytes, one_line, thousands};
use crate::text::{class_and_kind, ms, write_headline};
use pglog_analyzer::Report;
use std::io::{self, Write};

const TOP_QUERIES: usize = 10;
const TOP_ERRORS: usize = 10;
const TOP_INSIGHTS: usize = 20;

/// Text for a Markdown table cell: one line, Markdown and HTML specials
/// backslash-escaped (CommonMark then shows them literally).
fn cell(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in one_line(s, max).chars() {
        // `:` keeps `https://...` from turning into a link.
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '&' | '~' | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn write_markdown<W: Write>(r: &Report, mut out: W, clock: crate::Clock) -> io::Result<()> {
    let s = &r.summary;
    let x = &r.sections;
    writeln!(out, "# PostgreSQL log report\n")?;
    write_headline(r, &mut out, clock)?;
    if let Some(scope) = crate::scope::scope_line(r) {
        writeln!(out, "\n{}", cell(&scope, 2000))?;
    }
    writeln!(out, "\n## Incidents\n")?;
    crate::incidents::write_lines(
        &x.incidents,
        &mut out,
        clock,
        |s| cell(s, 2000),
        ("### ", "- "),
    )?;
    writeln!(out, "\n## Overview\n")?;
    writeln!(out, "| queries | p50 | p95 | p99 | errors | connections | peak sessions | deadlocks | temp files |")?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    let p = |v: Option<f64>| v.map_or("-".into(), ms);
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) |",
        thousands(s.queries),
        p(x.latency.p50_ms),
        p(x.latency.p95_ms),
        p(x.latency.p99_ms),
        thousands(x.errors.total),
        thousands(x.sessions.connections),
        x.sessions.peak_sessions,
        thousands(x.locks.deadlocks),
        thousands(x.temp_files.files),
        human_bytes(x.temp_files.bytes)
    )?;

    writeln!(out, "\n## Top queries by total time\n")?;
    writeln!(out, "| total | calls | mean | p95 | share | query |")?;
    writeln!(out, "|---:|---:|---:|---:|---:|---|")?;
    for q in x.queries.iter().take(TOP_QUERIES) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.1}% | {} |",
            ms(q.total_ms),
            thousands(q.calls),
            ms(q.mean_ms),
            ms(q.p95_ms),
            q.time_share * 100.0,
            cell(&q.normalized, 200)
        )?;
    }
    if x.queries.len() > TOP_QUERIES {
        writeln!(
            out,
            "\n{} more queries in the JSON report.",
            x.queries.len() - TOP_QUERIES
        )?;
    }

    crate::baseline::write_markdown(r, &mut out, cell, clock)?;

    if !x.errors.by_error_class.is_empty() {
        writeln!(out, "\n## Error classes\n")?;
        writeln!(out, "| count | error class |")?;
        writeln!(out, "|---:|---|")?;
        for c in x.errors.by_error_class.iter().take(TOP_ERRORS) {
            writeln!(
                out,
                "| {} | {} |",
                thousands(c.count),
                class_and_kind(&c.class, c.kind.as_deref())
            )?;
        }
    }

    if !x.errors.messages.is_empty() {
        writeln!(out, "\n## Top errors\n")?;
        writeln!(
            out,
            "| count | severity | SQLSTATE | error class | message | example |"
        )?;
        writeln!(out, "|---:|---|---|---|---|---|")?;
        for m in x.errors.messages.iter().take(TOP_ERRORS) {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                thousands(m.count),
                m.severity,
                m.sqlstate.as_deref().unwrap_or("-"),
                class_and_kind(&m.error_class, m.error_kind.as_deref()),
                cell(&m.message, 120),
                cell(
                    m.sample.statement.as_deref().unwrap_or(&m.sample.message),
                    120
                )
            )?;
        }
    }

    let insights: Vec<_> = x
        .plans
        .iter()
        .flat_map(|p| p.insights.iter().map(move |i| (p, i)))
        .collect();
    if !insights.is_empty() {
        writeln!(out, "\n## Plan insights\n")?;
        writeln!(out, "| kind | finding | plan | query |")?;
        writeln!(out, "|---|---|---:|---|")?;
        for (p, i) in insights.iter().take(TOP_INSIGHTS) {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                i.kind,
                cell(&i.message, 200),
                ms(p.duration_ms),
                cell(
                    p.normalized.as_deref().unwrap_or("(query text not logged)"),
                    80
                )
            )?;
        }
    }
    crate::events::write_markdown(r, &mut out, cell, clock)?;
    crate::server::write_markdown(r, &mut out, clock, cell)?;
    crate::pgbouncer::write_markdown(r, &mut out, cell)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_cannot_carry_markup() {
        assert_eq!(
            super::cell("<b>x</b> | [a](b)", 100),
            "\\<b\\>x\\</b\\> \\| \\[a\\](b)"
        );
        assert_eq!(super::cell("a\nb\x1b[31m", 100), "a b?\\[31m");
        assert_eq!(super::cell("see https://x", 100), "see https\\://x");
    }
}
