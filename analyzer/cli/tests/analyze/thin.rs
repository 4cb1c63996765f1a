//! Thin logs: no timed query, no error, one record, only a standby's
//! messages. Every report format renders a valid report of each, whatever
//! the input format. And the edges: empty and undecodable inputs, and error
//! messages that name the real cause once.
//!
//! The thin logs come from real servers: a primary and its streaming
//! standby started here with `log_min_duration_statement = -1` and every
//! log destination, and whole records cut from the sample logs (the first
//! one, the lines before the first timed query, the first timed query).

use super::cluster::{wait_for, written, Cluster};
use super::html::{open_in_chromium, SECTIONS};
use super::schema::schema_errors;
use super::*;
use std::sync::OnceLock;

/// What a thin log holds, checked in its JSON report.
#[derive(Clone, Copy)]
struct Holds {
    queries: u64,
    errors: bool,
    /// The exact record count, when the log was cut to it.
    records: Option<u64>,
}

const NOTHING: Holds = Holds {
    queries: 0,
    errors: false,
    records: None,
};

struct ThinLog {
    what: String,
    path: PathBuf,
    input_format: &'static str,
    holds: Holds,
}

/// Where the thin logs are written, once per test run.
fn thin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("thin-logs");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
    .clone()
}

/// A statement whose error message and STATEMENT line carry ESC, BEL and
/// the C1 control CSI (U+009B): terminal escapes in a relation name.
const CONTROL_NAME: &str = "\u{1b}[31mred\u{7}\u{9b}0m";
/// How the HTML page and the Markdown summary show it (the terminal
/// summary shows no text from this record); the JSON keeps it exactly.
const CONTROL_SHOWN: [(&str, &str); 2] = [("html", "?[31mred??0m"), ("md", "?\\[31mred??0m")];

const LOGGING: &str = "\
lc_messages = 'C'
log_timezone = 'UTC'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_min_duration_statement = -1
wal_level = replica
max_wal_senders = 5
hot_standby = on";

/// Runs the servers once and copies their logs: `quiet.*` (the primary's
/// start and statements that are not logged), `errors.*` (failing
/// statements, a base backup's checkpoint, the shutdown) and `standby.*`
/// (a standby's recovery and streaming, with the RDS prefix), each as
/// `.log`, `.csv` and `.json`.
pub(super) fn cluster_logs() -> &'static Path {
    static LOGS: OnceLock<PathBuf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let mut primary = Cluster::init(&format!(
            "{LOGGING}\nlog_directory = 'log'\nlog_filename = 'quiet.log'\nlog_line_prefix = '%m [%p] '"
        ));
        primary.start();
        primary.sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        primary.sql("SELECT count(*) FROM t WHERE g % 7 = 0");
        // A new log_filename makes the logging collector switch files.
        primary.sql("ALTER SYSTEM SET log_filename = 'errors.log'");
        primary.sql("SELECT pg_reload_conf()");
        wait_for("the logging collector to open errors.*", || {
            ["log", "csv", "json"]
                .iter()
                .all(|ext| primary.file(&format!("log/errors.{ext}")).exists())
        });
        assert!(!primary.psql("SELECT 1 / (g - g) FROM t").0);
        assert!(
            !primary
                .psql(&format!("SELECT * FROM \"{CONTROL_NAME}\""))
                .0
        );

        let mut standby = Cluster::standby_of(
            &primary,
            "log_directory = 'standby-log'\nlog_filename = 'standby.log'\nlog_line_prefix = '%t:%r:%u@%d:[%p]:'",
        );
        standby.start();
        wait_for("the standby to stream", || {
            standby.psql("SELECT status FROM pg_stat_wal_receiver").1 == "streaming"
        });
        assert_eq!(standby.sql("SELECT count(*) FROM t"), "1000");
        standby.stop();
        primary.stop();

        let dir = thin_dir().join("cluster");
        std::fs::create_dir_all(&dir).unwrap();
        for ext in ["log", "csv", "json"] {
            for (from, name) in [
                (primary.file(&format!("log/quiet.{ext}")), "quiet"),
                (primary.file(&format!("log/errors.{ext}")), "errors"),
                (standby.file(&format!("standby-log/standby.{ext}")), "standby"),
            ] {
                assert!(written(&from), "{} is empty", from.display());
                std::fs::copy(&from, dir.join(format!("{name}.{ext}"))).unwrap();
            }
        }
        dir
    })
}

/// Whole records cut from a sample log: the first record, everything
/// before the first timed query, and that query's record alone.
fn sample_cuts(file: &str, format: &'static str) -> Vec<ThinLog> {
    let text = std::fs::read(sample(file)).unwrap();
    let mut starts = record_start_lines(&text, format);
    starts.push(text.len());
    let record = |i: usize| &text[starts[i]..starts[i + 1]];
    let first_query = (0..starts.len() - 1)
        .find(|&i| record(i).windows(9).any(|w| w == b"duration:"))
        .expect("a timed query");
    let dir = thin_dir().join("cuts");
    std::fs::create_dir_all(&dir).unwrap();
    let cut = |name: &str, bytes: &[u8], holds: Holds| ThinLog {
        what: format!("{name} of {file}"),
        path: write(
            &dir,
            &format!("{name}-{file}").replace([' ', '/'], "-"),
            bytes,
        ),
        input_format: "auto",
        holds,
    };
    vec![
        cut(
            "the first record",
            record(0),
            Holds {
                records: Some(1),
                ..NOTHING
            },
        ),
        cut(
            "the lines before the first timed query",
            &text[..starts[first_query]],
            Holds {
                records: Some(first_query as u64),
                ..NOTHING
            },
        ),
        cut(
            "the first timed query",
            record(first_query),
            Holds {
                queries: 1,
                errors: false,
                records: Some(1),
            },
        ),
    ]
}

/// Every thin log, made once per run.
fn thin_logs() -> &'static [ThinLog] {
    static LOGS: OnceLock<Vec<ThinLog>> = OnceLock::new();
    LOGS.get_or_init(make_thin_logs)
}

fn make_thin_logs() -> Vec<ThinLog> {
    let dir = cluster_logs();
    let mut logs = Vec::new();
    for ext in ["csv", "json", "log"] {
        for (name, holds) in [
            ("quiet", NOTHING),
            (
                "errors",
                Holds {
                    errors: true,
                    ..NOTHING
                },
            ),
            // The walreceiver's FATAL "terminating walreceiver process due
            // to administrator command" at shutdown is a standby's too.
            (
                "standby",
                Holds {
                    errors: true,
                    ..NOTHING
                },
            ),
        ] {
            logs.push(ThinLog {
                what: format!("the {name} server log ({ext})"),
                path: dir.join(format!("{name}.{ext}")),
                input_format: "auto",
                holds,
            });
        }
    }
    logs.push(ThinLog {
        what: "the standby log read as RDS".into(),
        path: dir.join("standby.log"),
        input_format: "rds",
        holds: Holds {
            errors: true,
            ..NOTHING
        },
    });
    for (file, format) in [
        ("primary/postgresql.csv", "csv"),
        ("primary/postgresql.json", "json"),
        ("primary/postgresql.log", "stderr"),
        ("rds/postgresql.syslog", "syslog"),
    ] {
        logs.extend(sample_cuts(file, format));
    }
    logs
}

fn report(log: &ThinLog, format: &str, out: &Path) -> Result<(), String> {
    let run = pglog(&[
        "analyze",
        "--input-format",
        log.input_format,
        "--format",
        format,
        "-o",
        out.to_str().unwrap(),
        log.path.to_str().unwrap(),
    ]);
    if !run.status.success() {
        return Err(format!(
            "{format}: {} {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    Ok(())
}

/// The problems of one thin log's reports, in every format.
fn check_reports(log: &ThinLog, out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for format in ["json", "html", "md", "text"] {
        if let Err(e) = report(log, format, &out.join(format!("report.{format}"))) {
            problems.push(e);
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap())
        .expect("one JSON document");
    problems.extend(schema_errors(&doc));
    let h = log.holds;
    let errors = ["ERROR", "FATAL", "PANIC"]
        .iter()
        .map(|s| n(&doc, &format!("/summary/severities/{s}")))
        .sum::<u64>();
    let records = n(&doc, "/input/records");
    for (what, ok) in [
        (
            "records",
            records > 0 && h.records.is_none_or(|r| r == records),
        ),
        ("malformed", n(&doc, "/input/malformed") == 0),
        ("queries", n(&doc, "/summary/queries") == h.queries),
        ("errors", (errors > 0) == h.errors),
    ] {
        if !ok {
            problems.push(format!("json: unexpected {what}: {}", doc["summary"]));
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    if !html.trim_end().ends_with("</html>") {
        problems.push("html: the page is cut".into());
    }
    for id in SECTIONS {
        if !html.contains(&format!("id=\"{id}\"")) {
            problems.push(format!("html: section {id} missing"));
        }
    }
    // A value the log did not give is `-`, not the template engine's `None`.
    if html.contains(" None ") {
        problems.push("html: `None` shown for a missing value".into());
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    if !md.starts_with("# PostgreSQL log report") {
        problems.push("md: no heading".into());
    }
    let text = std::fs::read_to_string(out.join("report.text")).unwrap();
    if !text.contains(&format!("{records} records")) {
        problems.push(format!("text: no record count: {text}"));
    }
    problems
}

#[test]
fn every_report_format_renders_every_thin_log() {
    let dir = tmp();
    let mut problems = Vec::new();
    for (i, log) in thin_logs().iter().enumerate() {
        let out = dir.path().join(i.to_string());
        std::fs::create_dir(&out).unwrap();
        for p in check_reports(log, &out) {
            problems.push(format!("{}: {p}", log.what));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn chromium_opens_the_thin_reports_without_a_console_message() {
    let dir = tmp();
    // One page per kind of thin log; the input format does not change the page.
    for log in thin_logs()
        .iter()
        .filter(|l| l.path.extension().is_some_and(|e| e == "csv"))
    {
        let page = dir.path().join("report.html");
        report(log, "html", &page).unwrap();
        let (dom, console) = open_in_chromium(&page);
        assert!(
            dom.contains("PostgreSQL log report") && dom.contains("id=\"audit\""),
            "{}: {}",
            log.what,
            &dom[..dom.len().min(500)]
        );
        assert!(console.is_empty(), "{}: {console:?}", log.what);
    }
}

#[test]
fn control_characters_from_the_log_are_question_marks_in_every_summary() {
    let dir = tmp();
    for ext in ["csv", "json", "log"] {
        let log = cluster_logs().join(format!("errors.{ext}"));
        let doc = analyze_path(&log, &[]);
        // The JSON keeps the log's text exactly.
        assert!(
            doc.to_string().contains("\\u001b[31mred\\u0007\u{9b}0m"),
            "{ext}: the server did not log the name"
        );
        for format in ["html", "md", "text"] {
            let out = dir.path().join(format!("{ext}.{format}"));
            let thin = ThinLog {
                what: String::new(),
                path: log.clone(),
                input_format: "auto",
                holds: NOTHING,
            };
            report(&thin, format, &out).unwrap();
            let page = std::fs::read_to_string(&out).unwrap();
            let raw: Vec<char> = page
                .chars()
                .filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
                .collect();
            assert!(raw.is_empty(), "{ext} as {format}: raw {raw:?}");
            for (_, shown) in CONTROL_SHOWN.iter().filter(|(f, _)| *f == format) {
                assert!(page.contains(shown), "{ext} as {format}");
            }
        }
    }
}

fn fails(args: &[&str]) -> String {
    let out = pglog(args);
    assert_eq!(out.status.code(), Some(2), "pglog {args:?}");
    assert!(
        out.stdout.is_empty(),
        "pglog {args:?}: no report on failure"
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn an_empty_input_fails_alike_for_every_input_format() {
    let dir = tmp();
    let empty = write(dir.path(), "postgresql.log", b"");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let empty_gz = write(dir.path(), "postgresql.log.gz", &gz.finish().unwrap());
    for format in ["auto", "csv", "json", "stderr", "syslog", "rds"] {
        for p in [&empty, &empty_gz] {
            let p = p.to_str().unwrap();
            let err = fails(&["analyze", "--input-format", format, p]);
            assert!(
                err.contains(p) && err.contains("the input is empty"),
                "{format} {p}: {err}"
            );
            assert!(!err.contains("--prefix"), "{format} {p}: {err}");
        }
        let stdin = Command::new(env!("CARGO_BIN_EXE_pglog"))
            .args(["analyze", "--input-format", format, "-"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&stdin.stderr);
        assert_eq!(stdin.status.code(), Some(2), "{format} -: {err}");
        assert!(
            err.contains("-: no log record: the input is empty"),
            "{format} -: {err}"
        );
    }
    // Found in a directory next to a log, an empty file is left out, said so.
    std::fs::remove_file(&empty_gz).unwrap();
    std::fs::copy(
        sample("replica/postgresql.csv"),
        dir.path().join("postgresql.csv"),
    )
    .unwrap();
    let doc = analyze_path(dir.path(), &[]);
    assert_eq!(doc["input"]["sources"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["input"]["skipped"],
        serde_json::json!([{"path": empty.to_str().unwrap(), "reason": "empty file", "kind": "not_log"}])
    );
}

#[test]
fn a_damaged_single_block_compressed_log_is_a_decompression_error() {
    let original = std::fs::read(sample("replica/postgresql.log")).unwrap();
    let mut zst = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    // As the zstd tool writes it.
    zst.include_checksum(true).unwrap();
    zst.write_all(&original).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    bz.write_all(&original).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&original).unwrap();
    let dir = tmp();
    for (kind, mut bytes) in [
        ("zstd", zst.finish().unwrap()),
        ("bzip2", bz.finish().unwrap()),
        ("xz", xz.finish().unwrap()),
    ] {
        // The sample is far smaller than one block of each: one block, damaged.
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid - 8..mid + 8] {
            *b ^= 0x5a;
        }
        let p = write(dir.path(), &format!("postgresql.log.{kind}"), &bytes);
        for format in ["auto", "csv", "json", "stderr"] {
            let err = fails(&["analyze", "--input-format", format, p.to_str().unwrap()]);
            assert!(
                err.contains(&format!("cannot decompress {} ({kind})", p.display())),
                "{kind} as {format}: {err}"
            );
            assert!(!err.contains("--prefix"), "{kind} as {format}: {err}");
        }
    }
}

#[test]
fn a_missing_path_gives_its_os_error_once() {
    for args in [
        &["analyze", "/nonexistent/pg.log"][..],
        &["analyze", "--input-format", "csv", "/nonexistent/pg.csv"],
        &["merge", "/nonexistent/day.state"],
    ] {
        let err = fails(args);
        assert_eq!(
            err.matches("No such file or directory").count(),
            1,
            "{args:?}: {err}"
        );
        assert!(err.contains("/nonexistent/"), "{args:?}: {err}");
    }
}

#[test]
fn a_directory_without_logs_names_what_was_left_out() {
    let dir = tmp();
    // Real files that are not logs, under names the walk does not skip.
    std::fs::copy(sample("README.md"), dir.path().join("README.txt")).unwrap();
    std::fs::copy(sample("count.py"), dir.path().join("count.txt")).unwrap();
    let err = fails(&["analyze", dir.path().to_str().unwrap()]);
    assert!(!err.contains("no input given"), "{err}");
    assert!(err.contains("no PostgreSQL log among the inputs"), "{err}");
    for name in ["README.txt", "count.txt"] {
        assert!(
            err.contains(&format!("{name} (not a PostgreSQL log)")),
            "{name}: {err}"
        );
    }
}
