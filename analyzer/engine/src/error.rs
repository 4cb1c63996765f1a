use std::io;
use std::path::PathBuf;

/// Why an analysis could not run. Each names the input it is about.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{pattern}: no such file, and no file matches it as a pattern")]
    NoMatch { pattern: String },
    #[error("invalid glob pattern {pattern}: {message}")]
    BadPattern { pattern: String, message: String },
    #[error("{path}: directory has no log files")]
    EmptyDirectory { path: PathBuf },
    #[error("{path}: {message}")]
    Unrecognized { path: PathBuf, message: String },
    #[error("no input given: name log files, directories, globs, or - for standard input")]
    NoInput,
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Several(Vec<AnalyzeError>),
}
