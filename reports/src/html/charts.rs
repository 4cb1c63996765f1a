//! The report's charts, drawn with plotters as inline SVG. The font is
//! embedded (DejaVu Sans) so text is laid out the same on any machine; the
//! SVG itself names a generic family, so the page needs no font file.

use pglog_analyzer::Report;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const RED: RGBColor = RGBColor(214, 39, 40);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
const PURPLE: RGBColor = RGBColor(148, 103, 189);
/// The background of an incident's window.
const SHADE: RGBColor = RGBColor(255, 200, 120);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Milliseconds since the epoch from the report's `2026-11-23T10:00:00.000Z`.
pub fn epoch_ms(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    if b.len() < 19 {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let ms = if b.get(19) == Some(&b'.') {
        num(20..23).unwrap_or(0)
    } else {
        0
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + ms)
}

/// A time series: (epoch ms, value) points.
pub(super) type Series = Vec<(i64, f64)>;

pub(super) struct Line<'a> {
    pub name: &'a str,
    pub points: Series,
    pub color: RGBColor,
    /// Drawn against the right-hand axis.
    pub secondary: bool,
}

/// An axis label: 1.5k, 2M, 0.25.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        1.0
    } else {
        v * 1.1
    }
}

/// A line chart over time, with an optional right-hand axis; `None` when
/// there is nothing to draw.
pub(super) fn time_chart(
    title: &str,
    left: &str,
    right: Option<&str>,
    lines: &[Line<'_>],
) -> Option<String> {
    shaded_time_chart(title, left, right, lines, &[])
}

/// A time chart with `[start, end)` windows (local ms) shaded behind the
/// lines: the report's incidents.
pub(super) fn shaded_time_chart(
    title: &str,
    left: &str,
    right: Option<&str>,
    lines: &[Line<'_>],
    shade: &[(i64, i64)],
) -> Option<String> {
    let all: Vec<i64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .collect();
    let (x0, x1) = (*all.iter().min()?, *all.iter().max()?);
    let x1 = if x1 == x0 { x0 + 60_000 } else { x1 };
    let ticks = super::time_axis::ticks(x0, x1);
    let label_of = |x: i64| {
        ticks
            .iter()
            .find(|t| t.0 == x)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    };
    let max_of = |secondary: bool| {
        nice_max(
            lines
                .iter()
                .filter(|l| l.secondary == secondary)
                .flat_map(|l| l.points.iter().map(|p| p.1))
                .fold(0.0, f64::max),
        )
    };
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 260)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FAMILY, 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .right_y_label_area_size(if right.is_some() { 60 } else { 0 })
            .build_cartesian_2d(
                (x0..x1).with_key_points(ticks.iter().map(|t| t.0).collect()),
                0.0..max_of(false),
            )
            .ok()?
            .set_secondary_coord(x0..x1, 0.0..max_of(true));
        let y_top = max_of(false);
        let windows = shade
            .iter()
            .filter(|(a, b)| a < b && *a < x1 && *b > x0)
            .map(|(a, b)| {
                Rectangle::new(
                    [(*a.max(&x0), 0.0), (*b.min(&x1), y_top)],
                    SHADE.mix(0.35).filled(),
                )
            });
        chart.draw_series(windows).ok()?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_label_formatter(&|x| label_of(*x))
            .y_label_formatter(&|y| compact(*y))
            .y_desc(left)
            .label_style((FAMILY, 12))
            .draw()
            .ok()?;
        if let Some(r) = right {
            chart
                .configure_secondary_axes()
                .y_label_formatter(&|y| compact(*y))
                .y_desc(r)
                .label_style((FAMILY, 12))
                .draw()
                .ok()?;
        }
        for l in lines {
            // A short series (a few minutes, a few hours) shows its points,
            // or a single point would not show at all.
            if l.points.len() <= 60 {
                let dots = l
                    .points
                    .iter()
                    .map(|p| Circle::new(*p, 3, l.color.filled()));
                if l.secondary {
                    chart.draw_secondary_series(dots).ok()?;
                } else {
                    chart.draw_series(dots).ok()?;
                }
            }
            let style = l.color.stroke_width(2);
            let series = LineSeries::new(l.points.iter().copied(), style);
            let drawn = if l.secondary {
                chart.draw_secondary_series(series).ok()?
            } else {
                chart.draw_series(series).ok()?
            };
            let color = l.color;
            drawn.label(l.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FAMILY, 12))
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Bars over labelled buckets.
fn bar_chart(title: &str, y: &str, bars: &[(String, f64)]) -> Option<String> {
    if bars.iter().all(|b| b.1 == 0.0) {
        return None;
    }
    register_font();
    let max = nice_max(bars.iter().map(|b| b.1).fold(0.0, f64::max));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 260)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let n = bars.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FAMILY, 16))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..max)
            .ok()?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| compact(*v))
            .y_desc(y)
            .label_style((FAMILY, 12))
            .draw()
            .ok()?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BLUE.filled())
                    .margin(6)
                    .data(bars.iter().enumerate().map(|(i, b)| (i, b.1))),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A chart with its caption, for the page.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub svg: String,
}

/// How the charts name a bucket: `10 s`, `minute`, `5 minutes`, `hour`.
fn bucket_name(seconds: i64) -> String {
    match seconds {
        60 => "minute".to_string(),
        3600 => "hour".to_string(),
        86_400 => "day".to_string(),
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 86_400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The incidents' windows, in local ms, for shading.
fn incident_windows(r: &Report, clock: crate::Clock) -> Vec<(i64, i64)> {
    r.sections
        .incidents
        .iter()
        .filter_map(|i| {
            let start = clock.local_ms(epoch_ms(&i.start)?);
            let end = clock.local_ms(epoch_ms(&i.end)?);
            Some((start, end))
        })
        .collect()
}

pub fn charts(r: &Report, clock: crate::Clock) -> Vec<Chart> {
    let timeline = &r.sections.timeline;
    let points: Vec<(i64, &pglog_analyzer::timeline::TimelinePoint)> = timeline
        .points
        .iter()
        .filter_map(|p| Some((clock.local_ms(epoch_ms(&p.start)?), p)))
        .collect();
    let series = |f: &dyn Fn(&pglog_analyzer::timeline::TimelinePoint) -> Option<f64>| -> Series {
        points
            .iter()
            .filter_map(|(t, p)| Some((*t, f(p)?)))
            .collect()
    };
    let per = bucket_name(timeline.bucket_s);
    let shade = incident_windows(r, clock);
    let mut out = Vec::new();
    let mut push = |id, title, svg: Option<String>| {
        if let Some(svg) = svg {
            out.push(Chart { id, title, svg });
        }
    };
    push(
        "chart-queries",
        "Queries, with mean and p95 latency",
        shaded_time_chart(
            &format!("Queries per {per}"),
            "queries",
            Some("ms"),
            &[
                Line {
                    name: "queries",
                    points: series(&|p| Some(p.queries as f64)),
                    color: BLUE,
                    secondary: false,
                },
                Line {
                    name: "mean ms",
                    points: series(&|p| p.mean_ms),
                    color: ORANGE,
                    secondary: true,
                },
                Line {
                    name: "p95 ms",
                    points: series(&|p| p.p95_ms),
                    color: RED,
                    secondary: true,
                },
            ],
            &shade,
        ),
    );
    let error_lines = if points.iter().any(|(_, p)| p.errors > 0) {
        vec![Line {
            name: "ERROR, FATAL, PANIC",
            points: series(&|p| Some(p.errors as f64)),
            color: RED,
            secondary: false,
        }]
    } else {
        Vec::new()
    };
    push(
        "chart-errors",
        "Errors",
        shaded_time_chart(
            &format!("Errors per {per}"),
            "records",
            None,
            &error_lines,
            &shade,
        ),
    );
    let hist: Vec<(String, f64)> = r
        .sections
        .latency
        .histogram
        .iter()
        .map(|b| {
            let label = match b.le_ms {
                Some(v) if v < 1.0 => format!("≤{v} ms"),
                Some(v) if v < 1000.0 => format!("≤{v:.0} ms"),
                Some(v) => format!("≤{:.0} s", v / 1000.0),
                None => "longer".to_string(),
            };
            (label, b.count as f64)
        })
        .collect();
    push(
        "chart-durations",
        "Query durations",
        bar_chart("Query durations", "queries", &hist),
    );
    push(
        "chart-connections",
        "Sessions and connections",
        shaded_time_chart(
            &format!("Connections per {per}, and sessions open"),
            "count",
            None,
            &[
                Line {
                    name: "connections",
                    points: series(&|p| Some(p.connections as f64)),
                    color: GREEN,
                    secondary: false,
                },
                Line {
                    name: "sessions open (peak)",
                    points: series(&|p| p.sessions_open.map(|n| n as f64)),
                    color: PURPLE,
                    secondary: false,
                },
            ],
            &shade,
        ),
    );
    push(
        "chart-checkpoints",
        "Checkpoints and temp files",
        shaded_time_chart(
            &format!("Checkpoints and temp files per {per}"),
            "checkpoints",
            Some("temp MiB"),
            &[
                Line {
                    name: "checkpoints",
                    points: series(&|p| Some(p.checkpoints as f64)),
                    color: PURPLE,
                    secondary: false,
                },
                Line {
                    name: "temp MiB",
                    points: series(&|p| Some(p.temp_bytes as f64 / 1_048_576.0)),
                    color: ORANGE,
                    secondary: true,
                },
            ],
            &shade,
        ),
    );
    out
}

/// A tiny per-hour calls chart for a query's detail.
pub fn sparkline(points: &[(i64, f64)]) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    register_font();
    let (x0, x1) = (
        points.first()?.0,
        points.last()?.0.max(points.first()?.0 + 3_600_000),
    );
    let max = nice_max(points.iter().map(|p| p.1).fold(0.0, f64::max));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (240, 40)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(2)
            .build_cartesian_2d(x0..x1, 0.0..max)
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_report_times() {
        assert_eq!(
            super::epoch_ms("2026-11-23T10:00:00.123Z"),
            Some(1_795_428_000_123)
        );
    }
}
