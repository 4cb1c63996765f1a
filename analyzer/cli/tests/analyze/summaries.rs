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
