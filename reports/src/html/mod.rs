//! The HTML report: one self-contained page (inline CSS, SVG charts and one
//! inline script allowed by its hash; no script, font or image from
//! anywhere, and readable with the script off) rendered with minijinja, whose
//! auto-escaping covers every value taken from the log. Only the charts,
//! which plotters drew from numbers, are inserted unescaped. Control
//! characters in log text are shown as `?`, as in the terminal summary.

mod charts;
mod incidents;
mod pgbouncer;
mod script;
#[cfg(test)]
mod tests;
mod time_axis;

pub use charts::epoch_ms;

use minijinja::value::Serde;
use minijinja::{context, escape_formatter, Environment, Output, State, Value};
use pglog_analyzer::{QueryReport, Report};
use serde::Serialize;
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("report.html");
/// The server section (crashes, archiving, connection problems).
const SERVER_TEMPLATE: &str = include_str!("server.html");
/// Rows of each ranked table, and queries with a detail section.
pub const TOP: usize = 20;
/// Error messages listed in the page.
const ERRORS_SHOWN: usize = 50;

#[derive(Serialize)]
struct ChartView {
    id: &'static str,
    title: &'static str,
    svg: Value,
}

#[derive(Serialize)]
struct Ranking<'a> {
    id: &'static str,
    title: &'static str,
    queries: Vec<&'a QueryReport>,
}

#[derive(Serialize)]
struct Detail<'a> {
    anchor: String,
    q: &'a QueryReport,
    sparkline: Option<Value>,
}

#[derive(Serialize)]
struct PlanView<'a> {
    anchor: String,
    plan: &'a pglog_analyzer::PlanAnalysis,
    flagged: Vec<usize>,
}

fn ranked<'a>(r: &'a Report, key: impl Fn(&QueryReport) -> f64) -> Vec<&'a QueryReport> {
    let mut v: Vec<&QueryReport> = r.sections.queries.iter().filter(|q| q.calls > 0).collect();
    v.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    v.truncate(TOP);
    v
}

/// Is `c` a control character the page must not carry raw? Escaping covers
/// markup only; ESC, BEL and the like would reach the page as they are.
/// Line breaks and tabs are text in `<pre>`.
fn hidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t' | '\r')
}

/// The default HTML-escaping formatter, after control characters in
/// (unsafe) strings became `?`.
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(s) if !value.is_safe() && s.chars().any(hidden_control) => {
            let shown: String = s
                .chars()
                .map(|c| {
                    if hidden_control(c) {
                        crate::plain::visible(c)
                    } else {
                        c
                    }
                })
                .collect();
            escape_formatter(out, state, &Value::from(shown))
        }
        _ => escape_formatter(out, state, value),
    }
}

/// Writes the report as one HTML page.
pub fn write_html<W: Write>(r: &Report, mut out: W, clock: crate::Clock) -> io::Result<()> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_formatter(format_value);
    // Counts as EXPLAIN prints them: `200000`, not `200000.0`; `-` for none.
    // Report times (UTC) shown in the chosen zone.
    env.add_filter("t", move |v: Value| -> String {
        match v.as_str() {
            Some(s) => clock.show(s),
            None => String::new(),
        }
    });
    env.add_filter("num", |v: Value| -> String {
        match f64::try_from(v.clone()) {
            Ok(f) if f == f.trunc() && f.abs() < 1e15 => format!("{}", f as i64),
            Ok(f) => format!("{f:.2}"),
            Err(_) if v.is_none() || v.is_undefined() => "-".to_string(),
            Err(_) => v.to_string(),
        }
    });
    // A number with `digits` decimals; `-` when the log gave none (no
    // timed query, no checkpoint, no session end).
    env.add_filter("fixed", |v: Value, digits: usize| -> String {
        match f64::try_from(v) {
            Ok(f) => format!("{f:.digits$}"),
            Err(_) => "-".to_string(),
        }
    });
    env.add_template("report.html", TEMPLATE)
        .map_err(io::Error::other)?;
    env.add_template("events.html", include_str!("events.html"))
        .map_err(io::Error::other)?;
    env.add_template("server.html", SERVER_TEMPLATE)
        .map_err(io::Error::other)?;
    env.add_template("incidents.html", include_str!("incidents.html"))
        .map_err(io::Error::other)?;
    env.add_template("baseline.html", include_str!("baseline.html"))
        .map_err(io::Error::other)?;
    let charts: Vec<ChartView> = charts::charts(r, clock)
        .into_iter()
        .map(|c| ChartView {
            id: c.id,
            title: c.title,
            svg: Value::from_safe_string(c.svg),
        })
        .collect();
    let rankings = vec![
        Ranking {
            id: "top-total",
            title: "by total time",
            queries: ranked(r, |q| q.total_ms),
        },
        Ranking {
            id: "top-calls",
            title: "by calls",
            queries: ranked(r, |q| q.calls as f64),
        },
        Ranking {
            id: "top-p95",
            title: "by p95",
            queries: ranked(r, |q| q.p95_ms),
        },
        Ranking {
            id: "top-max",
            title: "by max",
            queries: ranked(r, |q| q.max_ms),
        },
    ];
    // The top queries, and those the incidents name.
    let named: Vec<&str> = incidents::named_queries(r).collect();
    let details: Vec<Detail> = r
        .sections
        .queries
        .iter()
        .enumerate()
        .filter(|(n, q)| *n < TOP || named.contains(&q.fingerprint.as_str()))
        .map(|(_, q)| Detail {
            anchor: format!("q-{}", q.fingerprint),
            sparkline: charts::sparkline(
                &q.hours
                    .iter()
                    .filter_map(|h| {
                        Some((clock.local_ms(charts::epoch_ms(&h.hour)?), h.calls as f64))
                    })
                    .collect::<Vec<_>>(),
            )
            .map(Value::from_safe_string),
            q,
        })
        .collect();
    let plans: Vec<PlanView> = r
        .sections
        .plans
        .iter()
        .take(TOP)
        .enumerate()
        .map(|(i, p)| PlanView {
            anchor: format!("plan-{i}"),
            flagged: p.insights.iter().map(|i| i.node).collect(),
            plan: p,
        })
        .collect();
    let detailed: Vec<String> = details.iter().map(|d| d.q.fingerprint.clone()).collect();
    let incidents = incidents::views(r, clock, &detailed, ERRORS_SHOWN);
    let tmpl = env.get_template("report.html").map_err(io::Error::other)?;
    let html = tmpl
        .render(context! {
            r => Value::from(Serde(r)),
            charts => Value::from(Serde(&charts)),
            rankings => Value::from(Serde(&rankings)),
            details => Value::from(Serde(&details)),
            plans => Value::from(Serde(&plans)),
            detailed => Value::from(Serde(&detailed)),
            incidents => Value::from(Serde(&incidents)),
            no_incident => crate::incidents::NO_INCIDENT,
            errors_shown => ERRORS_SHOWN,
            csp => Value::from_safe_string(script::content_security_policy()),
            script => Value::from_safe_string(script::SCRIPT.to_string()),
            top => TOP,
            zone => clock.label(),
            scope => crate::scope::scope_line(r),
            pgbouncer_chart => r.sections.pgbouncer.as_ref()
                .and_then(|p| pgbouncer::stats_chart(p, clock))
                .map(Value::from_safe_string),
        })
        .map_err(io::Error::other)?;
    out.write_all(html.as_bytes())?;
    out.flush()
}
