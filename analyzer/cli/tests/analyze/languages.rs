//! Translated logs: one real server runs the same workload with
//! `lc_messages` C and in five languages of different scripts (de, fr, ja,
//! ru, es), writing stderr, csvlog and jsonlog, each language into files of
//! its own (ALTER SYSTEM, reload, pg_rotate_logfile()). Every count of the
//! report of a translated log equals the C run's, field by field, in each
//! format, and the report names the language.

use super::cluster::{client, Cluster};
use super::*;
use serde_json::Map;
use std::sync::OnceLock;
use std::time::Duration;

const LANGUAGES: [&str; 5] = ["de", "fr", "ja", "ru", "es"];
const FORMATS: [&str; 3] = ["log", "csv", "json"];

const CONF: &str = "\
lc_messages = 'C'
log_timezone = 'UTC'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'run-%Y%m%d-%H%M%S.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d/%a '
log_min_duration_statement = 0
log_connections = on
log_disconnections = on
log_checkpoints = on
log_lock_waits = on
log_temp_files = 0
deadlock_timeout = '100ms'
autovacuum = off
shared_preload_libraries = 'auto_explain'";

/// The locale name `lc_messages` takes for a language.
fn locale(lang: &str) -> &'static str {
    match lang {
        "de" => "de_DE.UTF-8",
        "fr" => "fr_FR.UTF-8",
        "ja" => "ja_JP.UTF-8",
        "ru" => "ru_RU.UTF-8",
        "es" => "es_ES.UTF-8",
        _ => "C",
    }
}

/// The logs of every run, by language ("C" and LANGUAGES): the directory
/// holding `<lang>.log`, `<lang>.csv`, `<lang>.json`.
fn logs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut c = Cluster::init(CONF);
        c.start();
        let started = std::time::Instant::now();
        c.sql("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)");
        c.sql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g");
        let mut rotated = started;
        for lang in std::iter::once("C").chain(LANGUAGES) {
            rotated = switch_to(&c, lang, rotated);
            workload(&c);
        }
        switch_to(&c, "C", rotated);
        c.stop();
        // The files in the order they were started: setup, each run, the end.
        let mut runs: Vec<PathBuf> = std::fs::read_dir(c.file("log"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        runs.sort();
        assert_eq!(runs.len(), 2 + 1 + LANGUAGES.len(), "{runs:?}");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("languages");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let langs = std::iter::once("C").chain(LANGUAGES);
        for (lang, run) in langs.zip(&runs[1..]) {
            for ext in FORMATS {
                let from = run.with_extension(ext);
                std::fs::copy(&from, dir.join(format!("{lang}.{ext}")))
                    .unwrap_or_else(|e| panic!("{}: {e}", from.display()));
            }
        }
        dir
    })
}

/// Reloads with the language, then starts the next files (a signal, no
/// session), whose names hold the second they were started: the reload's
/// own messages stay in the files before. (Changing `log_filename` in the
/// reload instead makes the logging collector start the new files itself,
/// racing the server's messages about the reload.) Returns when the new
/// files were started.
fn switch_to(c: &Cluster, lang: &str, rotated: std::time::Instant) -> std::time::Instant {
    // The last session's disconnection is logged after psql is gone.
    std::thread::sleep(Duration::from_millis(300));
    c.reload_with(&format!("lc_messages = '{}'", locale(lang)));
    // Every process takes the reload on its next signal check.
    std::thread::sleep(Duration::from_millis(400));
    // A file started in the same second as the last would be the same file.
    let next_second = Duration::from_millis(1100);
    if let Some(wait) = next_second.checked_sub(rotated.elapsed()) {
        std::thread::sleep(wait);
    }
    c.rotate_logs();
    let now = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    now
}

/// The same statements, errors, lock wait, temp file, checkpoint and plan
/// in each language.
fn workload(c: &Cluster) {
    c.sql("SELECT count(*) FROM t WHERE id < 500");
    c.sql("UPDATE t SET v = 'w' WHERE id = 1");
    for bad in [
        "SELECT 1/0",
        "SELECT * FROM nosuch",
        "INSERT INTO t VALUES (1, 'dup')",
        "INSERT INTO t VALUES (5000, NULL)",
        "SELECT 'x'::int",
        "SELEC 1",
    ] {
        let (ok, _) = c.psql(bad);
        assert!(!ok, "{bad} should fail");
    }
    // A lock wait past deadlock_timeout that ends in lock_timeout.
    let mut holder = client("psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-p", &c.port().to_string()])
        .args(["-c", "BEGIN", "-c", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"])
        .args(["-c", "SELECT pg_sleep(1)", "-c", "COMMIT"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (ok, _) = c.psql("SET lock_timeout = '400ms'; SELECT count(*) FROM t");
    assert!(!ok, "the lock wait ends in lock_timeout");
    assert!(holder.wait().unwrap().success());
    c.sql("SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 20000) g ORDER BY g DESC) s");
    c.sql("SET auto_explain.log_min_duration = 0; SELECT count(*) FROM t WHERE v LIKE 'v1%'");
    c.sql("CHECKPOINT");
}

/// The counts of a report: every number, flag and name it holds outside
/// `input`, without times and durations (floats), timestamps, pids and
/// sample texts, which differ from run to run.
fn counts(doc: &Value) -> Value {
    let mut m = doc.as_object().unwrap().clone();
    m.remove("input");
    m.remove("generator");
    let mut v = Value::Object(m);
    keep_counts(&mut v);
    v
}

const DROPPED: &[&str] = &[
    "first_timestamp",
    "last_timestamp",
    "first_seen",
    "last_seen",
    "hour",
    "by_hour",
    "samples",
    "sample",
    "pid",
    "pids",
    "blocker_pid",
    "holder",
    "time",
    "at",
    "plan_text",
    "text",
    // Sessions open at once, counted by whole seconds of their start and
    // end: whether two overlap in a second is timing.
    "peak_sessions",
    "open_by_minute",
    // Counts by minute or time bucket: a run may straddle a minute (their
    // totals are compared).
    "minutes",
    "timeline",
];

/// Times, durations and their histograms differ from run to run.
fn dropped(key: &str) -> bool {
    DROPPED.contains(&key)
        || key.contains("histogram")
        || key.contains("timestamp")
        || key.ends_with("_at")
}

fn keep_counts(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let keep: Map<String, Value> = std::mem::take(m)
                .into_iter()
                .filter(|(k, x)| !dropped(k) && !x.is_f64())
                .map(|(k, mut x)| {
                    keep_counts(&mut x);
                    (k, x)
                })
                .collect();
            *m = keep;
        }
        Value::Array(a) => {
            a.iter_mut().for_each(keep_counts);
            // Lists are ranked by time: equal counts may come in another order.
            a.sort_by_cached_key(|x| x.to_string());
        }
        _ => {}
    }
}

/// The paths where two projections differ.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (p, q) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                differences(p, q, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: C {a} / translated {b}")),
        _ => {}
    }
}

fn report(lang: &str, ext: &str) -> Value {
    analyze_path(&logs().join(format!("{lang}.{ext}")), &[])
}

#[test]
fn translated_logs_count_as_the_c_locale_run() {
    for ext in FORMATS {
        let c = report("C", ext);
        let base = counts(&c);
        assert!(
            c["summary"]["queries"].as_u64().unwrap() >= 8,
            "{ext}: {}",
            c["summary"]
        );
        assert!(c["summary"]["plans"].as_u64().unwrap() >= 1, "{ext}");
        for key in [
            "lock_wait",
            "temp_file",
            "checkpoint",
            "connection",
            "disconnection",
            "error",
        ] {
            assert!(
                c["summary"]["events"][key].as_u64().unwrap() >= 1,
                "{ext}: no {key} in the C run"
            );
        }
        assert!(
            c["summary"]["sqlstates"].as_object().unwrap().len() >= 6,
            "{ext}: {}",
            c["summary"]["sqlstates"]
        );
        let path = logs().join(format!("C.{ext}")).display().to_string();
        assert_eq!(c["input"]["language"][&path], "en");
        for (i, lang) in LANGUAGES.into_iter().enumerate() {
            let t = report(lang, ext);
            // Every message is in the table; the reload to the next run's
            // language ends the file with its message in that language.
            let source = &t["input"]["sources"][0];
            assert_eq!(source["untranslated"], 0, "{lang}.{ext}: {source}");
            if let Some(next) = LANGUAGES.get(i + 1) {
                assert_eq!(
                    source["languages"][next]["records"], 1,
                    "{lang}.{ext}: {source}"
                );
            }
            let path = logs().join(format!("{lang}.{ext}")).display().to_string();
            assert_eq!(
                t["input"]["language"][&path], lang,
                "{lang}.{ext}: {}",
                t["input"]["language"]
            );
            assert_eq!(
                t["input"]["malformed"], 0,
                "{lang}.{ext}: {}",
                t["input"]["malformed_samples"]
            );
            assert_eq!(
                t["input"]["language_warnings"],
                Value::Array(vec![]),
                "{lang}.{ext}"
            );
            let mut diff = Vec::new();
            differences(&base, &counts(&t), "", &mut diff);
            assert!(
                diff.is_empty(),
                "{lang}.{ext} differs from the C run:\n{}",
                diff.join("\n")
            );
        }
    }
}

/// A log whose messages come from another server version (here: the
/// German run's messages with their words changed, as a version that
/// rewrote them would print) is read, but not silently: its records stay as
/// written, and the report and stderr say so.
#[test]
fn messages_missing_from_the_table_are_counted_and_warned_about() {
    let src = std::fs::read_to_string(logs().join("de.log")).unwrap();
    // Keep the severities and labels; change every message's first word.
    let changed: String = src
        .lines()
        .map(|l| match l.split_once(":  ") {
            Some((head, text)) if !text.is_empty() => format!("{head}:  Xx{text}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other-version.log");
    std::fs::write(&path, changed).unwrap();
    let out = pglog(&[
        "analyze",
        "--format",
        "json",
        "--output",
        "-",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = doc["input"]["language_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["language"], "de");
    let source = &doc["input"]["sources"][0];
    assert!(source["untranslated"].as_u64().unwrap() > 0);
    assert_eq!(source["untranslated"], warnings[0]["untranslated"]);
    assert!(
        doc["summary"]["events"]["other"].as_u64().unwrap()
            >= source["untranslated"].as_u64().unwrap() / 2
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pglog: warning:") && stderr.contains("not in pglog's table"),
        "{stderr}"
    );
}

/// A log in a language without a table (here the German csvlog with its
/// ERROR severity spelled as Polish writes it, `BŁĄD`: PostgreSQL 15's
/// Debian packages ship no Polish catalog): its rows are not dropped
/// silently; each is malformed with its line and a reason that names the
/// cause and the fix.
#[test]
fn a_severity_of_a_language_without_a_table_names_the_cause() {
    let src = std::fs::read_to_string(logs().join("de.csv")).unwrap();
    let errors = src.matches(",FEHLER,").count();
    assert!(errors >= 6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pl.csv");
    std::fs::write(&path, src.replace(",FEHLER,", ",BŁĄD,")).unwrap();
    let doc = analyze_path(&path, &[]);
    assert_eq!(doc["input"]["malformed"], errors as u64);
    let sample = &doc["input"]["malformed_samples"][0];
    assert!(sample["line"].as_u64().unwrap() > 1);
    let reason = sample["reason"].as_str().unwrap();
    assert!(
        reason.contains("no table for") && reason.contains("lc_messages"),
        "{reason}"
    );
}
