use serde::Serialize;
use std::io::{self, Write};

/// Writes a report (or a diff) as one pretty-printed JSON document.
pub fn write_json<T: Serialize, W: Write>(report: &T, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}
