//! Throwaway PostgreSQL 15 clusters that write the logs some tests read:
//! initdb and pg_ctl on a free loopback port in a temp dir, the server run
//! as the unprivileged user `pgtest` when the tests run as root (PostgreSQL
//! refuses root). `PGLOG_PG_BIN` overrides `/usr/lib/postgresql/15/bin`.

use pglog_testkit::{free_port, run_ok};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const OS_USER: &str = "pgtest";

fn bin(name: &str) -> PathBuf {
    std::env::var_os("PGLOG_PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
        .join(name)
}

/// uid and gid the server runs as, or None to run it as ourselves.
fn server_owner() -> Option<(u32, u32)> {
    static OWNER: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    *OWNER.get_or_init(|| {
        if std::fs::metadata("/proc/self").ok()?.uid() != 0 {
            return None;
        }
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, OS_USER]).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        if id("-u").is_none() {
            // Another test binary may create it at the same time.
            let _ = Command::new("useradd").args(["-m", OS_USER]).output();
        }
        Some((
            id("-u").expect("the test OS user"),
            id("-g").expect("its group"),
        ))
    })
}

/// A server-side binary, run as the test OS user when we are root.
fn server_cmd(name: &str) -> Command {
    as_server_user(&bin(name))
}

/// Any program (pgbouncer, say), run as the test OS user when we are root.
pub fn as_server_user(program: &Path) -> Command {
    match server_owner() {
        Some(_) => {
            let mut c = Command::new("runuser");
            c.args(["-u", OS_USER, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// A temp dir the server user owns.
pub fn server_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    if let Some((uid, gid)) = server_owner() {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
    }
    dir
}

/// A PostgreSQL 15 client program (psql, pgbench).
pub fn client(name: &str) -> Command {
    Command::new(bin(name))
}

/// Waits for `cond`, polling every 100 ms, at most a minute.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One cluster in its own temp dir. Dropping it stops the server.
pub struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    running: bool,
}

impl Cluster {
    /// A cluster to be: a temp dir the server user owns, and a free port.
    fn fresh() -> Cluster {
        Cluster {
            dir: server_dir("pglog-thin-"),
            port: free_port(),
            running: false,
        }
    }

    /// A server binary run in the cluster's dir, with `-D` its data dir.
    fn server(&self, name: &str) -> Command {
        let mut c = server_cmd(name);
        c.current_dir(self.dir.path()).arg("-D").arg(self.data());
        c
    }

    /// A new primary (superuser `postgres`, trust on loopback), its
    /// `postgresql.conf` ending with `conf`; not started.
    pub fn init(conf: &str) -> Cluster {
        let c = Cluster::fresh();
        run_ok(
            c.server("initdb")
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
                .args(["--no-sync", "--no-instructions"]),
        );
        c.configure("postgresql.conf", conf);
        c
    }

    /// A streaming standby of `primary` (`pg_basebackup -R`), configured
    /// with `conf` after the primary's settings; not started.
    pub fn standby_of(primary: &Cluster, conf: &str) -> Cluster {
        let c = Cluster::fresh();
        run_ok(
            c.server("pg_basebackup")
                .args(["-h", "127.0.0.1", "-U", "postgres"])
                .args(["-p", &primary.port.to_string()])
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]),
        );
        // postgresql.auto.conf is read last, so these win over the copy's.
        c.configure("postgresql.auto.conf", conf);
        c
    }

    fn configure(&self, file: &str, conf: &str) {
        let path = self.data().join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n{conf}\n",
            self.port
        ));
        // Written in place: the file keeps its owner.
        std::fs::write(&path, text).unwrap();
    }

    /// Appends settings to `postgresql.conf` and reloads with `pg_ctl
    /// reload`: a signal, no session that would log its own lines.
    pub fn reload_with(&self, conf: &str) {
        let path = self.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("\n{conf}\n"));
        std::fs::write(&path, text).unwrap();
        run_ok(self.server("pg_ctl").arg("reload"));
    }

    /// The logging collector starts new files (`pg_ctl logrotate`).
    pub fn rotate_logs(&self) {
        run_ok(self.server("pg_ctl").arg("logrotate"));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A file under the data directory (the logging collector's logs).
    pub fn file(&self, rel: &str) -> PathBuf {
        self.data().join(rel)
    }

    pub fn start(&mut self) {
        run_ok(
            self.server("pg_ctl")
                .arg("-l")
                .arg(self.dir.path().join("pg_ctl.log"))
                .args(["-w", "-t", "60", "start"]),
        );
        self.running = true;
    }

    fn pg_ctl_stop(&self, mode: &str) -> Output {
        self.server("pg_ctl")
            .args(["-w", "-t", "60", "-m", mode, "stop"])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl runs")
    }

    /// A clean shutdown: its messages end the log.
    pub fn stop(&mut self) {
        let out = self.pg_ctl_stop("fast");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.running = false;
    }

    /// Runs one SQL command with psql; its output and whether it succeeded.
    pub fn psql(&self, sql: &str) -> (bool, String) {
        self.psql_as("postgres", sql)
    }

    /// [`Cluster::psql`] as another user.
    pub fn psql_as(&self, user: &str, sql: &str) -> (bool, String) {
        let out = Command::new(bin("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", user, "-d", "postgres"])
            .args(["-p", &self.port.to_string()])
            .arg("-c")
            .arg(sql)
            .env("PGCLIENTENCODING", "UTF8")
            .stdin(Stdio::null())
            .output()
            .expect("psql runs");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success(), text)
    }

    /// Runs SQL that must succeed; its output.
    pub fn sql(&self, sql: &str) -> String {
        let (ok, text) = self.psql(sql);
        assert!(ok, "{sql} failed");
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl_stop("immediate");
        }
    }
}

/// Is `path` there and not empty?
pub fn written(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}
