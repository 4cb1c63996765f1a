//! The saved state of an analysis (`--save-state`), read back by
//! `pglog merge` and `pglog diff`.
//!
//! Layout: the 8 bytes `PGLOGST\0`, a little-endian u32 format version, then
//! a zstd stream of the postcard encoding of [`Analysis`]. A reader refuses
//! any other version with a message that says which versions it reads.

use crate::run::Analysis;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"PGLOGST\0";
/// 5: the statistics of pgbouncer logs.
/// 6: the details of vacuum, wraparound, lock and transaction-state events,
/// and the unclassified messages.
/// 7: errors by error class and the constraints violated.
/// 8: crashes, archiving, page checksums and connection problems.
/// 9: the per-minute series and detail of incident detection, and the
/// 10-second slices of short logs' charts.
pub const STATE_VERSION: u32 = 9;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a pglog state file (written by `pglog analyze --save-state`)")]
    NotState { path: PathBuf },
    #[error("{path}: state format version {found}, this pglog reads version {STATE_VERSION}; analyze the logs again with this version")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: damaged state file: {message}")]
    Damaged { path: PathBuf, message: String },
}

pub fn save_state(a: &Analysis, path: &Path) -> Result<(), StateError> {
    let io_err = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = postcard::to_stdvec(a).map_err(|e| StateError::Damaged {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // Write beside the target, then rename: a crash never leaves half a state.
    let tmp = path.with_extension("tmp-pglog");
    let mut w = BufWriter::new(File::create(&tmp).map_err(io_err)?);
    w.write_all(MAGIC).map_err(io_err)?;
    w.write_all(&STATE_VERSION.to_le_bytes()).map_err(io_err)?;
    zstd::stream::copy_encode(&bytes[..], &mut w, 3).map_err(io_err)?;
    w.into_inner()
        .map_err(|e| io_err(e.into_error()))?
        .sync_all()
        .map_err(io_err)?;
    std::fs::rename(&tmp, path).map_err(io_err)
}

pub fn load_state(path: &Path) -> Result<Analysis, StateError> {
    let file = File::open(path).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_state(BufReader::new(file), path)
}

/// Decodes a state from any byte stream; `path` names it in errors.
pub fn read_state<R: Read>(mut r: R, path: &Path) -> Result<Analysis, StateError> {
    let mut head = [0u8; 12];
    if r.read_exact(&mut head).is_err() || &head[..8] != MAGIC {
        return Err(StateError::NotState {
            path: path.to_path_buf(),
        });
    }
    let found = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if found != STATE_VERSION {
        return Err(StateError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    let mut bytes = Vec::new();
    zstd::stream::copy_decode(r, &mut bytes).map_err(|e| StateError::Damaged {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    postcard::from_bytes(&bytes).map_err(|e| StateError::Damaged {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
