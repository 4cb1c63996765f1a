//! A real pgbouncer (Debian's `/usr/sbin/pgbouncer`, or `PGLOG_PGBOUNCER`)
//! with its own config in a temp dir, in front of a harness [`Pg`], on a
//! free loopback port. Like the server, it runs as [`super::PG_OS_USER`]
//! when the tests run as root (pgbouncer refuses to run as root).
//!
//! Clients log in with md5 passwords from its `userlist.txt`: the
//! superuser `postgres` (password [`Pgbouncer::CLIENT_PASSWORD`]) for the
//! pooled database `postgres`, and [`Pgbouncer::MONITOR_USER`], listed in
//! `stats_users`, for the admin console. pgbouncer reaches the server as
//! `postgres` over the cluster's trust authentication.

use std::fs;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{
    free_port, pg_owner, pg_tempdir, pgbench_output, read_lossy, run, Pg, PG_OS_USER,
    PORT_ATTEMPTS, START_TIMEOUT,
};

pub struct Pgbouncer {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl Pgbouncer {
    pub const MONITOR_USER: &'static str = "pglog_monitor";
    pub const MONITOR_PASSWORD: &'static str = "monitor-secret";
    pub const CLIENT_PASSWORD: &'static str = "bench-secret";

    /// pgbouncer in transaction pooling mode with `pool_size` server
    /// connections per pool, started.
    pub fn start(pg: &Pg, pool_size: u32) -> Pgbouncer {
        let dir = pg_tempdir("pglog-pgbouncer-");
        fs::write(
            dir.path().join("userlist.txt"),
            format!(
                "\"postgres\" \"{}\"\n\"{}\" \"{}\"\n",
                Self::CLIENT_PASSWORD,
                Self::MONITOR_USER,
                Self::MONITOR_PASSWORD
            ),
        )
        .expect("write userlist.txt");
        let mut b = Pgbouncer {
            dir,
            port: 0,
            child: None,
        };
        for attempt in 1..=PORT_ATTEMPTS {
            b.port = free_port();
            b.write_ini(pg, pool_size);
            match b.launch() {
                Ok(()) => return b,
                Err(log) if log.contains("Address already in use") && attempt < PORT_ATTEMPTS => {}
                Err(log) => panic!("pgbouncer did not start:\n{log}"),
            }
        }
        unreachable!()
    }

    fn write_ini(&self, pg: &Pg, pool_size: u32) {
        let d = self.dir.path().display();
        let ini = format!(
            "[databases]\n\
             postgres = host=127.0.0.1 port={pg_port} dbname=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = md5\n\
             auth_file = {d}/userlist.txt\n\
             stats_users = {monitor}\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             max_client_conn = 100\n\
             server_login_retry = 1\n\
             logfile = {d}/pgbouncer.log\n\
             pidfile = {d}/pgbouncer.pid\n",
            pg_port = pg.port(),
            port = self.port,
            monitor = Self::MONITOR_USER,
        );
        fs::write(self.dir.path().join("pgbouncer.ini"), ini).expect("write pgbouncer.ini");
    }

    /// Runs pgbouncer in the foreground as a child; returns once it
    /// accepts connections, or its log when it exits first.
    fn launch(&mut self) -> Result<(), String> {
        let bin = std::env::var("PGLOG_PGBOUNCER").unwrap_or_else(|_| "/usr/sbin/pgbouncer".into());
        let mut cmd = match pg_owner() {
            Some(_) => {
                let mut c = Command::new("runuser");
                c.args(["-u", PG_OS_USER, "--"]).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        let mut child = cmd
            .arg(self.dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {bin} (apt-get install pgbouncer): {e}"));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if child.try_wait().expect("pgbouncer status").is_some() {
                return Err(self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.pid().is_some() {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "no connection within {START_TIMEOUT:?}\n{}",
            self.log()
        ))
    }

    /// pgbouncer's own pid (the child may be `runuser`).
    fn pid(&self) -> Option<u32> {
        fs::read_to_string(self.dir.path().join("pgbouncer.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// SIGTERM (immediate shutdown: clients are cut off); returns once it
    /// has exited.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = self.pid() {
            run(Command::new("kill").args(["-TERM", &pid.to_string()]));
        }
        let deadline = Instant::now() + START_TIMEOUT;
        while child.try_wait().expect("pgbouncer status").is_none() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it again on the same port, with the same config.
    pub fn restart(&mut self) {
        if let Err(log) = self.launch() {
            panic!("pgbouncer did not start again:\n{log}");
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin console's DSN for [`Self::MONITOR_USER`] (no password: the
    /// collector takes it from an environment variable).
    pub fn console_dsn(&self) -> String {
        format!(
            "host=127.0.0.1 port={} dbname=pgbouncer user={}",
            self.port,
            Self::MONITOR_USER
        )
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("pgbouncer.log")
    }

    pub fn log(&self) -> String {
        read_lossy(&self.log_path())
    }

    /// pgbench through pgbouncer on database `postgres` as `postgres`;
    /// returns its output. Panics if pgbench fails.
    pub fn pgbench(&self, args: &[&str]) -> String {
        let client = super::loopback_client_args(self.port);
        pgbench_output(&client, &[("PGPASSWORD", Self::CLIENT_PASSWORD)], args)
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = self.pid() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
