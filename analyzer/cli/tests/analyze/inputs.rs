//! Inputs that are not all good: each is read or named in `input.skipped`
//! with its reason, the report of the rest is written, and the exit status
//! says which (0: only non-logs left out, 1: something could not be read,
//! 2: nothing read). Lines a server's log holds that PostgreSQL did not
//! write are counted as foreign, not glued into a message.

use super::cluster::{wait_for, Cluster};
use super::*;
use std::os::unix::fs::symlink;

/// pglog's exit status, its JSON report if it wrote one, and its stderr.
fn analyze_status(paths: &[&Path]) -> (Option<i32>, Option<Value>, String) {
    let mut args = vec!["analyze", "--format", "json", "-q"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = pglog(&args);
    let doc = (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).unwrap());
    let err = String::from_utf8(out.stderr).unwrap();
    (out.status.code(), doc, err)
}

/// `input.skipped` as (path, kind) pairs, sorted.
fn skipped(doc: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = doc["input"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(!s["reason"].as_str().unwrap().is_empty(), "{s}");
            (
                s["path"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Files of every kind, made from real files: a log, a second path to it,
/// non-logs, and files that cannot be read.
struct Mixed {
    dir: tempfile::TempDir,
}

impl Mixed {
    fn new() -> Mixed {
        let m = Mixed { dir: tmp() };
        let d = m.dir.path();
        std::fs::copy(sample("replica/postgresql.csv"), d.join("postgresql.csv")).unwrap();
        std::fs::copy(sample("pgbouncer/pgbouncer.log"), d.join("pgbouncer.log")).unwrap();
        symlink(d.join("postgresql.csv"), d.join("alias.csv")).unwrap();
        std::fs::copy(sample("README.md"), d.join("README.txt")).unwrap();
        // A real binary file.
        std::fs::copy("/usr/lib/postgresql/15/bin/pg_ctl", d.join("pg_ctl.bin")).unwrap();
        symlink(d.join("nowhere"), d.join("gone.log")).unwrap();
        // A gzip stream cut inside its first block: no record can be read.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&std::fs::read(sample("replica/postgresql.log")).unwrap())
            .unwrap();
        std::fs::write(d.join("cut.log.gz"), &gz.finish().unwrap()[..40]).unwrap();
        // A directory that holds a link to itself.
        std::fs::create_dir(d.join("loop")).unwrap();
        symlink("..", d.join("loop/up")).unwrap();
        m
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The pgbouncer log among the inputs was read into its section.
fn assert_pgbouncer_read(doc: &Value) {
    let alone = analyze_path(&sample("pgbouncer/pgbouncer.log"), &[]);
    assert!(alone["pgbouncer"].is_object(), "{}", alone["pgbouncer"]);
    assert_eq!(doc["pgbouncer"], alone["pgbouncer"]);
}

fn records_of_one_copy() -> u64 {
    n(
        &analyze_path(&sample("replica/postgresql.csv"), &[]),
        "/input/records",
    )
}

#[test]
fn explicit_non_logs_are_left_out_with_exit_status_0() {
    let m = Mixed::new();
    let (code, doc, err) = analyze_status(&[
        &m.path("postgresql.csv"),
        &m.path("alias.csv"),
        &m.path("README.txt"),
        &m.path("pg_ctl.bin"),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let doc = doc.unwrap();
    assert_eq!(n(&doc, "/input/records"), records_of_one_copy());
    let p = |name: &str| m.path(name).display().to_string();
    assert_eq!(
        skipped(&doc),
        vec![
            (p("README.txt"), "not_log".into()),
            (p("alias.csv"), "duplicate".into()),
            (p("pg_ctl.bin"), "not_log".into()),
        ]
    );
}

#[test]
fn unreadable_explicit_files_are_named_and_the_report_is_still_written() {
    let m = Mixed::new();
    let (code, doc, err) = analyze_status(&[
        &m.path("gone.log"),
        &m.path("postgresql.csv"),
        &m.path("cut.log.gz"),
        &m.path("pg_ctl.bin"),
        &m.path("pgbouncer.log"),
        &m.path("loop"),
    ]);
    assert_eq!(code, Some(1), "{err}");
    let doc = doc.expect("the report of the readable files");
    assert_eq!(n(&doc, "/input/records"), records_of_one_copy());
    assert_pgbouncer_read(&doc);
    let p = |name: &str| m.path(name).display().to_string();
    // The loop leads to the directory of the files named: each is read
    // once, and the loop back to itself ends the walk.
    let kinds = skipped(&doc);
    for (path, kind) in [
        (p("cut.log.gz"), "unreadable"),
        (p("gone.log"), "unreadable"),
        (p("pg_ctl.bin"), "not_log"),
        (p("loop/up/loop"), "duplicate"),
        (p("loop/up/postgresql.csv"), "duplicate"),
        (p("loop/up/gone.log"), "duplicate"),
    ] {
        assert!(
            kinds.contains(&(path.clone(), kind.to_string())),
            "{path} {kind}: {kinds:?}"
        );
    }
    for name in ["gone.log", "cut.log.gz"] {
        assert!(err.contains(&format!("left out {}", p(name))), "{err}");
    }
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(err.contains("cannot decompress"), "{err}");
}

#[test]
fn nothing_readable_is_exit_status_2_naming_every_input() {
    let m = Mixed::new();
    let (code, doc, err) = analyze_status(&[
        &m.path("gone.log"),
        &m.path("cut.log.gz"),
        &m.path("README.txt"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(doc.is_none(), "no report when nothing was read");
    assert!(err.contains("no PostgreSQL log among the inputs"), "{err}");
    for name in ["gone.log", "cut.log.gz", "README.txt"] {
        assert!(err.contains(&m.path(name).display().to_string()), "{err}");
    }
}

#[test]
fn a_mixed_directory_with_a_symlink_loop_reads_each_log_once() {
    let m = Mixed::new();
    // The directory, and its log named again: each file is read once.
    let (code, doc, err) = analyze_status(&[m.dir.path(), &m.path("postgresql.csv")]);
    assert_eq!(code, Some(1), "the cut gzip could not be read: {err}");
    let doc = doc.unwrap();
    assert_eq!(n(&doc, "/input/records"), records_of_one_copy());
    assert_pgbouncer_read(&doc);
    assert_eq!(doc["input"]["files"].as_array().unwrap().len(), 2);
    let kinds = skipped(&doc);
    let p = |name: &str| m.path(name).display().to_string();
    for (path, kind) in [
        (p("alias.csv"), "duplicate"),
        (p("cut.log.gz"), "unreadable"),
        (p("gone.log"), "unreadable"),
        (p("loop/up"), "duplicate"),
        (p("pg_ctl.bin"), "not_log"),
        (p("README.txt"), "not_log"),
        (p("postgresql.csv"), "duplicate"),
    ] {
        assert!(
            kinds.contains(&(path.clone(), kind.to_string())),
            "{path} {kind}: {kinds:?}"
        );
    }
}

/// A real server whose archive_command fails: `cp` writes its complaint to
/// the server's stderr, which the logging collector puts in the log
/// between PostgreSQL's own lines.
#[test]
fn lines_other_programs_write_into_the_log_are_foreign() {
    let mut c = Cluster::init(
        "logging_collector = on\nlog_destination = 'stderr,csvlog'\nlc_messages = 'C'\n\
         log_line_prefix = '%m [%p] '\narchive_mode = on\n\
         archive_command = 'cp %p /nonexistent-pglog-archive/%f'\n",
    );
    c.start();
    c.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS i");
    c.sql("SELECT pg_switch_wal()");
    let log_dir = c.file("log");
    let stderr_log = || {
        std::fs::read_dir(&log_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "log"))
    };
    wait_for("the archive_command's failure in the log", || {
        stderr_log().is_some_and(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("archive command failed")
        })
    });
    c.stop();
    let log = stderr_log().unwrap();
    let csv = log.with_extension("csv");
    let text = analyze_path(&log, &[]);
    let rows = analyze_path(&csv, &[]);
    assert_eq!(counts(&text), counts(&rows));
    assert_eq!(n(&text, "/input/malformed"), 0);
    let foreign = n(&text, "/input/foreign_lines");
    let raw = std::fs::read_to_string(&log).unwrap();
    let cp_lines = raw.lines().filter(|l| l.starts_with("cp: ")).count() as u64;
    assert!(cp_lines > 0, "{raw}");
    assert_eq!(foreign, cp_lines);
    let sample = &text["input"]["foreign_samples"][0];
    assert!(
        sample["text"].as_str().unwrap().starts_with("cp: cannot"),
        "{sample}"
    );
    assert_eq!(sample["file"], log.to_str().unwrap());
    let line = sample["line"].as_u64().unwrap() as usize;
    assert!(raw.lines().nth(line - 1).unwrap().starts_with("cp: "));
    // Not glued into the message before it: only the samples show it.
    let mut rest = text.clone();
    rest["input"]["foreign_samples"] = Value::Null;
    assert!(!rest.to_string().contains("cp: cannot"), "{rest}");
    assert_eq!(n(&rows, "/input/foreign_lines"), 0);
}
