//! The page around hostile incidents built from values: every string field
//! is text, the links point at the page's own anchors, and the policy's
//! hash is the hash of the script the page carries.

use crate::incidents::tests::{hostile_incident, HOSTILE};
use base64::Engine;
use pglog_analyzer::stats::Stats;
use pglog_analyzer::Report;
use sha2::{Digest, Sha256};

fn page(r: &Report) -> String {
    let mut out = Vec::new();
    super::write_html(r, &mut out, crate::Clock { offset_min: 0 }).unwrap();
    String::from_utf8(out).unwrap()
}

fn report_with(incidents: Vec<pglog_analyzer::incident_report::Incident>) -> Report {
    let mut r = Report::build(&Stats::default(), Vec::new(), Vec::new(), 10);
    r.sections.incidents = incidents;
    r
}

#[test]
fn the_policy_allows_exactly_the_script_on_the_page() {
    let html = page(&report_with(vec![hostile_incident()]));
    assert_eq!(html.matches("<script").count(), 1);
    let body = html.split("<script>").nth(1).unwrap();
    let text = &body[..body.find("</script>").unwrap()];
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
    let csp = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'\">"
    );
    assert!(
        html.contains(&csp),
        "no policy with the script's hash {hash}"
    );
}

#[test]
fn hostile_incident_text_stays_text() {
    let html = page(&report_with(vec![hostile_incident(), hostile_incident()]));
    assert!(html.contains("id=\"incident-1\"") && html.contains("id=\"incident-2\""));
    // The one script is the page's own; the log's markup is escaped.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains("onerror=alert(2)>"));
    assert!(!html.contains('\x1b'));
    assert!(html.contains("&lt;&#x2f;script&gt;&lt;script&gt;alert(1)"));
    // Every cause is listed, the window in the report's zone.
    assert!(html.contains("Incident 1: 2026-11-23 10:00 – 10:14 (UTC), 14 min · score 12.3"));
    for kind in ["query", "error", "lock", "client", "temp", "checkpoints"] {
        assert!(
            html.contains(&format!("<li><span class=\"kind\">{kind}</span>")),
            "{kind} missing"
        );
    }
    // A query that is not in the report has no details to link to; locks,
    // clients and errors link to their sections.
    assert!(!html.contains("href=\"#q-&lt;"));
    for href in ["#locks", "#sessions", "#errors", "#checkpoints"] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
}

#[test]
fn a_steady_log_says_so_in_one_line() {
    let html = page(&report_with(Vec::new()));
    assert!(html.contains("id=\"incidents\""));
    assert!(html.contains(crate::incidents::NO_INCIDENT));
    assert!(!html.contains("class=\"incident\""));
}

#[test]
fn other_formats_open_with_the_incidents() {
    let r = report_with(vec![hostile_incident()]);
    let clock = crate::Clock { offset_min: 60 };
    let mut text = Vec::new();
    crate::write_text(&r, &mut text, crate::Paint { on: false }, clock).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("incident 1: 2026-11-23 11:00 – 11:14 (UTC+01:00), 14 min, score 12.3\n"),
        "{text}"
    );
    assert!(text.contains("  signals: p95_ms 2.500 ms → 850.000 ms; temp_bytes 0 B → 3.0 MiB;"));
    assert!(
        !text.contains('\x1b'),
        "control characters reach the terminal"
    );
    let mut md = Vec::new();
    crate::write_markdown(&r, &mut md, clock).unwrap();
    let md = String::from_utf8(md).unwrap();
    let at = md.find("## Incidents").unwrap();
    assert!(at < md.find("## Overview").unwrap());
    assert!(md.contains("### incident 1\\: 2026-11-23 11\\:00"), "{md}");
    assert!(md.contains("- query 1,234 calls"), "{md}");
    // The hostile text is escaped: no tag, no link, no table cell break.
    let incidents = &md[at..md.find("## Overview").unwrap()];
    for special in ['<', '>', '[', ']', '|', '*', '_'] {
        for (at, _) in incidents.match_indices(special) {
            assert_eq!(&incidents[at - 1..at], "\\", "unescaped {special} at {at}");
        }
    }
    assert!(incidents.contains("\\[x\\](http\\://e)"));
    assert!(incidents.contains("\\<img src=x onerror=alert(2)\\>"));
    assert!(!incidents.contains('\x1b') && HOSTILE.contains('\x1b'));
}

/// The primary sample log's report, with an incident that names one of
/// its queries outside the top 20 and one of its error messages.
#[test]
fn an_incident_links_to_its_query_details_and_error_row() {
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sample-logs/primary/postgresql.csv"
    );
    let mut r = pglog_analyzer::analyze(&pglog_analyzer::AnalyzeOptions {
        inputs: vec![log.to_string()],
        jobs: 1,
        ..Default::default()
    })
    .unwrap();
    let q = r.sections.queries[super::TOP + 5].clone();
    let e = r.sections.errors.messages[1].clone();
    let mut i = hostile_incident();
    i.top_queries[0].fingerprint = q.fingerprint.clone();
    i.top_queries[0].normalized = q.normalized.clone();
    i.top_errors[0].sqlstate = e.sqlstate.clone();
    i.top_errors[0].message = e.message.clone();
    r.sections.incidents = vec![i];
    let html = page(&r);
    let anchor = format!("q-{}", q.fingerprint);
    // The query beyond the top 20 gets its details, and the link points there.
    assert!(html.contains(&format!("<details class=\"filterable\" id=\"{anchor}\">")));
    assert!(html.contains(&format!("<a href=\"#{anchor}\">")));
    assert!(html.contains("<tr id=\"err-1\">"));
    assert!(html.contains("<a href=\"#err-1\">"));
    let incidents =
        &html[html.find("id=\"incidents\"").unwrap()..html.find("id=\"overview\"").unwrap()];
    assert!(incidents.contains("<span class=\"kind\">error</span> <a href=\"#err-1\">"));
}
