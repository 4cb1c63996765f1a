//! The metric catalogue: named SQL queries and the CloudWatch metrics their
//! columns become. The built-in one is `collector/metrics.toml`, compiled in;
//! a user file in the same format adds queries or replaces one by its `id`.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

const BUILT_IN: &str = include_str!("../metrics.toml");

/// Dimensions every datum carries besides a query's labels.
pub const BASE_DIMENSIONS: [&str; 2] = ["DBInstance", "Role"];
/// CloudWatch allows 30 dimensions per datum.
pub const MAX_DIMENSIONS: usize = 30;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Metrics the collector emits without SQL.
pub const UP: &str = "Up";
pub const COLLECTOR_STARTS: &str = "CollectorStarts";
/// 1 when pgbouncer's admin console answered this cycle (with `[pgbouncer]`).
pub const PGBOUNCER_UP: &str = "PgbouncerUp";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Standby,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Gauge,
    Counter,
    Rate,
    Window,
    Ratio,
    /// Increase of `column` / increase of `total`: a mean per event, such
    /// as the time per query from a time total and a query count.
    Mean,
}

/// Where a PostgreSQL query runs: once on the collector's own connection,
/// or in each database the `databases` settings select (`databases.rs`),
/// its datums then carrying a `Database` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    Instance,
    Database,
}

/// The dimension a database-scope query's datums carry.
pub const DATABASE_DIMENSION: &str = "Database";

/// Where a query runs: the PostgreSQL server, or pgbouncer's admin console
/// (the `[pgbouncer]` section; see `pgbouncer.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricSource {
    #[default]
    Postgres,
    Pgbouncer,
}

impl MetricSource {
    /// Dimensions every datum of this source carries besides its labels:
    /// pgbouncer has no role, and its metrics go out when PostgreSQL is down.
    pub fn base_dimensions(self) -> &'static [&'static str] {
        match self {
            MetricSource::Postgres => &BASE_DIMENSIONS,
            MetricSource::Pgbouncer => &BASE_DIMENSIONS[..1],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    query: Vec<RawQuery>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    id: String,
    sql: String,
    #[serde(default)]
    source: MetricSource,
    #[serde(default)]
    scope: Scope,
    /// Database-scope only: patterns narrowing the collector's `databases`.
    databases: Option<Vec<String>>,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    min_version: u32,
    max_version: Option<u32>,
    interval: Option<String>,
    timeout: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
    reset: Option<String>,
    #[serde(default)]
    value: Vec<RawValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    column: String,
    metric: String,
    kind: Kind,
    unit: String,
    total: Option<String>,
    window: Option<String>,
    scale: Option<f64>,
    #[serde(default)]
    minus_own_transactions: bool,
    #[serde(default)]
    help: String,
}

#[derive(Debug, Clone)]
pub struct Query {
    pub id: String,
    pub sql: String,
    pub source: MetricSource,
    pub scope: Scope,
    /// Database-scope only: the databases it runs in, within those the
    /// collector's `databases` settings select (none: all of them).
    pub databases: Option<crate::database_patterns::Patterns>,
    pub roles: Vec<Role>,
    pub min_version: u32,
    pub max_version: Option<u32>,
    pub interval: Option<Duration>,
    pub timeout: Duration,
    pub labels: Vec<String>,
    pub keys: Vec<String>,
    pub reset: Option<String>,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Value {
    pub column: String,
    pub metric: String,
    pub kind: Kind,
    pub unit: String,
    pub total: Option<String>,
    pub window: Option<Duration>,
    /// The value shipped is multiplied by it (0.000001: microseconds to seconds).
    pub scale: f64,
    /// Leave out the transactions the collector itself ran.
    pub minus_own_transactions: bool,
    pub help: String,
}

impl Query {
    pub fn runs_on(&self, role: Role, version: u32) -> bool {
        self.roles.contains(&role)
            && version >= self.min_version
            && self.max_version.is_none_or(|max| version <= max)
    }

    /// The text sent to the server: the marker comment first, so the
    /// analyzer can leave the collector's own statements out.
    pub fn marked_sql(&self) -> String {
        format!("{} {}", pglog_logparse::PGLOG_MARKER, self.sql.trim())
    }
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub queries: Vec<Query>,
}

/// One CloudWatch metric as `pglog metrics list` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricInfo {
    pub name: String,
    pub unit: String,
    pub kind: Kind,
    pub dimensions: Vec<String>,
    /// Each exact set of dimensions the metric is sent with (a primary's
    /// replication lag has `Standby`, a standby's has not). CloudWatch
    /// treats each set as a different metric.
    pub dimension_sets: Vec<Vec<String>>,
    pub roles: Vec<Role>,
    pub queries: Vec<String>,
    pub help: String,
}

/// A metric the collector itself sends, one series per instance, whatever
/// the role.
fn instance_gauge(name: &str, unit: &str, help: &str) -> MetricInfo {
    MetricInfo {
        name: name.into(),
        unit: unit.into(),
        kind: Kind::Gauge,
        dimensions: vec!["DBInstance".into()],
        dimension_sets: vec![vec!["DBInstance".into()]],
        roles: vec![Role::Primary, Role::Standby],
        queries: vec![],
        help: help.into(),
    }
}

impl Catalogue {
    pub fn built_in() -> Catalogue {
        Catalogue::parse(BUILT_IN, "built-in catalogue").expect("the built-in catalogue is valid")
    }

    /// The built-in catalogue extended (or overridden by `id`) by `path`.
    pub fn with_user_file(path: Option<&Path>) -> Result<Catalogue, ConfigError> {
        let mut cat = Catalogue::built_in();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
                key: "metrics".into(),
                value: path.display().to_string(),
                expected: format!("a readable TOML metric file ({e})"),
            })?;
            let user = Catalogue::parse(&text, &path.display().to_string())?;
            for q in user.queries {
                match cat.queries.iter_mut().find(|c| c.id == q.id) {
                    Some(slot) => *slot = q,
                    None => cat.queries.push(q),
                }
            }
        }
        Ok(cat)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Catalogue, ConfigError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|e| ConfigError::File {
            file: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut ids = HashSet::new();
        let mut queries = Vec::with_capacity(raw.query.len());
        for q in raw.query {
            let at = |field: &str| format!("query `{}` {field}", q.id);
            if !ids.insert(q.id.clone()) {
                return Err(invalid(&at("id"), &q.id, "an id used once per file"));
            }
            if q.sql.trim().is_empty() {
                return Err(invalid(&at("sql"), "", "a SQL query"));
            }
            let roles = match (q.source, q.roles.is_empty()) {
                (MetricSource::Postgres, true) => {
                    return Err(invalid(
                        &at("roles"),
                        "[]",
                        "[\"primary\"], [\"standby\"] or both",
                    ))
                }
                // pgbouncer is in front of either role.
                (MetricSource::Pgbouncer, true) => vec![Role::Primary, Role::Standby],
                (_, false) => q.roles,
            };
            if q.source == MetricSource::Pgbouncer && q.interval.is_some() {
                return Err(invalid(
                    &at("interval"),
                    q.interval.as_deref().unwrap_or_default(),
                    "no interval: pgbouncer queries run every cycle (remove the key)",
                ));
            }
            if q.scope == Scope::Database && q.source == MetricSource::Pgbouncer {
                return Err(invalid(
                    &at("scope"),
                    "database",
                    "\"instance\": pgbouncer queries run on its admin console (remove the key)",
                ));
            }
            if q.databases.is_some() && q.scope != Scope::Database {
                return Err(invalid(
                    &at("databases"),
                    &format!("{:?}", q.databases.as_deref().unwrap_or_default()),
                    "no databases key, or scope = \"database\" with it (an instance query runs on the collector's own connection)",
                ));
            }
            let databases = q
                .databases
                .as_deref()
                .map(|p| crate::database_patterns::Patterns::parse(&at("databases"), p))
                .transpose()?;
            let fixed = BASE_DIMENSIONS.len() + usize::from(q.scope == Scope::Database);
            if q.labels.len() + fixed > MAX_DIMENSIONS {
                return Err(invalid(
                    &at("labels"),
                    &q.labels.len().to_string(),
                    &format!("at most {} labels (CloudWatch allows 30 dimensions, {fixed} are DBInstance, Role{})", MAX_DIMENSIONS - fixed, if fixed > 2 { " and Database" } else { "" }),
                ));
            }
            if q.scope == Scope::Database {
                if let Some(l) = q.labels.iter().find(|l| *l == DATABASE_DIMENSION) {
                    return Err(invalid(
                        &at("labels"),
                        l,
                        "a name other than Database: a database-scope query's datums carry the Database dimension already",
                    ));
                }
            }
            if let Some(l) = q
                .labels
                .iter()
                .find(|l| BASE_DIMENSIONS.contains(&l.as_str()))
            {
                return Err(invalid(
                    &at("labels"),
                    l,
                    "a name other than DBInstance and Role",
                ));
            }
            if q.value.is_empty() {
                return Err(invalid(
                    &at("value"),
                    "none",
                    "at least one [[query.value]]",
                ));
            }
            let interval = q
                .interval
                .as_deref()
                .map(|v| duration(&at("interval"), v))
                .transpose()?;
            let timeout = q
                .timeout
                .as_deref()
                .map(|v| duration(&at("timeout"), v))
                .transpose()?
                .unwrap_or(DEFAULT_TIMEOUT);
            let mut values = Vec::with_capacity(q.value.len());
            for v in q.value {
                let vat = |field: &str| format!("query `{}` value `{}` {field}", q.id, v.metric);
                if !UNITS.contains(&v.unit.as_str()) {
                    return Err(invalid(
                        &vat("unit"),
                        &v.unit,
                        &format!("a CloudWatch unit: {}", UNITS.join(", ")),
                    ));
                }
                if v.metric.is_empty() || v.metric.len() > 255 {
                    return Err(invalid(
                        &vat("metric"),
                        &v.metric,
                        "a name of 1 to 255 characters",
                    ));
                }
                if matches!(v.kind, Kind::Ratio | Kind::Mean) && v.total.is_none() {
                    return Err(invalid(
                        &vat("total"),
                        "missing",
                        "the column with the ratio's or mean's denominator",
                    ));
                }
                if v.minus_own_transactions && q.scope == Scope::Database {
                    return Err(invalid(
                        &vat("minus_own_transactions"),
                        "true",
                        "false: the collector's own transactions are left out of instance-scope queries only (the built-in TransactionsLast10Minutes counts every database's)",
                    ));
                }
                let scale = v.scale.unwrap_or(1.0);
                if !scale.is_finite() || scale == 0.0 {
                    return Err(invalid(
                        &vat("scale"),
                        &scale.to_string(),
                        "a finite number other than 0, such as 0.000001",
                    ));
                }
                let window = match (v.kind, v.window.as_deref()) {
                    (Kind::Window, Some(w)) => Some(duration(&vat("window"), w)?),
                    (Kind::Window, None) => {
                        return Err(invalid(
                            &vat("window"),
                            "missing",
                            "a duration such as \"10m\"",
                        ))
                    }
                    _ => None,
                };
                values.push(Value {
                    column: v.column,
                    metric: v.metric,
                    kind: v.kind,
                    unit: v.unit,
                    total: v.total,
                    window,
                    scale,
                    minus_own_transactions: v.minus_own_transactions,
                    help: v.help,
                });
            }
            queries.push(Query {
                id: q.id,
                sql: q.sql,
                source: q.source,
                scope: q.scope,
                databases,
                roles,
                min_version: q.min_version,
                max_version: q.max_version,
                interval,
                timeout,
                labels: q.labels,
                keys: q.keys,
                reset: q.reset,
                values,
            });
        }
        Ok(Catalogue { queries })
    }

    /// The queries added, removed or changed in `new`, by id.
    pub fn changes(&self, new: &Catalogue) -> Vec<String> {
        let find = |c: &Catalogue, id: &str| {
            c.queries
                .iter()
                .find(|q| q.id == id)
                .map(|q| format!("{q:?}"))
        };
        let mut out = Vec::new();
        for q in &new.queries {
            match find(self, &q.id) {
                None => out.push(format!("query `{}` added", q.id)),
                Some(old) if old != format!("{q:?}") => {
                    out.push(format!("query `{}` changed", q.id))
                }
                Some(_) => {}
            }
        }
        for q in &self.queries {
            if find(new, &q.id).is_none() {
                out.push(format!("query `{}` removed", q.id));
            }
        }
        out
    }

    /// Every metric name with its unit and dimensions, `Up` first, the
    /// metrics counted from the shipped log last.
    /// The longest trailing window of its window metrics; without any, the
    /// built-in one's 10 minutes.
    pub fn longest_window(&self) -> Duration {
        self.queries
            .iter()
            .flat_map(|q| &q.values)
            .filter_map(|v| v.window)
            .max()
            .unwrap_or(Duration::from_secs(600))
    }

    pub fn metrics(&self) -> Vec<MetricInfo> {
        let mut out = vec![
            instance_gauge(
                UP,
                "None",
                "1 when the database answered this cycle, 0 when it did not",
            ),
            instance_gauge(
                COLLECTOR_STARTS,
                "Count",
                "1 each time the collector starts (its CloudWatch health check)",
            ),
        ];
        if self
            .queries
            .iter()
            .any(|q| q.source == MetricSource::Pgbouncer)
        {
            out.push(instance_gauge(
                PGBOUNCER_UP,
                "None",
                "1 when pgbouncer's admin console answered this cycle, 0 when it did not (with [pgbouncer] only)",
            ));
        }
        for q in &self.queries {
            for v in &q.values {
                let mut dims: Vec<String> = q
                    .source
                    .base_dimensions()
                    .iter()
                    .map(|d| d.to_string())
                    .collect();
                if q.scope == Scope::Database {
                    dims.push(DATABASE_DIMENSION.into());
                }
                dims.extend(q.labels.iter().cloned());
                match out.iter_mut().find(|m| m.name == v.metric) {
                    Some(m) => {
                        if !m.dimension_sets.contains(&dims) {
                            m.dimension_sets.push(dims.clone());
                        }
                        for d in dims {
                            if !m.dimensions.contains(&d) {
                                m.dimensions.push(d);
                            }
                        }
                        for r in &q.roles {
                            if !m.roles.contains(r) {
                                m.roles.push(*r);
                            }
                        }
                        m.queries.push(q.id.clone());
                    }
                    None => out.push(MetricInfo {
                        name: v.metric.clone(),
                        unit: v.unit.clone(),
                        kind: v.kind,
                        dimension_sets: vec![dims.clone()],
                        dimensions: dims,
                        roles: q.roles.clone(),
                        queries: vec![q.id.clone()],
                        help: v.help.clone(),
                    }),
                }
            }
        }
        out.extend(log_metrics());
        out
    }
}

/// The metrics counted from the shipped log (`logs::signals`), as
/// `pglog metrics list` shows them.
fn log_metrics() -> Vec<MetricInfo> {
    let m = |name: &str, unit: &str, dims: &[&str], help: &str| MetricInfo {
        name: name.into(),
        unit: unit.into(),
        kind: Kind::Counter,
        dimensions: dims.iter().map(|d| d.to_string()).collect(),
        dimension_sets: vec![dims.iter().map(|d| d.to_string()).collect()],
        roles: vec![Role::Primary, Role::Standby],
        queries: vec!["log".into()],
        help: help.into(),
    };
    vec![
        m(
            "LogErrors",
            "Count",
            &["DBInstance", "Severity", "SqlStateClass"],
            "ERROR, FATAL and PANIC records per minute, by severity and SQLSTATE class",
        ),
        m(
            "SlowQueries",
            "Count",
            &["DBInstance"],
            "Statements logged with a duration over slow_query_ms, per minute",
        ),
        m(
            "Deadlocks",
            "Count",
            &["DBInstance"],
            "Deadlocks logged per minute",
        ),
        m(
            "LockWaits",
            "Count",
            &["DBInstance"],
            "Lock waits logged (log_lock_waits) per minute",
        ),
        m(
            "TempFileBytes",
            "Bytes",
            &["DBInstance"],
            "Temporary file bytes logged (log_temp_files) per minute",
        ),
        m(
            "Checkpoints",
            "Count",
            &["DBInstance"],
            "Checkpoints and restartpoints started per minute",
        ),
        m(
            "AuthFailures",
            "Count",
            &["DBInstance"],
            "Authentication failures per minute",
        ),
    ]
}

/// CloudWatch's StandardUnit values.
pub const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

pub fn duration(key: &str, value: &str) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(value.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(invalid(
            key,
            value,
            "a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_has_the_contract_names() {
        let cat = Catalogue::built_in();
        let names: Vec<String> = cat.metrics().into_iter().map(|m| m.name).collect();
        for n in [
            "Up",
            "TransactionsLast10Minutes",
            "ReplicationLagBytes",
            "ReplicationLagSeconds",
            "Connections",
            "LocksWaiting",
            "BlockedBackends",
            "LongestTransactionSeconds",
            "LongestIdleInTransactionSeconds",
            "Deadlocks",
            "CacheHitRatio",
            "WalBytesPerSecond",
            "CheckpointsTimed",
            "TempBytes",
            "DatabaseSizeBytes",
            "XidWraparoundAge",
            "MultiXactWraparoundAge",
            "ReplicationSlotRetainedWalBytes",
            "DeadTuples",
            "PasswordExpiresInDays",
        ] {
            assert!(names.iter().any(|m| m == n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn database_scope_is_checked() {
        let q = |extra: &str, label: &str, value_extra: &str| {
            Catalogue::parse(
                &format!("[[query]]\nid = \"x\"\nsql = \"SELECT 1 AS v\"\nroles = [\"primary\"]\n{extra}\nlabels = [{label}]\n[[query.value]]\ncolumn = \"v\"\nmetric = \"X\"\nkind = \"gauge\"\nunit = \"Count\"\n{value_extra}\n"),
                "f.toml",
            )
        };
        let ok = q("scope = \"database\"\ndatabases = [\"shop\"]", "", "").unwrap();
        assert_eq!(ok.queries[0].scope, Scope::Database);
        assert!(ok.queries[0].databases.as_ref().unwrap().matches("shop"));
        assert_eq!(
            ok.metrics()
                .iter()
                .find(|m| m.name == "X")
                .unwrap()
                .dimensions,
            ["DBInstance", "Role", "Database"]
        );
        for (extra, label, value_extra, key) in [
            (
                "scope = \"database\"",
                "\"Database\"",
                "",
                "query `x` labels",
            ),
            ("databases = [\"shop\"]", "", "", "query `x` databases"),
            (
                "scope = \"database\"\ndatabases = []",
                "",
                "",
                "query `x` databases",
            ),
            (
                "scope = \"database\"",
                "",
                "minus_own_transactions = true",
                "minus_own_transactions",
            ),
        ] {
            let e = q(extra, label, value_extra).unwrap_err().to_string();
            assert!(e.contains(key), "{extra}: {e}");
        }
    }

    #[test]
    fn user_file_errors_name_the_key() {
        let e = Catalogue::parse(
            "[[query]]\nid = \"x\"\nsql = \"SELECT 1 AS v\"\nroles = [\"primary\"]\n[[query.value]]\ncolumn = \"v\"\nmetric = \"X\"\nkind = \"gauge\"\nunit = \"Things\"\n",
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("query `x` value `X` unit") && e.contains("Things") && e.contains("Count"),
            "{e}"
        );
        let e = Catalogue::parse("[[query]]\nid = \"x\"\nsqll = \"\"\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.toml") && e.contains("sqll"), "{e}");
    }
}
