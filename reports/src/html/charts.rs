//! The report's charts, drawn with plotters as inline SVG. The font is
//! embedded (DejaVu Sans) so text is laid out the same on any machine; the
//! SVG itself names a generic family, so the page needs no font file.

use pglog_analyzer::Report;
use plotters::prelude::*;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const RED: RGBColor = RGBColor(214, 39, 40);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
const PURPLE: RGBColor = RGBColor(148, 103, 189);

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

fn hh_mm(ms: i64) -> String {
    let m = ms.div_euclid(60_000);
    format!(
        "{:02}:{:02}",
        m.div_euclid(60).rem_euclid(24),
        m.rem_euclid(60)
    )
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

/// A per-minute count series with the quiet minutes as zeros, so that a
/// gap shows as a drop, not as a line across it.
fn per_minute_counts(points: Series) -> Series {
    let (Some(first), Some(last)) = (points.first().map(|p| p.0), points.last().map(|p| p.0))
    else {
        return points;
    };
    if (last - first) / 60_000 > 100_000 {
        return points;
    }
    let mut out = Vec::with_capacity(((last - first) / 60_000 + 1) as usize);
    let mut it = points.into_iter().peekable();
    let mut t = first;
    while t <= last {
        match it.peek() {
            Some(&(pt, v)) if pt == t => {
                out.push((t, v));
                it.next();
            }
            _ => out.push((t, 0.0)),
        }
        t += 60_000;
    }
    out
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
    let all: Vec<i64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .collect();
    let (x0, x1) = (*all.iter().min()?, *all.iter().max()?);
    let x1 = if x1 == x0 { x0 + 60_000 } else { x1 };
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
            .build_cartesian_2d(x0..x1, 0.0..max_of(false))
            .ok()?
            .set_secondary_coord(x0..x1, 0.0..max_of(true));
        chart
            .configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(10)
            .x_label_formatter(&|x| hh_mm(*x))
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

pub fn charts(r: &Report, clock: crate::Clock) -> Vec<Chart> {
    let epoch_ms = |t: &str| epoch_ms(t).map(|ms| clock.local_ms(ms));
    let x = &r.sections;
    let minutes: Vec<(i64, &pglog_analyzer::MinuteReport)> = x
        .minutes
        .iter()
        .filter_map(|m| Some((epoch_ms(&m.minute)?, m)))
        .collect();
    let series = |f: &dyn Fn(&pglog_analyzer::MinuteReport) -> Option<f64>| -> Series {
        minutes
            .iter()
            .filter_map(|(t, m)| Some((*t, f(m)?)))
            .collect()
    };
    let mut out = Vec::new();
    let mut push = |id, title, svg: Option<String>| {
        if let Some(svg) = svg {
            out.push(Chart { id, title, svg });
        }
    };
    push(
        "chart-queries",
        "Queries per minute, with mean and p95 latency",
        time_chart(
            "Queries per minute",
            "queries",
            Some("ms"),
            &[
                Line {
                    name: "queries",
                    points: per_minute_counts(series(&|m| Some(m.queries as f64))),
                    color: BLUE,
                    secondary: false,
                },
                Line {
                    name: "mean ms",
                    points: series(&|m| m.mean_ms),
                    color: ORANGE,
                    secondary: true,
                },
                Line {
                    name: "p95 ms",
                    points: series(&|m| m.p95_ms),
                    color: RED,
                    secondary: true,
                },
            ],
        ),
    );
    let severities = ["WARNING", "ERROR", "FATAL", "PANIC"];
    let colors = [ORANGE, RED, PURPLE, BLUE];
    let hours: Vec<(i64, &std::collections::BTreeMap<String, u64>)> = x
        .errors
        .by_hour
        .iter()
        .filter_map(|h| Some((epoch_ms(&h.hour)?, &h.severities)))
        .collect();
    let error_lines: Vec<Line<'_>> = severities
        .iter()
        .zip(colors)
        .filter(|(s, _)| hours.iter().any(|(_, m)| m.contains_key(**s)))
        .map(|(s, color)| Line {
            name: s,
            points: hours
                .iter()
                .map(|(t, m)| (*t, *m.get(*s).unwrap_or(&0) as f64))
                .collect(),
            color,
            secondary: false,
        })
        .collect();
    push(
        "chart-errors",
        "Errors per hour by severity",
        time_chart("Errors per hour", "records", None, &error_lines),
    );
    let hist: Vec<(String, f64)> = x
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
    let open: Series = x
        .sessions
        .open_by_minute
        .iter()
        .filter_map(|m| Some((epoch_ms(&m.minute)?, m.count as f64)))
        .collect();
    push(
        "chart-connections",
        "Sessions and connections per minute",
        time_chart(
            "Sessions and connections per minute",
            "count",
            None,
            &[
                Line {
                    name: "connections",
                    points: per_minute_counts(series(&|m| Some(m.connections as f64))),
                    color: GREEN,
                    secondary: false,
                },
                Line {
                    name: "sessions open (peak)",
                    points: open,
                    color: PURPLE,
                    secondary: false,
                },
            ],
        ),
    );
    let hourly = |v: &[pglog_analyzer::HourValue]| -> Series {
        v.iter()
            .filter_map(|h| Some((epoch_ms(&h.hour)?, h.value as f64)))
            .collect()
    };
    push(
        "chart-checkpoints",
        "Checkpoints and temp files per hour",
        time_chart(
            "Checkpoints and temp files per hour",
            "checkpoints",
            Some("temp MiB"),
            &[
                Line {
                    name: "checkpoints",
                    points: hourly(&x.checkpoints.by_hour),
                    color: PURPLE,
                    secondary: false,
                },
                Line {
                    name: "temp MiB",
                    points: hourly(&x.temp_files.by_hour)
                        .into_iter()
                        .map(|(t, b)| (t, b / 1_048_576.0))
                        .collect(),
                    color: ORANGE,
                    secondary: true,
                },
            ],
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
        assert_eq!(super::hh_mm(1_795_428_000_123), "10:00");
    }
}
