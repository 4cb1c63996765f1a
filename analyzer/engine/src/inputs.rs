//! Turning the command line's PATH arguments into a list of inputs.

use crate::AnalyzeError;
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
}

impl InputSpec {
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::Stdin => "-".to_string(),
            InputSpec::File { path, .. } => path.display().to_string(),
        }
    }
}

/// Extensions of files that sit next to logs but are not logs.
const NOT_LOGS: &[&str] = &[
    "md", "sh", "py", "rs", "toml", "yml", "yaml", "conf", "pid", "html", "sql", "opts",
];

/// Expands files, directories (recursively, sorted) and glob patterns.
pub fn expand_inputs(args: &[String]) -> Result<Vec<InputSpec>, AnalyzeError> {
    if args.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(InputSpec::Stdin);
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            let before = out.len();
            walk_dir(path, &mut out)?;
            if out.len() == before {
                return Err(AnalyzeError::EmptyDirectory {
                    path: path.to_path_buf(),
                });
            }
        } else if path.exists() || !arg.contains(['*', '?', '[']) {
            out.push(InputSpec::File {
                path: path.to_path_buf(),
                explicit: true,
            });
        } else {
            let entries = glob::glob(arg).map_err(|e| AnalyzeError::BadPattern {
                pattern: arg.clone(),
                message: e.to_string(),
            })?;
            let mut matched: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            if matched.is_empty() {
                return Err(AnalyzeError::NoMatch {
                    pattern: arg.clone(),
                });
            }
            matched.sort();
            out.extend(matched.into_iter().map(|path| InputSpec::File {
                path,
                explicit: true,
            }));
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<InputSpec>) -> Result<(), AnalyzeError> {
    let read = std::fs::read_dir(dir).map_err(|source| AnalyzeError::Open {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk_dir(&path, out)?;
        } else if path.is_file() {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !NOT_LOGS.contains(&ext) {
                out.push(InputSpec::File {
                    path,
                    explicit: false,
                });
            }
        }
    }
    Ok(())
}
