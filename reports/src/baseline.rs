//! The `--baseline` parts of the terminal summary and the Markdown report:
//! the regressions against the baseline day (the lists of `pglog diff`) and
//! the baseline's figures beside today's.

use crate::plain::{ms, one_line, thousands};
use pglog_analyzer::diff::QueryChange;
use pglog_analyzer::{ErrorMessageReport, QueryReport, Report};
use std::io::{self, Write};

/// Rows of each Markdown list.
const TOP: usize = 10;

/// The terminal's "p95 then" column, shown only with a baseline.
pub(crate) struct ThenColumn(bool);

pub(crate) fn then_column(shown: bool) -> ThenColumn {
    ThenColumn(shown)
}

impl ThenColumn {
    pub(crate) fn header(&self) -> String {
        if self.0 {
            format!("{:>10}  ", "p95 then")
        } else {
            String::new()
        }
    }

    pub(crate) fn cell(&self, q: &QueryReport) -> String {
        match (self.0, &q.baseline) {
            (false, _) => String::new(),
            (true, Some(Some(b))) => format!("{:>10}  ", ms(b.p95_ms)),
            (true, _) => format!("{:>10}  ", "new"),
        }
    }
}

/// ` (then xN)` after an error's count, `(new)` when the baseline lacks it;
/// nothing without a baseline.
pub(crate) fn error_then(m: &ErrorMessageReport) -> String {
    match &m.baseline {
        None => String::new(),
        Some(Some(b)) => format!(" (then x{})", thousands(b.count)),
        Some(None) => " (new)".to_string(),
    }
}

/// What the baseline is, and its warnings, in one line each.
fn baseline_lines(r: &Report, clock: crate::Clock) -> Vec<String> {
    let Some(b) = &r.baseline else {
        return Vec::new();
    };
    let at = |t: &Option<String>| t.as_deref().map_or("-".to_string(), |t| clock.show(t));
    let mut lines = vec![format!(
        "against the baseline {} ({} to {}, {:.2} h of log)",
        b.file,
        at(&b.first_timestamp),
        at(&b.last_timestamp),
        b.span_hours
    )];
    lines.extend(b.warnings.iter().map(|w| format!("warning: {w}")));
    lines
}

pub(crate) fn write_text<W: Write>(
    r: &Report,
    out: &mut W,
    bold: impl Fn(&str) -> String,
    clock: crate::Clock,
) -> io::Result<()> {
    let Some(d) = &r.regressions else {
        return Ok(());
    };
    let mut lines = baseline_lines(r, clock).into_iter();
    if let Some(first) = lines.next() {
        writeln!(out, "{}", bold(&format!("regressions {first}:")))?;
    }
    for l in lines {
        writeln!(out, "  {l}")?;
    }
    write_diff_lists(d, out)
}

pub(crate) fn write_markdown<W: Write>(
    r: &Report,
    out: &mut W,
    cell: fn(&str, usize) -> String,
    clock: crate::Clock,
) -> io::Result<()> {
    let Some(d) = &r.regressions else {
        return Ok(());
    };
    writeln!(out, "\n## Regressions against the baseline\n")?;
    for l in baseline_lines(r, clock) {
        writeln!(out, "{}\n", cell(&l, 2000))?;
    }
    writeln!(
        out,
        "Changes of {:.0}% or more, queries with {} calls or more.",
        d.threshold * 100.0,
        d.min_calls
    )?;
    for (title, list) in [
        ("Slower (p95)", &d.slower),
        ("More frequent (calls per hour)", &d.more_frequent),
        ("New queries", &d.new_queries),
    ] {
        writeln!(out, "\n### {title}: {}\n", list.len())?;
        write_changes(out, list, cell)?;
    }
    writeln!(out, "\n### New errors: {}\n", d.new_errors.len())?;
    if !d.new_errors.is_empty() {
        writeln!(out, "| count | severity | SQLSTATE | message |")?;
        writeln!(out, "|---:|---|---|---|")?;
        for e in d.new_errors.iter().take(TOP) {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                thousands(e.count),
                e.severity,
                e.sqlstate.as_deref().unwrap_or("-"),
                cell(&e.message, 120)
            )?;
        }
    }
    if !d.new_sqlstates.is_empty() {
        writeln!(out, "\nNew SQLSTATEs: {}", d.new_sqlstates.join(", "))?;
    }
    write_then_and_now(r, out, cell)
}

fn write_changes<W: Write>(
    out: &mut W,
    list: &[QueryChange],
    cell: fn(&str, usize) -> String,
) -> io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "| p95 then | p95 now | calls/h then | calls/h now | query |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---|")?;
    for q in list.iter().take(TOP) {
        writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {} |",
            ms(q.old_p95_ms),
            ms(q.new_p95_ms),
            q.old_calls_per_hour,
            q.new_calls_per_hour,
            cell(&q.normalized, 200)
        )?;
    }
    Ok(())
}

/// The top queries with the baseline's figures beside today's.
fn write_then_and_now<W: Write>(
    r: &Report,
    out: &mut W,
    cell: fn(&str, usize) -> String,
) -> io::Result<()> {
    writeln!(out, "\n### Top queries then and now\n")?;
    writeln!(
        out,
        "| calls then | calls now | mean then | mean now | p95 then | p95 now | query |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|---|")?;
    for q in r.sections.queries.iter().take(TOP) {
        let b = q.baseline.clone().flatten();
        let then = |f: &dyn Fn(&pglog_analyzer::baseline::QueryBaseline) -> String| {
            b.as_ref().map_or("new".to_string(), f)
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            then(&|b| thousands(b.calls)),
            thousands(q.calls),
            then(&|b| ms(b.mean_ms)),
            ms(q.mean_ms),
            then(&|b| ms(b.p95_ms)),
            ms(q.p95_ms),
            cell(&q.normalized, 200)
        )?;
    }
    Ok(())
}

/// The lists of a diff, each with its first rows: `pglog diff`'s output and
/// the regressions of `pglog analyze --baseline`.
pub(crate) fn write_diff_lists<W: Write>(
    d: &pglog_analyzer::diff::DiffReport,
    out: &mut W,
) -> io::Result<()> {
    let lists = [
        ("slower (p95)", &d.slower),
        ("more frequent (calls/hour)", &d.more_frequent),
        ("new queries", &d.new_queries),
    ];
    for (title, list) in lists {
        writeln!(out, "{title}: {}", list.len())?;
        for q in list.iter().take(20) {
            writeln!(
                out,
                "  p95 {} -> {}  calls/h {:.1} -> {:.1}  {}",
                ms(q.old_p95_ms),
                ms(q.new_p95_ms),
                q.old_calls_per_hour,
                q.new_calls_per_hour,
                one_line(&q.normalized, 80)
            )?;
        }
    }
    writeln!(out, "new errors: {}", d.new_errors.len())?;
    for e in d.new_errors.iter().take(20) {
        writeln!(
            out,
            "  x{} {} {} {}",
            thousands(e.count),
            e.severity,
            e.sqlstate.as_deref().unwrap_or("-"),
            one_line(&e.message, 90)
        )?;
    }
    if !d.new_sqlstates.is_empty() {
        writeln!(out, "new SQLSTATEs: {}", d.new_sqlstates.join(", "))?;
    }
    Ok(())
}
