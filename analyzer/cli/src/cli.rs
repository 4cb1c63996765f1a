//! The command line. Its values are turned into engine options here, before
//! any engine runs.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use pglog_analyzer::diff::DiffOptions;
use pglog_analyzer::filter::{
    Filters, NameFilter, NamePattern, QueryPattern, Since, TimeBasis, TimeBound,
};
use pglog_analyzer::stats::Limits;
use pglog_analyzer::AnalyzeOptions;
use pglog_logparse::{InputFormat, Prefix};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pglog",
    version,
    about = "PostgreSQL log analyzer and metrics collector"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read PostgreSQL logs and report what they hold.
    Analyze(AnalyzeArgs),
    /// Combine saved states (hosts, days) into one report, as if all their
    /// logs had been analyzed at once.
    Merge(MergeArgs),
    /// Compare two saved states: queries that got slower or more frequent,
    /// new queries and new errors.
    Diff(DiffArgs),
    /// Print the JSON Schema of `pglog analyze --format json` output.
    Schema,
    /// Run SQL metrics against a PostgreSQL server on a schedule and ship
    /// them to CloudWatch, X-Ray and a Prometheus endpoint.
    Collect(CollectArgs),
    /// Print the CloudWatch dashboard JSON for the metrics `pglog collect`
    /// ships: one row of panels per instance, its role in the row header.
    Dashboard(DashboardArgs),
    /// Write Prometheus recording and alerting rules (YAML) for the metrics
    /// `pglog collect` serves on /metrics; the alerts mean what the
    /// CloudWatch alarms of Terraform's pglog-definitions module mean.
    PrometheusRules(PrometheusRulesArgs),
    /// The metric catalogue `pglog collect` runs.
    Metrics {
        #[command(subcommand)]
        command: MetricsCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum MetricsCommand {
    /// Print every metric with its unit and dimensions.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
        /// A metric file that extends or overrides the built-in catalogue.
        #[arg(long, env = "PGLOG_METRICS")]
        metrics: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct DashboardArgs {
    /// The CloudWatch namespace the collectors ship to.
    #[arg(long, env = "PGLOG_NAMESPACE", default_value = "PgLog")]
    pub namespace: String,
    /// An instance's DBInstance dimension and deployed role, in row order:
    /// NAME=primary or NAME=standby. Repeat for each host.
    #[arg(long = "instance", value_name = "NAME=ROLE", value_parser = pglog_collector::dashboard::parse_instance)]
    pub instances: Vec<pglog_collector::dashboard::DashboardInstance>,
    /// The region of the metrics (each widget names it) [default: the AWS
    /// chain: AWS_REGION, the profile, instance metadata].
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Print the panel layout instead (what Terraform's pglog-definitions
    /// module builds the same dashboard from).
    #[arg(long, conflicts_with_all = ["instances", "region"])]
    pub layout: bool,
    /// Print a Grafana dashboard over the Prometheus endpoint instead (a
    /// Prometheus data source variable, one row per instance).
    #[arg(long, conflicts_with_all = ["instances", "region", "layout", "namespace"])]
    pub grafana: bool,
}

/// Thresholds with the defaults of the Terraform variables of the same
/// names.
#[derive(clap::Args, Debug)]
pub struct PrometheusRulesArgs {
    /// Write the rules here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// A metric file that extends or overrides the built-in catalogue.
    #[arg(long, env = "PGLOG_METRICS")]
    pub metrics: Option<PathBuf>,
    /// The Prometheus scrape job of the collectors.
    #[arg(long, default_value = "pglog")]
    pub job: String,
    /// The collectors' cycle (pglog collect --interval), in seconds.
    #[arg(long, default_value_t = 60)]
    pub interval_seconds: u64,
    #[arg(long, default_value_t = 300.0)]
    pub replication_lag_seconds: f64,
    #[arg(long, default_value_t = 20.0)]
    pub error_rate_per_minute: f64,
    #[arg(long, default_value_t = 0.0)]
    pub deadlocks_per_minute: f64,
    #[arg(long, default_value_t = 1e9)]
    pub wraparound_age: f64,
    #[arg(long, default_value_t = 7.0)]
    pub password_expiry_days: f64,
    /// Alert when more clients than this wait in a pgbouncer pool.
    #[arg(long, default_value_t = 0.0)]
    pub pool_clients_waiting: f64,
    /// Alert when a pgbouncer client has waited longer than this.
    #[arg(long, default_value_t = 10.0)]
    pub pool_max_wait_seconds: f64,
}

impl PrometheusRulesArgs {
    pub fn to_options(&self) -> pglog_collector::prometheus::rules::RuleOptions {
        pglog_collector::prometheus::rules::RuleOptions {
            job: self.job.clone(),
            interval: std::time::Duration::from_secs(self.interval_seconds),
            replication_lag_seconds: self.replication_lag_seconds,
            error_rate_per_minute: self.error_rate_per_minute,
            deadlocks_per_minute: self.deadlocks_per_minute,
            wraparound_age: self.wraparound_age,
            password_expiry_days: self.password_expiry_days,
            pool_clients_waiting: self.pool_clients_waiting,
            pool_max_wait_seconds: self.pool_max_wait_seconds,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
}

/// Every key of the config file is also a flag and a `PGLOG_*` variable;
/// flags win over the environment, which wins over the file.
#[derive(clap::Args, Debug, Clone)]
pub struct CollectArgs {
    /// A TOML file with any of the keys below (dsn, instance, namespace, ...).
    #[arg(long, env = "PGLOG_CONFIG")]
    pub config: Option<PathBuf>,
    /// libpq connection string or postgresql:// URL (sslmode up to verify-full).
    #[arg(long, env = "PGLOG_DSN", hide_env_values = true)]
    pub dsn: Option<String>,
    /// The DBInstance dimension [default: the host name].
    #[arg(long, env = "PGLOG_INSTANCE")]
    pub instance: Option<String>,
    /// CloudWatch namespace [default: PgLog].
    #[arg(long, env = "PGLOG_NAMESPACE")]
    pub namespace: Option<String>,
    /// Time between cycles, e.g. 60s [default: 60s].
    #[arg(long, env = "PGLOG_INTERVAL")]
    pub interval: Option<String>,
    /// AWS region [default: from the AWS chain: AWS_REGION, profile, instance].
    #[arg(long, env = "PGLOG_REGION")]
    pub region: Option<String>,
    /// A metric file that extends or overrides the built-in catalogue.
    #[arg(long, env = "PGLOG_METRICS")]
    pub metrics: Option<PathBuf>,
    /// Serve /metrics, /healthz and /readyz here, e.g. 127.0.0.1:9187.
    #[arg(long, env = "PGLOG_LISTEN")]
    pub listen: Option<String>,
    /// CloudWatch storage resolution in seconds: 1 or 60 [default: 60].
    #[arg(long, env = "PGLOG_STORAGE_RESOLUTION")]
    pub storage_resolution: Option<i32>,
    /// Datums kept while CloudWatch is unreachable; the oldest go first
    /// when full [default: 100000].
    #[arg(long, env = "PGLOG_BUFFER_MAX_DATUMS")]
    pub buffer_max_datums: Option<usize>,
    /// Ship metrics to CloudWatch (true/false) [default: true].
    #[arg(long, env = "PGLOG_CLOUDWATCH")]
    pub cloudwatch: Option<bool>,
    /// Ship a trace segment per cycle to X-Ray (true/false) [default: true].
    #[arg(long, env = "PGLOG_XRAY")]
    pub xray: Option<bool>,
    /// Send segments to a local X-Ray daemon or ADOT collector over UDP
    /// (e.g. 127.0.0.1:2000) instead of the X-Ray API.
    #[arg(long, env = "PGLOG_XRAY_DAEMON")]
    pub xray_daemon: Option<String>,
    /// How long a connection attempt may take [default: 5s].
    #[arg(long, env = "PGLOG_CONNECT_TIMEOUT")]
    pub connect_timeout: Option<String>,
    /// An environment variable holding the database password (PGPASSWORD
    /// and PGPASSFILE are read too).
    #[arg(long, env = "PGLOG_PASSWORD_ENV")]
    pub password_env: Option<String>,
    /// The server's log directory (log_directory): its csvlog, jsonlog or
    /// stderr files are shipped to CloudWatch Logs, one event per record.
    #[arg(long, env = "PGLOG_LOG_DIR")]
    pub log_dir: Option<PathBuf>,
    /// CloudWatch Logs group [default: /pglog/postgresql].
    #[arg(long, env = "PGLOG_LOG_GROUP")]
    pub log_group: Option<String>,
    /// Retention set on the log group, in days (1, 3, 5, 7, 14, 30, ...).
    #[arg(long, env = "PGLOG_LOG_RETENTION_DAYS")]
    pub log_retention_days: Option<i32>,
    /// Format of the log files: auto, csv, json or stderr [default: auto].
    #[arg(long, env = "PGLOG_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// The server's log_line_prefix, for stderr logs (detected when not given).
    #[arg(
        long,
        visible_alias = "prefix",
        env = "PGLOG_LOG_PREFIX",
        allow_hyphen_values = true
    )]
    pub log_prefix: Option<String>,
    /// Statements logged at least this slow (ms) count as SlowQueries
    /// [default: 1000].
    #[arg(long, env = "PGLOG_SLOW_QUERY_MS")]
    pub slow_query_ms: Option<f64>,
    /// Where the counters and windows (metrics-INSTANCE.json) and the
    /// log-shipping checkpoint are kept [default: /var/lib/pglog].
    #[arg(long, env = "PGLOG_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// How long a request to AWS may take before it is retried; a retry
    /// after a timeout gets longer [default: 10s].
    #[arg(long, env = "PGLOG_AWS_ATTEMPT_TIMEOUT")]
    pub aws_attempt_timeout: Option<String>,
    /// Database-scope queries run in the databases matching these
    /// comma-separated patterns (`*`, `?`) [default: every database that
    /// takes connections and is not a template].
    #[arg(long, env = "PGLOG_DATABASES", value_delimiter = ',')]
    pub databases: Option<Vec<String>>,
    /// ...except those matching these comma-separated patterns.
    #[arg(long, env = "PGLOG_EXCLUDE_DATABASES", value_delimiter = ',')]
    pub exclude_databases: Option<Vec<String>>,
    /// Connections to databases other than the DSN's open at once; more
    /// databases take turns [default: 5].
    #[arg(long, env = "PGLOG_MAX_DATABASE_CONNECTIONS")]
    pub max_database_connections: Option<usize>,
    /// pgbouncer's admin console, e.g. "host=127.0.0.1 port=6432
    /// dbname=pgbouncer user=pglog_monitor": SHOW POOLS, STATS and LISTS
    /// become Pgbouncer* metrics (the config file's [pgbouncer] dsn).
    #[arg(long, env = "PGLOG_PGBOUNCER_DSN", hide_env_values = true)]
    pub pgbouncer_dsn: Option<String>,
    /// An environment variable holding the password of the pgbouncer user
    /// (the config file's [pgbouncer] password_env).
    #[arg(long, env = "PGLOG_PGBOUNCER_PASSWORD_ENV")]
    pub pgbouncer_password_env: Option<String>,
    /// Run one cycle, ship it and exit: 0 when everything worked, 1 when not.
    #[arg(long)]
    pub once: bool,
    /// Print the metric data and trace segments as JSON instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
}

impl CollectArgs {
    pub fn to_config(&self) -> Result<pglog_collector::Config, pglog_collector::ConfigError> {
        let given = pglog_collector::Overrides {
            dsn: self.dsn.clone(),
            instance: self.instance.clone(),
            namespace: self.namespace.clone(),
            interval: self.interval.clone(),
            region: self.region.clone(),
            metrics: self.metrics.clone(),
            listen: self.listen.clone(),
            storage_resolution: self.storage_resolution,
            buffer_max_datums: self.buffer_max_datums,
            cloudwatch: self.cloudwatch,
            xray: self.xray,
            xray_daemon: self.xray_daemon.clone(),
            connect_timeout: self.connect_timeout.clone(),
            password_env: self.password_env.clone(),
            log_dir: self.log_dir.clone(),
            log_group: self.log_group.clone(),
            log_retention_days: self.log_retention_days,
            log_format: self.log_format.clone(),
            log_prefix: self.log_prefix.clone(),
            state_dir: self.state_dir.clone(),
            slow_query_ms: self.slow_query_ms,
            aws_attempt_timeout: self.aws_attempt_timeout.clone(),
            databases: self.databases.clone(),
            exclude_databases: self.exclude_databases.clone(),
            max_database_connections: self.max_database_connections,
            pgbouncer: (self.pgbouncer_dsn.is_some() || self.pgbouncer_password_env.is_some())
                .then(|| pglog_collector::config::PgbouncerOverrides {
                    dsn: self.pgbouncer_dsn.clone(),
                    password_env: self.pgbouncer_password_env.clone(),
                }),
        };
        let file = match &self.config {
            Some(p) => pglog_collector::Overrides::from_file(p)?,
            None => pglog_collector::Overrides::default(),
        };
        pglog_collector::Config::resolve(given.or(file), self.dry_run, self.once)
    }
}

/// Where a report goes and in which format.
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    /// The time zone reports show times in: log (the zone the log's
    /// timestamps name), UTC, or an offset such as +01:00. JSON stays UTC.
    #[arg(long, value_name = "ZONE", default_value = "log")]
    pub tz: pglog_reports::Tz,

    /// Report format: text (terminal summary), json, md (Markdown) or html.
    /// Default: from the --output file's extension, else text.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Where to write the report; - for standard output.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub output: String,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// State files written by `pglog analyze --save-state`, or
    /// s3://BUCKET/PREFIX for every object under a prefix.
    #[arg(required = true, value_name = "STATE")]
    pub states: Vec<PathBuf>,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Also write the merged state, to merge again later.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// OLD NEW: two states written by `pglog analyze --save-state` (the
    /// earlier first). With two --begin/--end windows: the logs to read
    /// (files, directories, glob patterns), as for `pglog analyze`.
    #[arg(required = true, value_name = "OLD NEW | PATH")]
    pub inputs: Vec<String>,

    /// Compare two windows of the same logs: give --begin and --end twice,
    /// the OLD window first, then the NEW one (same forms as analyze's --begin).
    #[arg(long, value_name = "TIME", value_parser = TimeBound::parse, allow_hyphen_values = true)]
    pub begin: Vec<TimeBound>,

    /// The ends of the two windows, OLD first (see --begin).
    #[arg(long, value_name = "TIME", value_parser = TimeBound::parse, allow_hyphen_values = true)]
    pub end: Vec<TimeBound>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Relative growth that counts as a change, in percent.
    #[arg(long, value_name = "PERCENT", default_value_t = 20.0)]
    pub threshold: f64,

    /// Leave out queries with fewer calls than this in NEW.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_calls: u64,
}

/// What `pglog diff` compares.
pub enum DiffInputs {
    /// Two saved states.
    States { old: PathBuf, new: PathBuf },
    /// Two windows of the same logs: the options of each reading, OLD first.
    Windows(Box<[AnalyzeOptions; 2]>),
}

impl DiffArgs {
    pub fn options(&self) -> DiffOptions {
        diff_options(self.threshold, self.min_calls)
    }

    /// States or windows, checked.
    pub fn inputs(&self) -> anyhow::Result<DiffInputs> {
        if self.begin.is_empty() && self.end.is_empty() {
            let filters = self.read.filters(None, None, None);
            if !filters.is_empty() {
                bail!("the name and statement filters apply to logs: give two --begin/--end windows and the log paths, or filter when the states are written");
            }
            let [old, new] = &self.inputs[..] else {
                bail!(
                    "give two state files (OLD NEW), or two --begin/--end windows and the logs; got {} path(s) and no window",
                    self.inputs.len()
                );
            };
            return Ok(DiffInputs::States {
                old: old.into(),
                new: new.into(),
            });
        }
        let (&[b1, b2], &[e1, e2]) = (&self.begin[..], &self.end[..]) else {
            bail!(
                "two windows need --begin and --end twice each, OLD first (got {} --begin, {} --end)",
                self.begin.len(),
                self.end.len()
            );
        };
        if let Some(p) = self
            .inputs
            .iter()
            .find(|p| *p == "-" || p.starts_with("s3://"))
        {
            bail!("{p}: the two windows read the logs twice; standard input and S3 cannot be, so save the log to a file first");
        }
        let window = |begin, end, which| -> anyhow::Result<AnalyzeOptions> {
            let f = self.read.filters(Some(begin), Some(end), None);
            f.check().with_context(|| format!("the {which} window"))?;
            self.read.options(self.inputs.clone(), Some(f))
        };
        Ok(DiffInputs::Windows(Box::new([
            window(b1, e1, "OLD")?,
            window(b2, e2, "NEW")?,
        ])))
    }
}

fn diff_options(threshold_percent: f64, min_calls: u64) -> DiffOptions {
    DiffOptions {
        threshold: threshold_percent / 100.0,
        min_calls,
        ..DiffOptions::default()
    }
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Log files, directories, glob patterns, - for standard input, or
    /// s3://BUCKET/PREFIX for every object under a prefix. Compressed files
    /// (gzip, zstd, bzip2, xz) are read directly.
    #[arg(
        required_unless_present_any = ["cloudwatch_log_group", "rds_instance"],
        value_name = "PATH"
    )]
    pub paths: Vec<String>,

    /// Read the logs from this CloudWatch Logs group instead of files: one
    /// `pglog collect` ships to, or an RDS/Aurora group such as
    /// /aws/rds/instance/NAME/postgresql. AWS credentials, region and
    /// endpoint come from the standard AWS chain.
    #[arg(long, value_name = "GROUP")]
    pub cloudwatch_log_group: Option<String>,

    /// Also read this Amazon RDS instance's log files through the RDS API
    /// (DescribeDBLogFiles, DownloadDBLogFilePortion); with --since, only
    /// the files written within it (and of those, the records). AWS
    /// credentials, region and endpoint come from the standard AWS chain.
    #[arg(long, value_name = "NAME", conflicts_with = "cloudwatch_log_group")]
    pub rds_instance: Option<String>,

    /// Only the records of the last DURATION (e.g. 90m, 24h): counted back
    /// from the log's last record; with --cloudwatch-log-group, from now
    /// [default there: 24h].
    #[arg(long, value_name = "DURATION", value_parser = parse_since, conflicts_with_all = ["begin", "end"])]
    pub since: Option<Since>,

    /// Only records at or after TIME: RFC 3339 (2026-11-30T10:00:00Z), a
    /// date and time in the log's zone (2026-11-30 10:00), or a time of day
    /// in the log's zone (10:00), on every day. Alias: --start.
    #[arg(long, visible_alias = "start", value_name = "TIME", value_parser = TimeBound::parse, allow_hyphen_values = true)]
    pub begin: Option<TimeBound>,

    /// Only records before TIME (same forms as --begin).
    #[arg(long, value_name = "TIME", value_parser = TimeBound::parse, allow_hyphen_values = true)]
    pub end: Option<TimeBound>,

    /// With --cloudwatch-log-group: only streams whose names start with this.
    #[arg(long, value_name = "PREFIX")]
    pub log_stream_prefix: Option<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Also write the day's statistics in pglog's binary state format, for
    /// `pglog merge` and `pglog diff`.
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,

    /// No progress bar (it is only shown when stderr is a terminal).
    #[arg(short, long)]
    pub quiet: bool,

    /// Compare with another day: a state written by `pglog analyze
    /// --save-state`. Each query and error message gets that day's figures,
    /// and the report lists the regressions (the lists of `pglog diff`).
    #[arg(long, value_name = "STATE")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: relative growth that counts as a regression, in percent.
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 20.0,
        requires = "baseline"
    )]
    pub threshold: f64,

    /// With --baseline: leave out of the regressions queries with fewer calls than this.
    #[arg(long, value_name = "N", default_value_t = 10, requires = "baseline")]
    pub min_calls: u64,
}

/// How logs are read and which records are kept, shared by `analyze` and
/// the window form of `diff`.
#[derive(clap::Args, Debug)]
pub struct ReadArgs {
    /// Only records of databases matching GLOB (app_*); repeatable. Records
    /// without a database (checkpoints) are left out.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub database: Vec<NamePattern>,

    /// Leave out records of databases matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub exclude_database: Vec<NamePattern>,

    /// Only records of users matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub user: Vec<NamePattern>,

    /// Leave out records of users matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub exclude_user: Vec<NamePattern>,

    /// Only records of applications (application_name) matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub application: Vec<NamePattern>,

    /// Leave out records of applications matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub exclude_application: Vec<NamePattern>,

    /// Only records of client hosts matching GLOB (10.0.*, [local]); repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub host: Vec<NamePattern>,

    /// Leave out records of client hosts matching GLOB; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = NamePattern::parse)]
    pub exclude_host: Vec<NamePattern>,

    /// Only records whose statement text matches REGEX (Rust regex syntax).
    #[arg(long, value_name = "REGEX", value_parser = QueryPattern::parse, allow_hyphen_values = true)]
    pub query: Option<QueryPattern>,

    /// Log format; `auto` looks at each file's first lines.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto, value_name = "FORMAT")]
    pub input_format: FormatArg,

    /// The server's log_line_prefix, for stderr and syslog logs
    /// (e.g. '%m [%p] %q%u@%d/%a '). Detected when not given.
    #[arg(long, value_name = "LOG_LINE_PREFIX", allow_hyphen_values = true)]
    pub prefix: Option<String>,

    /// Worker threads (default: one per core).
    #[arg(short, long, value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// Longest record accepted, in bytes; longer ones are counted as malformed.
    #[arg(long, value_name = "BYTES", default_value_t = pglog_logparse::format::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_bytes: usize,

    /// Distinct queries kept with full statistics; rarer ones are folded
    /// into one "other" row whose totals stay exact.
    #[arg(long, value_name = "N", default_value_t = Limits::default().queries)]
    pub max_queries: usize,

    /// Keep credentials in sample statements and messages (by default
    /// `PASSWORD '...'` and `password=...` are masked).
    #[arg(long)]
    pub no_redact: bool,

    /// Split plain csv/json files into ranges of this many bytes (testing).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub chunk_bytes: Option<u64>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Auto,
    Csv,
    Json,
    Stderr,
    Syslog,
    Rds,
    /// Google Cloud Logging JSON (Cloud SQL's textPayload, jsonPayload)
    #[value(name = "cloudsql")]
    CloudSql,
    /// CloudNativePG JSON
    Cnpg,
    /// Azure Monitor PostgreSQLLogs JSON (flexible and single server)
    Azure,
    /// Heroku logplex lines and drains
    Heroku,
    /// Docker/Kubernetes json-file lines
    Docker,
    /// CRI (containerd, CRI-O) container log lines
    Cri,
    /// journalctl -o short-iso
    Journald,
    /// journalctl -o json
    JournaldJson,
    /// CloudWatch Logs lines exported to S3
    CloudwatchExport,
    /// pgbouncer's own log (logfile or syslog).
    Pgbouncer,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
    /// Markdown, for tickets and email.
    Md,
    /// One self-contained HTML page with charts and plans.
    Html,
}

/// Where and how the report goes.
pub struct OutputPlan {
    pub format: OutputFormat,
    pub tz: pglog_reports::Tz,
    pub path: Option<PathBuf>,
}

impl AnalyzeArgs {
    /// The CloudWatch Logs window to read, when a group is given: the
    /// filter's window (`to_options` made it absolute), else the last 24 hours.
    pub fn fetch_options(
        &self,
        filter: Option<&Filters>,
    ) -> anyhow::Result<Option<pglog_collector::logs::fetch::FetchOptions>> {
        let Some(group) = &self.cloudwatch_log_group else {
            return Ok(None);
        };
        let day = 24 * 3_600_000;
        let now = now_ms();
        let (begin, end) = (
            filter.and_then(|f| f.begin).map(|t| t.ms),
            filter.and_then(|f| f.end).map(|t| t.ms),
        );
        let end_ms = end.unwrap_or(now);
        let start_ms = begin.unwrap_or(end_ms - day);
        if end_ms <= start_ms {
            bail!("the window ends before it starts");
        }
        Ok(Some(pglog_collector::logs::fetch::FetchOptions {
            group: group.clone(),
            start_ms,
            end_ms,
            stream_prefix: self.log_stream_prefix.clone(),
            region: None,
        }))
    }

    /// `--since` as a duration, when given (for --rds-instance: which files to fetch).
    pub fn since(&self) -> anyhow::Result<Option<std::time::Duration>> {
        Ok(self
            .since
            .as_ref()
            .map(|s| std::time::Duration::from_millis(s.ms.max(0) as u64)))
    }

    /// The window and filters, checked; `None` when nothing is filtered.
    fn filters(&self) -> anyhow::Result<Option<Filters>> {
        let mut f = self.read.filters(self.begin, self.end, self.since.clone());
        f.check()?;
        if self.cloudwatch_log_group.is_some() {
            // The group is read by event time: the window must be instants,
            // and --since counts back from now.
            for (flag, t) in [("--begin", f.begin), ("--end", f.end)] {
                if t.is_some_and(|t| t.basis != TimeBasis::Instant) {
                    bail!("{flag} with --cloudwatch-log-group: give a time with its zone, such as 2026-11-30T10:00:00Z");
                }
            }
            if let Some(since) = f.since.take() {
                f.begin = Some(TimeBound::instant(now_ms() - since.ms));
            }
        }
        Ok((!f.is_empty()).then_some(f))
    }

    pub fn to_options(&self) -> anyhow::Result<(AnalyzeOptions, OutputPlan)> {
        let opts = self.read.options(self.paths.clone(), self.filters()?)?;
        Ok((opts, self.out.plan()?))
    }

    /// `--baseline` with the thresholds of its regressions.
    pub fn baseline(&self) -> Option<(PathBuf, DiffOptions)> {
        let path = self.baseline.clone()?;
        Some((path, diff_options(self.threshold, self.min_calls)))
    }
}

impl ReadArgs {
    /// The name and statement filters with a window.
    pub fn filters(
        &self,
        begin: Option<TimeBound>,
        end: Option<TimeBound>,
        since: Option<Since>,
    ) -> Filters {
        Filters {
            begin,
            end,
            since,
            database: names(&self.database, &self.exclude_database),
            user: names(&self.user, &self.exclude_user),
            application: names(&self.application, &self.exclude_application),
            host: names(&self.host, &self.exclude_host),
            query: self.query.clone(),
        }
    }

    /// The engine options to read `inputs` with, keeping the records of `filter`.
    pub fn options(
        &self,
        inputs: Vec<String>,
        filter: Option<Filters>,
    ) -> anyhow::Result<AnalyzeOptions> {
        let prefix = match &self.prefix {
            Some(p) => Some(Prefix::parse(p).context("--prefix")?),
            None => None,
        };
        if self.max_queries < 10 {
            bail!(
                "--max-queries must be at least 10, got {}",
                self.max_queries
            );
        }
        if self.chunk_bytes == Some(0) {
            bail!("--chunk-bytes must be more than 0");
        }
        if self.max_record_bytes < 1024 {
            bail!(
                "--max-record-bytes must be at least 1024, got {}",
                self.max_record_bytes
            );
        }
        let opts = AnalyzeOptions {
            inputs,
            format: match self.input_format {
                FormatArg::Auto => InputFormat::Auto,
                FormatArg::Csv => InputFormat::Csv,
                FormatArg::Json => InputFormat::Json,
                FormatArg::Stderr => InputFormat::Stderr,
                FormatArg::Syslog => InputFormat::Syslog,
                FormatArg::Rds => InputFormat::Rds,
                FormatArg::CloudSql => InputFormat::Cloudsql,
                FormatArg::Cnpg => InputFormat::Cnpg,
                FormatArg::Azure => InputFormat::Azure,
                FormatArg::Heroku => InputFormat::Heroku,
                FormatArg::Docker => InputFormat::Docker,
                FormatArg::Cri => InputFormat::Cri,
                FormatArg::Journald => InputFormat::Journald,
                FormatArg::JournaldJson => InputFormat::JournaldJson,
                FormatArg::CloudwatchExport => InputFormat::CloudwatchExport,
                FormatArg::Pgbouncer => InputFormat::Pgbouncer,
            },
            prefix,
            jobs: self.jobs,
            max_record_bytes: self.max_record_bytes,
            limits: Limits {
                queries: self.max_queries,
                redact: !self.no_redact,
                ..Limits::default()
            },
            chunk_bytes: self.chunk_bytes,
            filter,
            ..AnalyzeOptions::default()
        };
        Ok(opts)
    }
}

impl OutputArgs {
    pub fn plan(&self) -> anyhow::Result<OutputPlan> {
        let path = (self.output != "-").then(|| PathBuf::from(&self.output));
        let format = match (self.format, &path) {
            (Some(f), _) => f,
            (None, Some(p)) => match p.extension().and_then(|e| e.to_str()) {
                Some("json") => OutputFormat::Json,
                Some("md") => OutputFormat::Md,
                Some("html" | "htm") => OutputFormat::Html,
                Some("txt") | None => OutputFormat::Text,
                Some(other) => bail!(
                    "--output {}: cannot tell the report format from '.{other}'; use --format text, json, md or html",
                    p.display()
                ),
            },
            (None, None) => OutputFormat::Text,
        };
        Ok(OutputPlan {
            format,
            path,
            tz: self.tz,
        })
    }
}

fn names(include: &[NamePattern], exclude: &[NamePattern]) -> NameFilter {
    NameFilter {
        include: include.to_vec(),
        exclude: exclude.to_vec(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// `--since`: a duration such as 90m or 24h.
fn parse_since(s: &str) -> Result<Since, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e}: expected a duration such as 24h or 90m"))?;
    if d.is_zero() {
        return Err("expected a duration longer than 0, such as 24h or 90m".into());
    }
    Ok(Since {
        text: s.to_string(),
        ms: d.as_millis().min(i64::MAX as u128) as i64,
    })
}
