//! The period each `stats:` line of a pgbouncer log covers, on the real
//! sample (sample-logs/pgbouncer/pgbouncer.log), whole and cut: since the
//! stats line before it, since `process up`, or, for a file's first one
//! with neither, the gap to the next one.

use pglog_analyzer::stats::pgbouncer::{PgbouncerFolder, PgbouncerStats};
use pglog_analyzer::stats::Limits;
use pglog_logparse::format::pgbouncer::{parse_line, What};
use std::path::Path;

fn sample_lines() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs/pgbouncer/pgbouncer.log");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn fold(lines: &[String]) -> PgbouncerStats {
    let mut f = PgbouncerFolder::new(Limits::default());
    for l in lines {
        f.add(&parse_line(l.as_bytes(), 2026).expect("a pgbouncer line"));
    }
    f.finish()
}

fn covered_ms(s: &PgbouncerStats) -> u64 {
    s.minutes.values().map(|m| m.covered_ms).sum()
}

/// Times of the lines that are `what`, in ms.
fn times(lines: &[String], what: fn(&What) -> bool) -> Vec<i64> {
    lines
        .iter()
        .filter_map(|l| parse_line(l.as_bytes(), 2026))
        .filter(|l| what(&l.what))
        .map(|l| l.time.unwrap().epoch_ms)
        .collect()
}

fn is_stats(w: &What) -> bool {
    matches!(w, What::Stats(_))
}

#[test]
fn stats_lines_cover_the_time_since_the_one_before_or_since_start() {
    let lines = sample_lines();
    let up = times(&lines, |w| *w == What::ProcessUp);
    let stats = times(&lines, is_stats);
    assert_eq!(up.len(), 1);
    assert!(stats.len() >= 3);
    let last = *stats.last().unwrap();
    assert_eq!(covered_ms(&fold(&lines)), (last - up[0]) as u64);

    // Cut after `process up`: the first stats line takes the gap to the next.
    let at = lines.iter().position(|l| l.contains(" stats: ")).unwrap();
    let cut = &lines[at..];
    assert_eq!(
        covered_ms(&fold(cut)),
        (last - stats[0] + stats[1] - stats[0]) as u64
    );

    // A file's only stats line: the default stats_period, 60 s.
    assert_eq!(covered_ms(&fold(&lines[at..at + 1])), 60_000);
}
