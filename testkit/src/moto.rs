//! A moto server (the AWS API emulator) on a free loopback port, for tests
//! of the parts that talk to AWS: the collector's and the analyzer's
//! sources alike.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{free_port, http_get_ok, read_lossy, run_ok, PORT_ATTEMPTS, START_TIMEOUT};

/// moto version installed when the harness creates the venv itself.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.5";
/// Region the harness uses against moto.
pub const AWS_REGION: &str = "us-east-1";
/// Dummy credentials: moto accepts any.
pub const AWS_ACCESS_KEY_ID: &str = "testing";
pub const AWS_SECRET_ACCESS_KEY: &str = "testing";

/// `bin/moto_server` of the venv, creating the venv on first use.
fn moto_server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = std::env::var_os("PGLOG_MOTO_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/moto-venv"));
        let bin = venv.join("bin/moto_server");
        if !bin.exists() {
            install_moto(&venv);
        }
        bin
    })
    .clone()
}

/// Creates `venv` and pip-installs moto into it. An exclusive lock on a file
/// next to the venv keeps concurrent test binaries from installing at once.
// File::lock is std since 1.89; the AWS SDK already needs a newer rustc than
// the workspace's rust-version.
#[allow(clippy::incompatible_msrv)]
fn install_moto(venv: &Path) {
    let parent = venv.parent().expect("venv path has a parent");
    fs::create_dir_all(parent).expect("create venv parent dir");
    let lock_path = venv.with_extension("lock");
    let lock =
        File::create(&lock_path).unwrap_or_else(|e| panic!("create {}: {e}", lock_path.display()));
    lock.lock().expect("lock the moto venv");
    // Another process may have finished the install while we waited.
    if !venv.join("bin/moto_server").exists() {
        run_ok(Command::new("python3").arg("-m").arg("venv").arg(venv));
        run_ok(Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO_REQUIREMENT,
        ]));
    }
    // Dropping the file releases the lock.
    drop(lock);
}

/// A moto server on a free loopback port. Its state lives in memory only:
/// `stop()` followed by `start()` gives an empty server on the same port.
/// Dropping it kills the process.
pub struct Moto {
    dir: TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
}

impl Moto {
    /// Starts a moto server and waits until it answers HTTP.
    pub fn start_new() -> Moto {
        let bin = moto_server_bin();
        let dir = tempfile::Builder::new()
            .prefix("pglog-moto-")
            .tempdir()
            .expect("temp dir");
        let mut moto = Moto {
            dir,
            port: 0,
            child: Mutex::new(None),
        };
        for attempt in 1..=PORT_ATTEMPTS {
            moto.port = free_port();
            match moto.spawn(&bin) {
                Ok(()) => return moto,
                Err(err) if attempt == PORT_ATTEMPTS => panic!("{err}"),
                Err(_) => {} // most likely the port was taken: try another
            }
        }
        unreachable!()
    }

    fn spawn(&self, bin: &Path) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open moto log");
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup moto log"))
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if http_get_ok(self.port) {
                *self.child.lock().unwrap() = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "moto_server on port {} exited with {status}:\n{}",
                    self.port,
                    self.log()
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "moto_server did not answer on port {}:\n{}",
                    self.port,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with empty state. No-op if
    /// it is running. Panics if the port has been taken meanwhile.
    pub fn start(&self) {
        if self.child.lock().unwrap().is_some() {
            return;
        }
        if let Err(err) = self.spawn(&moto_server_bin()) {
            panic!("{err}");
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a child process (the collector) that should talk to
    /// this server through the standard AWS SDK variables.
    pub fn env(&self) -> Vec<(String, String)> {
        aws_env(&self.endpoint())
    }

    /// Like [`Moto::env`], for an endpoint where nothing listens: AWS
    /// unreachable.
    pub fn unreachable_env() -> Vec<(String, String)> {
        aws_env(&format!("http://127.0.0.1:{}", free_port()))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("moto.log")
    }

    /// moto's stdout and stderr (one line per request, plus tracebacks).
    pub fn log(&self) -> String {
        read_lossy(&self.log_path())
    }

    /// SDK config pointing at this server with fixed test credentials; built
    /// explicitly rather than from the process environment.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new(AWS_REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                AWS_ACCESS_KEY_ID,
                AWS_SECRET_ACCESS_KEY,
                None,
                None,
                "test",
            ))
            .http_client(http)
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The standard AWS SDK variables for a child process, with `endpoint`.
pub fn aws_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY),
        ("AWS_REGION", AWS_REGION),
        // No instance-metadata lookups from a test process.
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
