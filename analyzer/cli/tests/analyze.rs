//! End-to-end tests of `pglog analyze` on the real logs in `sample-logs/`.
//! Every input here is a sample log as the server wrote it, or a copy damaged
//! or compressed by the test itself.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sample(rel: &str) -> PathBuf {
    repo().join("sample-logs").join(rel)
}

fn pglog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(args)
        .output()
        .expect("pglog runs")
}

/// Runs `pglog analyze --format json --output -` and parses the document.
fn analyze_json(extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--format", "json", "--output", "-"];
    args.extend_from_slice(extra);
    let out = pglog(&args);
    assert!(
        out.status.success(),
        "pglog {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn analyze_path(p: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&str> = extra.to_vec();
    args.push(p.to_str().unwrap());
    analyze_json(&args)
}

/// The contract's counts, and the malformed count.
fn counts(doc: &Value) -> Value {
    let mut c = oracle_shape(doc);
    c["malformed"] = doc["input"]["malformed"].clone();
    c
}

fn n(doc: &Value, ptr: &str) -> u64 {
    doc.pointer(ptr)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{ptr} missing in {doc}"))
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The counts `sample-logs/count.py` computed from each csvlog when the
/// samples were made (`sample-logs/expected-counts.json`).
fn expected(instance: &str) -> Value {
    let all: Value =
        serde_json::from_slice(&std::fs::read(sample("expected-counts.json")).unwrap()).unwrap();
    all[instance].clone()
}

/// A report reshaped like `count.py`'s output.
fn oracle_shape(doc: &Value) -> Value {
    let s = &doc["summary"];
    let severities: serde_json::Map<String, Value> = s["severities"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_u64() != Some(0))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let events: serde_json::Map<String, Value> = [
        "checkpoint",
        "restartpoint",
        "autovacuum",
        "autoanalyze",
        "temp_file",
        "deadlock",
        "lock_wait",
        "connection",
        "disconnection",
        "auth_failure",
    ]
    .iter()
    .map(|k| (k.to_string(), s["events"][k].clone()))
    .collect();
    serde_json::json!({
        "records": doc["input"]["records"],
        "queries": s["queries"],
        "plans": s["plans"],
        "severities": severities,
        "sqlstates": s["sqlstates"],
        "temp_file_bytes": s["temp_file_bytes"],
        "events": events,
    })
}

#[test]
fn exact_counts_on_every_format() {
    for inst in INSTANCES {
        for f in FORMATS {
            let doc = analyze_path(&sample(&format!("{inst}/{f}")), &[]);
            let mut want = expected(inst);
            if f.ends_with(".log") {
                unknown_without_prefix_code(&mut want);
            }
            assert_eq!(oracle_shape(&doc), want, "{inst}/{f}");
            assert_eq!(n(&doc, "/input/malformed"), 0, "{inst}/{f}");
        }
    }
}

/// A PL/pgSQL `RAISE` of the application's own text has the code its
/// `ERRCODE` option gives (P0001 without one): a text log without `%e`
/// cannot tell which, so it is counted as unknown.
fn unknown_without_prefix_code(counts: &mut Value) {
    let codes = counts["sqlstates"].as_object_mut().unwrap();
    if let Some(raised) = codes.remove("P0001") {
        codes.insert("unknown".into(), raised);
    }
}

/// ERROR/FATAL/PANIC records: the sum of the report's SQLSTATE counts.
fn error_records(doc: &Value) -> u64 {
    doc["summary"]["sqlstates"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum()
}

#[test]
fn stderr_sqlstates_are_inferred() {
    let doc = analyze_path(&sample("primary/postgresql.log"), &[]);
    let errors = error_records(&doc);
    let unknown = doc["summary"]["sqlstates"]["unknown"].as_u64().unwrap_or(0);
    assert_eq!(unknown, 1, "the RAISE of the application's own text");
    assert_eq!(
        n(&doc, "/summary/sqlstates_inferred"),
        errors - unknown,
        "every other stderr error code is inferred"
    );
    let csv = analyze_path(&sample("primary/postgresql.csv"), &[]);
    assert_eq!(
        n(&csv, "/summary/sqlstates_inferred"),
        0,
        "csvlog carries its codes"
    );
}

#[test]
fn syslog_matches_csvlog_plus_the_pre_collector_record() {
    let syslog = analyze_path(&sample("rds/postgresql.syslog"), &[]);
    assert_eq!(syslog["input"]["sources"][0]["format"], "syslog");
    assert_eq!(syslog["input"]["sources"][0]["prefix"], "%t:%r:%u@%d:[%p]:");
    let mut want = expected("rds");
    // "redirecting log output to logging collector process" goes to syslog
    // before the collector that writes the other files starts.
    want["records"] = (want["records"].as_u64().unwrap() + 1).into();
    want["severities"]["LOG"] = (want["severities"]["LOG"].as_u64().unwrap() + 1).into();
    assert_eq!(oracle_shape(&syslog), want);
    let forced = analyze_path(
        &sample("rds/postgresql.syslog"),
        &["--input-format", "syslog"],
    );
    assert_eq!(oracle_shape(&forced), want);
}

#[test]
fn expected_counts_are_what_the_independent_counter_says() {
    // count.py needs only python3's standard library.
    for inst in INSTANCES {
        let out = Command::new("python3")
            .arg(sample("count.py"))
            .arg(sample(&format!("{inst}/postgresql.csv")))
            .output()
            .expect("python3 runs sample-logs/count.py");
        assert!(out.status.success());
        let oracle: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            oracle,
            expected(inst),
            "{inst}: expected-counts.json is current"
        );
    }
}

const INSTANCES: &[&str] = &["primary", "replica", "rds"];
const FORMATS: &[&str] = &["postgresql.csv", "postgresql.json", "postgresql.log"];

#[test]
fn all_formats_agree_for_each_instance() {
    for inst in INSTANCES {
        let base = counts(&analyze_path(
            &sample(&format!("{inst}/postgresql.csv")),
            &[],
        ));
        for f in &FORMATS[1..] {
            let other = counts(&analyze_path(&sample(&format!("{inst}/{f}")), &[]));
            let mut base = base.clone();
            if f.ends_with(".log") {
                unknown_without_prefix_code(&mut base);
            }
            assert_eq!(base, other, "{inst}/{f} differs from {inst}/postgresql.csv");
        }
        assert_eq!(
            base["malformed"], 0,
            "{inst}: real logs have no malformed records"
        );
    }
}

#[test]
fn formats_and_prefixes_are_detected() {
    let cases = [
        (
            "primary/postgresql.log",
            "stderr",
            Some("%m [%p] %q%u@%d/%a "),
        ),
        ("replica/postgresql.log", "stderr", Some("%m [%p] ")),
        ("rds/postgresql.log", "stderr", Some("%t:%r:%u@%d:[%p]:")),
        ("primary/postgresql.csv", "csv", None),
        ("primary/postgresql.json", "json", None),
    ];
    for (file, format, prefix) in cases {
        let doc = analyze_path(&sample(file), &[]);
        let src = &doc["input"]["sources"][0];
        assert_eq!(src["format"], format, "{file}");
        assert_eq!(src["prefix"].as_str(), prefix, "{file}");
    }
}

#[test]
fn rds_format_uses_the_rds_prefix() {
    let auto = counts(&analyze_path(&sample("rds/postgresql.log"), &[]));
    let rds = counts(&analyze_path(
        &sample("rds/postgresql.log"),
        &["--input-format", "rds"],
    ));
    assert_eq!(auto, rds);
}

#[test]
fn explicit_prefix_gives_same_counts() {
    let auto = counts(&analyze_path(&sample("primary/postgresql.log"), &[]));
    let given = counts(&analyze_path(
        &sample("primary/postgresql.log"),
        &["--prefix", "%m [%p] %q%u@%d/%a "],
    ));
    assert_eq!(auto, given);
}

#[test]
fn wrong_prefix_fails_with_help() {
    let out = pglog(&[
        "analyze",
        "--format",
        "json",
        "--prefix",
        "%t [%p]: [%l-1] user=%u,db=%d ",
        sample("primary/postgresql.log").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no report on failure");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--prefix"), "{err}");
    assert!(err.contains("postgresql.log"), "names the file: {err}");
    assert!(err.contains("first line"), "shows a sample line: {err}");
}

#[test]
fn unknown_text_fails_with_help() {
    let dir = tmp();
    let p = write(
        dir.path(),
        "notes.log",
        b"just some text\nthat is not a log\n",
    );
    let out = pglog(&["analyze", p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--prefix") && err.contains("just some text"),
        "{err}"
    );
}

#[test]
fn missing_file_is_named() {
    let out = pglog(&["analyze", "/nonexistent/pg.log"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/pg.log"), "{err}");
}

#[test]
fn bad_prefix_escape_is_explained() {
    let out = pglog(&[
        "analyze",
        "--prefix",
        "%m %z ",
        sample("primary/postgresql.log").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("%z") && err.contains("--prefix"), "{err}");
}

/// `text` with a line of binary garbage after every 97th line.
fn with_garbage_lines(text: &[u8]) -> Vec<u8> {
    let mut damaged = Vec::new();
    for (i, line) in text.split_inclusive(|&c| c == b'\n').enumerate() {
        damaged.extend_from_slice(line);
        if i % 97 == 96 {
            damaged.extend_from_slice(b"\x00\x01garbage\xff\xfe\n");
        }
    }
    damaged
}

/// Byte offsets where records start (a jsonlog line; a csv row and a
/// stderr line start with a timestamp; a syslog message's first chunk is
/// numbered `[N-1]`).
fn record_start_lines(text: &[u8], format: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive(|&c| c == b'\n') {
        let is_start = match format {
            "json" => line.starts_with(b"{"),
            "syslog" => line
                .windows(4)
                .position(|w| w == b"]: [")
                .and_then(|at| line[at + 4..].split(|&c| c == b']').next())
                .is_some_and(|seq| seq.ends_with(b"-1")),
            _ => line.len() > 20 && line[..4].iter().all(u8::is_ascii_digit) && line[4] == b'-',
        };
        if is_start {
            starts.push(off);
        }
        off += line.len();
    }
    starts
}

fn damage_cases(file: &str, format: &str) {
    let original = std::fs::read(sample(file)).unwrap();
    let base = counts(&analyze_path(&sample(file), &[]));
    let records = base["records"].as_u64().unwrap();
    let starts = record_start_lines(&original, format);
    let dir = tmp();

    // A truncated last record: cut in the middle of it.
    let last = *starts.last().unwrap();
    let cut = &original[..last + (original.len() - last) / 2];
    let doc = analyze_path(&write(dir.path(), "cut", cut), &["--input-format", format]);
    assert_eq!(
        (n(&doc, "/input/records"), n(&doc, "/input/malformed")),
        (records - 1, 1),
        "{file}: truncated"
    );
    assert_eq!(doc["input"]["malformed_samples"][0]["kind"], "truncated");

    // Binary garbage between two records in the middle.
    let mid = starts[starts.len() / 2];
    let mut garbage: Vec<u8> = (0..600u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .filter(|&b| b != b'\n')
        .collect();
    garbage.push(b'\n');
    let damaged = [&original[..mid], &garbage[..], &original[mid..]].concat();
    let p = write(dir.path(), "garbage", &damaged);
    let doc = analyze_path(&p, &["--input-format", format]);
    assert_eq!(
        n(&doc, "/input/records"),
        records,
        "{file}: garbage loses no record"
    );
    assert_eq!(n(&doc, "/input/malformed"), 1, "{file}: garbage");
    let line_no = original[..mid].iter().filter(|&&c| c == b'\n').count() as u64 + 1;
    assert_eq!(
        n(&doc, "/input/malformed_samples/0/line"),
        line_no,
        "{file}: garbage line"
    );
    assert_eq!(
        doc["input"]["malformed_samples"][0]["file"],
        p.to_str().unwrap()
    );

    // Invalid UTF-8 inside one record's message.
    let rec = starts[starts.len() / 3];
    let pos = rec + original[rec..].windows(2).position(|w| w == b"  ").unwrap() + 3;
    let mut bad = original.clone();
    bad[pos] = 0xff;
    let doc = analyze_path(
        &write(dir.path(), "utf8", &bad),
        &["--input-format", format],
    );
    assert_eq!(
        (n(&doc, "/input/records"), n(&doc, "/input/malformed")),
        (records - 1, 1),
        "{file}: invalid utf-8"
    );
    assert_eq!(doc["input"]["malformed_samples"][0]["kind"], "invalid_utf8");

    // An over-long line.
    let long = [
        &original[..mid],
        &vec![b'x'; 100_000][..],
        b"\n",
        &original[mid..],
    ]
    .concat();
    let doc = analyze_path(
        &write(dir.path(), "long", &long),
        &["--input-format", format, "--max-record-bytes", "65536"],
    );
    // A text log's line without the prefix is not PostgreSQL's, however
    // long; a csv row or json line that long is a record too long.
    if format == "stderr" {
        assert_eq!(
            (n(&doc, "/input/malformed"), n(&doc, "/input/foreign_lines")),
            (0, 1),
            "{file}: over-long line"
        );
        assert_eq!(n(&doc, "/input/records"), records);
    } else {
        assert_eq!(n(&doc, "/input/malformed"), 1, "{file}: over-long line");
        assert_eq!(doc["input"]["malformed_samples"][0]["kind"], "too_long");
    }
}

#[test]
fn damaged_csv_keeps_good_records() {
    damage_cases("primary/postgresql.csv", "csv");
}

#[test]
fn damaged_json_keeps_good_records() {
    damage_cases("primary/postgresql.json", "json");
}

#[test]
fn damaged_stderr_keeps_good_records() {
    damage_cases("primary/postgresql.log", "stderr");
}

#[test]
fn compressed_inputs_are_detected_by_content() {
    let original = std::fs::read(sample("primary/postgresql.csv")).unwrap();
    let base = counts(&analyze_path(&sample("primary/postgresql.csv"), &[]));
    let dir = tmp();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&original).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&original).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&original).unwrap();
    let cases = [
        ("gzip", gz.finish().unwrap()),
        ("zstd", zstd::encode_all(&original[..], 1).unwrap()),
        ("bzip2", bz.finish().unwrap()),
        ("xz", xz.finish().unwrap()),
    ];
    for (kind, bytes) in cases {
        // A misleading name: detection is by magic bytes.
        let p = write(dir.path(), &format!("{kind}.txt.log"), &bytes);
        let doc = analyze_path(&p, &[]);
        assert_eq!(doc["input"]["sources"][0]["compression"], kind);
        assert_eq!(counts(&doc), base, "{kind}");
    }
}

#[test]
fn stdin_is_read_with_dash() {
    let original = std::fs::read(sample("replica/postgresql.log")).unwrap();
    let base = counts(&analyze_path(&sample("replica/postgresql.log"), &[]));
    let doc = analyze_stdin(original);
    assert_eq!(counts(&doc), base);
    assert_eq!(doc["input"]["files"][0], "-");
}

/// Runs `pglog analyze --format json -` on `input`.
fn analyze_stdin(input: Vec<u8>) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(["analyze", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn directories_and_globs_expand_and_skip_non_logs() {
    let dir_doc = analyze_path(&sample("replica"), &[]);
    assert_eq!(dir_doc["input"]["files"].as_array().unwrap().len(), 3);
    let pattern = sample("replica").join("postgresql.*");
    let glob_doc = analyze_json(&[pattern.to_str().unwrap()]);
    assert_eq!(counts(&dir_doc), counts(&glob_doc));
    let one = n(
        &analyze_path(&sample("replica/postgresql.csv"), &[]),
        "/input/records",
    );
    assert_eq!(n(&dir_doc, "/input/records"), 3 * one);
    // The sample folder's README and scripts are not logs and are left out.
    let all = analyze_path(&sample(""), &[]);
    assert!(all["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f.as_str().unwrap().ends_with(".md")));
}

#[test]
fn thread_count_does_not_change_counts() {
    let one = analyze_path(&sample("primary"), &["-j", "1"]);
    let two = analyze_path(&sample("primary"), &["-j", "2"]);
    assert_eq!(counts(&one), counts(&two));
    assert_eq!(one["input"]["files"], two["input"]["files"]);
}

#[test]
fn output_file_and_text_summary() {
    let dir = tmp();
    let out_path = dir.path().join("report.json");
    let out = pglog(&[
        "analyze",
        "--output",
        out_path.to_str().unwrap(),
        sample("rds/postgresql.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(doc["schema"], "pglog.report/1");

    let out = pglog(&["analyze", sample("rds/postgresql.csv").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let records = n(&doc, "/input/records");
    assert!(
        text.contains(&format!("{records} records")) || text.contains("records"),
        "{text}"
    );
    assert!(
        text.contains("queries") && text.contains("severities:"),
        "{text}"
    );
}

/// Overwrites one byte in every `per`, at places a fixed xorshift
/// sequence picks: the same damage on every run.
fn damage_randomly(bytes: &mut [u8], per: usize) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..bytes.len() / per {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = (x % bytes.len() as u64) as usize;
        bytes[at] = (x >> 32) as u8;
    }
}

#[test]
fn randomly_damaged_logs_never_stop_the_run() {
    let dir = tmp();
    for file in [
        "primary/postgresql.log",
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "rds/postgresql.syslog",
    ] {
        let mut bytes = std::fs::read(sample(file)).unwrap();
        damage_randomly(&mut bytes, 500);
        let p = write(dir.path(), &file.replace('/', "-"), &bytes);
        let doc = analyze_path(&p, &[]);
        assert!(n(&doc, "/input/records") > 0, "{file}");
        assert!(n(&doc, "/input/malformed") > 0, "{file}");
    }
}

#[test]
fn a_cut_compressed_file_keeps_what_was_read() {
    let original = std::fs::read(sample("primary/postgresql.log")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&original).unwrap();
    let gz = gz.finish().unwrap();
    let dir = tmp();
    let p = write(dir.path(), "cut.log.gz", &gz[..gz.len() / 2]);
    let doc = analyze_path(&p, &[]);
    let all = n(
        &analyze_path(&sample("primary/postgresql.log"), &[]),
        "/input/records",
    );
    let records = n(&doc, "/input/records");
    assert!(records > all / 3 && records < all, "{records} of {all}");
    let samples = doc["input"]["malformed_samples"].as_array().unwrap();
    assert!(
        samples
            .iter()
            .any(|s| s["reason"].as_str().unwrap().starts_with("reading stopped")),
        "{samples:?}"
    );
    assert!(samples.iter().all(|s| s["line"].as_u64().unwrap() > 0));
}

/// Query statistics, splitting, state files, merge and diff.
#[path = "analyze/statistics.rs"]
mod statistics;

/// auto_explain plans read into trees, and their insights.
#[path = "analyze/plans.rs"]
mod plans;

/// The terminal and Markdown summaries, with hostile log text.
#[path = "analyze/summaries.rs"]
mod summaries;

/// Application errors by SQLSTATE class and kind, and the constraints named.
#[path = "analyze/error_classes.rs"]
mod error_classes;

/// The published JSON Schema of the report.
#[path = "analyze/schema.rs"]
mod schema;

/// The HTML report: self-contained, escaped, opened by a real browser.
#[path = "analyze/html.rs"]
mod html;

/// The HTML page's script in a real browser: sorting, filtering and links
/// from the fragment, under its Content-Security-Policy, offline.
#[path = "analyze/html_view.rs"]
mod html_view;

/// Memory stays bounded whatever the input: huge statements, huge and
/// multi-line records, floods of blank lines.
#[path = "analyze/bounded.rs"]
mod bounded;

/// Plans of hundreds of KB, read whole; many of them within the memory bound.
#[path = "analyze/big_plans.rs"]
mod big_plans;

/// The report's figures from the message forms of other server versions.
#[path = "analyze/versions.rs"]
mod versions;

/// Honest edges: files that change while read, and the like.
#[path = "analyze/edges.rs"]
mod edges;

/// Throwaway PostgreSQL clusters that write logs for the tests.
#[path = "analyze/cluster.rs"]
mod cluster;

/// Thin logs (no queries, no errors, one record, a standby's) in every
/// format, empty and undecodable inputs, and the error messages.
#[path = "analyze/thin.rs"]
mod thin;

/// The same report at any range size and thread count.
#[path = "analyze/split.rs"]
mod split;

/// Compressed inputs decoded by one thread and read in ranges by others.
#[path = "analyze/compressed.rs"]
mod compressed;

/// Mixed inputs (unreadable, binary, duplicate, looping) and foreign lines.
#[path = "analyze/inputs.rs"]
mod inputs;

/// Time windows and name and statement filters, checked against the
/// records count.py keeps from the csvlog.
#[path = "analyze/filters.rs"]
mod filters;

/// Logs and states read from S3 and the RDS API, against a moto server.
#[path = "analyze/sources.rs"]
mod sources;

/// Logs wrapped in the envelopes of managed and containerised servers.
#[path = "analyze/wrapped.rs"]
mod wrapped;

/// `log_line_prefix` inferred from logs written with many real settings.
#[path = "analyze/prefixes.rs"]
mod prefixes;

/// pgbouncer logs from a real pgbouncer under pgbench, against its SHOW STATS.
#[path = "analyze/pgbouncer.rs"]
mod pgbouncer;

/// Logs in five languages counted as the C-locale run of the same workload.
#[path = "analyze/languages.rs"]
mod languages;

/// Vacuum, wraparound, lock and transaction-state events, and the
/// unclassified messages, on a real server pushed near wraparound.
#[path = "analyze/maintenance_events.rs"]
mod maintenance_events;

/// Crashes, out of memory, archiving, page checksums, connection problems
/// and replication on a real primary and standby, against the csvlog.
#[path = "analyze/server_events.rs"]
mod server_events;

/// Everyday NOTICEs and WARNINGs of applications and DBAs, and DEBUG lines.
#[path = "analyze/message_classes.rs"]
mod message_classes;

/// Incident windows on a real server's 12 minutes with recorded incidents,
/// and none on the same load steady.
#[path = "analyze/incidents.rs"]
mod incidents;

/// The committed incident logs hold, in each recorded window, the records
/// the incident caused.
#[path = "analyze/incident_logs.rs"]
mod incident_logs;

/// Time charts of 5-minute, 1-hour and 24-hour logs: 20 to 300 points and
/// distinct labels in the report's zone.
#[path = "analyze/charts.rs"]
mod charts;
