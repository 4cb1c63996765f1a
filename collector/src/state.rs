//! The collector's counters and windows, saved in `state_dir` after each
//! cycle (one file per `instance`), so that a restarted daemon and the next
//! `--once` run go on from them: their first cycle ships every counter,
//! rate, ratio and window over the real time since the saved samples.
//!
//! A saved state is only continued from when it is from the same server
//! (system identifier and address, as the running daemon tells servers
//! apart) and younger than the catalogue's longest window. Anything else
//! (another server, another format, a damaged or unreadable file, an old
//! state) is ignored with one line saying which and why; the run goes on
//! as a first run and replaces the file after its cycle.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

use crate::pg::ServerInfo;
use crate::series::{unix_seconds, Series};

/// The layout of the file; a file in another one is ignored.
pub const FORMAT: u32 = 1;

/// A file larger than this is not read: no state of a real catalogue comes
/// near it, and reading it whole must not take the collector's memory.
const MAX_BYTES: u64 = 64 << 20;

/// How far in the future a state's time may be (clocks of a host and its
/// restarted self agree to well within this).
const CLOCK_SLACK: f64 = 2.0;

/// Instance names go into the file name with everything but letters,
/// digits, `-`, `_` and `.` percent-encoded.
const FILE_NAME_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// What tells one server from another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerIdentity {
    pub system_identifier: String,
    pub address: String,
    /// Not compared (a restarted server is the same server; its counters
    /// went down, which the reset logic handles), but said in the log.
    pub started: String,
}

impl ServerIdentity {
    pub fn of(info: &ServerInfo) -> ServerIdentity {
        ServerIdentity {
            system_identifier: info.system_identifier.clone(),
            address: info.address.clone(),
            started: info.started.clone(),
        }
    }

    fn same_server(&self, other: &ServerIdentity) -> bool {
        self.system_identifier == other.system_identifier && self.address == other.address
    }
}

/// The file's content.
#[derive(Serialize, Deserialize)]
struct Content<S> {
    format: u32,
    instance: String,
    /// Wall-clock time of the save, seconds since the Unix epoch.
    saved_at: f64,
    server: ServerIdentity,
    /// The collector's own transactions so far, which the window metrics
    /// leave out; the next process counts on from here.
    own_transactions: u64,
    series: S,
}

/// Just the format, read first so that another format is told apart from
/// a damaged file.
#[derive(Deserialize)]
struct FormatOnly {
    format: u32,
}

/// A saved state to go on from.
pub struct Saved {
    pub own_transactions: u64,
    pub series: Series,
}

/// The state file of one instance.
pub struct StateFile {
    path: PathBuf,
    instance: String,
    /// Read at start, looked at once the server has said who it is.
    loaded: Option<Content<Series>>,
    save_failing: bool,
}

impl StateFile {
    pub fn path_for(state_dir: &Path, instance: &str) -> PathBuf {
        let name = utf8_percent_encode(instance, FILE_NAME_SET);
        state_dir.join(format!("metrics-{name}.json"))
    }

    /// Reads the state saved for `instance` in `state_dir`, if there is one
    /// that this version can read; says why not otherwise.
    pub fn open(state_dir: &Path, instance: &str) -> StateFile {
        let path = StateFile::path_for(state_dir, instance);
        let loaded = match read(&path, instance) {
            Ok(content) => content,
            Err(why) => {
                tracing::warn!("{}: {why}; counters and windows start over", path.display());
                None
            }
        };
        StateFile {
            path,
            instance: instance.to_string(),
            loaded,
            save_failing: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state when it is from `server` and younger than `max_age`;
    /// None (said why) when not. Only the first call finds one.
    pub fn take_for(&mut self, server: &ServerIdentity, max_age: Duration) -> Option<Saved> {
        let content = self.loaded.take()?;
        let age = unix_seconds(SystemTime::now()) - content.saved_at;
        let why_not = if !content.server.same_server(server) {
            Some(format!(
                "saved from another server (system identifier {} at {}, now {} at {})",
                content.server.system_identifier,
                content.server.address,
                server.system_identifier,
                server.address
            ))
        } else if age < -CLOCK_SLACK {
            Some(format!(
                "saved {:.0} s in the future (the clock went back)",
                -age
            ))
        } else if age > max_age.as_secs_f64() {
            Some(format!(
                "saved {} ago, longer ago than the longest window ({})",
                humantime::format_duration(Duration::from_secs(age as u64)),
                humantime::format_duration(max_age)
            ))
        } else {
            None
        };
        if let Some(why) = why_not {
            tracing::warn!(
                "{}: {why}; counters and windows start over",
                self.path.display()
            );
            return None;
        }
        tracing::info!(
            "{}: going on from the counters and windows saved {:.1} s ago (server started {})",
            self.path.display(),
            age.max(0.0),
            content.server.started
        );
        Some(Saved {
            own_transactions: content.own_transactions,
            series: content.series,
        })
    }

    /// Writes the state atomically. A failure is said once (and that it
    /// works again); the cycle goes on either way.
    pub fn save(&mut self, server: &ServerIdentity, own_transactions: u64, series: &Series) {
        let content = Content {
            format: FORMAT,
            instance: self.instance.clone(),
            saved_at: unix_seconds(SystemTime::now()),
            server: server.clone(),
            own_transactions,
            series,
        };
        let result = serde_json::to_vec(&content)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::atomic_file::write(&self.path, &bytes));
        match result {
            Ok(()) if self.save_failing => {
                self.save_failing = false;
                tracing::info!("{}: the state is saved again", self.path.display());
            }
            Ok(()) => {}
            Err(e) if !self.save_failing => {
                self.save_failing = true;
                tracing::warn!(
                    "{}: cannot save the counters and windows ({e}); the next run starts them over. Make state_dir writable for the collector or point --state-dir elsewhere",
                    self.path.display()
                );
            }
            Err(e) => tracing::debug!("{}: still cannot save the state: {e}", self.path.display()),
        }
    }
}

/// The file's content; Ok(None) when there is no file yet.
fn read(path: &Path, instance: &str) -> Result<Option<Content<Series>>, String> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(
                "{}: no saved state yet; counters and windows start with this run",
                path.display()
            );
            return Ok(None);
        }
        Err(e) => return Err(format!("cannot read the saved state ({e})")),
    };
    if len > MAX_BYTES {
        return Err(format!(
            "{len} bytes, more than a saved state can be ({MAX_BYTES}); it is replaced after this cycle"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the saved state ({e})"))?;
    let damaged = |e: serde_json::Error| {
        format!("damaged saved state ({e}); it is replaced after this cycle")
    };
    let format = serde_json::from_slice::<FormatOnly>(&bytes)
        .map_err(damaged)?
        .format;
    if format != FORMAT {
        return Err(format!(
            "saved state in format {format}, this pglog reads format {FORMAT}; it is replaced after this cycle"
        ));
    }
    let content: Content<Series> = serde_json::from_slice(&bytes).map_err(damaged)?;
    if content.instance != instance {
        return Err(format!(
            "saved for instance `{}`, not `{instance}`",
            content.instance
        ));
    }
    Ok(Some(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: &str) -> ServerIdentity {
        ServerIdentity {
            system_identifier: id.into(),
            address: "127.0.0.1:5432".into(),
            started: "2026-01-01 00:00:00+00".into(),
        }
    }

    #[test]
    fn a_saved_state_is_found_again_only_for_its_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = StateFile::open(dir.path(), "db/1 a");
        assert!(file.path().ends_with("metrics-db%2F1%20a.json"));
        file.save(&server("1"), 42, &Series::default());
        let mut again = StateFile::open(dir.path(), "db/1 a");
        let saved = again
            .take_for(&server("1"), Duration::from_secs(600))
            .unwrap();
        assert_eq!(saved.own_transactions, 42);
        assert!(again
            .take_for(&server("1"), Duration::from_secs(600))
            .is_none());
        let mut other = StateFile::open(dir.path(), "db/1 a");
        assert!(other
            .take_for(&server("2"), Duration::from_secs(600))
            .is_none());
        let mut old = StateFile::open(dir.path(), "db/1 a");
        assert!(old.take_for(&server("1"), Duration::ZERO).is_none());
    }

    #[test]
    fn damaged_and_foreign_files_are_ignored_and_said_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = StateFile::path_for(dir.path(), "x");
        for (text, why) in [
            ("{\"format\": 1, \"instance\": \"x\"", "damaged saved state"),
            ("{\"format\": 99}", "format 99, this pglog reads format 1"),
            ("[]", "damaged saved state"),
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(read(&path, "x").err().unwrap().contains(why), "{text}");
            let mut file = StateFile::open(dir.path(), "x");
            assert!(file
                .take_for(&server("1"), Duration::from_secs(600))
                .is_none());
        }
        StateFile::open(dir.path(), "y").save(&server("1"), 0, &Series::default());
        std::fs::rename(StateFile::path_for(dir.path(), "y"), &path).unwrap();
        assert!(read(&path, "x").err().unwrap().contains("instance `y`"));
    }

    #[test]
    fn a_state_dir_that_cannot_be_written_fails_no_save() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        // Below a plain file: no directory can be made there, even by root.
        let mut file = StateFile::open(&plain.join("sub"), "x");
        file.save(&server("1"), 0, &Series::default());
        assert!(file.save_failing);
        file.save(&server("1"), 0, &Series::default());
        assert!(file.save_failing);
    }
}
