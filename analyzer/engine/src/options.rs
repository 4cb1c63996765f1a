use crate::filter::Filters;
use crate::stats::Limits;
use crate::stream::StreamInput;
use pglog_logparse::format::DEFAULT_MAX_RECORD_BYTES;
use pglog_logparse::{InputFormat, Prefix, ReaderBuilder};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Everything `analyze` needs, already validated.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Files, directories, glob patterns, or `-` for standard input.
    pub inputs: Vec<String>,
    /// Byte streams read after `inputs` (objects in a bucket, ...).
    pub streams: Vec<StreamInput>,
    pub format: InputFormat,
    /// `log_line_prefix` for stderr/syslog input; detected per file when `None`.
    pub prefix: Option<Prefix>,
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    pub max_record_bytes: usize,
    /// How many malformed stretches are listed with their position.
    pub malformed_samples: usize,
    /// Caps that bound memory.
    pub limits: Limits,
    /// Split plain csv/json files into ranges of this many bytes; chosen
    /// from the file size and `jobs` when `None`.
    pub chunk_bytes: Option<u64>,
    /// Which records the report covers; `None` keeps every record.
    pub filter: Option<Filters>,
    /// Incremented with the input bytes read, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            inputs: Vec::new(),
            streams: Vec::new(),
            format: InputFormat::Auto,
            prefix: None,
            jobs: 0,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            malformed_samples: 20,
            limits: Limits::default(),
            chunk_bytes: None,
            filter: None,
            progress: None,
        }
    }
}

impl AnalyzeOptions {
    /// A reader builder with the options' format, prefix and record limit.
    pub(crate) fn reader_builder(&self) -> ReaderBuilder {
        let mut b = ReaderBuilder::new();
        b.format(self.format)
            .prefix(self.prefix.clone())
            .max_record_bytes(self.max_record_bytes);
        b
    }
}
