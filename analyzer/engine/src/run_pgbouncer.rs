//! Reading one pgbouncer log into statistics: its lines fold into
//! [`Stats::pgbouncer`], its malformed lines into the summary with file and
//! line, like a PostgreSQL log's.

use crate::report::FileReport;
use crate::stats::pgbouncer::PgbouncerFolder;
use crate::stats::Stats;
use crate::{AnalyzeError, AnalyzeOptions};
use pglog_logparse::format::pgbouncer::{PgbouncerItem, PgbouncerReader};
use pglog_logparse::source::Compression;
use pglog_logparse::Malformed;
use std::path::Path;

/// What reading a pgbouncer log gave.
pub(crate) enum PgbouncerRead {
    Read(FileReport, Stats),
    /// Not one line was pgbouncer's.
    NoLines {
        sample: String,
    },
}

pub(crate) fn read_pgbouncer(
    mut reader: PgbouncerReader,
    name: &str,
    path: &Path,
    compression: Compression,
    opts: &AnalyzeOptions,
) -> Result<PgbouncerRead, AnalyzeError> {
    let mut stats = Stats::new(opts.limits);
    let mut folder = PgbouncerFolder::new(opts.limits);
    let keep = opts.malformed_samples;
    loop {
        let item = reader.next_item().map_err(|source| AnalyzeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        match item {
            Some(PgbouncerItem::Line(l)) => {
                if let Some(t) = l.time {
                    stats.summary.note_zone(t);
                }
                let socket = l.socket;
                let kept = opts.filter.as_ref().is_none_or(|f| {
                    f.keeps_pgbouncer(
                        l.time,
                        socket.map(|s| s.database),
                        socket.map(|s| s.user),
                        socket.map(|s| s.host),
                    )
                });
                if kept {
                    folder.add(&l)
                } else {
                    stats.summary.filtered += 1;
                    folder.pass(&l)
                }
            }
            Some(PgbouncerItem::Malformed(m)) => stats.summary.add_malformed(name, m, keep),
            Some(PgbouncerItem::Blank) => {}
            None => break,
        }
    }
    if let Some(e) = reader.take_read_error() {
        // A cut compressed stream or a failing disk: keep what was read.
        let m = Malformed::reading_stopped(reader.line_number(), reader.bytes_read(), &e);
        stats.summary.add_malformed(name, m, keep);
    }
    stats.pgbouncer = folder.finish();
    if stats.pgbouncer.lines == 0 && stats.summary.filtered == 0 {
        return Ok(PgbouncerRead::NoLines {
            sample: reader.sample_line().to_string(),
        });
    }
    let file = FileReport {
        path: name.to_string(),
        format: "pgbouncer".to_string(),
        compression: compression.as_str().to_string(),
        prefix: None,
        prefix_inferred: false,
        bytes: reader.bytes_read(),
        records: stats.pgbouncer.lines,
        malformed: stats.summary.malformed,
        foreign_lines: stats.summary.foreign_lines,
        filtered: stats.summary.filtered,
        changed: None,
        ..Default::default()
    };
    Ok(PgbouncerRead::Read(file, stats))
}
