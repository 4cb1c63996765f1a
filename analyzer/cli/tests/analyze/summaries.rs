//! The terminal and Markdown summaries. The primary's workload logs markup
//! on purpose (`hostile.sql`: a `<script>` literal and table name, from an
//! application named `<img src=x onerror=alert(3)>`).

use super::*;

fn run_ok(args: &[&str]) -> String {
    let out = pglog(args);
    assert!(
        out.status.success(),
        "pglog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_hostile_records_are_in_the_sample_log() {
    let doc = analyze_path(&sample("primary/postgresql.csv"), &[]);
    let text = doc.to_string();
    assert!(
        text.contains("<script>alert(2)</script>"),
        "the sample lost its hostile text"
    );
    assert!(doc["sessions"]["by_application"]["<img src=x onerror=alert(3)>"].as_u64() == Some(1));
}

#[test]
fn markdown_shows_markup_as_text() {
    let p = sample("primary/postgresql.csv");
    let md = run_ok(&["analyze", "--format", "md", p.to_str().unwrap()]);
    for heading in [
        "# PostgreSQL log report",
        "## Overview",
        "## Top queries by total time",
        "## Top errors",
        "## Plan insights",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    // Every `<` from the log is escaped; none opens a tag.
    assert!(md.contains("\\<script\\>alert"), "{md}");
    let bare = md
        .char_indices()
        .filter(|&(i, c)| c == '<' && !md[..i].ends_with('\\'))
        .count();
    assert_eq!(bare, 0, "live markup in:\n{md}");
    // The same through -o FILE.md.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.md");
    run_ok(&["analyze", "-o", f.to_str().unwrap(), p.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), md);
}

#[test]
fn the_terminal_summary_has_no_colour_when_piped() {
    let text = run_ok(&[
        "analyze",
        sample("primary/postgresql.csv").to_str().unwrap(),
    ]);
    assert!(!text.contains('\x1b'), "escape codes in piped output");
    assert!(text.contains("top queries by total time:"));
    assert!(text.contains("plan insights"));
    assert!(text.contains("misestimate"));
}

#[test]
fn times_show_in_the_log_zone_unless_tz_says_otherwise() {
    // The RDS-style server logs in Europe/Berlin (CET in November).
    let p = sample("rds/postgresql.csv");
    let doc = analyze_path(&p, &[]);
    assert_eq!(doc["summary"]["time_zone"], "+01:00");
    let first = doc["summary"]["first_timestamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.ends_with('Z'), "JSON stays UTC: {first}");
    let utc_hour: u32 = first[11..13].parse().unwrap();
    let local = run_ok(&["analyze", p.to_str().unwrap()]);
    let line = local.lines().nth(1).unwrap();
    assert!(line.ends_with("(UTC+01:00)"), "{line}");
    let shown_hour: u32 = line["from 2026-11-24 ".len()..][..2].parse().unwrap();
    assert_eq!(shown_hour, (utc_hour + 1) % 24, "{line}");
    let utc = run_ok(&["analyze", "--tz", "UTC", p.to_str().unwrap()]);
    assert!(utc.lines().nth(1).unwrap().ends_with("(UTC)"));
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    run_ok(&["analyze", "-o", html.to_str().unwrap(), p.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("All times are UTC+01:00"), "zone not stated");
    // A wrong zone names the flag and the fix.
    let bad = pglog(&["analyze", "--tz", "Mars", p.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("+01:00"));
}
