//! Files that changed while they were read: a log still being written, a
//! rotation that truncated or replaced it. The report says so instead of
//! presenting a partial read as the whole file.

use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

/// What identifies a file's contents at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    len: u64,
    modified: Option<SystemTime>,
    dev: u64,
    ino: u64,
}

impl FileState {
    /// The file's state now; `None` when it cannot be stat'ed.
    pub fn of(path: &Path) -> Option<FileState> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileState {
            len: m.len(),
            modified: m.modified().ok(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// How a file changed between the start and the end of its read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileChange {
    /// `appended`, `truncated`, `rewritten` (same size, new contents),
    /// `replaced` (another file now has the name) or `removed`.
    pub change: String,
    pub bytes_at_start: u64,
    /// `null` when the file is gone.
    pub bytes_at_end: Option<u64>,
}

/// The change from `before` to the file's state now, if any.
pub fn change_since(path: &Path, before: &FileState) -> Option<FileChange> {
    let now = FileState::of(path);
    let change = match &now {
        None => "removed",
        Some(n) if (n.dev, n.ino) != (before.dev, before.ino) => "replaced",
        Some(n) if n.len > before.len => "appended",
        Some(n) if n.len < before.len => "truncated",
        Some(n) if n.modified != before.modified => "rewritten",
        Some(_) => return None,
    };
    Some(FileChange {
        change: change.to_string(),
        bytes_at_start: before.len,
        bytes_at_end: now.map(|n| n.len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn each_kind_of_change_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abcdef").unwrap();
        let s = FileState::of(&p).unwrap();
        assert_eq!(change_since(&p, &s), None);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"gh")
            .unwrap();
        assert_eq!(change_since(&p, &s).unwrap().change, "appended");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(2)
            .unwrap();
        let c = change_since(&p, &s).unwrap();
        assert_eq!((c.change.as_str(), c.bytes_at_end), ("truncated", Some(2)));
        let q = dir.path().join("g");
        std::fs::write(&q, b"abcdef").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert_eq!(change_since(&p, &s).unwrap().change, "replaced");
        std::fs::remove_file(&p).unwrap();
        assert_eq!(change_since(&p, &s).unwrap().change, "removed");
    }
}
