//! The chart of the report's pgbouncer section: its `stats:` lines per
//! minute (transactions and queries per second, mean times).

use super::charts::{epoch_ms, time_chart, Line, Series, BLUE, GREEN, ORANGE, RED};
use pglog_analyzer::pgbouncer::{PgbouncerMinute, PgbouncerReport};

pub fn stats_chart(p: &PgbouncerReport, clock: crate::Clock) -> Option<String> {
    let series = |f: &dyn Fn(&PgbouncerMinute) -> Option<f64>| -> Series {
        p.minutes
            .iter()
            .filter_map(|m| Some((clock.local_ms(epoch_ms(&m.minute)?), f(m)?)))
            .collect()
    };
    time_chart(
        "pgbouncer: transactions and queries per second, by minute",
        "per second",
        Some("microseconds"),
        &[
            Line {
                name: "xacts/s",
                points: series(&|m| m.xacts_per_s),
                color: BLUE,
                secondary: false,
            },
            Line {
                name: "queries/s",
                points: series(&|m| m.queries_per_s),
                color: GREEN,
                secondary: false,
            },
            Line {
                name: "mean xact µs",
                points: series(&|m| m.totals.avg_xact_us),
                color: ORANGE,
                secondary: true,
            },
            Line {
                name: "mean query µs",
                points: series(&|m| m.totals.avg_query_us),
                color: RED,
                secondary: true,
            },
        ],
    )
}
