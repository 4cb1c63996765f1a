//! The server section of the terminal summary and of the Markdown report:
//! crashes, out of memory, archive failures and page verification failures
//! are headline items; shutdowns and connection problems follow.

use crate::plain::{human_bytes, one_line, thousands};
use pglog_analyzer::server::{Occurrence, ServerReport};
use pglog_analyzer::stats::server::{ArchiveFailure, Crash, OutOfMemory};
use pglog_analyzer::Report;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Occurrences listed per headline item.
const TOP: usize = 3;

/// `name n, name n` by count, most first.
fn counts(m: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{} {}", one_line(&k.replace('_', " "), 60), thousands(**n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn how(c: &Crash) -> String {
    match (c.signal, c.exit_code) {
        (Some(s), _) => match &c.signal_name {
            Some(name) => format!("signal {s} ({name})"),
            None => format!("signal {s}"),
        },
        (None, Some(code)) => format!("exit code {code}"),
        (None, None) => "abnormal exit".into(),
    }
}

fn crash_line(o: &Occurrence<Crash>, clock: crate::Clock) -> String {
    let c = &o.detail;
    format!(
        "{} {} (PID {}) {}{}",
        o.time.as_deref().map_or("-".into(), |t| clock.show(t)),
        c.process,
        c.crashed_pid,
        how(c),
        c.statement
            .as_deref()
            .map(|s| format!(": {}", one_line(s, 80)))
            .unwrap_or_default()
    )
}

fn oom_line(o: &Occurrence<OutOfMemory>, clock: crate::Clock) -> String {
    let m = &o.detail;
    format!(
        "{} {}{}{}{}",
        o.time.as_deref().map_or("-".into(), |t| clock.show(t)),
        m.request_bytes
            .map_or("request of unknown size".into(), |b| format!(
                "request of {}",
                human_bytes(b)
            )),
        m.context
            .as_deref()
            .map(|c| format!(" in {c}"))
            .unwrap_or_default(),
        match (&m.user, &m.database) {
            (Some(u), Some(d)) => format!(", {u}@{d}"),
            _ => String::new(),
        },
        m.statement
            .as_deref()
            .map(|s| format!(": {}", one_line(s, 60)))
            .unwrap_or_default()
    )
}

fn archive_line(o: &Occurrence<ArchiveFailure>, clock: crate::Clock) -> String {
    let a = &o.detail;
    let how = match (a.exit_code, a.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "abnormal exit".into(),
    };
    format!(
        "{} {how}{}{}",
        o.time.as_deref().map_or("-".into(), |t| clock.show(t)),
        a.file
            .as_deref()
            .map(|f| format!(", file {f}"))
            .unwrap_or_default(),
        a.command
            .as_deref()
            .map(|c| format!(": {}", one_line(c, 80)))
            .unwrap_or_default()
    )
}

/// The headline items, one line each, with the first occurrences under them.
fn headlines(s: &ServerReport, clock: crate::Clock) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    if s.crashes_total > 0 {
        out.push((
            format!(
                "crashes: {} ({} crash restarts)",
                thousands(s.crashes_total),
                thousands(s.crash_restarts)
            ),
            s.crashes
                .iter()
                .take(TOP)
                .map(|o| crash_line(o, clock))
                .collect(),
        ));
    }
    if s.out_of_memory_total > 0 {
        out.push((
            format!("out of memory: {}", thousands(s.out_of_memory_total)),
            s.out_of_memory
                .iter()
                .take(TOP)
                .map(|o| oom_line(o, clock))
                .collect(),
        ));
    }
    if s.archive_failures_total > 0 {
        out.push((
            format!(
                "archive failures: {} (given up {} times)",
                thousands(s.archive_failures_total),
                s.archive_gave_up.len()
            ),
            s.archive_failures
                .iter()
                .take(TOP)
                .map(|o| archive_line(o, clock))
                .collect(),
        ));
    }
    if s.page_verification_total > 0 {
        out.push((
            format!(
                "page verification failures: {}",
                thousands(s.page_verification_total)
            ),
            s.page_verification
                .iter()
                .take(TOP)
                .map(|o| {
                    let p = &o.detail;
                    format!(
                        "{} relation {} block {}, checksum {} expected {}",
                        o.time.as_deref().map_or("-".into(), |t| clock.show(t)),
                        p.relation.as_deref().unwrap_or("-"),
                        p.block.map_or("-".into(), |b| b.to_string()),
                        p.calculated_checksum.map_or("-".into(), |c| c.to_string()),
                        p.expected_checksum.map_or("-".into(), |c| c.to_string()),
                    )
                })
                .collect(),
        ));
    }
    out
}

/// Lines of the terminal summary; nothing when the log holds none of these.
pub fn write_text<W: Write>(
    r: &Report,
    out: &mut W,
    alarm: impl Fn(&str) -> String,
    clock: crate::Clock,
) -> io::Result<()> {
    let s = &r.sections.server;
    for (head, lines) in headlines(s, clock) {
        writeln!(out, "{}", alarm(&head))?;
        for l in lines {
            writeln!(out, "  {l}")?;
        }
    }
    if !s.shutdowns.is_empty() {
        writeln!(out, "shutdown requests: {}", counts(&s.shutdowns))?;
    }
    let c = &s.connection_problems;
    if c.total > 0 {
        writeln!(
            out,
            "connection problems: {} ({}); by client: {}",
            thousands(c.total),
            counts(&c.by_kind),
            counts(&c.by_client)
        )?;
    }
    Ok(())
}

/// The Markdown section; nothing when the log holds none of these.
pub fn write_markdown<W: Write>(
    r: &Report,
    out: &mut W,
    clock: crate::Clock,
    cell: impl Fn(&str, usize) -> String,
) -> io::Result<()> {
    let s = &r.sections.server;
    let heads = headlines(s, clock);
    let c = &s.connection_problems;
    if heads.is_empty() && s.shutdowns.is_empty() && c.total == 0 {
        return Ok(());
    }
    writeln!(out, "\n## Server\n")?;
    for (head, lines) in heads {
        writeln!(out, "- **{}**", cell(&head, 200))?;
        for l in lines {
            writeln!(out, "  - {}", cell(&l, 300))?;
        }
    }
    if !s.shutdowns.is_empty() {
        writeln!(
            out,
            "- shutdown requests: {}",
            cell(&counts(&s.shutdowns), 200)
        )?;
    }
    if c.total > 0 {
        writeln!(out, "\n| connection problem | count |")?;
        writeln!(out, "|---|---:|")?;
        for (k, n) in &c.by_kind {
            writeln!(out, "| {} | {} |", cell(k, 80), thousands(*n))?;
        }
        writeln!(out, "\n| client | connection problems |")?;
        writeln!(out, "|---|---:|")?;
        for (k, n) in &c.by_client {
            writeln!(out, "| {} | {} |", cell(k, 80), thousands(*n))?;
        }
    }
    Ok(())
}
