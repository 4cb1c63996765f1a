//! The `/metrics` text: gauges as last read (each with the time it was
//! read), counters as running totals of the increases the collector
//! shipped, named by [`naming`](super::naming).
//!
//! A counter's total is the sum of its per-cycle increases since the
//! collector started (what the server added, across `stats_reset` and
//! restarts, and what the log shipper counted), so it only goes up and
//! Prometheus' `rate()` and `increase()` read it as any counter. It carries
//! no timestamp: it holds at the time of the scrape, also in cycles that
//! added nothing (a log counter has no datum then).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::time::UNIX_EPOCH;

use super::naming::{exposed, label_name, Exposed, PromType, PREFIX};
use crate::catalogue::{Kind, MetricInfo};
use crate::series::Datum;

/// Counter series kept at most; beyond it new ones are left out (a label
/// of unbounded values must not grow the process without end).
pub const MAX_COUNTER_SERIES: usize = 10_000;

type Dims = Vec<(String, String)>;

#[derive(Default)]
pub struct Exposition {
    pub text: String,
    pub ready: bool,
    /// The gauge datums served, by metric.
    last: BTreeMap<String, Vec<Datum>>,
    /// Running totals of the counters, by metric and dimensions.
    totals: BTreeMap<String, BTreeMap<Dims, f64>>,
    counter_series: usize,
    warned_full: bool,
}

impl Exposition {
    /// Takes this cycle's datums; gauges of the metrics in `not_due` keep
    /// their last values (their query did not run this cycle).
    pub fn update(
        &mut self,
        datums: &[Datum],
        not_due: &[String],
        catalogue: &[MetricInfo],
        up: bool,
        extra: &[(&str, &str, &str, f64)],
    ) {
        let kind_of = |metric: &str| {
            catalogue
                .iter()
                .find(|m| m.name == metric)
                .map_or(Kind::Gauge, |m| m.kind)
        };
        let fresh: BTreeSet<&str> = datums.iter().map(|d| d.metric.as_str()).collect();
        let mut gauges: BTreeMap<String, Vec<Datum>> = std::mem::take(&mut self.last)
            .into_iter()
            .filter(|(m, _)| not_due.contains(m) && !fresh.contains(m.as_str()))
            .collect();
        for d in datums {
            if kind_of(&d.metric) == Kind::Counter {
                self.add_to_total(d);
            } else {
                gauges.entry(d.metric.clone()).or_default().push(d.clone());
            }
        }
        self.text = self.render(&gauges, catalogue, extra);
        self.ready = up;
        self.last = gauges;
    }

    fn add_to_total(&mut self, d: &Datum) {
        let series = self.totals.entry(d.metric.clone()).or_default();
        if !series.contains_key(&d.dimensions) {
            if self.counter_series >= MAX_COUNTER_SERIES {
                if !self.warned_full {
                    self.warned_full = true;
                    tracing::warn!(
                        "Prometheus: more than {MAX_COUNTER_SERIES} counter series; new ones (first: {}) are left out of /metrics",
                        d.metric
                    );
                }
                return;
            }
            self.counter_series += 1;
        }
        *series.entry(d.dimensions.clone()).or_default() += d.value;
    }

    fn render(
        &self,
        gauges: &BTreeMap<String, Vec<Datum>>,
        catalogue: &[MetricInfo],
        extra: &[(&str, &str, &str, f64)],
    ) -> String {
        let info = |metric: &str| catalogue.iter().find(|m| m.name == metric);
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        for (metric, ds) in gauges {
            let unit = info(metric).map_or(ds[0].unit.as_str(), |m| m.unit.as_str());
            let e = exposed(metric, unit, Kind::Gauge);
            let family = families
                .entry(e.name.clone())
                .or_insert_with(|| Family::new(&e, info(metric).map_or("", |m| m.help.as_str())));
            // One sample per series: the last read wins.
            let mut by_dims: BTreeMap<&Dims, &Datum> = BTreeMap::new();
            for d in ds {
                by_dims.insert(&d.dimensions, d);
            }
            for (dims, d) in by_dims {
                let ms = d
                    .timestamp
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis();
                family.sample(dims, d.value * e.scale, Some(ms));
            }
        }
        for (metric, series) in &self.totals {
            let unit = info(metric).map_or("Count", |m| m.unit.as_str());
            let e = exposed(metric, unit, Kind::Counter);
            let help = info(metric).map_or(String::new(), |m| {
                format!("Total since the collector started of: {}", m.help)
            });
            let family = families
                .entry(e.name.clone())
                .or_insert_with(|| Family::new(&e, &help));
            for (dims, total) in series {
                family.sample(dims, total * e.scale, None);
            }
        }
        let mut text = String::new();
        for (name, f) in &families {
            let _ = write!(
                text,
                "# HELP {name} {}\n# TYPE {name} {}\n{}",
                escape_help(&f.help),
                f.prom_type.as_str(),
                f.samples
            );
        }
        for (name, kind, help, value) in extra {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        let _ = writeln!(
            text,
            "# HELP {PREFIX}collector_info The collector's version\n# TYPE {PREFIX}collector_info gauge\n{PREFIX}collector_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        text
    }
}

struct Family {
    name: String,
    prom_type: PromType,
    help: String,
    samples: String,
}

impl Family {
    fn new(e: &Exposed, help: &str) -> Family {
        Family {
            name: e.name.clone(),
            prom_type: e.prom_type,
            help: if help.is_empty() {
                e.name.clone()
            } else {
                help.to_string()
            },
            samples: String::new(),
        }
    }

    fn sample(&mut self, dims: &Dims, value: f64, timestamp_ms: Option<u128>) {
        let labels: Vec<String> = dims
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", label_name(k), escape(v)))
            .collect();
        let _ = write!(
            self.samples,
            "{}{{{}}} {value}",
            self.name,
            labels.join(",")
        );
        if let Some(ms) = timestamp_ms {
            let _ = write!(self.samples, " {ms}");
        }
        self.samples.push('\n');
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', " ")
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    fn datum(metric: &str, unit: &str, value: f64, dims: &[(&str, &str)]) -> Datum {
        Datum {
            metric: metric.into(),
            unit: unit.into(),
            value,
            dimensions: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            timestamp: UNIX_EPOCH + std::time::Duration::from_secs(100),
        }
    }

    #[test]
    fn counters_are_running_totals_and_stay_between_increases() {
        let cat = Catalogue::built_in().metrics();
        let mut e = Exposition::default();
        let errors = |n| {
            datum(
                "LogErrors",
                "Count",
                n,
                &[
                    ("DBInstance", "db"),
                    ("Severity", "ERROR"),
                    ("SqlStateClass", "42"),
                ],
            )
        };
        let ratio = datum("CacheHitRatio", "Percent", 99.0, &[("DBInstance", "db")]);
        e.update(&[errors(3.0), ratio], &[], &cat, true, &[]);
        e.update(&[errors(2.0)], &[], &cat, true, &[]);
        // A cycle without errors: the counter holds.
        e.update(&[], &[], &cat, true, &[]);
        let t = &e.text;
        assert!(t.contains("# TYPE pglog_log_errors_total counter\n"), "{t}");
        assert!(
            t.contains(
                "pglog_log_errors_total{db_instance=\"db\",severity=\"ERROR\",sql_state_class=\"42\"} 5\n"
            ),
            "{t}"
        );
        assert!(!t.contains("cache_hit"), "a gauge goes with its cycle: {t}");
        e.update(
            &[datum(
                "CacheHitRatio",
                "Percent",
                99.0,
                &[("DBInstance", "db")],
            )],
            &[],
            &cat,
            true,
            &[],
        );
        assert!(
            e.text
                .contains("pglog_cache_hit_ratio{db_instance=\"db\"} 0.99 100000\n"),
            "{}",
            e.text
        );
        assert!(
            e.text.contains("pglog_collector_info{version=\""),
            "{}",
            e.text
        );
    }
}
