//! Turning the command line's PATH arguments into a list of inputs.
//!
//! Each file is read once however it is reached (two paths, a symlink, a
//! directory and a file in it), and a directory reached again through a
//! symlink loop is not walked again.

use crate::report::{SkipKind, SkippedFile};
use crate::stream::StreamInput;
use crate::AnalyzeError;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    Stdin,
    /// `explicit` is false for files found by walking a directory or a glob;
    /// those are skipped, with a note, when they turn out not to be logs.
    File {
        path: PathBuf,
        explicit: bool,
    },
    /// Read like a file found in a directory: left out, with a note, when
    /// it is not a log or cannot be read.
    Stream(StreamInput),
}

impl InputSpec {
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::Stdin => "-".to_string(),
            InputSpec::File { path, .. } => path.display().to_string(),
            InputSpec::Stream(s) => s.name.clone(),
        }
    }
}

/// The inputs to read, and the arguments that gave nothing to read.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<InputSpec>,
    /// Each with the error it would be on its own.
    pub skipped: Vec<(SkippedFile, AnalyzeError)>,
}

/// Extensions of files that sit next to logs but are not logs.
const NOT_LOGS: &[&str] = &[
    "md", "sh", "py", "rs", "toml", "yml", "yaml", "conf", "pid", "html", "sql", "opts",
];

/// Where a file lives, whatever path reaches it.
type FileId = (u64, u64);

fn file_id(meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// Expands the paths, then adds the streams after them.
pub fn expand_all(args: &[String], streams: &[StreamInput]) -> Result<Expanded, AnalyzeError> {
    let mut out = if args.is_empty() && !streams.is_empty() {
        Expanded::default()
    } else {
        expand_inputs(args)?
    };
    out.inputs
        .extend(streams.iter().cloned().map(InputSpec::Stream));
    Ok(out)
}

/// Expands files, directories (recursively, sorted) and glob patterns.
/// Only a command line that names nothing, or a pattern that is not one,
/// is an error: an argument that gives no log is a skipped entry.
pub fn expand_inputs(args: &[String]) -> Result<Expanded, AnalyzeError> {
    if args.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    let mut ex = Expander::default();
    for arg in args {
        ex.argument(arg)?;
    }
    Ok(ex.out)
}

#[derive(Default)]
struct Expander {
    out: Expanded,
    /// Files taken, with the path they were first reached by.
    files: HashMap<FileId, PathBuf>,
    /// Directories walked (a symlink loop leads back to one).
    dirs: HashMap<FileId, PathBuf>,
    /// Files reached so far, whether taken or duplicates.
    reached: usize,
}

impl Expander {
    fn argument(&mut self, arg: &str) -> Result<(), AnalyzeError> {
        if arg == "-" {
            self.out.inputs.push(InputSpec::Stdin);
            return Ok(());
        }
        let path = Path::new(arg);
        if path.is_dir() {
            if let Some(first) = self.walked_before(path) {
                let error = AnalyzeError::Duplicate {
                    path: path.to_path_buf(),
                    first,
                };
                self.skip(path, SkipKind::Duplicate, error);
                return Ok(());
            }
            let before = self.reached;
            self.walk_dir(path);
            if self.reached == before {
                let error = AnalyzeError::EmptyDirectory {
                    path: path.to_path_buf(),
                };
                self.skip(path, SkipKind::NotLog, error);
            }
        } else if path.exists() || !arg.contains(['*', '?', '[']) {
            // A path that does not exist is tried, so that its error is the
            // system's own ("No such file or directory").
            self.file(path, true);
        } else {
            let entries = glob::glob(arg).map_err(|e| AnalyzeError::BadPattern {
                pattern: arg.to_string(),
                message: e.to_string(),
            })?;
            let mut matched: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            if matched.is_empty() {
                let error = AnalyzeError::NoMatch {
                    pattern: arg.to_string(),
                };
                self.skip(path, SkipKind::Unreadable, error);
            }
            matched.sort();
            for p in matched {
                self.file(&p, true);
            }
        }
        Ok(())
    }

    fn skip(&mut self, path: &Path, kind: SkipKind, error: AnalyzeError) {
        let reason = error.reason();
        self.out.skipped.push((
            SkippedFile {
                path: path.display().to_string(),
                reason,
                kind,
            },
            error,
        ));
    }

    /// The path a directory was walked by before, if it was.
    fn walked_before(&self, dir: &Path) -> Option<PathBuf> {
        let m = std::fs::metadata(dir).ok()?;
        self.dirs.get(&file_id(&m)).cloned()
    }

    fn file(&mut self, path: &Path, explicit: bool) {
        self.reached += 1;
        // A file that cannot be looked at is still tried: opening it says
        // why. (A link to nowhere is known by the link itself.)
        if let Ok(meta) = std::fs::metadata(path).or_else(|_| std::fs::symlink_metadata(path)) {
            match self.files.get(&file_id(&meta)) {
                Some(first) => {
                    let error = AnalyzeError::Duplicate {
                        path: path.to_path_buf(),
                        first: first.clone(),
                    };
                    return self.skip(path, SkipKind::Duplicate, error);
                }
                None => {
                    self.files.insert(file_id(&meta), path.to_path_buf());
                }
            }
        }
        self.out.inputs.push(InputSpec::File {
            path: path.to_path_buf(),
            explicit,
        });
    }

    fn walk_dir(&mut self, dir: &Path) {
        match std::fs::metadata(dir) {
            Ok(m) => {
                if let Some(first) = self.dirs.get(&file_id(&m)) {
                    // A symlink loop, or a link to a directory already walked.
                    let error = AnalyzeError::Duplicate {
                        path: dir.to_path_buf(),
                        first: first.clone(),
                    };
                    return self.skip(dir, SkipKind::Duplicate, error);
                }
                self.dirs.insert(file_id(&m), dir.to_path_buf());
            }
            Err(source) => {
                let error = AnalyzeError::Open {
                    path: dir.to_path_buf(),
                    source,
                };
                return self.skip(dir, SkipKind::Unreadable, error);
            }
        }
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(source) => {
                let error = AnalyzeError::Open {
                    path: dir.to_path_buf(),
                    source,
                };
                return self.skip(dir, SkipKind::Unreadable, error);
            }
        };
        let mut entries: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
        // Real entries before links, so a file is named by its own path.
        entries.sort_by_cached_key(|p| (p.is_symlink(), p.clone()));
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                self.walk_dir(&path);
            } else if path.is_file() || !path.exists() {
                // A link to nowhere is tried too: opening it says why it is left out.
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !NOT_LOGS.contains(&ext) {
                    self.file(&path, false);
                }
            }
        }
    }
}
