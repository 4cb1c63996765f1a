//! The command line. Its values are turned into engine options here, before
//! any engine runs.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use pglog_analyzer::AnalyzeOptions;
use pglog_logparse::{InputFormat, Prefix};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pglog",
    version,
    about = "PostgreSQL log analyzer and metrics collector"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read PostgreSQL logs and report what they hold.
    Analyze(AnalyzeArgs),
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Log files, directories, glob patterns, or - for standard input.
    /// Compressed files (gzip, zstd, bzip2, xz) are read directly.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// Log format; `auto` looks at each file's first lines.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto, value_name = "FORMAT")]
    pub input_format: FormatArg,

    /// The server's log_line_prefix, for stderr and syslog logs
    /// (e.g. '%m [%p] %q%u@%d/%a '). Detected when not given.
    #[arg(long, value_name = "LOG_LINE_PREFIX", allow_hyphen_values = true)]
    pub prefix: Option<String>,

    /// Report format: text (terminal summary) or json. Default: from the
    /// --output file's extension, else text.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Where to write the report; - for standard output.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub output: String,

    /// Worker threads (default: one per core).
    #[arg(short, long, value_name = "N", default_value_t = 0)]
    pub jobs: usize,

    /// Longest record accepted, in bytes; longer ones are counted as malformed.
    #[arg(long, value_name = "BYTES", default_value_t = pglog_logparse::format::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_bytes: usize,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Auto,
    Csv,
    Json,
    Stderr,
    Syslog,
    Rds,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

/// Where and how the report goes.
pub struct OutputPlan {
    pub format: OutputFormat,
    pub path: Option<PathBuf>,
}

impl AnalyzeArgs {
    pub fn to_options(&self) -> anyhow::Result<(AnalyzeOptions, OutputPlan)> {
        let prefix = match &self.prefix {
            Some(p) => Some(Prefix::parse(p).context("--prefix")?),
            None => None,
        };
        if self.max_record_bytes < 1024 {
            bail!(
                "--max-record-bytes must be at least 1024, got {}",
                self.max_record_bytes
            );
        }
        let opts = AnalyzeOptions {
            inputs: self.paths.clone(),
            format: match self.input_format {
                FormatArg::Auto => InputFormat::Auto,
                FormatArg::Csv => InputFormat::Csv,
                FormatArg::Json => InputFormat::Json,
                FormatArg::Stderr => InputFormat::Stderr,
                FormatArg::Syslog => InputFormat::Syslog,
                FormatArg::Rds => InputFormat::Rds,
            },
            prefix,
            jobs: self.jobs,
            max_record_bytes: self.max_record_bytes,
            ..AnalyzeOptions::default()
        };
        let path = (self.output != "-").then(|| PathBuf::from(&self.output));
        let format = match (self.format, &path) {
            (Some(f), _) => f,
            (None, Some(p)) => match p.extension().and_then(|e| e.to_str()) {
                Some("json") => OutputFormat::Json,
                Some("txt") | None => OutputFormat::Text,
                Some(other) => bail!(
                    "--output {}: cannot tell the report format from '.{other}'; use --format text or --format json",
                    p.display()
                ),
            },
            (None, None) => OutputFormat::Text,
        };
        Ok((opts, OutputPlan { format, path }))
    }
}
