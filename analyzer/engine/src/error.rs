use crate::report::SkippedFile;
use std::io;
use std::path::PathBuf;

/// Why an analysis could not run. Each names the input it is about.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    /// A compressed input whose stream failed before its first record.
    #[error("cannot decompress {path} ({compression}), no record could be read: {source}")]
    Decompress {
        path: PathBuf,
        compression: &'static str,
        source: io::Error,
    },
    #[error("{path}: no log record: the input is empty")]
    Empty { path: PathBuf },
    #[error("{pattern}: no such file, and no file matches it as a pattern")]
    NoMatch { pattern: String },
    #[error("invalid glob pattern {pattern}: {message}")]
    BadPattern { pattern: String, message: String },
    #[error("{path} is {first}, read once")]
    Duplicate { path: PathBuf, first: PathBuf },
    #[error("{path}: directory has no log files")]
    EmptyDirectory { path: PathBuf },
    #[error("{path}: {message}")]
    Unrecognized { path: PathBuf, message: String },
    #[error("no input given: name log files, directories, globs, or - for standard input")]
    NoInput,
    /// Every input was left out as not a log.
    #[error("no PostgreSQL log among the inputs; left out: {}", left_out(.skipped))]
    NoLogs { skipped: Vec<SkippedFile> },
    #[error("--since counts back from the log's last record, and standard input cannot be read twice: save it to a file, or give --begin")]
    SinceNeedsFiles,
    #[error(
        "--since counts back from the log's last record, and no record of the inputs has a time"
    )]
    SinceWithoutTimes,
}

impl AnalyzeError {
    /// What went wrong with the input the error names, without its name:
    /// the reason of a skipped entry, which has its own path.
    pub fn reason(&self) -> String {
        match self {
            AnalyzeError::Open { source, .. } => format!("cannot open: {source}"),
            AnalyzeError::Read { source, .. } => format!("cannot read: {source}"),
            AnalyzeError::Decompress {
                compression,
                source,
                ..
            } => format!("cannot decompress ({compression}), no record could be read: {source}"),
            AnalyzeError::Empty { .. } => "empty file".to_string(),
            AnalyzeError::NoMatch { .. } => {
                "no such file, and no file matches it as a pattern".to_string()
            }
            AnalyzeError::Duplicate { first, .. } => {
                format!("the same file as {}, read once", first.display())
            }
            AnalyzeError::EmptyDirectory { .. } => "directory has no log files".to_string(),
            AnalyzeError::Unrecognized { message, .. } => message.clone(),
            e => e.to_string(),
        }
    }
}

/// The files left out, with why; the first few of a long list.
fn left_out(skipped: &[SkippedFile]) -> String {
    const SHOWN: usize = 10;
    let mut text: Vec<String> = skipped
        .iter()
        .take(SHOWN)
        .map(|s| format!("{} ({})", s.path, s.reason))
        .collect();
    if skipped.len() > SHOWN {
        text.push(format!("and {} more", skipped.len() - SHOWN));
    }
    text.join(", ")
}
