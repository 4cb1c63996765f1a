pub(crate) use crate::plain::ms;
use crate::plain::{human_bytes, one_line, thousands};
use pglog_analyzer::Report;
use std::io::{self, Write};

/// ANSI colour, or nothing (piped output, `NO_COLOR`).
#[derive(Clone, Copy)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    /// Colour for standard output when it is a terminal and `NO_COLOR` is unset.
    pub fn for_stdout() -> Paint {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            on: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn wrap(self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }

    fn severity(self, s: &str) -> String {
        match s {
            "WARNING" => self.wrap("33", s),
            "ERROR" => self.wrap("31", s),
            "FATAL" | "PANIC" => self.wrap("1;31", s),
            _ => s.to_string(),
        }
    }

    /// `s` in the colour of an error.
    fn severity_word(self, s: &str) -> String {
        self.wrap("1;31", s)
    }

    fn insight(self, s: &str) -> String {
        self.wrap("35", s)
    }
}

/// Writes a short summary for the terminal.
pub fn write_text<W: Write>(
    r: &Report,
    mut out: W,
    paint: Paint,
    clock: crate::Clock,
) -> io::Result<()> {
    let i = &r.input;
    let s = &r.summary;
    write_headline(r, &mut out, clock)?;
    if let Some(scope) = crate::scope::scope_line(r) {
        writeln!(out, "{scope}")?;
    }
    write_inferred_prefixes(r, &mut out)?;
    crate::incidents::write_lines(
        &r.sections.incidents,
        &mut out,
        clock,
        str::to_string,
        ("", "  "),
    )?;
    writeln!(
        out,
        "queries {}   plans {}   temp files {} ({})",
        thousands(s.queries),
        thousands(s.plans),
        thousands(s.events.get("temp_file").copied().unwrap_or(0)),
        human_bytes(s.temp_file_bytes)
    )?;
    let sev: Vec<String> = ["LOG", "WARNING", "ERROR", "FATAL", "PANIC"]
        .iter()
        .map(|k| {
            format!(
                "{k} {}",
                thousands(s.severities.get(*k).copied().unwrap_or(0))
            )
        })
        .collect();
    writeln!(out, "severities: {}", sev.join("  "))?;
    if !s.sqlstates.is_empty() {
        let mut codes: Vec<(&String, &u64)> = s.sqlstates.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = codes
            .iter()
            .take(8)
            .map(|(c, n)| format!("{c} x{n}"))
            .collect();
        let more = codes.len().saturating_sub(8);
        let tail = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        writeln!(out, "errors by SQLSTATE: {}{tail}", top.join(", "))?;
    }
    let events: Vec<String> = [
        "connection",
        "disconnection",
        "auth_failure",
        "checkpoint",
        "restartpoint",
        "autovacuum",
        "autoanalyze",
        "lock_wait",
        "deadlock",
    ]
    .iter()
    .map(|k| {
        format!(
            "{} {}",
            k.replace('_', " "),
            thousands(s.events.get(*k).copied().unwrap_or(0))
        )
    })
    .collect();
    writeln!(out, "events: {}", events.join(", "))?;
    crate::events::write_headline(r, &mut out, |s| paint.severity_word(s))?;
    crate::server::write_text(r, &mut out, |s| paint.severity_word(s), clock)?;
    write_queries(r, &mut out, paint)?;
    crate::baseline::write_text(r, &mut out, |s| paint.bold(s), clock)?;
    write_activity(r, &mut out, paint)?;
    crate::events::write_text(r, &mut out)?;
    write_plan_insights(r, &mut out, paint)?;
    crate::pgbouncer::write_text(r, &mut out, |s| paint.bold(s))?;
    for m in &i.malformed_samples {
        writeln!(
            out,
            "malformed: {}:{}: {} ({})",
            m.file, m.line, m.reason, m.kind
        )?;
    }
    if i.malformed > i.malformed_samples.len() as u64 {
        writeln!(
            out,
            "malformed: ... and {} more",
            i.malformed - i.malformed_samples.len() as u64
        )?;
    }
    for f in &i.foreign_samples {
        writeln!(out, "foreign line: {}:{}: {:?}", f.file, f.line, f.text)?;
    }
    if i.foreign_lines > i.foreign_samples.len() as u64 {
        writeln!(
            out,
            "foreign lines: ... and {} more",
            i.foreign_lines - i.foreign_samples.len() as u64
        )?;
    }
    for k in &i.skipped {
        writeln!(out, "skipped: {} ({})", k.path, k.reason)?;
    }
    out.flush()
}

/// What was read, and the time it spans (UTC).
pub(crate) fn write_headline<W: Write>(
    r: &Report,
    out: &mut W,
    clock: crate::Clock,
) -> io::Result<()> {
    let i = &r.input;
    let pgbouncer = match &r.sections.pgbouncer {
        Some(b) => format!(", {} pgbouncer lines", thousands(b.lines)),
        None => String::new(),
    };
    writeln!(
        out,
        "{} file(s), {}, {} records{pgbouncer}, {} malformed",
        i.files.len(),
        human_bytes(i.bytes),
        thousands(i.records),
        thousands(i.malformed)
    )?;
    if i.foreign_lines > 0 || !i.skipped.is_empty() {
        writeln!(
            out,
            "{} foreign line(s) (not PostgreSQL's), {} input(s) left out",
            thousands(i.foreign_lines),
            i.skipped.len()
        )?;
    }
    if let (Some(a), Some(b)) = (&r.summary.first_timestamp, &r.summary.last_timestamp) {
        writeln!(
            out,
            "from {} to {} ({})",
            clock.show(a),
            clock.show(b),
            clock.label()
        )?;
    }
    Ok(())
}

/// The prefixes guessed from the lines, one line each.
fn write_inferred_prefixes<W: Write>(r: &Report, out: &mut W) -> io::Result<()> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for s in r.input.sources.iter().filter(|s| s.prefix_inferred) {
        let Some(p) = s.prefix.as_deref() else {
            continue;
        };
        match seen.iter_mut().find(|(q, _)| *q == p) {
            Some((_, n)) => *n += 1,
            None => seen.push((p, 1)),
        }
    }
    for (p, n) in seen {
        writeln!(out, "log_line_prefix inferred: '{p}' ({n} file(s))")?;
    }
    Ok(())
}

/// How many top queries the terminal summary lists.
const TOP_QUERIES: usize = 10;

fn write_queries<W: Write>(r: &Report, out: &mut W, paint: Paint) -> io::Result<()> {
    let l = &r.sections.latency;
    if l.count == 0 {
        return Ok(());
    }
    let f = |v: Option<f64>| v.map_or("-".to_string(), ms);
    writeln!(
        out,
        "latency: p50 {}  p95 {}  p99 {}  max {}  ({} distinct queries, {} total)",
        f(l.p50_ms),
        f(l.p95_ms),
        f(l.p99_ms),
        f(l.max_ms),
        thousands(r.sections.queries.len() as u64),
        ms(l.total_ms)
    )?;
    writeln!(out, "{}", paint.bold("top queries by total time:"))?;
    let then = crate::baseline::then_column(r.baseline.is_some());
    writeln!(
        out,
        "  {:>10} {:>8} {:>10} {:>10} {:>6}  {}query",
        "total",
        "calls",
        "mean",
        "p95",
        "share",
        then.header()
    )?;
    for q in r.sections.queries.iter().take(TOP_QUERIES) {
        writeln!(
            out,
            "  {:>10} {:>8} {:>10} {:>10} {:>5.1}%  {}{}",
            ms(q.total_ms),
            thousands(q.calls),
            ms(q.mean_ms),
            ms(q.p95_ms),
            q.time_share * 100.0,
            then.cell(q),
            one_line(&q.normalized, 80)
        )?;
    }
    if r.sections.queries.len() > TOP_QUERIES {
        writeln!(
            out,
            "  ... {} more in the JSON and HTML reports",
            r.sections.queries.len() - TOP_QUERIES
        )?;
    }
    if r.sections.other_queries.queries > 0 {
        writeln!(
            out,
            "  (other: {} rare queries folded together, {} calls)",
            thousands(r.sections.other_queries.queries),
            thousands(r.sections.other_queries.calls)
        )?;
    }
    Ok(())
}

/// How many plan insights the terminal summary lists.
const TOP_INSIGHTS: usize = 10;

fn write_plan_insights<W: Write>(r: &Report, out: &mut W, paint: Paint) -> io::Result<()> {
    let all: Vec<_> = r
        .sections
        .plans
        .iter()
        .flat_map(|p| p.insights.iter().map(move |i| (p, i)))
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        paint.bold("plan insights (slowest plans first):")
    )?;
    for (p, i) in all.iter().take(TOP_INSIGHTS) {
        writeln!(
            out,
            "  {} {} [{} plan, {}]",
            paint.insight(&format!("{:<15}", i.kind)),
            one_line(&i.message, 110),
            ms(p.duration_ms),
            one_line(
                p.normalized.as_deref().unwrap_or("query text not logged"),
                40
            )
        )?;
    }
    if all.len() > TOP_INSIGHTS {
        writeln!(
            out,
            "  ... {} more in the JSON report",
            all.len() - TOP_INSIGHTS
        )?;
    }
    Ok(())
}

/// `integrity_constraint_violation / unique`.
pub(crate) fn class_and_kind(class: &str, kind: Option<&str>) -> String {
    match kind {
        Some(k) => format!("{class} / {k}"),
        None => class.to_string(),
    }
}

fn write_activity<W: Write>(r: &Report, out: &mut W, paint: Paint) -> io::Result<()> {
    let classes = &r.sections.errors.by_error_class;
    if !classes.is_empty() {
        let top: Vec<String> = classes
            .iter()
            .take(4)
            .map(|c| {
                format!(
                    "{} {}",
                    class_and_kind(&c.class, c.kind.as_deref()),
                    thousands(c.count)
                )
            })
            .collect();
        writeln!(out, "error classes: {}", top.join(", "))?;
    }
    for m in r.sections.errors.messages.iter().take(5) {
        writeln!(
            out,
            "error x{}{}: {} {} {}",
            thousands(m.count),
            crate::baseline::error_then(m),
            paint.severity(&m.severity),
            m.sqlstate.as_deref().unwrap_or("-"),
            one_line(&m.message, 90)
        )?;
    }
    let s = &r.sections.sessions;
    if s.connections > 0 || s.disconnections > 0 {
        writeln!(
            out,
            "sessions: {} connections, peak {} at once{}, mean session {}",
            thousands(s.connections),
            s.peak_sessions,
            s.peak_at
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default(),
            s.session_ms.mean.map_or("-".into(), ms)
        )?;
    }
    let l = &r.sections.locks;
    if l.waits > 0 || l.deadlocks > 0 {
        writeln!(
            out,
            "locks: {} waits, {} waited, {} deadlocks",
            thousands(l.waits),
            ms(l.wait_ms),
            thousands(l.deadlocks)
        )?;
    }
    let c = &r.sections.checkpoints;
    if c.completed > 0 {
        let causes: Vec<String> = c.by_cause.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            out,
            "checkpoints: {} ({}), write {:.1} s, sync {:.1} s, max {:.1} s",
            c.completed,
            causes.join(", "),
            c.write_s.sum,
            c.sync_s.sum,
            c.total_s.max
        )?;
    }
    if r.sections.auth_failures.failures > 0 {
        writeln!(
            out,
            "authentication failures: {}",
            thousands(r.sections.auth_failures.failures)
        )?;
    }
    Ok(())
}

/// Writes `pglog diff` for the terminal.
pub fn write_diff_text<W: Write>(
    d: &pglog_analyzer::diff::DiffReport,
    mut out: W,
) -> io::Result<()> {
    writeln!(
        out,
        "old: {:.1} h of log, new: {:.1} h; changes of {:.0}% or more, queries with {} calls or more",
        d.old_span_hours,
        d.new_span_hours,
        d.threshold * 100.0,
        d.min_calls
    )?;
    crate::baseline::write_diff_lists(d, &mut out)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_numbers() {
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
    }
}
