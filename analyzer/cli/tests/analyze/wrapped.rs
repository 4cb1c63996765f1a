//! Logs in the envelopes of managed and containerised PostgreSQL
//! (`sample-logs/wrapped/`, made by `sample-logs/wrap/` from the real sample
//! logs) read as the logs inside them.

use super::{analyze_path, analyze_stdin, counts, damage_randomly, n, sample, tmp, write};
use serde_json::Value;
use std::io::Read;

/// (wrapped file, the sample log it wraps, the format the report names).
const CASES: &[(&str, &str, &str)] = &[
    ("cloudsql.json.gz", "primary/postgresql.log", "cloudsql"),
    (
        "cloudsql-message.json.gz",
        "primary/postgresql.log",
        "cloudsql",
    ),
    (
        "cloudsql-jsonpayload.json.gz",
        "primary/postgresql.json",
        "cloudsql",
    ),
    ("cnpg.json.gz", "primary/postgresql.csv", "cnpg"),
    ("azure-flexible.json.gz", "primary/postgresql.log", "azure"),
    (
        "azure-flexible-query.json.gz",
        "primary/postgresql.log",
        "azure",
    ),
    ("azure-single.json.gz", "primary/postgresql.log", "azure"),
    ("heroku.log.gz", "primary/postgresql.log", "heroku"),
    ("heroku-drain.log.gz", "primary/postgresql.log", "heroku"),
    ("docker.json.gz", "primary/postgresql.log", "docker"),
    ("cri.log.gz", "primary/postgresql.log", "cri"),
    ("cri-cnpg.log.gz", "primary/postgresql.csv", "cri"),
    ("journald.log.gz", "primary/postgresql.log", "journald"),
    (
        "journald.json.gz",
        "primary/postgresql.log",
        "journald-json",
    ),
    (
        "cloudwatch-export.gz",
        "rds/postgresql.log",
        "cloudwatch-export",
    ),
];

/// The counts, and the first and last timestamps.
fn summary(doc: &Value) -> Value {
    let mut c = counts(doc);
    c["first_timestamp"] = doc["summary"]["first_timestamp"].clone();
    c["last_timestamp"] = doc["summary"]["last_timestamp"].clone();
    c
}

fn original(rel: &str, cache: &mut Vec<(String, Value)>) -> Value {
    if let Some((_, doc)) = cache.iter().find(|(r, _)| r == rel) {
        return doc.clone();
    }
    let doc = analyze_path(&sample(rel), &[]);
    cache.push((rel.to_string(), doc.clone()));
    doc
}

#[test]
fn every_wrapped_log_reads_as_the_log_inside_it() {
    let mut cache = Vec::new();
    for (file, inner, format) in CASES {
        let doc = analyze_path(&sample(&format!("wrapped/{file}")), &[]);
        let want = original(inner, &mut cache);
        assert_eq!(doc["input"]["sources"][0]["format"], *format, "{file}");
        assert!(n(&doc, "/input/records") > 0, "{file}");
        assert_eq!(summary(&doc), summary(&want), "{file} against {inner}");
        assert_eq!(doc["queries"], want["queries"], "{file}: query groups");
        assert_eq!(n(&doc, "/input/malformed"), 0, "{file}");
        // Text inside an envelope has the inner prefix detected on it.
        assert_eq!(
            doc["input"]["sources"][0]["prefix"], want["input"]["sources"][0]["prefix"],
            "{file}"
        );
    }
}

#[test]
fn each_wrapped_format_is_selectable_by_name() {
    let mut cache = Vec::new();
    for (file, inner, format) in CASES {
        let doc = analyze_path(
            &sample(&format!("wrapped/{file}")),
            &["--input-format", format],
        );
        assert_eq!(doc["input"]["sources"][0]["format"], *format, "{file}");
        assert_eq!(counts(&doc), counts(&original(inner, &mut cache)), "{file}");
    }
}

fn gunzip(file: &str) -> Vec<u8> {
    let gz = std::fs::read(sample(&format!("wrapped/{file}"))).unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A copy of the wrapped file with the envelope line at its middle cut
/// in half and put in again after the whole one: one broken line.
fn with_a_broken_line(text: &[u8]) -> (Vec<u8>, u64) {
    let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
    let mid = lines.len() / 2;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        out.extend_from_slice(line);
        if i == mid {
            out.extend_from_slice(&line[..line.len() / 2]);
            out.push(b'\n');
        }
    }
    (out, mid as u64 + 2)
}

#[test]
fn a_broken_json_envelope_line_is_counted_with_file_and_line() {
    let dir = tmp();
    let mut cache = Vec::new();
    for (file, inner, format) in CASES {
        if !file.contains(".json") {
            continue;
        }
        let (broken, line) = with_a_broken_line(&gunzip(file));
        let p = write(dir.path(), &file.replace(".gz", ""), &broken);
        let doc = analyze_path(&p, &[]);
        assert_eq!(doc["input"]["sources"][0]["format"], *format, "{file}");
        let want = original(inner, &mut cache);
        let (records, all) = (n(&doc, "/input/records"), n(&want, "/input/records"));
        assert_eq!(n(&doc, "/input/malformed"), 1, "{file}");
        let sample = &doc["input"]["malformed_samples"][0];
        assert_eq!(sample["file"], p.to_str().unwrap(), "{file}");
        if is_array(file) {
            // The element the half line lands in is the one lost; the
            // elements after it are found again.
            assert!(
                records == all || records == all - 1,
                "{file}: {records} of {all}"
            );
            assert!(sample["line"].as_u64().unwrap() <= line, "{file}");
        } else {
            assert_eq!(records, all, "{file}: no record lost");
            assert_eq!(sample["line"], line, "{file}");
        }
    }
}

/// One indented JSON array rather than one object per line.
fn is_array(file: &str) -> bool {
    file.contains("-array") || file.contains("-query")
}

#[test]
fn garbage_between_text_envelope_lines_is_counted_with_its_line() {
    let dir = tmp();
    for file in ["cri.log.gz", "heroku.log.gz", "journald.log.gz"] {
        let text = gunzip(file);
        let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
        let mid = lines.len() / 2;
        let mut damaged = lines[..mid].concat();
        damaged.extend_from_slice(b"\x00\x01\xff\xfe\n");
        damaged.extend_from_slice(&lines[mid..].concat());
        let p = write(dir.path(), &file.replace(".gz", ""), &damaged);
        let doc = analyze_path(&p, &[]);
        let base = analyze_path(&sample(&format!("wrapped/{file}")), &[]);
        assert_eq!(counts(&doc)["records"], counts(&base)["records"], "{file}");
        assert_eq!(n(&doc, "/input/malformed"), 1, "{file}");
        assert_eq!(
            n(&doc, "/input/malformed_samples/0/line"),
            mid as u64 + 1,
            "{file}"
        );
    }
}

#[test]
fn a_wrapped_log_can_be_read_from_stdin_uncompressed() {
    let doc = analyze_stdin(gunzip("docker.json.gz"));
    assert_eq!(doc["input"]["sources"][0]["format"], "docker");
    assert_eq!(
        counts(&doc),
        counts(&analyze_path(&sample("primary/postgresql.log"), &[]))
    );
}

#[test]
fn randomly_damaged_envelopes_never_stop_the_run() {
    let dir = tmp();
    for (file, _, format) in CASES {
        let mut bytes = gunzip(file);
        damage_randomly(&mut bytes, 2000);
        let p = write(dir.path(), &file.replace(".gz", ""), &bytes);
        let doc = analyze_path(&p, &["--input-format", format]);
        assert!(n(&doc, "/input/records") > 0, "{file}");
        assert!(n(&doc, "/input/malformed") > 0, "{file}");
    }
}
