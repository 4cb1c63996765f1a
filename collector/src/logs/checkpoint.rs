//! Where log shipping has got to, per file: the file's identity (device,
//! inode and a checksum of its first bytes) and the offset up to which
//! CloudWatch Logs has accepted its records. Written atomically
//! ([`crate::atomic_file`]) and only after a batch was
//! accepted, so a crash can repeat a batch but never skip one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many leading bytes identify a file beyond its inode: enough to hold
/// the first record's timestamp, which a truncated-and-rewritten file
/// (`log_truncate_on_rotation`) does not share.
pub const HEAD_BYTES: usize = 256;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileMark {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    /// FNV-1a of the first `min(offset, HEAD_BYTES)` bytes.
    pub head: u64,
    pub head_len: usize,
    /// Everything before this offset has been shipped.
    pub offset: u64,
    pub stream: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Keyed by `dev:ino`.
    pub files: BTreeMap<String, FileMark>,
}

pub fn key(dev: u64, ino: u64) -> String {
    format!("{dev}:{ino}")
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

impl Checkpoint {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("log-shipping.json")
    }

    /// The saved checkpoint, or an empty one when there is none yet. A
    /// damaged file is an error: starting over would ship everything again.
    pub fn load(state_dir: &Path) -> anyhow::Result<Checkpoint> {
        let path = Checkpoint::path(state_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: damaged checkpoint ({e}); move it away to ship every log file again",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }

    pub fn save(&self, state_dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("serializable");
        crate::atomic_file::write(&Checkpoint::path(state_dir), &bytes)
    }
}
