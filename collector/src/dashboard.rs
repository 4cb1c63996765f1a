//! The CloudWatch dashboard for the metrics the collector ships, built from
//! the catalogue so a panel can never name a metric that is not sent.
//!
//! Two steps: [`layout`] picks the panels (titles, positions, metrics and
//! statistics) and checks every metric against the catalogue; [`body`] turns
//! a layout into the dashboard JSON with one row per instance. Terraform's
//! `pglog-definitions` module does the second step in HCL from the committed
//! `pglog dashboard --layout` output, and a test holds both equal.

use crate::catalogue::{Catalogue, Role};
use serde::Serialize;
use serde_json::{json, Value};

/// Format version of [`Layout`]; the Terraform module checks it.
pub const LAYOUT_VERSION: u32 = 1;
const PERIOD: u32 = 60;
const HEADER_HEIGHT: u32 = 1;
const PANEL_WIDTH: u32 = 6;
const PANEL_HEIGHT: u32 = 6;
const COLUMNS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub version: u32,
    /// The dashboard's default time range.
    pub start: String,
    pub header_height: u32,
    /// Height of one instance's row: its header plus its panels.
    pub row_height: u32,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Panel {
    pub title: String,
    /// Position inside the instance's row (y counts from the row's top).
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub stacked: bool,
    pub period: u32,
    /// The left axis label: the unit the catalogue gives the first series.
    pub y_label: String,
    pub series: Vec<Series>,
    pub annotations: Vec<Annotation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub metric: String,
    /// The exact dimension set searched (the SEARCH schema); a metric sent
    /// with two sets is two series.
    pub dimensions: Vec<String>,
    pub stat: String,
    /// A CloudWatch (dynamic) label; empty keeps CloudWatch's own.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    pub label: String,
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardInstance {
    pub name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DashboardError {
    #[error("the dashboard names metric {0:?}, which the catalogue does not ship")]
    UnknownMetric(String),
    #[error("instance {0:?}: use letters, digits, '.', '_' and '-' only (1 to 255 characters)")]
    BadInstance(String),
    #[error("instance {0:?} is given twice")]
    DuplicateInstance(String),
    #[error("namespace {0:?}: use letters, digits and . _ / # : - (1 to 255 characters), not starting with AWS/")]
    BadNamespace(String),
    #[error("give at least one --instance NAME=primary|standby")]
    NoInstances,
}

/// (title, stacked, [(metric, statistic, label)], annotations)
type PanelSpec = (
    &'static str,
    bool,
    &'static [(&'static str, &'static str, &'static str)],
    &'static [(&'static str, u64)],
);

// The panels of one instance's row, in reading order. Counters are shipped
// per interval, so their per-minute figure is the Sum; gauges show the worst
// value of the minute.
const PANELS: &[PanelSpec] = &[
    ("Up (1 = answering)", false, &[("Up", "Minimum", "up")], &[]),
    (
        "Transactions, last 10 minutes",
        false,
        &[("TransactionsLast10Minutes", "Maximum", "transactions")],
        &[],
    ),
    (
        "Connections by state",
        true,
        &[("Connections", "Average", "${PROP('Dim.State')}")],
        &[],
    ),
    (
        "Errors per minute (log)",
        true,
        &[(
            "LogErrors",
            "Sum",
            "${PROP('Dim.Severity')} ${PROP('Dim.SqlStateClass')}",
        )],
        &[],
    ),
    (
        "Replication lag (seconds)",
        false,
        &[("ReplicationLagSeconds", "Maximum", "")],
        &[],
    ),
    (
        "Replication lag (bytes)",
        false,
        &[("ReplicationLagBytes", "Maximum", "")],
        &[],
    ),
    (
        "Locks",
        false,
        &[
            ("LocksWaiting", "Maximum", "lock requests waiting"),
            ("BlockedBackends", "Maximum", "blocked backends"),
            ("LockWaits", "Sum", "lock waits logged"),
            ("Deadlocks", "Sum", "deadlocks logged"),
        ],
        &[],
    ),
    (
        "Long transactions",
        false,
        &[
            ("LongestTransactionSeconds", "Maximum", "oldest transaction"),
            (
                "LongestIdleInTransactionSeconds",
                "Maximum",
                "longest idle in transaction",
            ),
        ],
        &[],
    ),
    (
        "Checkpoints",
        false,
        &[
            ("Checkpoints", "Sum", "started (log)"),
            ("CheckpointsTimed", "Sum", "timed"),
            ("CheckpointsRequested", "Sum", "requested"),
        ],
        &[],
    ),
    (
        "Wraparound age",
        false,
        &[
            ("XidWraparoundAge", "Maximum", "XID age"),
            ("MultiXactWraparoundAge", "Maximum", "MultiXact age"),
            (
                "OldestTableXidAge",
                "Maximum",
                "oldest table in ${PROP('Dim.Database')}",
            ),
        ],
        &[("autovacuum_freeze_max_age default", 200_000_000)],
    ),
    (
        "Cache hit ratio",
        false,
        &[("CacheHitRatio", "Average", "shared buffers hit")],
        &[],
    ),
    (
        "WAL rate",
        false,
        &[("WalBytesPerSecond", "Average", "WAL bytes/s")],
        &[],
    ),
    (
        "Dead rows by database",
        false,
        &[("DeadTuples", "Maximum", "${PROP('Dim.Database')}")],
        &[],
    ),
    (
        "Tables needing vacuum",
        false,
        &[("TablesNeedingVacuum", "Maximum", "${PROP('Dim.Database')}")],
        &[],
    ),
    (
        "pgbouncer clients waiting",
        true,
        &[(
            "PgbouncerClientsWaiting",
            "Maximum",
            "${PROP('Dim.Database')} ${PROP('Dim.User')}",
        )],
        &[],
    ),
    (
        "pgbouncer longest wait",
        false,
        &[(
            "PgbouncerMaxWaitSeconds",
            "Maximum",
            "${PROP('Dim.Database')} ${PROP('Dim.User')}",
        )],
        &[],
    ),
];

/// The panel layout, every metric checked against `catalogue`.
pub fn layout(catalogue: &Catalogue) -> Result<Layout, DashboardError> {
    let metrics = catalogue.metrics();
    let mut panels = Vec::with_capacity(PANELS.len());
    for (i, (title, stacked, series, annotations)) in PANELS.iter().enumerate() {
        let mut y_label = None;
        let mut expanded = Vec::new();
        for (metric, stat, label) in series.iter() {
            let info = metrics
                .iter()
                .find(|m| m.name == *metric)
                .ok_or_else(|| DashboardError::UnknownMetric(metric.to_string()))?;
            y_label.get_or_insert_with(|| match info.unit.as_str() {
                "None" => String::new(),
                unit => unit.to_string(),
            });
            for dims in &info.dimension_sets {
                expanded.push(Series {
                    metric: metric.to_string(),
                    dimensions: dims.clone(),
                    stat: stat.to_string(),
                    label: label.to_string(),
                });
            }
        }
        let i = i as u32;
        panels.push(Panel {
            title: title.to_string(),
            x: (i % COLUMNS) * PANEL_WIDTH,
            y: HEADER_HEIGHT + (i / COLUMNS) * PANEL_HEIGHT,
            width: PANEL_WIDTH,
            height: PANEL_HEIGHT,
            stacked: *stacked,
            period: PERIOD,
            y_label: y_label.unwrap_or_default(),
            series: expanded,
            annotations: annotations
                .iter()
                .map(|(label, value)| Annotation {
                    label: label.to_string(),
                    value: *value,
                })
                .collect(),
        });
    }
    let rows = (PANELS.len() as u32).div_ceil(COLUMNS);
    Ok(Layout {
        version: LAYOUT_VERSION,
        start: "-PT6H".into(),
        header_height: HEADER_HEIGHT,
        row_height: HEADER_HEIGHT + rows * PANEL_HEIGHT,
        panels,
    })
}

/// Parses `NAME=primary` / `NAME=standby`.
pub fn parse_instance(arg: &str) -> Result<DashboardInstance, String> {
    let (name, role) = arg
        .rsplit_once('=')
        .ok_or_else(|| format!("{arg:?}: give the role too, as NAME=primary or NAME=standby"))?;
    let role = match role {
        "primary" => Role::Primary,
        "standby" => Role::Standby,
        other => {
            return Err(format!(
                "{arg:?}: role {other:?} is neither primary nor standby"
            ))
        }
    };
    Ok(DashboardInstance {
        name: name.to_string(),
        role,
    })
}

fn valid_instance(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn valid_namespace(ns: &str) -> bool {
    (1..=255).contains(&ns.len())
        && !ns.starts_with("AWS/")
        && ns
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/#:-".contains(&b))
}

/// The dashboard body: per instance a header naming its role, then the
/// layout's panels, each series a SEARCH of the metric's exact dimension set
/// on the instance, so the series follow a failover (the `Role` value
/// changes) and every label value (`State`, `Standby`, ...) shows up
/// without being listed.
pub fn body(
    layout: &Layout,
    namespace: &str,
    region: &str,
    instances: &[DashboardInstance],
) -> Result<Value, DashboardError> {
    if !valid_namespace(namespace) {
        return Err(DashboardError::BadNamespace(namespace.into()));
    }
    if instances.is_empty() {
        return Err(DashboardError::NoInstances);
    }
    let mut widgets = Vec::new();
    for (row, inst) in instances.iter().enumerate() {
        if !valid_instance(&inst.name) {
            return Err(DashboardError::BadInstance(inst.name.clone()));
        }
        if instances[..row].iter().any(|o| o.name == inst.name) {
            return Err(DashboardError::DuplicateInstance(inst.name.clone()));
        }
        let top = row as u32 * layout.row_height;
        widgets.push(json!({
            "type": "text",
            "x": 0,
            "y": top,
            "width": 24,
            "height": layout.header_height,
            "properties": { "markdown": format!("## {} · {}", inst.name, inst.role.as_str()) },
        }));
        for p in &layout.panels {
            let metrics: Vec<Value> = p
                .series
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    json!([{
                        "expression": format!(
                            "SEARCH('{{\"{}\",{}}} MetricName=\"{}\" DBInstance=\"{}\"', '{}', {})",
                            namespace, s.dimensions.join(","), s.metric, inst.name, s.stat, p.period
                        ),
                        "id": format!("e{}", j + 1),
                        "label": s.label,
                        "period": p.period,
                    }])
                })
                .collect();
            let mut properties = json!({
                "title": p.title,
                "region": region,
                "view": "timeSeries",
                "stacked": p.stacked,
                "period": p.period,
                "metrics": metrics,
                "yAxis": { "left": { "min": 0, "label": p.y_label, "showUnits": false } },
            });
            if !p.annotations.is_empty() {
                properties["annotations"] = json!({
                    "horizontal": p.annotations.iter()
                        .map(|a| json!({ "label": a.label, "value": a.value }))
                        .collect::<Vec<_>>(),
                });
            }
            widgets.push(json!({
                "type": "metric",
                "x": p.x,
                "y": top + p.y,
                "width": p.width,
                "height": p.height,
                "properties": properties,
            }));
        }
    }
    Ok(json!({ "start": layout.start, "widgets": widgets }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, role: Role) -> DashboardInstance {
        DashboardInstance {
            name: name.into(),
            role,
        }
    }

    #[test]
    fn every_panel_metric_is_in_the_catalogue_and_panels_tile_the_row() {
        let l = layout(&Catalogue::built_in()).unwrap();
        assert_eq!(l.panels.len(), 16);
        for p in &l.panels {
            assert!(
                p.x + p.width <= 24 && p.y + p.height <= l.row_height,
                "{p:?}"
            );
        }
        let b = body(
            &l,
            "PgLog",
            "eu-west-1",
            &[inst("db1", Role::Primary), inst("db2", Role::Standby)],
        )
        .unwrap();
        let widgets = b["widgets"].as_array().unwrap();
        // A header and the panels per instance.
        let row = 1 + l.panels.len();
        assert_eq!(widgets.len(), 2 * row);
        assert_eq!(widgets[row]["properties"]["markdown"], "## db2 · standby");
        assert_eq!(widgets[row]["y"], l.row_height);
        // A primary sends lag per standby, a standby its own: two schemas.
        let lag = &widgets[row + 5]["properties"]["metrics"];
        assert_eq!(
            lag[0][0]["expression"],
            "SEARCH('{\"PgLog\",DBInstance,Role,Standby} MetricName=\"ReplicationLagSeconds\" DBInstance=\"db2\"', 'Maximum', 60)"
        );
        assert_eq!(
            lag[1][0]["expression"],
            "SEARCH('{\"PgLog\",DBInstance,Role} MetricName=\"ReplicationLagSeconds\" DBInstance=\"db2\"', 'Maximum', 60)"
        );
        assert_eq!(lag[1][0]["id"], "e2");
    }

    #[test]
    fn names_that_would_break_a_search_expression_are_refused() {
        let l = layout(&Catalogue::built_in()).unwrap();
        for bad in ["db'1", "db\"1", "", "a b"] {
            assert_eq!(
                body(&l, "PgLog", "us-east-1", &[inst(bad, Role::Primary)]),
                Err(DashboardError::BadInstance(bad.into()))
            );
        }
        assert!(matches!(
            body(&l, "AWS/RDS", "us-east-1", &[inst("a", Role::Primary)]),
            Err(DashboardError::BadNamespace(_))
        ));
        assert!(matches!(
            body(
                &l,
                "PgLog",
                "us-east-1",
                &[inst("a", Role::Primary), inst("a", Role::Standby)]
            ),
            Err(DashboardError::DuplicateInstance(_))
        ));
        assert!(parse_instance("db1").is_err());
        assert!(parse_instance("db1=leader").is_err());
        assert_eq!(
            parse_instance("db1=standby").unwrap(),
            inst("db1", Role::Standby)
        );
    }
}
