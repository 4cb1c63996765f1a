//! Collector settings. Each key can come from the TOML file, an environment
//! variable (`PGLOG_<KEY>`) or a flag; flags win over the environment, which
//! wins over the file. The CLI resolves flag-or-env into [`Overrides`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::catalogue::{self, Catalogue};
use crate::database_patterns::{Patterns, Selection, DEFAULT_MAX_CONNECTIONS};

pub use crate::error::ConfigError;

/// Keys as they appear in the config file (and, upper-cased with a
/// `PGLOG_` prefix, in the environment).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub dsn: Option<String>,
    pub instance: Option<String>,
    pub namespace: Option<String>,
    pub interval: Option<String>,
    pub region: Option<String>,
    pub metrics: Option<PathBuf>,
    pub listen: Option<String>,
    pub storage_resolution: Option<i32>,
    pub buffer_max_datums: Option<usize>,
    pub cloudwatch: Option<bool>,
    pub xray: Option<bool>,
    pub xray_daemon: Option<String>,
    pub connect_timeout: Option<String>,
    pub password_env: Option<String>,
    pub log_dir: Option<PathBuf>,
    pub log_group: Option<String>,
    pub log_retention_days: Option<i32>,
    pub log_format: Option<String>,
    pub log_prefix: Option<String>,
    pub state_dir: Option<PathBuf>,
    pub slow_query_ms: Option<f64>,
    pub aws_attempt_timeout: Option<String>,
    /// Database-scope queries run in the databases matching these...
    pub databases: Option<Vec<String>>,
    /// ...except these.
    pub exclude_databases: Option<Vec<String>>,
    pub max_database_connections: Option<usize>,
    /// The `[pgbouncer]` section (flags `--pgbouncer-*`, `PGLOG_PGBOUNCER_*`).
    pub pgbouncer: Option<PgbouncerOverrides>,
}

/// Keys of the `[pgbouncer]` section: pgbouncer's admin console as a
/// metric source.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PgbouncerOverrides {
    pub dsn: Option<String>,
    pub password_env: Option<String>,
}

impl PgbouncerOverrides {
    /// `self` where set, otherwise `lower`.
    pub fn or(self, lower: PgbouncerOverrides) -> PgbouncerOverrides {
        PgbouncerOverrides {
            dsn: self.dsn.or(lower.dsn),
            password_env: self.password_env.or(lower.password_env),
        }
    }
}

impl Overrides {
    /// `self` where set, otherwise `lower`.
    pub fn or(self, lower: Overrides) -> Overrides {
        Overrides {
            dsn: self.dsn.or(lower.dsn),
            instance: self.instance.or(lower.instance),
            namespace: self.namespace.or(lower.namespace),
            interval: self.interval.or(lower.interval),
            region: self.region.or(lower.region),
            metrics: self.metrics.or(lower.metrics),
            listen: self.listen.or(lower.listen),
            storage_resolution: self.storage_resolution.or(lower.storage_resolution),
            buffer_max_datums: self.buffer_max_datums.or(lower.buffer_max_datums),
            cloudwatch: self.cloudwatch.or(lower.cloudwatch),
            xray: self.xray.or(lower.xray),
            xray_daemon: self.xray_daemon.or(lower.xray_daemon),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
            password_env: self.password_env.or(lower.password_env),
            log_dir: self.log_dir.or(lower.log_dir),
            log_group: self.log_group.or(lower.log_group),
            log_retention_days: self.log_retention_days.or(lower.log_retention_days),
            log_format: self.log_format.or(lower.log_format),
            log_prefix: self.log_prefix.or(lower.log_prefix),
            state_dir: self.state_dir.or(lower.state_dir),
            slow_query_ms: self.slow_query_ms.or(lower.slow_query_ms),
            aws_attempt_timeout: self.aws_attempt_timeout.or(lower.aws_attempt_timeout),
            databases: self.databases.or(lower.databases),
            exclude_databases: self.exclude_databases.or(lower.exclude_databases),
            max_database_connections: self
                .max_database_connections
                .or(lower.max_database_connections),
            pgbouncer: match (self.pgbouncer, lower.pgbouncer) {
                (Some(a), Some(b)) => Some(a.or(b)),
                (a, b) => a.or(b),
            },
        }
    }

    pub fn from_file(path: &Path) -> Result<Overrides, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            file: path.display().to_string(),
            message: format!("cannot read the config file: {e}"),
        })?;
        Overrides::parse(&text, &path.display().to_string())
    }

    /// Reads the config file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Overrides, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::File {
            file: file.to_string(),
            message: e.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub dsn: String,
    pub instance: String,
    pub namespace: String,
    pub interval: Duration,
    pub region: Option<String>,
    pub catalogue: Catalogue,
    pub listen: Option<SocketAddr>,
    pub storage_resolution: i32,
    pub buffer_max_datums: usize,
    pub cloudwatch: bool,
    pub xray: bool,
    pub xray_daemon: Option<SocketAddr>,
    pub connect_timeout: Duration,
    pub password_env: Option<String>,
    /// How long a request to AWS may take before it is retried (longer
    /// after a timeout, see `retry::AttemptDeadline`).
    pub aws_attempt_timeout: Duration,
    /// Where the counters and windows (and the log shipping checkpoint) are kept.
    pub state_dir: PathBuf,
    /// pgbouncer's admin console, when `[pgbouncer]` is given.
    pub pgbouncer: Option<PgbouncerConfig>,
    /// Where database-scope queries run.
    pub databases: Selection,
    /// Log shipping, when a log directory is given.
    pub logs: Option<crate::logs::LogOptions>,
    /// Print what would be sent instead of sending it.
    pub dry_run: bool,
    /// One cycle, then exit.
    pub once: bool,
}

impl Config {
    pub fn resolve(o: Overrides, dry_run: bool, once: bool) -> Result<Config, ConfigError> {
        let dsn = o.dsn.filter(|d| !d.trim().is_empty()).ok_or_else(|| ConfigError::Missing {
            key: "dsn".into(),
            fix: "give --dsn, PGLOG_DSN or `dsn = \"host=... user=... dbname=...\"` in the config file".into(),
        })?;
        if let Some(var) = &o.password_env {
            check_password_env("password_env", var)?;
        }
        crate::pg::ConnectSpec::parse(&dsn, None)?;
        let pgbouncer = o.pgbouncer.map(PgbouncerConfig::resolve).transpose()?;
        let instance = match o.instance {
            Some(i) if i.trim().is_empty() => {
                return Err(invalid(
                    "instance",
                    &i,
                    "a non-empty name for the DBInstance dimension",
                ))
            }
            Some(i) => i,
            None => hostname(),
        };
        let namespace = o.namespace.unwrap_or_else(|| "PgLog".into());
        if namespace.is_empty() || namespace.starts_with("AWS/") || namespace.len() > 255 {
            return Err(invalid(
                "namespace",
                &namespace,
                "1 to 255 characters, not starting with AWS/",
            ));
        }
        let interval = match o.interval {
            Some(v) => catalogue::duration("interval", &v)?,
            None => Duration::from_secs(60),
        };
        let connect_timeout = match o.connect_timeout {
            Some(v) => catalogue::duration("connect_timeout", &v)?,
            None => Duration::from_secs(5),
        };
        let aws_attempt_timeout = match o.aws_attempt_timeout {
            Some(v) => catalogue::duration("aws_attempt_timeout", &v)?,
            None => crate::sink::aws::DEFAULT_ATTEMPT_TIMEOUT,
        };
        let listen = o
            .listen
            .map(|l| {
                l.parse().map_err(|_| {
                    invalid("listen", &l, "an address and port such as 127.0.0.1:9187")
                })
            })
            .transpose()?;
        let xray_daemon = o
            .xray_daemon
            .map(|l| {
                l.parse().map_err(|_| {
                    invalid(
                        "xray_daemon",
                        &l,
                        "an address and port such as 127.0.0.1:2000",
                    )
                })
            })
            .transpose()?;
        let storage_resolution = o.storage_resolution.unwrap_or(60);
        if storage_resolution != 1 && storage_resolution != 60 {
            return Err(invalid(
                "storage_resolution",
                &storage_resolution.to_string(),
                "1 (high resolution) or 60",
            ));
        }
        let buffer_max_datums = o.buffer_max_datums.unwrap_or(100_000);
        if buffer_max_datums < 100 {
            return Err(invalid(
                "buffer_max_datums",
                &buffer_max_datums.to_string(),
                "at least 100",
            ));
        }
        let catalogue = Catalogue::with_user_file(o.metrics.as_deref())?;
        let databases =
            resolve_databases(o.databases, o.exclude_databases, o.max_database_connections)?;
        let state_dir = o
            .state_dir
            .unwrap_or_else(|| PathBuf::from("/var/lib/pglog"));
        let logs = match o.log_dir {
            None => None,
            Some(dir) => {
                let format = match o.log_format.as_deref().unwrap_or("auto") {
                    "auto" => pglog_logparse::InputFormat::Auto,
                    "csv" => pglog_logparse::InputFormat::Csv,
                    "json" => pglog_logparse::InputFormat::Json,
                    "stderr" => pglog_logparse::InputFormat::Stderr,
                    other => return Err(invalid("log_format", other, "auto, csv, json or stderr")),
                };
                let prefix = o
                    .log_prefix
                    .map(|p| {
                        pglog_logparse::Prefix::parse(&p).map_err(|e| {
                            invalid("log_prefix", &p, &format!("a log_line_prefix ({e})"))
                        })
                    })
                    .transpose()?;
                const RETENTION: &[i32] = &[
                    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                    2192, 2557, 2922, 3288, 3653,
                ];
                if let Some(d) = o.log_retention_days {
                    if !RETENTION.contains(&d) {
                        return Err(invalid("log_retention_days", &d.to_string(), "one of CloudWatch Logs' retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"));
                    }
                }
                let group = o.log_group.unwrap_or_else(|| "/pglog/postgresql".into());
                if group.is_empty() || group.len() > 512 {
                    return Err(invalid(
                        "log_group",
                        &group,
                        "a log group name of 1 to 512 characters",
                    ));
                }
                Some(crate::logs::LogOptions {
                    dir,
                    group,
                    retention_days: o.log_retention_days,
                    state_dir: state_dir.clone(),
                    format,
                    prefix,
                    poll: Duration::from_secs(1),
                    hold: Duration::from_secs(5),
                    attempt_timeout: aws_attempt_timeout,
                    slow_query_ms: match o.slow_query_ms {
                        Some(ms) if ms.is_finite() && ms >= 0.0 => ms,
                        Some(ms) => {
                            return Err(invalid(
                                "slow_query_ms",
                                &ms.to_string(),
                                "a number of milliseconds, 0 or more",
                            ))
                        }
                        None => 1000.0,
                    },
                })
            }
        };
        Ok(Config {
            dsn,
            instance,
            namespace,
            interval,
            region: o.region,
            catalogue,
            listen,
            storage_resolution,
            buffer_max_datums,
            cloudwatch: o.cloudwatch.unwrap_or(true),
            xray: o.xray.unwrap_or(true),
            xray_daemon,
            connect_timeout,
            password_env: o.password_env,
            aws_attempt_timeout,
            state_dir,
            pgbouncer,
            databases,
            logs,
            dry_run,
            once,
        })
    }
}

/// pgbouncer's admin console: where it is and where its password is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgbouncerConfig {
    pub dsn: String,
    pub password_env: Option<String>,
}

impl PgbouncerConfig {
    fn resolve(o: PgbouncerOverrides) -> Result<PgbouncerConfig, ConfigError> {
        let dsn = o.dsn.filter(|d| !d.trim().is_empty()).ok_or_else(|| ConfigError::Missing {
            key: "pgbouncer.dsn".into(),
            fix: "give `dsn = \"host=127.0.0.1 port=6432 dbname=pgbouncer user=...\"` under [pgbouncer], --pgbouncer-dsn or PGLOG_PGBOUNCER_DSN, or remove the [pgbouncer] section".into(),
        })?;
        if let Some(var) = &o.password_env {
            check_password_env("pgbouncer.password_env", var)?;
        }
        let spec = crate::pg::ConnectSpec::parse(&dsn, None).map_err(|e| match e {
            ConfigError::Invalid {
                key,
                value,
                expected,
            } => ConfigError::Invalid {
                key: format!("pgbouncer.{key}"),
                value,
                expected,
            },
            other => other,
        })?;
        if spec.dbname() != "pgbouncer" {
            return Err(invalid(
                "pgbouncer.dsn",
                &format!("dbname={}", spec.dbname()),
                "dbname=pgbouncer: SHOW POOLS, STATS and LISTS are answered by the admin console's database only",
            ));
        }
        Ok(PgbouncerConfig {
            dsn,
            password_env: o.password_env,
        })
    }
}

fn resolve_databases(
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    max_connections: Option<usize>,
) -> Result<Selection, ConfigError> {
    let max_connections = max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        return Err(invalid(
            "max_database_connections",
            "0",
            "at least 1: connections to the databases other than the DSN's, open at once",
        ));
    }
    Ok(Selection {
        include: include
            .map(|p| Patterns::parse("databases", &p))
            .transpose()?
            .unwrap_or_else(Patterns::all),
        exclude: match exclude {
            // An empty exclusion list is a fine way to say "none".
            Some(p) if p.is_empty() => Patterns::none(),
            Some(p) => Patterns::parse("exclude_databases", &p)?,
            None => Patterns::none(),
        },
        max_connections,
    })
}

/// The variable a `password_env` key names must be set.
fn check_password_env(key: &str, var: &str) -> Result<(), ConfigError> {
    if std::env::var_os(var).is_some() {
        return Ok(());
    }
    Err(ConfigError::Missing {
        key: key.into(),
        fix: format!("it names the environment variable `{var}`, which is not set; set it to the password or remove {key}"),
    })
}

/// One difference between the running settings and reloaded ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub what: String,
    /// Applied without a restart.
    pub live: bool,
}

impl Config {
    /// What differs in `new`, for the log of a reload. The DSN's value is
    /// not shown (it may hold a password). The connection, the interval and
    /// the queries change live; the rest at the next start.
    pub fn changes(&self, new: &Config) -> Vec<Change> {
        let mut out = Vec::new();
        if self.dsn != new.dsn {
            out.push(Change {
                what: "`dsn` changed".into(),
                live: true,
            });
        }
        // Not shown either: the DSN in it may hold a password.
        if self.pgbouncer != new.pgbouncer {
            out.push(Change {
                what: "the [pgbouncer] settings changed".into(),
                live: true,
            });
        }
        macro_rules! compare {
            ($($key:ident: $live:expr),* $(,)?) => {$(
                let (old, now) = (format!("{:?}", self.$key), format!("{:?}", new.$key));
                if old != now {
                    out.push(Change {
                        what: format!("`{}` changed from {old} to {now}", stringify!($key)),
                        live: $live,
                    });
                }
            )*};
        }
        compare!(
            password_env: true,
            connect_timeout: true,
            interval: true,
            instance: false,
            namespace: false,
            region: false,
            listen: false,
            storage_resolution: false,
            buffer_max_datums: false,
            cloudwatch: false,
            xray: false,
            xray_daemon: false,
            aws_attempt_timeout: false,
            state_dir: false,
            databases: true,
        );
        // The log settings as one: any change needs a restart of the shipper.
        if format!("{:?}", self.logs) != format!("{:?}", new.logs) {
            out.push(Change {
                what: "the log shipping settings (log_*, state_dir, slow_query_ms) changed".into(),
                live: false,
            });
        }
        out.extend(
            self.catalogue
                .changes(&new.catalogue)
                .into_iter()
                .map(|what| Change { what, live: true }),
        );
        out
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        expected: expected.into(),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}
