//! `pglog prometheus-rules`: recording rules (per-instance rates of the
//! counters and windows) and alerting rules that mean what the CloudWatch
//! alarms of Terraform's `pglog-definitions` module mean, with the same
//! thresholds and periods. Every series is named through
//! [`naming`](super::naming), and a rule over a metric the catalogue does
//! not ship is an error, so the rules cannot watch a name nobody sends.

use std::fmt::Write;
use std::time::Duration;

use super::naming::{exposed_info, Exposed};
use crate::catalogue::{Catalogue, Kind, MetricInfo};

/// The pgbouncer pool metrics the pool-saturation rules read. They come
/// with the pgbouncer source; without it in the catalogue the group is
/// left out (and said so), a catalogue with only one of them is an error.
pub const POOL_METRICS: [&str; 2] = ["PgbouncerClientsWaiting", "PgbouncerMaxWaitSeconds"];

/// Thresholds and the collector's cycle; the defaults are the Terraform
/// variables' of `pglog-definitions`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOptions {
    /// The scrape job of the collectors (the `up` series of the targets).
    pub job: String,
    /// The collectors' cycle; alert periods are never shorter than a minute.
    pub interval: Duration,
    pub replication_lag_seconds: f64,
    pub error_rate_per_minute: f64,
    pub deadlocks_per_minute: f64,
    pub wraparound_age: f64,
    pub password_expiry_days: f64,
    pub pool_clients_waiting: f64,
    pub pool_max_wait_seconds: f64,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            job: "pglog".into(),
            interval: Duration::from_secs(60),
            replication_lag_seconds: 300.0,
            error_rate_per_minute: 20.0,
            deadlocks_per_minute: 0.0,
            wraparound_age: 1e9,
            password_expiry_days: 7.0,
            pool_clients_waiting: 0.0,
            pool_max_wait_seconds: 10.0,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RulesError {
    #[error("the Prometheus rules name metric {0:?}, which the catalogue does not ship")]
    UnknownMetric(String),
    #[error("{key} = {value}: expected {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    Record {
        record: String,
        expr: String,
    },
    Alert {
        alert: String,
        expr: String,
        for_: Duration,
        severity: &'static str,
        summary: String,
        description: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    pub groups: Vec<Group>,
    /// Groups left out, each with why.
    pub left_out: Vec<String>,
}

impl RuleOptions {
    /// The checks of the Terraform variables, by the same names.
    pub fn validate(&self) -> Result<(), RulesError> {
        let bad = |key, value: f64, expected| {
            Err(RulesError::Invalid {
                key,
                value: value.to_string(),
                expected,
            })
        };
        let secs = self.interval.as_secs_f64();
        if !(1.0..=3600.0).contains(&secs) || secs.fract() != 0.0 {
            return bad(
                "interval_seconds",
                secs,
                "a whole number of seconds from 1 to 3600",
            );
        }
        if self.replication_lag_seconds.is_nan() || self.replication_lag_seconds <= 0.0 {
            return bad(
                "replication_lag_seconds",
                self.replication_lag_seconds,
                "a positive number of seconds",
            );
        }
        if self.error_rate_per_minute.is_nan() || self.error_rate_per_minute <= 0.0 {
            return bad(
                "error_rate_per_minute",
                self.error_rate_per_minute,
                "a positive number",
            );
        }
        if self.deadlocks_per_minute.is_nan() || self.deadlocks_per_minute < 0.0 {
            return bad(
                "deadlocks_per_minute",
                self.deadlocks_per_minute,
                "zero or more",
            );
        }
        if !(1e8..2e9).contains(&self.wraparound_age) {
            return bad(
                "wraparound_age",
                self.wraparound_age,
                "between 100000000 and 2000000000 (the hard limit is about 2.1 billion)",
            );
        }
        if self.password_expiry_days.is_nan() || self.password_expiry_days < 1.0 {
            return bad(
                "password_expiry_days",
                self.password_expiry_days,
                "at least 1",
            );
        }
        if self.pool_clients_waiting.is_nan() || self.pool_clients_waiting < 0.0 {
            return bad(
                "pool_clients_waiting",
                self.pool_clients_waiting,
                "zero or more",
            );
        }
        if self.pool_max_wait_seconds.is_nan() || self.pool_max_wait_seconds <= 0.0 {
            return bad(
                "pool_max_wait_seconds",
                self.pool_max_wait_seconds,
                "a positive number of seconds",
            );
        }
        Ok(())
    }

    /// One alarm period, as Terraform computes it: the cycle rounded up to
    /// whole minutes.
    fn period(&self) -> Duration {
        Duration::from_secs(self.interval.as_secs().div_ceil(60).max(1) * 60)
    }

    /// The range of `rate()`: at least four cycles and five minutes, so
    /// that it always spans several samples.
    pub fn rate_window(&self) -> Duration {
        (self.interval * 4).max(Duration::from_secs(300))
    }
}

/// The name of the per-instance rate record of a counter.
pub fn rate_record(e: &Exposed, window: Duration) -> String {
    let base = e.name.strip_suffix("_total").unwrap_or(&e.name);
    format!("db_instance:{base}:rate{}", duration(window))
}

/// The rule file for `catalogue`.
pub fn rules(catalogue: &Catalogue, opts: &RuleOptions) -> Result<RuleFile, RulesError> {
    opts.validate()?;
    let infos = catalogue.metrics();
    let mut groups = vec![recording(catalogue, &infos, opts), alerting(&infos, opts)?];
    let mut left_out = Vec::new();
    match pool_saturation(&infos, opts)? {
        Some(g) => groups.push(g),
        None => left_out.push(format!(
            "pool saturation: the catalogue has no pgbouncer source ({})",
            POOL_METRICS.join(", ")
        )),
    }
    Ok(RuleFile { groups, left_out })
}

fn find<'a>(infos: &'a [MetricInfo], metric: &str) -> Result<&'a MetricInfo, RulesError> {
    infos
        .iter()
        .find(|m| m.name == metric)
        .ok_or_else(|| RulesError::UnknownMetric(metric.to_string()))
}

fn name(infos: &[MetricInfo], metric: &str) -> Result<String, RulesError> {
    Ok(exposed_info(find(infos, metric)?).name)
}

/// Per-instance rates: each counter's per second over the rate window,
/// each window's per second over its window.
fn recording(catalogue: &Catalogue, infos: &[MetricInfo], opts: &RuleOptions) -> Group {
    let window = opts.rate_window();
    let mut rules = Vec::new();
    for m in infos {
        let e = exposed_info(m);
        match m.kind {
            Kind::Counter => rules.push(Rule::Record {
                record: rate_record(&e, window),
                expr: format!(
                    "sum by (db_instance) (rate({}[{}]))",
                    e.name,
                    duration(window)
                ),
            }),
            Kind::Window => {
                if let Some(w) = window_of(catalogue, m) {
                    rules.push(Rule::Record {
                        record: format!("db_instance:{}:per_second", e.name),
                        expr: format!("sum by (db_instance) ({}) / {}", e.name, w.as_secs_f64()),
                    })
                }
            }
            _ => {}
        }
    }
    Group {
        name: "pglog-recording".into(),
        rules,
    }
}

/// A window metric's length, from the query that reads it.
fn window_of(catalogue: &Catalogue, m: &MetricInfo) -> Option<Duration> {
    catalogue
        .queries
        .iter()
        .flat_map(|q| &q.values)
        .find(|v| v.metric == m.name)
        .and_then(|v| v.window)
}

fn alerting(infos: &[MetricInfo], opts: &RuleOptions) -> Result<Group, RulesError> {
    let period = opts.period();
    let window = opts.rate_window();
    let job = serde_json::to_string(&opts.job).unwrap_or_default();
    let up = name(infos, "Up")?;
    let lag = name(infos, "ReplicationLagSeconds")?;
    let errors = exposed_info(find(infos, "LogErrors")?);
    let deadlocks = exposed_info(find(infos, "Deadlocks")?);
    let xid = name(infos, "XidWraparoundAge")?;
    let mxid = name(infos, "MultiXactWraparoundAge")?;
    let password = exposed_info(find(infos, "PasswordExpiresInDays")?);
    let inst = "{{ $labels.db_instance }}";
    let rules = vec![
        alert(
            "PglogDatabaseDown",
            format!("min by (db_instance) ({up}) < 1"),
            period * 3,
            "critical",
            format!("{inst}: the database is down"),
            format!("{inst}: the collector reports the database down (Up = 0) for 3 periods."),
        ),
        alert(
            "PglogCollectorDown",
            format!(
                "up{{job={job}}} == 0 or (up{{job={job}}} unless on (instance, job) {up}) or absent(up{{job={job}}})"
            ),
            period * 3,
            "critical",
            "{{ $labels.instance }}: nothing arrives from the collector".into(),
            "The collector's /metrics is not scraped, has no fresh Up, or no target of the job exists for 3 periods (collector, host or network down).".into(),
        ),
        alert(
            "PglogReplicationLag",
            format!(
                "max by (db_instance, role) ({lag}) > {}",
                opts.replication_lag_seconds
            ),
            period * 5,
            "warning",
            format!("{inst}: replication lag"),
            format!(
                "{inst} ({{{{ $labels.role }}}}): replay is more than {} s behind for 5 periods (on a primary: its worst standby).",
                opts.replication_lag_seconds
            ),
        ),
        alert(
            "PglogErrorRate",
            format!(
                "count_over_time((60 * {} > {})[5m:1m]) >= 3",
                rate_record(&errors, window),
                opts.error_rate_per_minute
            ),
            Duration::ZERO,
            "warning",
            format!("{inst}: error rate"),
            format!(
                "{inst}: more than {} ERROR/FATAL/PANIC log records a minute in 3 of 5 minutes.",
                opts.error_rate_per_minute
            ),
        ),
        alert(
            "PglogDeadlocks",
            format!(
                "60 * {} > {}",
                rate_record(&deadlocks, window),
                opts.deadlocks_per_minute
            ),
            Duration::ZERO,
            "warning",
            format!("{inst}: deadlocks"),
            format!(
                "{inst}: more than {} deadlocks logged a minute.",
                opts.deadlocks_per_minute
            ),
        ),
        alert(
            "PglogXidWraparound",
            format!(
                "max by (db_instance) ({xid}{{role=\"primary\"}}) > {}",
                opts.wraparound_age
            ),
            period * 3,
            "critical",
            format!("{inst}: XID wraparound approaching"),
            format!(
                "{inst}: the oldest unfrozen XID is more than {} transactions old; vacuum (freeze) the oldest tables before writes stop near 2.1 billion.",
                opts.wraparound_age
            ),
        ),
        alert(
            "PglogMultiXactWraparound",
            format!(
                "max by (db_instance) ({mxid}{{role=\"primary\"}}) > {}",
                opts.wraparound_age
            ),
            period * 3,
            "critical",
            format!("{inst}: MultiXact wraparound approaching"),
            format!(
                "{inst}: the oldest unfrozen MultiXact is more than {} old; vacuum (freeze) before writes stop.",
                opts.wraparound_age
            ),
        ),
        // The expiry query runs hourly: its last value is read back over
        // two hours, as CloudWatch keeps it.
        alert(
            "PglogPasswordExpiry",
            format!(
                "min by (db_instance) (last_over_time({}{{role=\"primary\"}}[2h])) < {}",
                password.name,
                opts.password_expiry_days * password.scale
            ),
            Duration::ZERO,
            "warning",
            format!("{inst}: a password expires soon"),
            format!(
                "{inst}: a login role's password expires within {} days (rolvaliduntil); renew it before logins fail.",
                opts.password_expiry_days
            ),
        ),
    ];
    Ok(Group {
        name: "pglog-alerts".into(),
        rules,
    })
}

fn pool_saturation(infos: &[MetricInfo], opts: &RuleOptions) -> Result<Option<Group>, RulesError> {
    if !POOL_METRICS
        .iter()
        .any(|p| infos.iter().any(|m| m.name == *p))
    {
        return Ok(None);
    }
    let waiting = name(infos, POOL_METRICS[0])?;
    let max_wait = name(infos, POOL_METRICS[1])?;
    let period = opts.period();
    let pool = "{{ $labels.db_instance }} pool {{ $labels.database }}/{{ $labels.user }}";
    Ok(Some(Group {
        name: "pglog-pool-saturation".into(),
        rules: vec![
            alert(
                "PglogPoolClientsWaiting",
                format!(
                    "max by (db_instance, database, user) ({waiting}) > {}",
                    opts.pool_clients_waiting
                ),
                period * 3,
                "warning",
                format!("{pool}: clients waiting"),
                format!(
                    "{pool}: more than {} clients wait for a server connection for 3 periods; the pool is too small for the load.",
                    opts.pool_clients_waiting
                ),
            ),
            alert(
                "PglogPoolMaxWait",
                format!(
                    "max by (db_instance, database, user) ({max_wait}) > {}",
                    opts.pool_max_wait_seconds
                ),
                period,
                "warning",
                format!("{pool}: clients wait long"),
                format!(
                    "{pool}: the oldest waiting client has waited more than {} s.",
                    opts.pool_max_wait_seconds
                ),
            ),
        ],
    }))
}

fn alert(
    name: &str,
    expr: String,
    for_: Duration,
    severity: &'static str,
    summary: String,
    description: String,
) -> Rule {
    Rule::Alert {
        alert: name.into(),
        expr,
        for_,
        severity,
        summary,
        description,
    }
}

/// A Prometheus duration: `5m`, `90s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s > 0 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

impl RuleFile {
    /// The rules file. Every string is written double-quoted (JSON's
    /// escapes are YAML's), so no expression or text can break the YAML.
    pub fn to_yaml(&self, header: &str) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        out.push_str("groups:\n");
        for g in &self.groups {
            let _ = writeln!(out, "  - name: {}\n    rules:", q(&g.name));
            for r in &g.rules {
                match r {
                    Rule::Record { record, expr } => {
                        let _ = writeln!(
                            out,
                            "      - record: {}\n        expr: {}",
                            q(record),
                            q(expr)
                        );
                    }
                    Rule::Alert {
                        alert,
                        expr,
                        for_,
                        severity,
                        summary,
                        description,
                    } => {
                        let _ = writeln!(
                            out,
                            "      - alert: {}\n        expr: {}\n        for: {}\n        labels:\n          severity: {}\n        annotations:\n          summary: {}\n          description: {}",
                            q(alert),
                            q(expr),
                            duration(*for_),
                            q(severity),
                            q(summary),
                            q(description)
                        );
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MetricSource;

    fn promtool_check(yaml: &str) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pglog.rules.yml");
        std::fs::write(&path, yaml).unwrap();
        let out = std::process::Command::new("promtool")
            .args(["check", "rules"])
            .arg(&path)
            .output()
            .expect("promtool (apt-get install prometheus)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    #[test]
    fn promtool_accepts_the_rules_and_pool_rules_follow_the_catalogue() {
        let built_in = rules(&Catalogue::built_in(), &RuleOptions::default()).unwrap();
        assert_eq!(built_in.groups.len(), 3);
        assert!(built_in.left_out.is_empty(), "{:?}", built_in.left_out);
        let yaml = built_in.to_yaml("test");
        assert!(
            yaml.contains(
                "max by (db_instance, database, user) (pglog_pgbouncer_max_wait_seconds) > 10"
            ),
            "{yaml}"
        );
        let (ok, text) = promtool_check(&yaml);
        assert!(ok, "{text}");
        assert!(text.contains("SUCCESS"), "{text}");

        // A catalogue without the pgbouncer source has no pool rules.
        let mut cat = Catalogue::built_in();
        cat.queries.retain(|q| q.source != MetricSource::Pgbouncer);
        let without = rules(&cat, &RuleOptions::default()).unwrap();
        assert_eq!(without.groups.len(), 2);
        assert_eq!(without.left_out.len(), 1, "{:?}", without.left_out);
        let (ok, text) = promtool_check(&without.to_yaml("test"));
        assert!(ok, "{text}");

        // Half a pgbouncer source is a mistake, not a source to leave out.
        let mut cat = Catalogue::built_in();
        for q in &mut cat.queries {
            q.values.retain(|v| v.metric != "PgbouncerMaxWaitSeconds");
        }
        assert_eq!(
            rules(&cat, &RuleOptions::default()),
            Err(RulesError::UnknownMetric("PgbouncerMaxWaitSeconds".into()))
        );
    }

    #[test]
    fn thresholds_are_checked_like_the_terraform_variables() {
        let opts = RuleOptions {
            wraparound_age: 3e9,
            ..RuleOptions::default()
        };
        let e = rules(&Catalogue::built_in(), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("wraparound_age") && e.contains("2000000000"),
            "{e}"
        );
    }
}
