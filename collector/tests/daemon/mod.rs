//! The real `pglog collect` binary run as a child process, the way systemd
//! runs it: its own environment (AWS settings from moto), stdout read line
//! by line (`--dry-run` prints one JSON document per cycle), stopped with
//! SIGTERM.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `pglog` binary, built once per test run (a no-op when
/// `cargo test --workspace` has built it already).
pub fn pglog_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // ring's build script watches CARGO_PKG_NAME, CARGO_MANIFEST_DIR
        // and others `cargo test` sets for this test's package: passed on,
        // they would rebuild ring and everything above it on every run.
        let mut build = Command::new(cargo);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_PKG_")
                || key.starts_with("CARGO_MANIFEST_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&key.as_ref())
            {
                build.env_remove(key.as_ref());
            }
        }
        let status = build
            .args(["build", "--quiet", "-p", "pglog", "--bin", "pglog"])
            .current_dir(manifest.parent().unwrap())
            .status()
            .expect("cargo build -p pglog");
        assert!(status.success(), "building pglog failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest.parent().unwrap().join("target"));
        let bin = target.join("debug").join("pglog");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A running `pglog collect`.
pub struct Daemon {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The daemon's own state_dir, unless the test gave one: the default
    /// (/var/lib/pglog) would be shared by every test and by the host.
    _state_dir: Option<tempfile::TempDir>,
}

impl Daemon {
    /// Starts `pglog collect ARGS` with `env`. Without `--state-dir` in
    /// `args` or `PGLOG_STATE_DIR` in `env`, the daemon keeps its state in
    /// a temp dir of its own, removed when it is dropped (given as
    /// `PGLOG_STATE_DIR`, which wins over a config file's `state_dir`: a
    /// test that sets it in the file passes `--state-dir` too).
    pub fn start(args: &[&str], env: &[(String, String)]) -> Daemon {
        let mut cmd = Command::new(pglog_bin());
        cmd.arg("collect")
            .args(args)
            .env_remove("PGPASSWORD")
            .env("PGLOG_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let state_given = args.iter().any(|a| a.starts_with("--state-dir"))
            || env.iter().any(|(k, _)| k == "PGLOG_STATE_DIR");
        let state_dir = (!state_given).then(|| tempfile::tempdir().expect("temp dir"));
        if let Some(dir) = &state_dir {
            cmd.env("PGLOG_STATE_DIR", dir.path());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn pglog collect");
        let (tx, lines) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Daemon {
            child,
            lines,
            stderr,
            _state_dir: state_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next `--dry-run` cycle document.
    pub fn next_cycle(&self, timeout: Duration) -> Value {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => {
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no cycle within {timeout:?}; stderr:\n{}", self.stderr())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("pglog exited; stderr:\n{}", self.stderr())
            }
        }
    }

    /// Reads cycles until `pred` holds for one, which it returns.
    pub fn cycle_where(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no cycle with {what} within {timeout:?}; stderr:\n{}",
                self.stderr()
            );
            let c = self.next_cycle(left);
            if pred(&c) {
                return c;
            }
        }
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// SIGKILL: no chance to flush or save anything.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends `sig` (e.g. 1 for SIGHUP, 15 for SIGTERM) and returns at once.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc_kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM, then the exit status and how long the exit took.
    pub fn terminate(mut self) -> (ExitStatus, Duration) {
        let t = Instant::now();
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let deadline = t + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, t.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "pglog did not exit on SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to end by itself (`--once`).
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                let lines = self.lines.try_iter().collect();
                return (status, lines, self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "pglog still running after {timeout:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// The datums of a cycle document named `metric`, as (dimensions, value).
pub fn datums(cycle: &Value, metric: &str) -> Vec<(Vec<(String, String)>, f64)> {
    cycle["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["metric"] == metric)
        .map(|d| {
            let dims = d["dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (dims, d["value"].as_f64().unwrap())
        })
        .collect()
}

/// The one value of `metric` in a cycle, if it has exactly one.
pub fn value(cycle: &Value, metric: &str) -> Option<f64> {
    match datums(cycle, metric).as_slice() {
        [(_, v)] => Some(*v),
        _ => None,
    }
}

pub fn dim<'a>(dims: &'a [(String, String)], name: &str) -> Option<&'a str> {
    dims.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
