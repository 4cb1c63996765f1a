use pglog_analyzer::Report;
use std::io::{self, Write};

/// Writes the report as one pretty-printed JSON document.
pub fn write_json<W: Write>(report: &Report, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}
