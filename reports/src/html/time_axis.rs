//! The time axis of the charts: ticks at round local times (every 10 s up
//! to every few weeks), labelled so that no two read the same: seconds when
//! ticks are under a minute apart, the date when they span more than one
//! day. Times are the report zone's local milliseconds.

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Steps between ticks, tried in turn.
const STEPS: [i64; 17] = [
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
];
/// The most ticks on an axis 900 pixels wide.
const MAX_TICKS: i64 = 10;

/// Tick positions from `x0` to `x1` and the label of each.
pub(super) fn ticks(x0: i64, x1: i64) -> Vec<(i64, String)> {
    let span = x1.saturating_sub(x0).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= MAX_TICKS)
        .unwrap_or_else(|| (span / MAX_TICKS / (7 * DAY) + 1).saturating_mul(7 * DAY));
    let first = x0.saturating_add((step - x0.rem_euclid(step)) % step);
    let positions: Vec<i64> = (0..=MAX_TICKS)
        .filter_map(|i| first.checked_add(step.checked_mul(i)?))
        .take_while(|t| *t <= x1)
        .collect();
    let days = |t: &i64| t.div_euclid(DAY);
    let dated = positions.first().map(days) != positions.last().map(days);
    positions
        .into_iter()
        .map(|t| (t, label(t, step, dated)))
        .collect()
}

fn label(t: i64, step: i64, dated: bool) -> String {
    let (y, mo, d) = civil(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY) / SECOND;
    let (hh, mm, ss) = (s / 3600, s / 60 % 60, s % 60);
    match (step, dated) {
        (s, _) if s < MINUTE => format!("{hh:02}:{mm:02}:{ss:02}"),
        (s, _) if s >= DAY => format!("{y:04}-{mo:02}-{d:02}"),
        (_, true) => format!("{mo:02}-{d:02} {hh:02}:{mm:02}"),
        (_, false) => format!("{hh:02}:{mm:02}"),
    }
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's
/// civil-from-days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(x0: i64, x1: i64) -> Vec<String> {
        ticks(x0, x1).into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn labels_are_distinct_and_round() {
        let t0 = 1_795_428_000_000; // 2026-11-23 10:00
        assert_eq!(labels(t0, t0 + 5 * MINUTE)[..2], ["10:00:00", "10:00:30"]);
        assert_eq!(labels(t0, t0 + HOUR)[..2], ["10:00", "10:10"]);
        assert_eq!(
            labels(t0 + 7 * MINUTE, t0 + 24 * HOUR)[..2],
            ["11-23 12:00", "11-23 15:00"]
        );
        assert_eq!(labels(t0, t0 + 30 * DAY)[0], "2026-11-26");
        for span in [MINUTE, 5 * MINUTE, HOUR, 5 * HOUR, DAY, 3 * DAY, 400 * DAY] {
            let l = labels(t0 + 123_456, t0 + 123_456 + span);
            let mut d = l.clone();
            d.dedup();
            assert_eq!(d, l, "span {span}");
            assert!(l.len() >= 2 && l.len() as i64 <= MAX_TICKS + 1, "{l:?}");
        }
        assert!(ticks(i64::MAX - 10, i64::MAX).len() <= 1);
    }
}
