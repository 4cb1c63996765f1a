//! The pgbouncer section of the terminal summary and of the Markdown report.

use crate::plain::{human_bytes, one_line, thousands};
use pglog_analyzer::pgbouncer::PgbouncerCounts;
use pglog_analyzer::Report;
use std::collections::BTreeMap;
use std::io::{self, Write};

const TOP: usize = 5;

fn fixed(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

/// The most frequent keys of a count map, `name (n), ...`.
fn top(m: &BTreeMap<String, u64>, n: usize) -> String {
    let mut v: Vec<(&String, &u64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = v
        .iter()
        .take(n)
        .map(|(k, c)| format!("{} ({})", one_line(k, 40), thousands(**c)))
        .collect();
    if v.len() > n {
        parts.push(format!("+{} more", v.len() - n));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn who(w: &PgbouncerCounts) -> String {
    format!(
        "databases {}; users {}; hosts {}",
        top(&w.by_database, TOP),
        top(&w.by_user, TOP),
        top(&w.by_host, TOP)
    )
}

/// Lines of the terminal summary; nothing when no pgbouncer log was read.
pub fn write_text<W: Write>(
    r: &Report,
    out: &mut W,
    bold: impl Fn(&str) -> String,
) -> io::Result<()> {
    let Some(b) = &r.sections.pgbouncer else {
        return Ok(());
    };
    writeln!(out, "{}", bold("pgbouncer:"))?;
    writeln!(
        out,
        "  {} lines; logins {}, login failures {}, sessions {} (mean {} s, max {} s), server connections {}, pooler errors {}",
        thousands(b.lines),
        thousands(b.logins.total),
        thousands(b.login_failures.total),
        thousands(b.sessions.total),
        fixed(b.session_s.mean_s, 1),
        b.session_s.max_s.map_or("-".into(), |v| v.to_string()),
        thousands(b.server_connections.total),
        thousands(b.pooler_errors)
    )?;
    let s = &b.stats;
    writeln!(
        out,
        "  stats: {} xacts, {} queries, in {}, out {}, mean xact {} µs, query {} µs ({} lines, {:.0} s)",
        thousands(s.xacts),
        thousands(s.queries),
        human_bytes(s.bytes_in),
        human_bytes(s.bytes_out),
        fixed(s.avg_xact_us, 0),
        fixed(s.avg_query_us, 0),
        thousands(s.lines),
        s.covered_s
    )?;
    writeln!(out, "  logins: {}", who(&b.logins))?;
    if b.login_failures.total > 0 {
        writeln!(
            out,
            "  login failures: {}",
            top(&b.login_failure_reasons, TOP)
        )?;
    }
    for m in b.messages.iter().take(TOP) {
        writeln!(
            out,
            "  {} x{}: {}",
            m.level,
            thousands(m.count),
            one_line(&m.message, 90)
        )?;
    }
    Ok(())
}

/// The Markdown section; nothing when no pgbouncer log was read.
pub fn write_markdown<W: Write>(
    r: &Report,
    out: &mut W,
    cell: impl Fn(&str, usize) -> String,
) -> io::Result<()> {
    let Some(b) = &r.sections.pgbouncer else {
        return Ok(());
    };
    writeln!(out, "\n## pgbouncer\n")?;
    writeln!(out, "| lines | logins | login failures | sessions | mean session | server connections | pooler errors | xacts | queries | mean xact | mean query |")?;
    writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let s = &b.stats;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} s | {} | {} | {} | {} | {} µs | {} µs |",
        thousands(b.lines),
        thousands(b.logins.total),
        thousands(b.login_failures.total),
        thousands(b.sessions.total),
        fixed(b.session_s.mean_s, 1),
        thousands(b.server_connections.total),
        thousands(b.pooler_errors),
        thousands(s.xacts),
        thousands(s.queries),
        fixed(s.avg_xact_us, 0),
        fixed(s.avg_query_us, 0)
    )?;
    writeln!(out, "\n| | by database | by user | by client host |")?;
    writeln!(out, "|---|---|---|---|")?;
    for (title, w) in [
        ("logins", &b.logins),
        ("login failures", &b.login_failures),
        ("sessions", &b.sessions),
    ] {
        writeln!(
            out,
            "| {title} | {} | {} | {} |",
            cell(&top(&w.by_database, TOP), 200),
            cell(&top(&w.by_user, TOP), 200),
            cell(&top(&w.by_host, TOP), 200)
        )?;
    }
    if !b.messages.is_empty() {
        writeln!(out, "\n| count | level | message |")?;
        writeln!(out, "|---:|---|---|")?;
        for m in b.messages.iter().take(10) {
            writeln!(
                out,
                "| {} | {} | {} |",
                thousands(m.count),
                m.level,
                cell(&m.message, 120)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn top_counts_first() {
        let m = [
            ("a".to_string(), 1),
            ("b".to_string(), 3),
            ("c".to_string(), 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(super::top(&m, 2), "b (3), c (2), +1 more");
        assert_eq!(super::top(&Default::default(), 2), "-");
    }
}
