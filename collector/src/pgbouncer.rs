//! pgbouncer's admin console as a metric source: the catalogue's queries
//! with `source = "pgbouncer"` (`SHOW POOLS`, `SHOW STATS`, `SHOW LISTS`)
//! run over their own connection to the `pgbouncer` pseudo-database, and
//! their rows become datums through the same series logic as PostgreSQL's.
//!
//! The console speaks the simple query protocol only and takes a bare
//! command: no comment (so no `/* pglog */` marker; nothing reaches
//! PostgreSQL's log from here), no parameters, no `SET statement_timeout`.
//! The query's timeout is therefore kept on the client side. tokio-postgres
//! sends `client_encoding`, `user`, `database` and `application_name` at
//! startup, all of which pgbouncer 1.18 accepts.
//!
//! A console that is down gives `PgbouncerUp = 0` and a new connection
//! attempt the next cycle; it never fails the PostgreSQL part of a cycle.
//! A restarted pgbouncer counts from zero again: each new connection starts
//! the counters over, so the first cycle after it has no rates.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value as Json};
use tokio_postgres::Client;

use crate::catalogue::{Catalogue, MetricSource, Query, PGBOUNCER_UP};
use crate::config::{ConfigError, PgbouncerConfig};
use crate::pg::{describe, rows, ConnectError, ConnectSpec, Rows};
use crate::series::{Datum, OwnTransactions, Series};
use crate::trace::{cause, epoch, hex_id};

/// The pseudo-database of the admin console, left out of pool metrics.
const CONSOLE_DATABASE: &str = "pgbouncer";

/// What the pgbouncer part of one cycle produced.
#[derive(Debug, Default)]
pub struct PgbouncerOutput {
    pub datums: Vec<Datum>,
    /// One X-Ray subsegment per command (or one for a failed connection).
    pub subsegments: Vec<Json>,
    pub up: bool,
    /// Commands that failed, or gave values that are not numbers.
    pub failed_queries: usize,
}

/// The admin console connection and the counters read from it.
pub struct Pgbouncer {
    spec: ConnectSpec,
    connect_timeout: Duration,
    client: Option<Client>,
    series: Series,
    last_error: Option<String>,
}

impl Pgbouncer {
    pub fn new(
        config: &PgbouncerConfig,
        connect_timeout: Duration,
    ) -> Result<Pgbouncer, ConfigError> {
        Ok(Pgbouncer {
            spec: ConnectSpec::parse(&config.dsn, config.password_env.as_deref())?,
            connect_timeout,
            client: None,
            series: Series::default(),
            last_error: None,
        })
    }

    /// Runs every pgbouncer query of `catalogue` once.
    pub async fn collect(&mut self, catalogue: &Catalogue, instance: &str) -> PgbouncerOutput {
        let wall = SystemTime::now();
        let base = vec![("DBInstance".to_string(), instance.to_string())];
        let mut out = PgbouncerOutput {
            up: true,
            ..PgbouncerOutput::default()
        };
        if let Err(why) = self.ensure_connected().await {
            let now = epoch(SystemTime::now());
            out.subsegments.push(json!({
                "name": "pgbouncer",
                "id": hex_id(16),
                "start_time": epoch(wall),
                "end_time": now,
                "namespace": "remote",
                "fault": true,
                "cause": cause(&why),
            }));
            out.up = false;
        }
        let queries = catalogue
            .queries
            .iter()
            .filter(|q| q.source == MetricSource::Pgbouncer);
        for q in queries {
            if !out.up {
                break;
            }
            let q_wall = SystemTime::now();
            let result = self.show(q).await;
            let mut sub = self.subsegment(q, q_wall);
            match result {
                Ok(rows) => {
                    // The rates' seconds and the datums' time are both the
                    // moment of the reading, so rate x the time between two
                    // datums is exactly what pgbouncer counted in between.
                    let data = self.series.datums(
                        q,
                        &console_rows(rows),
                        &base,
                        OwnTransactions::default(),
                        Instant::now(),
                        SystemTime::now(),
                    );
                    out.datums.extend(data.datums);
                    if data.not_numeric > 0 {
                        out.failed_queries += 1;
                        sub["fault"] = json!(true);
                        sub["cause"] =
                            cause(&format!("{} values are not numbers", data.not_numeric));
                    }
                }
                Err(e) => {
                    tracing::warn!(query = %q.id, url = %self.spec.url, "pgbouncer: {}", e.message);
                    out.failed_queries += 1;
                    sub["fault"] = json!(true);
                    sub["cause"] = cause(&e.message);
                    out.up = !e.down;
                }
            }
            out.subsegments.push(sub);
        }
        out.datums.push(Datum {
            metric: PGBOUNCER_UP.into(),
            unit: "None".into(),
            value: if out.up { 1.0 } else { 0.0 },
            dimensions: base,
            timestamp: wall,
        });
        out
    }

    /// Connects if not connected; the reason when it cannot.
    async fn ensure_connected(&mut self) -> Result<(), String> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        self.client = None;
        match self.spec.connect(self.connect_timeout).await {
            Ok(client) => {
                tracing::info!(url = %self.spec.url, "pgbouncer: connected to the admin console");
                self.client = Some(client);
                self.last_error = None;
                // It may be a new pgbouncer, counting from zero again: its
                // counters start over rather than being subtracted from the
                // old process's (a reset only shows when they went down).
                self.series = Series::default();
                Ok(())
            }
            Err(ConnectError::Tls(why) | ConnectError::Down(why)) => {
                // Said once, not every cycle it stays down.
                if self.last_error.as_deref() != Some(&why) {
                    tracing::warn!(url = %self.spec.url, "pgbouncer unreachable: {why}");
                }
                self.last_error = Some(why.clone());
                Err(why)
            }
        }
    }

    /// One console command, bounded by the query's timeout on this side.
    async fn show(&mut self, q: &Query) -> Result<Rows, ShowError> {
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| ShowError::down("not connected".into()))?;
        match tokio::time::timeout(q.timeout, client.simple_query(q.sql.trim())).await {
            Ok(Ok(messages)) => Ok(rows(messages)),
            Ok(Err(e)) if e.is_closed() || client.is_closed() => {
                self.client = None;
                Err(ShowError::down(describe(&e)))
            }
            Ok(Err(e)) => Err(ShowError {
                message: describe(&e),
                down: false,
            }),
            Err(_) => {
                // Its state is unknown: the next cycle starts on a new one.
                self.client = None;
                Err(ShowError::down(format!("no answer within {:?}", q.timeout)))
            }
        }
    }

    fn subsegment(&self, q: &Query, start: SystemTime) -> Json {
        json!({
            "name": q.id,
            "id": hex_id(16),
            "start_time": epoch(start),
            "end_time": epoch(SystemTime::now()),
            "namespace": "remote",
            "sql": {
                "sanitized_query": q.sql.trim(),
                "database_type": "PgBouncer",
                "user": self.spec.user,
                "url": self.spec.url,
                "driver_version": "tokio-postgres",
            },
        })
    }
}

struct ShowError {
    message: String,
    /// The console is gone (closed or not answering), not just the command.
    down: bool,
}

impl ShowError {
    fn down(message: String) -> ShowError {
        ShowError {
            message,
            down: true,
        }
    }
}

/// The console's answer in the shape the catalogue reads:
/// - `SHOW LISTS` (columns `list`, `items`) becomes one row with a column
///   per list (`used_clients`, `pools`, ...);
/// - `database` and `user` are named `Database` and `User`, the dimension
///   names, and the rows of the console's own pseudo-database are left out;
/// - `maxwait` (whole seconds) and `maxwait_us` (the microseconds on top)
///   give `maxwait_seconds`.
pub fn console_rows(rows: Rows) -> Rows {
    let mut rows = if rows.columns == ["list", "items"] {
        pivot_lists(rows)
    } else {
        rows
    };
    for c in rows.columns.iter_mut() {
        match c.as_str() {
            "database" => *c = "Database".into(),
            "user" => *c = "User".into(),
            _ => {}
        }
    }
    if let Some(db) = rows.index("Database") {
        rows.rows
            .retain(|r| r.get(db).cloned().flatten().as_deref() != Some(CONSOLE_DATABASE));
    }
    if let (Some(s), Some(us)) = (rows.index("maxwait"), rows.index("maxwait_us")) {
        rows.columns.push("maxwait_seconds".into());
        for r in rows.rows.iter_mut() {
            let num = |i: usize| r.get(i).cloned().flatten()?.trim().parse::<f64>().ok();
            let seconds = num(s)
                .zip(num(us))
                .map(|(s, us)| (s + us / 1e6).to_string());
            r.push(seconds);
        }
    }
    rows
}

fn pivot_lists(rows: Rows) -> Rows {
    let mut out = Rows::default();
    let mut row = Vec::with_capacity(rows.rows.len());
    for r in rows.rows {
        let mut cells = r.into_iter();
        if let (Some(Some(name)), Some(items)) = (cells.next(), cells.next()) {
            out.columns.push(name);
            row.push(items);
        }
    }
    out.rows.push(row);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `psql -A -F '\t'` answer (header, rows, row count) as [`Rows`].
    fn from_psql(text: &str) -> Rows {
        let mut lines = text.lines().filter(|l| !l.starts_with('('));
        let columns = lines
            .next()
            .unwrap()
            .split('\t')
            .map(String::from)
            .collect();
        let rows = lines
            .map(|l| l.split('\t').map(|c| Some(c.to_string())).collect())
            .collect();
        Rows { columns, rows }
    }

    /// SHOW STATS as a real pgbouncer 1.18 answered it
    /// (`sample-logs/generate-pgbouncer.sh`).
    #[test]
    fn show_stats_leaves_the_console_database_out() {
        let text = include_str!("../../sample-logs/pgbouncer/show-stats.tsv");
        let rows = console_rows(from_psql(text));
        assert_eq!(rows.index("Database"), Some(0));
        assert_eq!(rows.rows.len(), 1);
        assert_eq!(rows.rows[0][0].as_deref(), Some("app"));
    }

    #[test]
    fn lists_become_one_row_and_maxwait_one_number() {
        let lists = Rows {
            columns: vec!["list".into(), "items".into()],
            rows: vec![
                vec![Some("pools".into()), Some("2".into())],
                vec![Some("used_clients".into()), Some("9".into())],
            ],
        };
        let rows = console_rows(lists);
        assert_eq!(rows.columns, ["pools", "used_clients"]);
        assert_eq!(rows.rows, [[Some("2".to_string()), Some("9".to_string())]]);
        let pools = Rows {
            columns: ["database", "user", "maxwait", "maxwait_us"]
                .map(String::from)
                .to_vec(),
            rows: vec![["bench", "u", "2", "250000"]
                .map(|c| Some(c.to_string()))
                .to_vec()],
        };
        let rows = console_rows(pools);
        assert_eq!(rows.columns[..2], ["Database", "User"]);
        let at = rows.index("maxwait_seconds").unwrap();
        assert_eq!(rows.rows[0][at].as_deref(), Some("2.25"));
    }
}
