//! `pglog dashboard --grafana`: the CloudWatch dashboard's panels (the
//! same [`dashboard::layout`]) as a Grafana dashboard over the Prometheus
//! exposition: a `datasource` variable (any Prometheus), an `instance`
//! variable (the `db_instance` values of `pglog_up`), and one row of panels
//! per instance, repeated over that variable.
//!
//! Each CloudWatch series becomes one PromQL expression: a gauge is
//! aggregated over its exact dimension set with the layout's statistic;
//! a counter (whose CloudWatch Sum over a minute is what was added that
//! minute) becomes its per-minute rate.

use serde_json::{json, Value};

use crate::catalogue::{Catalogue, MetricInfo};
use crate::dashboard::{self, DashboardError, Layout, Panel, Series};
use crate::prometheus::naming::{exposed_info, label_name, PromType};

/// Grafana 10.4 and 11 write this; both read it.
pub const SCHEMA_VERSION: u32 = 39;
/// The dashboard's uid, so a second import replaces the first.
pub const UID: &str = "pglog-collector";
/// The template variables, as the expressions name them.
pub const DATASOURCE_VAR: &str = "datasource";
pub const INSTANCE_VAR: &str = "instance";
/// The query the `instance` variable lists its values with.
pub const INSTANCE_QUERY: &str = "label_values(pglog_up, db_instance)";

/// The dashboard JSON for `catalogue`, every metric checked against it.
pub fn dashboard(catalogue: &Catalogue) -> Result<Value, DashboardError> {
    let layout = dashboard::layout(catalogue)?;
    let infos = catalogue.metrics();
    let mut panels = vec![json!({
        "type": "row",
        "id": 1,
        "title": format!("${INSTANCE_VAR}"),
        "repeat": INSTANCE_VAR,
        "collapsed": false,
        "gridPos": { "x": 0, "y": 0, "w": 24, "h": layout.header_height },
        "panels": [],
    })];
    for (i, p) in layout.panels.iter().enumerate() {
        panels.push(panel(p, i as u32 + 2, &infos)?);
    }
    Ok(json!({
        "uid": UID,
        "title": "PostgreSQL (pglog)",
        "tags": ["pglog", "postgresql"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": true,
        "graphTooltip": 1,
        "time": { "from": grafana_start(&layout), "to": "now" },
        "refresh": "1m",
        "annotations": { "list": [] },
        "templating": { "list": [datasource_variable(), instance_variable()] },
        "panels": panels,
    }))
}

/// Every PromQL expression of the dashboard's panels, in panel order.
pub fn expressions(dashboard: &Value) -> Vec<String> {
    dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect()
}

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": format!("${{{DATASOURCE_VAR}}}") })
}

fn datasource_variable() -> Value {
    json!({
        "name": DATASOURCE_VAR,
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "refresh": 1,
        "hide": 0,
        "regex": "",
        "current": {},
        "options": [],
    })
}

fn instance_variable() -> Value {
    json!({
        "name": INSTANCE_VAR,
        "label": "Instance",
        "type": "query",
        "datasource": datasource(),
        "definition": INSTANCE_QUERY,
        "query": { "query": INSTANCE_QUERY, "refId": "PrometheusVariableQueryEditor-VariableQuery" },
        "refresh": 2,
        "multi": true,
        "includeAll": true,
        "sort": 1,
        "hide": 0,
        "regex": "",
        "current": {},
        "options": [],
    })
}

/// `-PT6H` is `now-6h`.
fn grafana_start(layout: &Layout) -> String {
    let iso = layout.start.trim_start_matches("-PT").to_lowercase();
    format!("now-{iso}")
}

fn panel(p: &Panel, id: u32, infos: &[MetricInfo]) -> Result<Value, DashboardError> {
    let mut targets = Vec::with_capacity(p.series.len());
    let mut unit = None;
    let mut per_minute = false;
    for (j, s) in p.series.iter().enumerate() {
        let info = infos
            .iter()
            .find(|m| m.name == s.metric)
            .ok_or_else(|| DashboardError::UnknownMetric(s.metric.clone()))?;
        let e = exposed_info(info);
        unit.get_or_insert(e.grafana_unit);
        per_minute |= e.prom_type == PromType::Counter;
        targets.push(json!({
            "refId": ref_id(j),
            "datasource": datasource(),
            "expr": expression(s, info),
            "legendFormat": legend(s),
            "range": true,
        }));
    }
    let mut defaults = json!({
        "unit": unit.unwrap_or("none"),
        "min": 0,
        "custom": {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": if p.stacked { 30 } else { 0 },
            "stacking": { "mode": if p.stacked { "normal" } else { "none" }, "group": "A" },
            "axisLabel": if per_minute { "per minute" } else { "" },
            "thresholdsStyle": { "mode": if p.annotations.is_empty() { "off" } else { "line" } },
        },
        "thresholds": {
            "mode": "absolute",
            "steps": std::iter::once(json!({ "color": "green", "value": null }))
                .chain(p.annotations.iter().map(|a| json!({ "color": "red", "value": a.value })))
                .collect::<Vec<_>>(),
        },
    });
    if defaults["unit"] == "percentunit" {
        defaults["max"] = json!(1);
    }
    let description: Vec<String> = p
        .annotations
        .iter()
        .map(|a| format!("Red line: {} ({}).", a.label, a.value))
        .collect();
    Ok(json!({
        "type": "timeseries",
        "id": id,
        "title": p.title,
        "description": description.join(" "),
        "datasource": datasource(),
        "gridPos": { "x": p.x, "y": p.y, "w": p.width, "h": p.height },
        "interval": format!("{}s", p.period),
        "targets": targets,
        "fieldConfig": { "defaults": defaults, "overrides": [] },
        "options": {
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true },
            "tooltip": { "mode": "multi", "sort": "none" },
        },
    }))
}

fn ref_id(j: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = String::new();
    let mut n = j;
    loop {
        id.insert(0, letters[n % 26] as char);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    id
}

/// One CloudWatch series as PromQL: the exact dimension set (labels of the
/// metric's other sets must be empty), on the row's instance.
pub fn expression(s: &Series, info: &MetricInfo) -> String {
    let e = exposed_info(info);
    let by: Vec<String> = s.dimensions.iter().map(|d| label_name(d)).collect();
    let mut matchers = vec![format!("db_instance=~\"${INSTANCE_VAR}\"")];
    for d in &info.dimensions {
        if !s.dimensions.contains(d) {
            matchers.push(format!("{}=\"\"", label_name(d)));
        }
    }
    let selector = format!("{}{{{}}}", e.name, matchers.join(","));
    let by = by.join(", ");
    match e.prom_type {
        PromType::Counter => {
            format!("60 * sum by ({by}) (rate({selector}[$__rate_interval]))")
        }
        PromType::Gauge => format!("{} by ({by}) ({selector})", aggregation(&s.stat)),
    }
}

/// The PromQL aggregation of a CloudWatch statistic.
fn aggregation(stat: &str) -> &'static str {
    match stat {
        "Minimum" => "min",
        "Average" => "avg",
        "Sum" => "sum",
        "SampleCount" => "count",
        _ => "max",
    }
}

/// CloudWatch's `${PROP('Dim.State')}` becomes `{{state}}`; an empty label
/// names the series by its labels besides the instance.
fn legend(s: &Series) -> String {
    if s.label.is_empty() {
        let parts: Vec<String> = s
            .dimensions
            .iter()
            .filter(|d| d.as_str() != "DBInstance")
            .map(|d| format!("{{{{{}}}}}", label_name(d)))
            .collect();
        return if parts.is_empty() {
            s.metric.clone()
        } else {
            parts.join(" ")
        };
    }
    let mut out = s.label.clone();
    while let Some(start) = out.find("${PROP('Dim.") {
        let rest = &out[start + "${PROP('Dim.".len()..];
        let Some(end) = rest.find("')}") else { break };
        let label = format!("{{{{{}}}}}", label_name(&rest[..end]));
        out.replace_range(
            start..start + "${PROP('Dim.".len() + end + "')}".len(),
            &label,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_repeated_row_with_the_cloudwatch_panels() {
        let cat = Catalogue::built_in();
        let d = dashboard(&cat).unwrap();
        let layout = dashboard::layout(&cat).unwrap();
        let panels = d["panels"].as_array().unwrap();
        assert_eq!(panels.len(), 1 + layout.panels.len());
        assert_eq!(panels[0]["repeat"], INSTANCE_VAR);
        for (p, l) in panels[1..].iter().zip(&layout.panels) {
            assert_eq!(p["title"], l.title);
            assert_eq!(p["gridPos"]["y"], l.y);
        }
        let vars = d["templating"]["list"].as_array().unwrap();
        assert_eq!(vars[0]["type"], "datasource");
        assert_eq!(vars[0]["query"], "prometheus");
        assert_eq!(vars[1]["name"], "instance");
        let lag = &panels[5]["targets"];
        assert_eq!(
            lag[0]["expr"],
            "max by (db_instance, role, standby) (pglog_replication_lag_seconds{db_instance=~\"$instance\"})"
        );
        assert_eq!(
            lag[1]["expr"],
            "max by (db_instance, role) (pglog_replication_lag_seconds{db_instance=~\"$instance\",standby=\"\"})"
        );
        let errors = &panels[4]["targets"][0];
        assert_eq!(
            errors["expr"],
            "60 * sum by (db_instance, severity, sql_state_class) (rate(pglog_log_errors_total{db_instance=~\"$instance\"}[$__rate_interval]))"
        );
        assert_eq!(errors["legendFormat"], "{{severity}} {{sql_state_class}}");
        assert_eq!(expressions(&d).len(), 26);
    }
}
