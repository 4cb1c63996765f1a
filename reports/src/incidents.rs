//! The incidents every report opens with, as lines of plain text: the
//! window in the report's zone, the signals (baseline → peak) and one line
//! per cause. Each renderer escapes the lines for its format; log text in
//! them is already on one line with control characters shown as `?`.

use crate::plain::{human_bytes, ms, one_line, thousands};
use pglog_analyzer::incident_report::{
    Incident, IncidentClient, IncidentError, IncidentLock, IncidentQuery, IncidentSignal,
    IncidentTempFiles,
};
use std::io::{self, Write};

/// Causes of each kind listed per incident; the JSON has them all.
pub(crate) const CAUSES_PER_KIND: usize = 5;
/// Characters of a query or message shown on a cause's line.
const TEXT_CHARS: usize = 100;

/// Said when detection found nothing.
pub(crate) const NO_INCIDENT: &str =
    "No incident: no minute stood out against the rest of the log.";

/// What a cause's line points at, for the HTML report's links.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Query(String),
    Error {
        sqlstate: Option<String>,
        message: String,
    },
    Section(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cause {
    /// `query`, `error`, `lock`, `client`, `temp`, `checkpoints`.
    pub kind: &'static str,
    pub text: String,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncidentLines {
    /// `2026-11-23 11:00 – 11:14 (UTC+01:00), 14 min`.
    pub range: String,
    pub score: String,
    pub signals: Vec<String>,
    pub causes: Vec<Cause>,
}

pub(crate) fn incident_lines(i: &Incident, clock: crate::Clock) -> IncidentLines {
    let mut causes = Vec::new();
    causes.extend(i.top_queries.iter().take(CAUSES_PER_KIND).map(query_cause));
    causes.extend(i.top_errors.iter().take(CAUSES_PER_KIND).map(error_cause));
    causes.extend(i.locks.iter().take(CAUSES_PER_KIND).map(lock_cause));
    causes.extend(i.clients.iter().take(CAUSES_PER_KIND).map(client_cause));
    causes.extend(i.temp_files.iter().take(CAUSES_PER_KIND).map(temp_cause));
    if i.checkpoints > 0 {
        causes.push(Cause {
            kind: "checkpoints",
            text: format!("{} started in the window", thousands(i.checkpoints)),
            target: Target::Section("checkpoints"),
        });
    }
    IncidentLines {
        range: range(&i.start, &i.end, clock),
        score: format!("{:.1}", i.score),
        signals: i.signals.iter().map(signal_line).collect(),
        causes,
    }
}

/// The window in the report's zone; the end's date only when it differs.
fn range(start: &str, end: &str, clock: crate::Clock) -> String {
    let (a, b) = (minute(&clock.show(start)), minute(&clock.show(end)));
    let same_day = a.len() > 11 && b.len() > 11 && a[..10] == b[..10];
    let shown_end = if same_day { &b[11..] } else { &b[..] };
    let length = clock
        .minutes_between(start, end)
        .map_or(String::new(), |m| format!(", {m} min"));
    format!(
        "{} – {} ({}){length}",
        one_line(&a, 40),
        one_line(shown_end, 40),
        clock.label()
    )
}

/// `2026-11-23 11:00:00.000` as `2026-11-23 11:00`: windows are whole minutes.
fn minute(shown: &str) -> String {
    shown.strip_suffix(":00.000").unwrap_or(shown).to_string()
}

fn value(v: f64, unit: &str) -> String {
    match unit {
        "ms" => ms(v),
        "per_s" => format!("{v:.2}/s"),
        "per_minute" => format!("{v:.1}/min"),
        "bytes" => human_bytes(v.max(0.0).round() as u64),
        other => format!("{v:.2} {}", one_line(other, 20)),
    }
}

fn signal_line(s: &IncidentSignal) -> String {
    format!(
        "{} {} → {}",
        one_line(&s.name, 40),
        value(s.baseline, &s.unit),
        value(s.peak, &s.unit)
    )
}

fn query_cause(q: &IncidentQuery) -> Cause {
    let p95 = |v: Option<f64>| v.map_or("-".to_string(), ms);
    let change = match q.baseline_p95_ms {
        Some(b) => format!("p95 {} → {}", ms(b), p95(q.p95_ms)),
        None => format!("p95 {} (new in the window)", p95(q.p95_ms)),
    };
    Cause {
        kind: "query",
        text: format!(
            "{} calls, {} in the window, {change}: {}",
            thousands(q.calls),
            ms(q.total_ms),
            one_line(&q.normalized, TEXT_CHARS)
        ),
        target: Target::Query(q.fingerprint.clone()),
    }
}

fn error_cause(e: &IncidentError) -> Cause {
    Cause {
        kind: "error",
        text: format!(
            "{} x{} (expected {:.1}): {}",
            one_line(e.sqlstate.as_deref().unwrap_or("-"), 10),
            thousands(e.count),
            e.baseline_count,
            one_line(&e.message, TEXT_CHARS)
        ),
        target: Target::Error {
            sqlstate: e.sqlstate.clone(),
            message: e.message.clone(),
        },
    }
}

fn lock_cause(l: &IncidentLock) -> Cause {
    let waiting: Vec<String> = l
        .waiting
        .iter()
        .take(2)
        .map(|w| one_line(w, TEXT_CHARS * 3 / 4))
        .collect();
    let waiting = if waiting.is_empty() {
        "not logged".to_string()
    } else {
        waiting.join(" | ")
    };
    Cause {
        kind: "lock",
        text: format!(
            "{} on {}: {} waits, longest {}; waiting: {waiting}; blocking: {}",
            one_line(&l.mode, 40),
            one_line(&l.object, 80),
            thousands(l.waits),
            ms(l.max_wait_ms),
            l.blocking
                .as_deref()
                .map_or("not logged".to_string(), |b| one_line(
                    b,
                    TEXT_CHARS * 3 / 4
                ))
        ),
        target: Target::Section("locks"),
    }
}

fn client_cause(c: &IncidentClient) -> Cause {
    Cause {
        kind: "client",
        text: format!(
            "{} {}: {} connections (expected {:.1}), {} auth failures, {} errors",
            one_line(&c.kind, 20),
            one_line(&c.name, 80),
            thousands(c.connections),
            c.baseline_connections,
            thousands(c.auth_failures),
            thousands(c.errors)
        ),
        target: Target::Section("sessions"),
    }
}

fn temp_cause(t: &IncidentTempFiles) -> Cause {
    Cause {
        kind: "temp",
        text: format!(
            "{} files, {}: {}",
            thousands(t.files),
            human_bytes(t.bytes),
            t.normalized
                .as_deref()
                .map_or("(statement not logged)".to_string(), |n| one_line(
                    n, TEXT_CHARS
                ))
        ),
        target: match &t.fingerprint {
            Some(f) => Target::Query(f.clone()),
            None => Target::Section("temp"),
        },
    }
}

/// The incidents for the terminal (and, escaped, for Markdown): a title
/// line per incident, then indented signals and causes.
pub(crate) fn write_lines<W: Write>(
    incidents: &[Incident],
    out: &mut W,
    clock: crate::Clock,
    escape: impl Fn(&str) -> String,
    (title, bullet): (&str, &str),
) -> io::Result<()> {
    if incidents.is_empty() {
        return writeln!(out, "{}", escape(NO_INCIDENT));
    }
    for (n, i) in incidents.iter().enumerate() {
        let l = incident_lines(i, clock);
        writeln!(
            out,
            "{title}{}",
            escape(&format!(
                "incident {}: {}, score {}",
                n + 1,
                l.range,
                l.score
            ))
        )?;
        if !l.signals.is_empty() {
            writeln!(
                out,
                "{bullet}{}",
                escape(&format!("signals: {}", l.signals.join("; ")))
            )?;
        }
        for c in &l.causes {
            writeln!(
                out,
                "{bullet}{}",
                escape(&format!("{:<6} {}", c.kind, c.text))
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Text an attacker could get into the log, in every field.
    pub(crate) const HOSTILE: &str =
        "</script><script>alert(1)</script>\"'><img src=x onerror=alert(2)>\x1b[31m|*_[x](http://e)";

    /// An incident with hostile text in every string field, built from
    /// values (detection is tested in the engine).
    pub(crate) fn hostile_incident() -> Incident {
        let h = || HOSTILE.to_string();
        Incident {
            start: "2026-11-23T10:00:00.000Z".into(),
            end: "2026-11-23T10:14:00.000Z".into(),
            score: 12.345,
            signals: vec![
                IncidentSignal {
                    name: "p95_ms".into(),
                    baseline: 2.5,
                    peak: 850.0,
                    unit: "ms".into(),
                },
                IncidentSignal {
                    name: "temp_bytes".into(),
                    baseline: 0.0,
                    peak: 3.0 * 1024.0 * 1024.0,
                    unit: "bytes".into(),
                },
                IncidentSignal {
                    name: h(),
                    baseline: 1.0,
                    peak: 2.0,
                    unit: h(),
                },
            ],
            top_queries: vec![IncidentQuery {
                fingerprint: h(),
                normalized: h(),
                calls: 1234,
                total_ms: 65_000.0,
                baseline_p95_ms: Some(2.5),
                p95_ms: Some(850.0),
            }],
            top_errors: vec![IncidentError {
                sqlstate: Some(h()),
                message: h(),
                count: 40,
                baseline_count: 0.3,
            }],
            locks: vec![IncidentLock {
                mode: h(),
                object: h(),
                waits: 12,
                max_wait_ms: 30_000.0,
                waiting: vec![h()],
                blocking: Some(h()),
            }],
            clients: vec![IncidentClient {
                kind: h(),
                name: h(),
                connections: 200,
                baseline_connections: 1.5,
                auth_failures: 3,
                errors: 7,
            }],
            temp_files: vec![IncidentTempFiles {
                fingerprint: Some(h()),
                normalized: Some(h()),
                files: 9,
                bytes: 9 << 20,
            }],
            checkpoints: 2,
        }
    }

    #[test]
    fn lines_show_the_window_signals_and_causes() {
        let clock = crate::Clock { offset_min: 60 };
        let l = incident_lines(&hostile_incident(), clock);
        assert_eq!(l.range, "2026-11-23 11:00 – 11:14 (UTC+01:00), 14 min");
        assert_eq!(l.score, "12.3");
        assert_eq!(l.signals[0], "p95_ms 2.500 ms → 850.000 ms");
        assert_eq!(l.signals[1], "temp_bytes 0 B → 3.0 MiB");
        let kinds: Vec<&str> = l.causes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            ["query", "error", "lock", "client", "temp", "checkpoints"]
        );
        assert!(l.causes[0]
            .text
            .starts_with("1,234 calls, 1.1 min in the window, p95 2.500 ms → 850.000 ms: "));
        assert!(l.causes[1].text.contains("x40 (expected 0.3)"));
        assert!(l.causes[2].text.contains("12 waits, longest 30.00 s"));
        assert!(l.causes[3].text.contains("200 connections (expected 1.5)"));
        assert!(l.causes[4].text.starts_with("9 files, 9.0 MiB: "));
        // One line each, no control character left.
        for c in &l.causes {
            assert!(!c.text.contains(['\n', '\x1b']), "{}", c.text);
        }
    }

    #[test]
    fn an_end_on_another_day_shows_its_date() {
        let clock = crate::Clock { offset_min: 0 };
        assert_eq!(
            range(
                "2026-11-23T23:58:00.000Z",
                "2026-11-24T00:03:00.000Z",
                clock
            ),
            "2026-11-23 23:58 – 2026-11-24 00:03 (UTC), 5 min"
        );
    }

    #[test]
    fn no_incident_is_one_line() {
        let mut out = Vec::new();
        write_lines(
            &[],
            &mut out,
            crate::Clock { offset_min: 0 },
            |s| s.to_string(),
            ("", "  "),
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{NO_INCIDENT}\n"));
    }
}
