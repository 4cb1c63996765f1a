//! Inputs that are not local files: a named byte stream the caller opens on
//! demand (an object in a bucket, a log file behind an API). The engine reads
//! it as it reads a file found in a directory, knowing nothing of where the
//! bytes come from.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;

/// Opens the stream from its start; called once, by the worker that reads it.
pub type OpenStream = Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct StreamInput {
    /// What reports and errors call it, e.g. `s3://bucket/key`.
    pub name: String,
    /// Its size when known beforehand, for the progress display.
    pub size: Option<u64>,
    pub open: OpenStream,
}

impl StreamInput {
    pub fn new(
        name: impl Into<String>,
        size: Option<u64>,
        open: impl Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync + 'static,
    ) -> StreamInput {
        StreamInput {
            name: name.into(),
            size,
            open: Arc::new(open),
        }
    }
}

impl fmt::Debug for StreamInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamInput")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Two streams are the same input when they have the same name.
impl PartialEq for StreamInput {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for StreamInput {}
