//! The Prometheus side end to end: a real Prometheus scrapes `pglog
//! collect` on a real PostgreSQL server, loads the rules `pglog
//! prometheus-rules` writes, answers every query of `pglog dashboard
//! --grafana`, and raises the down alert when the database stops.

mod daemon;
mod harness;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use daemon::{pglog_bin, Daemon};
use harness::{encode, free_port, http_get, wait_until, Pg, Prometheus};
use pglog_collector::catalogue::Catalogue;
use pglog_collector::grafana::{self, INSTANCE_VAR};
use pglog_collector::prometheus::rules::{self, RuleOptions};
use serde_json::Value;

const INSTANCE: &str = "prom";

/// `pglog ARGS`' standard output; it must succeed.
fn pglog(args: &[&str]) -> String {
    let out = Command::new(pglog_bin())
        .args(args)
        .env_remove("PGLOG_METRICS")
        .stdin(Stdio::null())
        .output()
        .expect("run pglog");
    assert!(
        out.status.success(),
        "pglog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The body of an HTTP answer.
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// The metric families (`# TYPE` lines) of an exposition.
fn families(scrape: &str) -> BTreeSet<String> {
    scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

/// The `pglog_…` series names a PromQL expression reads.
fn names_in(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.starts_with("pglog_"))
        .map(str::to_string)
        .collect()
}

/// A Grafana expression as Grafana sends it for the row of `instance`.
fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace(&format!("${INSTANCE_VAR}"), INSTANCE)
}

fn promtool_check_metrics(scrape: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (apt-get install prometheus)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_real_prometheus_loads_the_rules_and_answers_every_dashboard_query() {
    let pg = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let rules_file = dir.path().join("pglog.rules.yml");
    pglog(&[
        "prometheus-rules",
        "--interval-seconds",
        "1",
        "--output",
        rules_file.to_str().unwrap(),
    ]);
    let listen = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start(
        &[
            "--dsn",
            &pg.dsn(),
            "--instance",
            INSTANCE,
            "--interval",
            "1s",
            "--listen",
            &listen,
            "--dry-run",
        ],
        &[],
    );
    let prometheus = Prometheus::start_with_rules(&listen, Some(&rules_file));

    // Rollbacks between cycles: a counter that grows, read with rate().
    for _ in 0..3 {
        pg.psql("BEGIN; SELECT 1; ROLLBACK;");
        std::thread::sleep(Duration::from_millis(700));
    }
    wait_until("the collector's series", Duration::from_secs(30), || {
        !prometheus
            .query("db_instance:pglog_rollbacks:rate5m")
            .is_empty()
    });

    // The collector's series, through the query API.
    let up = prometheus.query("up{job=\"pglog\"}");
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
    let db_up = prometheus.query(&format!("pglog_up{{db_instance=\"{INSTANCE}\"}}"));
    assert_eq!(db_up[0]["value"][1], "1", "{db_up:?}");
    let tx = prometheus.query("pglog_transactions_last10m");
    assert!(!tx.is_empty(), "no transactions window");
    let states: BTreeSet<String> = prometheus
        .query("pglog_connections")
        .iter()
        .filter_map(|s| s["metric"]["state"].as_str().map(str::to_string))
        .collect();
    assert!(
        states.contains("active") && states.contains("idle"),
        "{states:?}"
    );
    let rollbacks = prometheus.query("pglog_rollbacks_total");
    assert!(!rollbacks.is_empty(), "no rollback counter");

    // The rules: every group the catalogue builds, loaded and evaluated.
    let expected = rules::rules(
        &Catalogue::built_in(),
        &RuleOptions {
            interval: Duration::from_secs(1),
            ..RuleOptions::default()
        },
    )
    .unwrap();
    let expected_groups: BTreeSet<&str> = expected.groups.iter().map(|g| g.name.as_str()).collect();
    let mut groups = Value::Null;
    wait_until("every rule evaluated", Duration::from_secs(20), || {
        groups = prometheus.api("/api/v1/rules")["data"]["groups"].clone();
        groups.as_array().is_some_and(|gs| {
            gs.iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .all(|r| r["health"] == "ok")
        })
    });
    let loaded: BTreeSet<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(loaded, expected_groups, "{groups}");
    let rule_count: usize = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
        .sum();
    eprintln!("{rule_count} rules in {loaded:?}, all health ok");

    // A real scrape, as promtool lints it: nothing to say.
    let scrape = http_get(&listen, "/metrics");
    let scrape = body(&scrape);
    let (ok, text) = promtool_check_metrics(scrape);
    assert!(ok && text.is_empty(), "promtool check metrics:\n{text}");

    // Every dashboard expression parses and runs; a panel over metrics this
    // server serves shows data.
    let served = families(scrape);
    let dashboard: Value = serde_json::from_str(&pglog(&["dashboard", "--grafana"])).unwrap();
    let instances = prometheus.api(&format!(
        "/api/v1/label/db_instance/values?match[]={}",
        encode("pglog_up")
    ));
    assert_eq!(
        instances["data"],
        serde_json::json!([INSTANCE]),
        "{instances}"
    );
    let (mut with_data, mut without) = (0, Vec::new());
    for panel in dashboard["panels"].as_array().unwrap() {
        let Some(targets) = panel["targets"].as_array() else {
            continue;
        };
        let mut any_data = false;
        let mut reads_served = false;
        for t in targets {
            let expr = substitute(t["expr"].as_str().unwrap());
            reads_served |= names_in(&expr).iter().any(|n| served.contains(n));
            any_data |= !prometheus.query(&expr).is_empty();
        }
        let title = panel["title"].as_str().unwrap_or_default().to_string();
        if any_data {
            with_data += 1;
        } else {
            assert!(!reads_served, "panel {title:?} has no data: {targets:?}");
            without.push(title);
        }
    }
    let queries = grafana::expressions(&dashboard).len();
    eprintln!("{queries} dashboard queries ran; {with_data} panels with data, without (not served by a lone primary): {without:?}");
    assert!(with_data >= 5, "{with_data} panels with data");

    // The database stops: the down alert goes pending (its `for` is 3 periods).
    pg.stop();
    wait_until("PglogDatabaseDown pending", Duration::from_secs(30), || {
        prometheus.api("/api/v1/alerts")["data"]["alerts"]
            .as_array()
            .is_some_and(|a| {
                a.iter().any(|a| {
                    a["labels"]["alertname"] == "PglogDatabaseDown"
                        && a["labels"]["db_instance"] == INSTANCE
                        && (a["state"] == "pending" || a["state"] == "firing")
                })
            })
    });
    assert_eq!(prometheus.query("up{job=\"pglog\"}")[0]["value"][1], "1");
    assert!(d.terminate().0.success());
}
