//! Integration-test harness: throwaway PostgreSQL 15 clusters, a moto
//! server that emulates CloudWatch and X-Ray (directly or behind a proxy
//! that answers late), and a Prometheus server that scrapes the collector.
//!
//! Everything binds to 127.0.0.1 on free ports and lives in temp dirs, so
//! tests can run in parallel. Nothing here sets process-wide environment
//! variables; child processes get their AWS settings from [`Moto::env`].
//!
//! Environment knobs:
//! - `PGLOG_PG_BIN`: PostgreSQL server binaries (default
//!   `/usr/lib/postgresql/15/bin`).
//! - `PGLOG_MOTO_VENV` (read by `pglog_testkit::moto`): a Python venv with `moto[server]` installed (default
//!   `<workspace>/target/moto-venv`, created on first use).
//! - `PGLOG_PROMETHEUS`: the Prometheus binary (default `prometheus` on the
//!   PATH, Debian's package).
//!
//! PostgreSQL refuses to run as root. When the tests run as root, the server
//! binaries run as the unprivileged user `pgtest` (created if missing) through
//! `runuser`; the clients (`psql`, `pgbench`) run as the current user.
//!
//! Async tests that call the blocking helpers (`psql`, `pgbench`, `stop`, ...)
//! should use `#[tokio::test(flavor = "multi_thread")]`.

#![allow(dead_code)]

use std::fs::{self, File, OpenOptions};
use std::future::Future;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use tempfile::TempDir;

pub use pglog_testkit::moto::{aws_env, Moto, AWS_ACCESS_KEY_ID, AWS_REGION};
pub use pglog_testkit::{
    free_port, http_get_ok, read_lossy, run, run_ok, PORT_ATTEMPTS, START_TIMEOUT,
};

mod pgbouncer;
// Used by the pgbouncer tests only; every test binary compiles the harness.
#[allow(unused_imports)]
pub use pgbouncer::Pgbouncer;

/// OS user that owns and runs test clusters when the tests run as root.
pub const PG_OS_USER: &str = "pgtest";

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

/// Polls `cond` every 100 ms until it returns true; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Async polling: awaits `f` every 200 ms until it yields `Some`; panics
/// after `timeout`. Handy for "wait until the collector has shipped X".
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

fn append(path: &Path, text: &str) {
    OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("append to {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

fn pg_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("PGLOG_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    dir.join(name)
}

/// uid/gid that server processes run as, or None to run as ourselves.
fn pg_owner() -> Option<(u32, u32)> {
    static OWNER: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    *OWNER.get_or_init(|| {
        let euid = fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
        if euid != 0 {
            return None;
        }
        let id = |flag: &str| -> Option<u32> {
            let out = run(Command::new("id").args([flag, PG_OS_USER]));
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if id("-u").is_none() {
            // A concurrent test binary may win the race; re-check below.
            let _ = run(Command::new("useradd").args(["-m", PG_OS_USER]));
        }
        let uid = id("-u").unwrap_or_else(|| panic!("cannot create OS user {PG_OS_USER}"));
        let gid = id("-g").expect("gid of the test OS user");
        Some((uid, gid))
    })
}

/// A command for a server-side binary, run as [`PG_OS_USER`] when we are root.
fn pg_server_cmd(name: &str) -> Command {
    let bin = pg_bin(name);
    match pg_owner() {
        Some(_) => {
            let mut c = Command::new("runuser");
            c.args(["-u", PG_OS_USER, "--"]).arg(bin);
            c
        }
        None => Command::new(bin),
    }
}

/// A temp dir owned by the server user. It is made under $TMPDIR (/tmp by
/// default), whose parents that user must be able to traverse.
fn pg_tempdir(prefix: &str) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("create temp dir");
    if let Some((uid, gid)) = pg_owner() {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown temp dir");
    }
    dir
}

const PG_CONF: &str = "
# pglog test harness
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
lc_messages = 'C'
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_buffers = 16MB
track_io_timing = on
logging_collector = off
";

const PG_HBA: &str = "\
local all         all              trust
host  all         all 127.0.0.1/32 trust
host  replication all 127.0.0.1/32 trust
";

/// A throwaway PostgreSQL cluster on 127.0.0.1, superuser `postgres`, trust
/// auth (replication included). Dropping it stops the server (immediate mode)
/// and removes its directory.
pub struct Pg {
    dir: TempDir,
    port: u16,
    /// `application_name` this cluster uses when it streams from a primary.
    name: String,
    running: AtomicBool,
}

impl Pg {
    /// A new primary cluster, started.
    pub fn primary() -> Pg {
        Pg::primary_with("")
    }

    /// A new primary with extra `postgresql.conf` lines (for example
    /// `shared_preload_libraries = 'pg_stat_statements'`), started.
    pub fn primary_with(extra_conf: &str) -> Pg {
        let dir = pg_tempdir("pglog-pg-");
        let data = dir.path().join("data");
        run_ok(
            pg_server_cmd("initdb")
                .current_dir(dir.path())
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
                .args(["--no-sync", "--no-instructions"]),
        );
        append(
            &data.join("postgresql.conf"),
            &format!("{PG_CONF}{extra_conf}\n"),
        );
        // Overwrite in place: keeps the file's owner and mode.
        fs::write(data.join("pg_hba.conf"), PG_HBA).expect("write pg_hba.conf");
        Pg::launch(dir, "primary".into())
    }

    /// A streaming standby of this cluster, made with `pg_basebackup -R`.
    /// Returns once the standby is in recovery and this cluster's
    /// `pg_stat_replication` shows it streaming.
    pub fn standby(&self) -> Pg {
        let dir = pg_tempdir("pglog-pg-");
        let data = dir.path().join("data");
        let name = format!(
            "standby_{}",
            dir.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace('-', "_")
        );
        run_ok(
            pg_server_cmd("pg_basebackup")
                .current_dir(dir.path())
                .args(self.client_args())
                .arg("-D")
                .arg(&data)
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]),
        );
        // Later lines win: name the walreceiver so we can find it below.
        append(
            &data.join("postgresql.auto.conf"),
            &format!(
                "primary_conninfo = 'host=127.0.0.1 port={} user=postgres application_name={name}'\n",
                self.port
            ),
        );
        let standby = Pg::launch(dir, name);
        wait_until("standby in recovery", START_TIMEOUT, || {
            standby
                .try_psql("select pg_is_in_recovery()")
                .is_ok_and(|s| s == "t")
        });
        let sql = format!(
            "select count(*) from pg_stat_replication \
             where application_name = '{}' and state = 'streaming'",
            standby.name
        );
        wait_until("standby streaming", START_TIMEOUT, || {
            self.try_psql(&sql).is_ok_and(|s| s == "1")
        });
        standby
    }

    /// Starts a cluster in `dir/data`, retrying on a new port if the one we
    /// picked was taken in the meantime.
    fn launch(dir: TempDir, name: String) -> Pg {
        let mut pg = Pg {
            dir,
            port: 0,
            name,
            running: AtomicBool::new(false),
        };
        for attempt in 1..=PORT_ATTEMPTS {
            pg.port = free_port();
            let log_len = fs::metadata(pg.log_path()).map(|m| m.len()).unwrap_or(0);
            match pg.pg_ctl_start() {
                Ok(()) => return pg,
                Err(err) => {
                    let log = pg.log();
                    let new = log.get(log_len as usize..).unwrap_or(&log);
                    let port_taken =
                        new.contains("could not bind") || new.contains("Address already in use");
                    if !port_taken || attempt == PORT_ATTEMPTS {
                        panic!("cannot start PostgreSQL: {err}\nserver log:\n{log}");
                    }
                }
            }
        }
        unreachable!()
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let out = run(pg_server_cmd("pg_ctl")
            .current_dir(self.dir.path())
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_path())
            .args(["-o", &format!("-p {}", self.port)])
            .args(["-w", "-t", "60", "start"]));
        if out.status.success() {
            self.running.store(true, Ordering::SeqCst);
            Ok(())
        } else {
            Err(format!(
                "pg_ctl start: {}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        run(pg_server_cmd("pg_ctl")
            .current_dir(self.dir.path())
            .arg("-D")
            .arg(self.data_dir())
            .args(args))
    }

    fn pg_ctl_ok(&self, args: &[&str]) {
        let out = self.pg_ctl(args);
        assert!(
            out.status.success(),
            "pg_ctl {args:?} failed: {}\n{}{}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// Clean shutdown (`pg_ctl stop -m fast`).
    pub fn stop(&self) {
        self.pg_ctl_ok(&["-w", "-t", "60", "-m", "fast", "stop"]);
        self.running.store(false, Ordering::SeqCst);
    }

    /// Crash-like shutdown (`pg_ctl stop -m immediate`); the next start runs
    /// crash recovery.
    pub fn kill(&self) {
        self.pg_ctl_ok(&["-w", "-t", "60", "-m", "immediate", "stop"]);
        self.running.store(false, Ordering::SeqCst);
    }

    /// Starts the cluster again on the same port and directory. Panics if the
    /// port has been taken meanwhile.
    pub fn start(&self) {
        if let Err(err) = self.pg_ctl_start() {
            panic!("{err}\nserver log:\n{}", self.log());
        }
    }

    /// Promotes a standby (`pg_ctl promote -w`).
    pub fn promote(&self) {
        self.pg_ctl_ok(&["-w", "-t", "60", "promote"]);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// libpq key/value connection string for the superuser.
    pub fn dsn(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Name this cluster streams under (`application_name` in the primary's
    /// `pg_stat_replication`); "primary" for a cluster made by `primary()`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's stderr log (pg_ctl -l); `lc_messages = C`.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log(&self) -> String {
        read_lossy(&self.log_path())
    }

    /// Runs `sql` with `psql -XAtq` as `postgres` on database `postgres`;
    /// returns stdout without the trailing newline. Panics on error.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|e| panic!("psql on port {}: {e}\nSQL: {sql}", self.port))
    }

    /// Host, port and user for the client programs (psql, pgbench,
    /// pg_basebackup).
    fn client_args(&self) -> [String; 6] {
        loopback_client_args(self.port)
    }

    /// Like [`Pg::psql`], but returns psql's stderr as the error.
    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        self.try_psql_in("postgres", sql)
    }

    /// Like [`Pg::psql`] on database `db`.
    pub fn psql_in(&self, db: &str, sql: &str) -> String {
        self.try_psql_in(db, sql)
            .unwrap_or_else(|e| panic!("psql on port {} database {db}: {e}\nSQL: {sql}", self.port))
    }

    /// Like [`Pg::try_psql`] on database `db`.
    pub fn try_psql_in(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = run(Command::new(pg_bin("psql"))
            .args(["-XAtq", "-v", "ON_ERROR_STOP=1"])
            .args(self.client_args())
            .args(["-d", db])
            .args(["-c", sql])
            .env("PGCONNECT_TIMEOUT", "10"));
        if out.status.success() {
            let s = String::from_utf8_lossy(&out.stdout);
            Ok(s.strip_suffix('\n').unwrap_or(&s).to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs pgbench with `args` against database `postgres` (for example
    /// `&["-i", "-s", "1"]` or `&["-c", "2", "-t", "50"]`). Returns the
    /// "number of transactions actually processed", or 0 when the output has
    /// none (as with `-i`). Panics if pgbench fails.
    pub fn pgbench(&self, args: &[&str]) -> u64 {
        let stdout = pgbench_output(&self.client_args(), &[], args);
        parse_pgbench_transactions(&stdout).unwrap_or(0)
    }
}

/// Runs pgbench with the connection arguments `client`, extra environment
/// `env` and `args` against database `postgres`; returns its stdout.
/// Panics if pgbench fails.
fn pgbench_output(client: &[String], env: &[(&str, &str)], args: &[&str]) -> String {
    let mut cmd = Command::new(pg_bin("pgbench"));
    cmd.args(client).args(args).arg("postgres");
    for (k, v) in env {
        cmd.env(k, v);
    }
    String::from_utf8_lossy(&run_ok(&mut cmd).stdout).into_owned()
}

/// pgbench's "tps = 1234.5 (without initial connection time)".
pub fn parse_pgbench_tps(output: &str) -> Option<f64> {
    output
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

pub fn parse_pgbench_transactions(output: &str) -> Option<u64> {
    // "number of transactions actually processed: 100/100" (-t) or ": 2345" (-T)
    let line = output
        .lines()
        .find(|l| l.starts_with("number of transactions actually processed:"))?;
    let rest = line.split_once(':')?.1.trim();
    rest.split('/').next()?.trim().parse().ok()
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.running.load(Ordering::SeqCst) {
            let _ = self.pg_ctl(&["-w", "-t", "30", "-m", "immediate", "stop"]);
        }
    }
}

// ---------------------------------------------------------------------------
// moto
// ---------------------------------------------------------------------------

/// The SDK clients and read-backs the collector's tests use on a [`Moto`].
#[allow(async_fn_in_trait)]
pub trait MotoClients {
    async fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client;
    async fn xray(&self) -> aws_sdk_xray::Client;
    /// IDs of all traces with segments from the last 24 hours.
    ///
    /// moto's GetTraceSummaries answers `"Users": {}`, which aws-sdk-xray
    /// rejects, so this calls it over plain HTTP and parses the JSON.
    async fn trace_ids(&self) -> Vec<String>;
    /// Every X-Ray segment document stored, parsed as JSON, in trace order.
    async fn xray_segments(&self) -> Vec<serde_json::Value>;
    /// POSTs a JSON body to moto; returns the response body. moto routes a
    /// request by the service named in its Authorization header, so a dummy
    /// SigV4 header naming `service` is enough.
    async fn raw_post(&self, service: &str, path: &str, body: &str) -> String;
}

impl MotoClients for Moto {
    async fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config().await)
    }

    async fn xray(&self) -> aws_sdk_xray::Client {
        aws_sdk_xray::Client::new(&self.sdk_config().await)
    }

    async fn trace_ids(&self) -> Vec<String> {
        let now = unix_now();
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut body =
                serde_json::json!({"StartTime": now - 86_400.0, "EndTime": now + 3_600.0});
            if let Some(token) = &next {
                body["NextToken"] = token.clone().into();
            }
            let resp = self
                .raw_post("xray", "/TraceSummaries", &body.to_string())
                .await;
            let resp: serde_json::Value = serde_json::from_str(&resp)
                .unwrap_or_else(|e| panic!("GetTraceSummaries answer is not JSON ({e}): {resp}"));
            for s in resp["TraceSummaries"].as_array().into_iter().flatten() {
                if let Some(id) = s["Id"].as_str() {
                    ids.push(id.to_string());
                }
            }
            match resp["NextToken"].as_str() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    async fn xray_segments(&self) -> Vec<serde_json::Value> {
        let ids = self.trace_ids().await;
        let xray = self.xray().await;
        let mut docs = Vec::new();
        // BatchGetTraces takes at most 5 IDs per call.
        for chunk in ids.chunks(5) {
            let mut next: Option<String> = None;
            loop {
                let out = xray
                    .batch_get_traces()
                    .set_trace_ids(Some(chunk.to_vec()))
                    .set_next_token(next.clone())
                    .send()
                    .await
                    .expect("BatchGetTraces");
                for trace in out.traces() {
                    for seg in trace.segments() {
                        let doc = seg.document().unwrap_or("null");
                        docs.push(serde_json::from_str(doc).expect("segment document is JSON"));
                    }
                }
                match out.next_token() {
                    Some(t) if !t.is_empty() => next = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        docs
    }

    async fn raw_post(&self, service: &str, path: &str, body: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port()))
            .await
            .expect("connect to moto");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={key}/20200101/{AWS_REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            port = self.port(),
            key = AWS_ACCESS_KEY_ID,
            len = body.len(),
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send to moto");
        let mut resp = Vec::new();
        stream.read_to_end(&mut resp).await.expect("read from moto");
        let resp = String::from_utf8_lossy(&resp);
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "moto {path}: {head}\n{body}"
        );
        body.to_string()
    }
}

/// A server configuration that writes a csvlog of every statement.
pub const LOGGING: &str = "logging_collector = on\nlog_destination = 'csvlog'\nlog_directory = 'log'\nlog_filename = 'postgresql-%Y%m%d-%H%M%S.log'\nlog_statement = 'all'\nlog_min_duration_statement = 0\nlc_messages = 'C'\n";

/// Every event of a CloudWatch Logs group, as (stream, time, message).
pub async fn log_events(moto: &Moto, group: &str) -> Vec<(String, i64, String)> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let streams = logs
        .describe_log_streams()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for s in streams.log_streams() {
        let name = s.log_stream_name().unwrap().to_string();
        let mut token: Option<String> = None;
        loop {
            let page = logs
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(&name)
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            let n = page.events().len();
            out.extend(page.events().iter().map(|e| {
                (
                    name.clone(),
                    e.timestamp().unwrap(),
                    e.message().unwrap().to_string(),
                )
            }));
            let next = page.next_forward_token().map(str::to_string);
            if n == 0 || next == token {
                break;
            }
            token = next;
        }
    }
    out
}

/// The whole HTTP answer (head and body) to `GET path` at `addr`.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

// ---------------------------------------------------------------------------
// CloudWatch read-back
// ---------------------------------------------------------------------------

/// Datapoints of one metric over the last hour, one per second (GetMetricData,
/// period 1, statistic Sum), oldest first: values sent within the same second
/// are added up. `dims` must list the metric's dimensions exactly. See
/// [`metric_stat_values`] for moto's quirks.
pub async fn metric_values(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric_name: &str,
    dims: &[(&str, &str)],
) -> Vec<(DateTime, f64)> {
    metric_stat_values(cw, namespace, metric_name, dims, "Sum").await
}

/// Like [`metric_values`] with another statistic: `Sum`, `Maximum`,
/// `Minimum`, `Average` or `SampleCount` (the number of values sent).
///
/// GetMetricData rather than GetMetricStatistics, because under moto 5.2.5:
/// - GetMetricData matches `dims` exactly, like CloudWatch. But with `dims`
///   empty it matches the metric under any dimensions, and with `dims` given
///   it ignores the namespace (same name and dimensions in another namespace
///   are added in).
/// - Its buckets start at the query's StartTime (a whole second here), so each
///   timestamp is a datum's time truncated to the second.
/// - GetMetricStatistics does filter by namespace, but matches any metric
///   whose dimensions include `dims`, and starts its buckets at the first
///   datum's exact time (sub-second), whatever the period.
/// - `Values`/`Counts` in PutMetricData count as separate samples
///   (SampleCount); `StatisticValues` are stored as sent.
pub async fn metric_stat_values(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    metric_name: &str,
    dims: &[(&str, &str)],
    stat: &str,
) -> Vec<(DateTime, f64)> {
    let now = unix_now().floor() as i64;
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(metric_name)
        .set_dimensions(Some(
            dims.iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                .collect(),
        ))
        .build();
    let query = MetricDataQuery::builder()
        .id("q")
        .return_data(true)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(1)
                .stat(stat)
                .build(),
        )
        .build();
    let mut points = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = cw
            .get_metric_data()
            .metric_data_queries(query.clone())
            .start_time(DateTime::from_secs(now - 3_600))
            // EndTime is exclusive; leave room for data sent this second.
            .end_time(DateTime::from_secs(now + 60))
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetMetricData {namespace}/{metric_name}: {e:?}"));
        for r in out.metric_data_results() {
            points.extend(
                r.timestamps()
                    .iter()
                    .copied()
                    .zip(r.values().iter().copied()),
            );
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    points.sort_by_key(|(t, _)| (t.secs(), t.subsec_nanos()));
    points
}

/// Metrics in a namespace as (name, sorted dimensions), sorted and
/// de-duplicated: moto 5.2.5 lists a metric once per datapoint.
pub async fn list_metrics(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut metrics = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = cw
            .list_metrics()
            .namespace(namespace)
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListMetrics {namespace}: {e:?}"));
        for m in out.metrics() {
            let mut dims: Vec<(String, String)> = m
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_string(),
                        d.value().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            dims.sort();
            metrics.push((m.metric_name().unwrap_or_default().to_string(), dims));
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => break,
        }
    }
    metrics.sort();
    metrics.dedup();
    metrics
}

// ---------------------------------------------------------------------------
// A slow AWS: moto behind a proxy that answers late
// ---------------------------------------------------------------------------

/// A TCP proxy on loopback in front of moto that holds each response for
/// `delay` after moto answered: AWS that stores a request but answers after
/// the client gave up. Requests reach moto at once, so a request whose
/// client timed out is stored all the same. The delay can be changed (0:
/// a plain proxy) while it runs; it runs until the test process ends.
pub struct SlowProxy {
    port: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SlowProxy {
    pub fn start(upstream: u16, delay: Duration) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let delay_ms =
            std::sync::Arc::new(std::sync::atomic::AtomicU64::new(delay.as_millis() as u64));
        let delays = delay_ms.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(proxy_connection(client, upstream, delays.clone()));
                }
            });
        });
        SlowProxy { port, delay_ms }
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// [`Moto::env`] with the endpoint pointing at the proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        aws_env(&format!("http://127.0.0.1:{}", self.port))
    }
}

/// Copies one connection both ways; the first bytes of each answer (after
/// request bytes went up) wait for the delay.
async fn proxy_connection(
    client: tokio::net::TcpStream,
    upstream: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let asked = std::sync::Arc::new(AtomicBool::new(false));
    let asked_up = asked.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    asked_up.store(true, Ordering::SeqCst);
                    if server_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_tx.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match server_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if asked.swap(false, Ordering::SeqCst) {
                        let ms = delay_ms.load(Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    if client_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    // A client that gave up has closed its side: the late answer is dropped.
    tokio::join!(up, down);
}

// ---------------------------------------------------------------------------
// Prometheus scraping the collector
// ---------------------------------------------------------------------------

/// A Prometheus server (`prometheus` from the Debian package, or
/// `PGLOG_PROMETHEUS`) on a free loopback port, scraping `target` (host:port)
/// as job `pglog` every second (rules evaluated every second too), with its
/// data in a temp dir. Dropping it kills the process.
pub struct Prometheus {
    dir: TempDir,
    port: u16,
    child: Child,
}

impl Prometheus {
    pub fn start(target: &str) -> Prometheus {
        Prometheus::start_with_rules(target, None)
    }

    /// [`Prometheus::start`], loading the rules file `rules`.
    pub fn start_with_rules(target: &str, rules: Option<&Path>) -> Prometheus {
        let bin = std::env::var("PGLOG_PROMETHEUS").unwrap_or_else(|_| "prometheus".into());
        let dir = tempfile::Builder::new()
            .prefix("pglog-prometheus-")
            .tempdir()
            .expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{}scrape_configs:\n  - job_name: pglog\n    static_configs:\n      - targets: ['{target}']\n",
                rules.map_or(String::new(), |r| format!("rule_files: ['{}']\n", r.display()))
            ),
        )
        .unwrap();
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port();
            let log = File::create(dir.path().join("prometheus.log")).unwrap();
            let mut child = Command::new(&bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {bin} (apt-get install prometheus): {e}"));
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                if http_get_ok(port) {
                    return Prometheus { dir, port, child };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            if attempt == PORT_ATTEMPTS {
                panic!(
                    "prometheus did not start:\n{}",
                    read_lossy(&dir.path().join("prometheus.log"))
                );
            }
        }
        unreachable!()
    }

    /// The result of an instant query (`data.result`).
    pub fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let doc = self.api(&format!("/api/v1/query?query={}", encode(expr)));
        assert_eq!(doc["status"], "success", "query {expr}: {doc}");
        doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The JSON answer of an HTTP API path (with its query string, already
    /// encoded), whatever its status. HTTP/1.0, so the body is never chunked.
    pub fn api(&self, path: &str) -> serde_json::Value {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("Prometheus answer is not JSON ({e}): {answer}"))
    }
}

/// A query-string value, percent-encoded.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Host, port and user `postgres` for a client program on loopback.
fn loopback_client_args(port: u16) -> [String; 6] {
    ["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"].map(String::from)
}
