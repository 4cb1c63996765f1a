//! The analyzer engine: expands inputs, reads each with `pglog-logparse`,
//! folds the events into mergeable statistics and builds the report model.
//! It knows nothing of the command line; `pglog analyze` fills
//! [`AnalyzeOptions`] and calls [`analyze`].

pub mod baseline;
mod baseline_report;
pub mod changes;
pub mod diff;
mod diff_report;
mod error;
pub mod event_details;
pub mod filter;
pub mod fingerprint;
pub mod incident_report;
mod incidents;
mod inputs;
mod language;
mod options;
pub mod pgbouncer;
mod pipeline;
pub mod plan;
mod report;
mod report_cells;
mod run;
mod run_pgbouncer;
mod sections;
mod segments;
pub mod server;
mod since;
mod split;
mod state;
pub mod stats;
mod stream;
mod stream_split;
mod summary;
mod text;
mod time_text;
pub mod timeline;
mod totals;

pub use error::AnalyzeError;
pub use inputs::{expand_all, expand_inputs, InputSpec};
pub use language::{warnings as language_warnings, LanguageWarning};
pub use options::AnalyzeOptions;
pub use report::{
    report_json_schema, FileReport, ForeignSample, InputReport, MalformedSample, Report, SkipKind,
    SkippedFile, SummaryReport, REPORT_SCHEMA,
};
pub use report_cells::*;
pub use run::{analyze, run_analysis, Analysis};
pub use sections::*;
pub use state::{load_state, read_state, save_state, StateError, STATE_VERSION};
pub use stream::{OpenStream, StreamInput};
pub use summary::{LanguageCount, Summary};
pub use time_text::{rfc3339, utc_offset};
