//! The HTML report's time charts follow the log's span: on a 5-minute, a
//! 1-hour and a 24-hour log each time chart draws 20 to 300 points per
//! series, and its time axis labels are distinct and in the report's zone.
//! The 5-minute log is a window of the incident log (a real server's); the
//! longer ones are that log re-timed (`sample-logs/retimed/`).

use super::*;

fn html(log: &Path, extra: &[&str]) -> String {
    let mut args = vec!["analyze", "--quiet", "--format", "html", "--output", "-"];
    args.extend_from_slice(extra);
    args.push(log.to_str().unwrap());
    let out = pglog(&args);
    assert!(
        out.status.success(),
        "pglog analyze {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each time chart of the page: its id and SVG.
fn time_charts(page: &str) -> Vec<(String, String)> {
    page.split("<div class=\"chart\" id=\"")
        .skip(1)
        .filter_map(|part| {
            let (id, rest) = part.split_once('"')?;
            let svg = &rest[rest.find("<svg")?..rest.find("</svg>")?];
            // Bars over duration buckets are no time chart.
            (id != "chart-durations").then(|| (id.to_string(), svg.to_string()))
        })
        .collect()
}

/// The point counts of a chart's series lines (the legend's two-point
/// strokes left out).
fn series_points(svg: &str) -> Vec<usize> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let pts = p.split_once("points=\"")?.1.split_once('"')?.0;
            Some(pts.split_whitespace().count())
        })
        .filter(|n| *n > 2)
        .collect()
}

/// The time axis labels: `HH:MM`, `HH:MM:SS`, `MM-DD HH:MM` or a date.
fn time_labels(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_string(),
            )
        })
        .filter(|t| {
            let b = t.as_bytes();
            let digits = |r: std::ops::Range<usize>| {
                r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
            };
            match b.len() {
                5 | 8 => digits(0..2) && b[2] == b':' && digits(3..5),
                11 => digits(0..2) && b[2] == b'-' && b[5] == b' ' && b[8] == b':',
                10 => digits(0..4) && b[4] == b'-' && b[7] == b'-',
                _ => false,
            }
        })
        .collect()
}

fn check(name: &str, page: &str) -> Vec<(String, Vec<String>)> {
    let charts = time_charts(page);
    let ids: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
    for want in ["chart-queries", "chart-connections", "chart-checkpoints"] {
        assert!(ids.contains(&want), "{name}: no {want} in {ids:?}");
    }
    charts
        .into_iter()
        .map(|(id, svg)| {
            let points = series_points(&svg);
            assert!(!points.is_empty(), "{name} {id}: no series");
            // A series with gaps (open sessions are known only where
            // sessions start or end) is drawn in pieces: the chart's points
            // are its longest line's.
            let most = points.iter().copied().max().unwrap_or(0);
            assert!((20..=300).contains(&most), "{name} {id}: {points:?} points");
            let labels = time_labels(&svg);
            let mut distinct = labels.clone();
            distinct.sort();
            distinct.dedup();
            assert!(labels.len() >= 3, "{name} {id}: labels {labels:?}");
            assert_eq!(
                distinct.len(),
                labels.len(),
                "{name} {id}: labels {labels:?}"
            );
            (id, labels)
        })
        .collect()
}

/// `2026-12-02T04:42:07.123Z` plus five minutes, within the same day.
fn five_minutes_later(t: &str) -> String {
    let h: u32 = t[11..13].parse().unwrap();
    let m: u32 = t[14..16].parse::<u32>().unwrap() + 5;
    let (h, m) = (h + m / 60, m % 60);
    assert!(h < 24, "{t}");
    format!("{}{h:02}:{m:02}{}", &t[..11], &t[16..])
}

#[test]
fn five_minutes_chart_in_ten_second_buckets() {
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample("incidents/incidents.json")).unwrap())
            .unwrap();
    let start = recorded["load"]["start"].as_str().unwrap();
    let end = five_minutes_later(start);
    let page = html(
        &sample("incidents/postgresql.log.zst"),
        &["--begin", start, "--end", &end],
    );
    check("5 minutes", &page);
    assert!(page.contains("Queries per 10 s"));
}

#[test]
fn one_hour_charts_by_the_minute_in_the_reports_zone() {
    let log = sample("retimed/incidents-1h.log.gz");
    let utc = check("1 hour", &html(&log, &["--tz", "UTC"]));
    let page = html(&log, &["--tz", "+05:30"]);
    assert!(page.contains("Queries per minute"));
    let shifted = check("1 hour +05:30", &page);
    // The same instants, read 5 h 30 min later: the labels of a zone are
    // its own clock's round times, 10:00 UTC reads 15:30.
    let minutes = |l: &str| -> i64 {
        let (h, m) = l.split_once(':').unwrap();
        h.parse::<i64>().unwrap() * 60 + m[..2].parse::<i64>().unwrap()
    };
    for ((_, a), (_, b)) in utc.iter().zip(&shifted) {
        let a: Vec<i64> = a.iter().map(|l| (minutes(l) + 330) % 1440).collect();
        let b: Vec<i64> = b.iter().map(|l| minutes(l)).collect();
        assert_eq!(a, b);
    }
}

#[test]
fn a_day_charts_by_five_minutes() {
    let page = html(&sample("retimed/incidents-24h.log.gz"), &[]);
    assert!(page.contains("Queries per 5 minutes"));
    check("24 hours", &page);
}
