//! The one place catalogue metrics get their Prometheus names: base units
//! (seconds, bytes, 0–1 ratios), the unit as the name's suffix, `_total` on
//! counters. The exposition, the rules and the Grafana dashboard all name
//! series through [`exposed`], so they cannot drift apart.

use crate::catalogue::{Kind, MetricInfo};

/// Every exposition name starts with this.
pub const PREFIX: &str = "pglog_";

/// The Prometheus metric type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromType {
    Gauge,
    Counter,
}

impl PromType {
    pub fn as_str(self) -> &'static str {
        match self {
            PromType::Gauge => "gauge",
            PromType::Counter => "counter",
        }
    }
}

/// How one catalogue metric appears on `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposed {
    pub name: String,
    pub prom_type: PromType,
    /// Multiplies a shipped value into the base unit of the name.
    pub scale: f64,
    /// The Grafana unit of the (scaled) values.
    pub grafana_unit: &'static str,
}

/// A CloudWatch unit: the suffix its base unit gives, the factor into that
/// base unit, the words that may already end a metric name for it, and the
/// Grafana unit. The README's table is this one.
struct UnitRule {
    unit: &'static str,
    suffix: &'static [&'static str],
    scale: f64,
    name_words: &'static [&'static [&'static str]],
    grafana: &'static str,
}

const KIB: f64 = 1024.0;

const UNIT_RULES: &[UnitRule] = &[
    rule(
        "Seconds",
        &["seconds"],
        1.0,
        &[&["seconds"], &["secs"]],
        "s",
    ),
    rule(
        "Milliseconds",
        &["seconds"],
        1e-3,
        &[&["milliseconds"], &["millis"], &["ms"]],
        "s",
    ),
    rule(
        "Microseconds",
        &["seconds"],
        1e-6,
        &[&["microseconds"], &["micros"], &["us"]],
        "s",
    ),
    rule("Bytes", &["bytes"], 1.0, &[&["bytes"]], "bytes"),
    rule(
        "Kilobytes",
        &["bytes"],
        KIB,
        &[&["kilobytes"], &["kb"]],
        "bytes",
    ),
    rule(
        "Megabytes",
        &["bytes"],
        KIB * KIB,
        &[&["megabytes"], &["mb"]],
        "bytes",
    ),
    rule(
        "Gigabytes",
        &["bytes"],
        KIB * KIB * KIB,
        &[&["gigabytes"], &["gb"]],
        "bytes",
    ),
    rule(
        "Terabytes",
        &["bytes"],
        KIB * KIB * KIB * KIB,
        &[&["terabytes"], &["tb"]],
        "bytes",
    ),
    rule("Bits", &["bytes"], 1.0 / 8.0, &[&["bits"]], "bytes"),
    rule("Kilobits", &["bytes"], 1e3 / 8.0, &[&["kilobits"]], "bytes"),
    rule("Megabits", &["bytes"], 1e6 / 8.0, &[&["megabits"]], "bytes"),
    rule("Gigabits", &["bytes"], 1e9 / 8.0, &[&["gigabits"]], "bytes"),
    rule(
        "Terabits",
        &["bytes"],
        1e12 / 8.0,
        &[&["terabits"]],
        "bytes",
    ),
    rule(
        "Percent",
        &["ratio"],
        0.01,
        &[&["percent"], &["pct"], &["ratio"]],
        "percentunit",
    ),
    rule("Count", &[], 1.0, &[], "short"),
    rule(
        "Bytes/Second",
        &["bytes", "per", "second"],
        1.0,
        &[&["bytes", "per", "second"]],
        "Bps",
    ),
    rule(
        "Kilobytes/Second",
        &["bytes", "per", "second"],
        KIB,
        &[&["kilobytes", "per", "second"]],
        "Bps",
    ),
    rule(
        "Megabytes/Second",
        &["bytes", "per", "second"],
        KIB * KIB,
        &[&["megabytes", "per", "second"]],
        "Bps",
    ),
    rule(
        "Gigabytes/Second",
        &["bytes", "per", "second"],
        KIB * KIB * KIB,
        &[&["gigabytes", "per", "second"]],
        "Bps",
    ),
    rule(
        "Terabytes/Second",
        &["bytes", "per", "second"],
        KIB * KIB * KIB * KIB,
        &[&["terabytes", "per", "second"]],
        "Bps",
    ),
    rule(
        "Bits/Second",
        &["bytes", "per", "second"],
        1.0 / 8.0,
        &[&["bits", "per", "second"]],
        "Bps",
    ),
    rule(
        "Kilobits/Second",
        &["bytes", "per", "second"],
        1e3 / 8.0,
        &[&["kilobits", "per", "second"]],
        "Bps",
    ),
    rule(
        "Megabits/Second",
        &["bytes", "per", "second"],
        1e6 / 8.0,
        &[&["megabits", "per", "second"]],
        "Bps",
    ),
    rule(
        "Gigabits/Second",
        &["bytes", "per", "second"],
        1e9 / 8.0,
        &[&["gigabits", "per", "second"]],
        "Bps",
    ),
    rule(
        "Terabits/Second",
        &["bytes", "per", "second"],
        1e12 / 8.0,
        &[&["terabits", "per", "second"]],
        "Bps",
    ),
    rule(
        "Count/Second",
        &["per", "second"],
        1.0,
        &[&["per", "second"]],
        "ops",
    ),
    rule("None", &[], 1.0, &[], "none"),
];

const fn rule(
    unit: &'static str,
    suffix: &'static [&'static str],
    scale: f64,
    name_words: &'static [&'static [&'static str]],
    grafana: &'static str,
) -> UnitRule {
    UnitRule {
        unit,
        suffix,
        scale,
        name_words,
        grafana,
    }
}

/// Time words that can end the name of a unitless (`None`/`Count`) metric,
/// as in `PasswordExpiresInDays`: the value is in that unit, so it is
/// scaled to seconds. After a number (`Last10Minutes`) they name a window
/// instead and shorten to Prometheus' duration letters (`last10m`).
const TIME_WORDS: &[(&str, f64, &str)] = &[
    ("days", 86_400.0, "d"),
    ("hours", 3_600.0, "h"),
    ("minutes", 60.0, "m"),
    ("milliseconds", 1e-3, "ms"),
    ("microseconds", 1e-6, "us"),
];

/// Suffixes Prometheus reserves for counters, histograms and summaries.
const RESERVED_ENDINGS: &[&str] = &["total", "count", "sum", "bucket"];

/// The Prometheus name, type and scale of a catalogue metric.
pub fn exposed(metric: &str, unit: &str, kind: Kind) -> Exposed {
    let rule = UNIT_RULES
        .iter()
        .find(|r| r.unit == unit)
        .unwrap_or(&UNIT_RULES[UNIT_RULES.len() - 1]);
    let mut words = window_phrases(words(metric));
    let mut suffix: Vec<&str> = rule.suffix.to_vec();
    let mut scale = rule.scale;
    let mut grafana_unit = rule.grafana;
    if let Some(n) = rule
        .name_words
        .iter()
        .find(|w| words.ends_with(&w.iter().map(|s| s.to_string()).collect::<Vec<_>>()))
    {
        words.truncate(words.len() - n.len());
    } else if suffix.is_empty() {
        if let Some((_, factor, _)) = words
            .last()
            .and_then(|w| TIME_WORDS.iter().find(|(t, _, _)| t == w))
        {
            words.pop();
            suffix = vec!["seconds"];
            scale = *factor;
            grafana_unit = "s";
        }
    }
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| RESERVED_ENDINGS.contains(&w.as_str()))
    {
        words.pop();
    }
    words.extend(suffix.iter().map(|s| s.to_string()));
    let prom_type = match kind {
        Kind::Counter => PromType::Counter,
        Kind::Gauge | Kind::Rate | Kind::Window | Kind::Ratio | Kind::Mean => PromType::Gauge,
    };
    if prom_type == PromType::Counter {
        words.push("total".into());
    }
    Exposed {
        name: format!("{PREFIX}{}", words.join("_")),
        prom_type,
        scale,
        grafana_unit,
    }
}

/// [`exposed`] for a catalogue entry.
pub fn exposed_info(info: &MetricInfo) -> Exposed {
    exposed(&info.name, &info.unit, info.kind)
}

/// The lowercase words of a CamelCase name: `DBInstance` is `db`,
/// `instance`; `TransactionsLast10Minutes` is `transactions`, `last10`,
/// `minutes`. Anything but letters and digits separates words.
fn words(name: &str) -> Vec<String> {
    let c: Vec<char> = name.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for i in 0..c.len() {
        if !c[i].is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = i > 0
            && c[i].is_ascii_uppercase()
            && (c[i - 1].is_ascii_lowercase()
                || c[i - 1].is_ascii_digit()
                || c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                    && c[i - 1].is_ascii_uppercase());
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c[i].to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `last10`, `minutes` becomes `last10m`: a time word after a number is a
/// window's length, not the value's unit.
fn window_phrases(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        let short = TIME_WORDS.iter().find(|(t, _, _)| *t == w).map(|t| t.2);
        match (short, out.last_mut()) {
            (Some(s), Some(prev)) if prev.ends_with(|c: char| c.is_ascii_digit()) => {
                prev.push_str(s)
            }
            _ => out.push(w),
        }
    }
    out
}

/// A dimension as a label name: `DBInstance` is `db_instance`.
pub fn label_name(dim: &str) -> String {
    words(dim).join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(metric: &str, unit: &str, kind: Kind) -> String {
        exposed(metric, unit, kind).name
    }

    #[test]
    fn base_units_and_suffixes() {
        assert_eq!(name("Up", "None", Kind::Gauge), "pglog_up");
        assert_eq!(
            name("TransactionsLast10Minutes", "Count", Kind::Window),
            "pglog_transactions_last10m"
        );
        assert_eq!(
            name("ReplicationLagSeconds", "Seconds", Kind::Gauge),
            "pglog_replication_lag_seconds"
        );
        assert_eq!(
            name("TempBytes", "Bytes", Kind::Counter),
            "pglog_temp_bytes_total"
        );
        assert_eq!(
            name("Deadlocks", "Count", Kind::Counter),
            "pglog_deadlocks_total"
        );
        assert_eq!(
            name("WalBytesPerSecond", "Bytes/Second", Kind::Rate),
            "pglog_wal_bytes_per_second"
        );
        let ratio = exposed("ConnectionsUsedPercent", "Percent", Kind::Gauge);
        assert_eq!(ratio.name, "pglog_connections_used_ratio");
        assert_eq!(ratio.scale, 0.01);
        assert_eq!(
            name("CacheHitRatio", "Percent", Kind::Ratio),
            "pglog_cache_hit_ratio"
        );
        let days = exposed("PasswordExpiresInDays", "None", Kind::Gauge);
        assert_eq!(days.name, "pglog_password_expires_in_seconds");
        assert_eq!(days.scale, 86_400.0);
        let ms = exposed("QueryTime", "Milliseconds", Kind::Gauge);
        assert_eq!(
            (ms.name.as_str(), ms.scale),
            ("pglog_query_time_seconds", 1e-3)
        );
        assert_eq!(
            name("PgbouncerMaxWaitSeconds", "Seconds", Kind::Gauge),
            "pglog_pgbouncer_max_wait_seconds"
        );
        assert_eq!(
            name("ConnectionsTotal", "Count", Kind::Gauge),
            "pglog_connections"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(label_name("DBInstance"), "db_instance");
        assert_eq!(label_name("State"), "state");
        assert_eq!(label_name("SqlStateClass"), "sql_state_class");
    }
}

#[cfg(test)]
mod readme {
    use super::*;
    use crate::catalogue::Catalogue;

    /// The README's mapping table row of a catalogue metric.
    fn row(m: &MetricInfo) -> String {
        let e = exposed_info(m);
        let scale = if e.scale == 1.0 {
            String::new()
        } else {
            format!(" × {}", e.scale)
        };
        format!(
            "| `{}` | {} | `{}` | {}{} |",
            m.name,
            m.unit,
            e.name,
            e.prom_type.as_str(),
            scale
        )
    }

    #[test]
    fn the_readme_maps_every_catalogue_metric() {
        let readme = include_str!("../../README.md");
        let rows: Vec<String> = Catalogue::built_in().metrics().iter().map(row).collect();
        let missing: Vec<&String> = rows
            .iter()
            .filter(|r| !readme.contains(r.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "collector/README.md lacks these rows of the Prometheus table (the whole table):\n{}",
            rows.join("\n")
        );
    }
}
