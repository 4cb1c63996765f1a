//! `--begin/--end/--since` and the name and statement filters keep exactly
//! the records that `sample-logs/count.py` (Python's csv module, nothing
//! shared with pglog) keeps from each csvlog, in the csv, json and stderr
//! copies, read whole and in ranges of 4 KiB by 3 threads; the rest are
//! `input.filtered`.

use super::*;

/// One filter case: pglog's flags and count.py's flags for them.
struct Case {
    pglog: Vec<String>,
    oracle: Vec<String>,
}

fn case(pglog: &[&str], oracle: &[&str]) -> Case {
    Case {
        pglog: pglog.iter().map(|s| s.to_string()).collect(),
        oracle: oracle.iter().map(|s| s.to_string()).collect(),
    }
}

/// The same flags for both.
fn same(flags: &[&str]) -> Case {
    case(flags, flags)
}

/// count.py's counts of the records kept, with `filtered` and `span`
/// (`flags` must not be empty: any flag puts it in filter mode).
fn oracle(csv: &Path, flags: &[String]) -> Value {
    let out = Command::new("python3")
        .arg(sample("count.py"))
        .arg(csv)
        .args(flags)
        .output()
        .expect("python3 runs sample-logs/count.py");
    assert!(
        out.status.success(),
        "count.py {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The first and last record's wall-clock time (`2026-12-01 01:03:23.140`)
/// and zone offset in minutes, from the csvlog.
fn span(inst: &str) -> ((String, i64), (String, i64)) {
    let o = oracle(
        &sample(&format!("{inst}/postgresql.csv")),
        &["--exclude-host".into(), "".into()],
    );
    let at = |i: usize| {
        (
            o["span"][i][0].as_str().unwrap().to_string(),
            o["span"][i][1].as_i64().unwrap(),
        )
    };
    (at(0), at(1))
}

/// Milliseconds of a wall-clock time of the sample day (`2026-12-01 HH:MM:SS.fff`).
fn day_ms(wall: &str) -> i64 {
    let t = &wall[11..];
    let h: i64 = t[0..2].parse().unwrap();
    let m: i64 = t[3..5].parse().unwrap();
    let s: f64 = t[6..].parse().unwrap();
    (h * 3600 + m * 60) * 1000 + (s * 1000.0).round() as i64
}

fn clock(ms: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `--begin/--end` at 40% and 75% of the log's span, as instants, in the
/// log's wall clock and as times of day; `whole_seconds` rounds them for
/// logs whose `%t` has no milliseconds.
fn window_cases(inst: &str, whole_seconds: bool) -> Vec<Case> {
    let ((first, offset), (last, _)) = span(inst);
    let date = &first[..10];
    let (a, z) = (day_ms(&first), day_ms(&last));
    let utc = |ms: i64| format!("{date}T{}Z", clock(ms - offset * 60_000));
    let wall = |ms: i64| format!("{date} {}", clock(ms));
    if whole_seconds {
        // The next whole second after 40% of the span.
        let t = (a + (z - a) * 2 / 5) / 1000 * 1000 + 1000;
        let (u, w, c) = (utc(t), wall(t), clock(t));
        return vec![
            same(&["--begin", &u]),
            same(&["--end", &u]),
            same(&["--begin", &w]),
            same(&["--end", &c]),
        ];
    }
    let (b, e) = (a + (z - a) * 2 / 5, a + (z - a) * 3 / 4);
    let (ub, ue, wb, we, cb, ce) = (utc(b), utc(e), wall(b), wall(e), clock(b), clock(e));
    vec![
        same(&["--begin", &ub, "--end", &ue]),
        case(&["--start", &ub], &["--begin", &ub]),
        same(&["--end", &ue]),
        same(&["--begin", &wb, "--end", &we]),
        same(&["--begin", &cb, "--end", &ce]),
    ]
}

/// `--since` a third of the log's span, counted back from its last record.
fn since_case(inst: &str) -> Case {
    let ((first, _), (last, _)) = span(inst);
    let ms = (day_ms(&last) - day_ms(&first)) / 3;
    let flag = format!("{ms}ms");
    case(&["--since", &flag], &["--since-ms", &ms.to_string()])
}

/// Name filters, each include and exclude form.
fn name_cases(fields: &[&str]) -> Vec<Case> {
    let mut out = Vec::new();
    for f in fields {
        let (inc, exc) = match *f {
            "database" => (vec!["app"], "app"),
            "user" => (vec!["ali*"], "alice"),
            "application" => (vec!["report*", "billing"], "psql"),
            "host" => (vec!["127.*"], "127.0.0.?"),
            _ => unreachable!(),
        };
        let mut flags = Vec::new();
        for g in &inc {
            flags.push(format!("--{f}"));
            flags.push(g.to_string());
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        out.push(same(&flags));
        out.push(same(&[&format!("--exclude-{f}"), exc]));
    }
    out
}

fn query_cases() -> Vec<Case> {
    vec![
        same(&["--query", r"(?i)^\s*(insert|update)\b"]),
        same(&["--query", "pgbench_accounts"]),
    ]
}

/// The counts compared: count.py's shape, and `input.filtered`.
fn assert_case(inst: &str, formats: &[&str], c: &Case) {
    for f in formats {
        let mut flags = c.oracle.clone();
        if *f == "log" {
            // No sample's stderr prefix has %P: parallel workers there name
            // no leader to take the user and database from (and %q leaves
            // out their own).
            flags.extend(["--without-leader-pid".to_string(), "1".to_string()]);
        }
        if *f == "log" && inst == "rds" {
            // The RDS prefix's %t prints whole seconds.
            flags.extend(["--whole-seconds".to_string(), "1".to_string()]);
        }
        let mut want = oracle(&sample(&format!("{inst}/postgresql.csv")), &flags);
        if *f == "log" {
            unknown_without_prefix_code(&mut want);
        }
        let filtered = want["filtered"].take();
        let obj = want.as_object_mut().unwrap();
        obj.remove("filtered");
        obj.remove("span");
        // Every case here must leave something out, or it proves nothing.
        assert!(
            filtered.as_u64().unwrap() > 0,
            "{inst} {:?} filters nothing",
            c.pglog
        );
        for split in [&[][..], &["-j", "3", "--chunk-bytes", "4096"][..]] {
            let mut args: Vec<&str> = c.pglog.iter().map(String::as_str).collect();
            args.extend_from_slice(split);
            let doc = analyze_path(&sample(&format!("{inst}/postgresql.{f}")), &args);
            let what = format!("{inst}/postgresql.{f} {args:?}");
            assert_eq!(oracle_shape(&doc), want, "{what}");
            assert_eq!(doc["input"]["filtered"], filtered, "{what}");
            assert_eq!(doc["input"]["sources"][0]["filtered"], filtered, "{what}");
            assert_eq!(n(&doc, "/input/malformed"), 0, "{what}");
        }
    }
}

const ALL: &[&str] = &["csv", "json", "log"];
const CSV_JSON: &[&str] = &["csv", "json"];

#[test]
fn windows_keep_the_records_in_them() {
    for (inst, whole_seconds) in [("primary", false), ("replica", false), ("rds", false)] {
        for c in window_cases(inst, whole_seconds) {
            assert_case(inst, if inst == "rds" { CSV_JSON } else { ALL }, &c);
        }
        assert_case(inst, ALL, &since_case(inst));
    }
    // The RDS prefix's %t has whole seconds.
    for c in window_cases("rds", true) {
        assert_case("rds", ALL, &c);
    }
    // With a name filter: the replica's stderr prefix has no user.
    for (inst, formats) in [("primary", ALL), ("replica", CSV_JSON)] {
        let ((first, _), _) = span(inst);
        let begin = clock(day_ms(&first) + 5000);
        assert_case(
            inst,
            formats,
            &same(&["--begin", &begin, "--user", "alice"]),
        );
    }
}

#[test]
fn name_filters_keep_the_records_of_those_names() {
    // What each stderr prefix carries: primary %u@%d/%a, rds %r and %u@%d,
    // replica none of them.
    let cases = [
        ("primary", ALL, vec!["database", "user", "application"]),
        ("primary", CSV_JSON, vec!["host"]),
        ("rds", ALL, vec!["database", "user", "host"]),
        ("rds", CSV_JSON, vec!["application"]),
        (
            "replica",
            CSV_JSON,
            vec!["database", "user", "application", "host"],
        ),
    ];
    for (inst, formats, fields) in cases {
        for c in name_cases(&fields) {
            assert_case(inst, formats, &c);
        }
    }
    // The primary's parallel workers (temp files) serve a leader on a Unix
    // socket: they take its host, as they take its user and database.
    assert_case("primary", CSV_JSON, &same(&["--host", "[[]local]"]));
}

#[test]
fn query_filter_keeps_the_records_of_matching_statements() {
    for inst in ["primary", "rds"] {
        for c in query_cases() {
            assert_case(inst, ALL, &c);
        }
    }
    assert_case(
        "primary",
        ALL,
        &same(&[
            "--query",
            "pgbench_accounts",
            "--user",
            "alice",
            "--exclude-application",
            "psql",
        ]),
    );
}

#[test]
fn the_report_states_its_window_and_filters() {
    let p = sample("rds/postgresql.csv");
    let doc = analyze_path(
        &p,
        &[
            "--begin",
            "01:03:24",
            "--end",
            "01:03:25.5",
            "--user",
            "ali*",
            "--exclude-host",
            "10.*",
            "--query",
            "^SELECT",
        ],
    );
    let i = &doc["input"];
    assert_eq!(
        i["window"],
        serde_json::json!({"begin": "01:03:24.000", "end": "01:03:25.500", "since": null, "daily": true})
    );
    assert_eq!(i["filters"]["user"], serde_json::json!(["ali*"]));
    assert_eq!(i["filters"]["exclude_host"], serde_json::json!(["10.*"]));
    assert_eq!(i["filters"]["query"], "^SELECT");
    let whole = analyze_path(&p, &[]);
    assert_eq!(whole["input"]["window"], Value::Null);
    assert_eq!(whole["input"]["filtered"], 0);
    let since = analyze_path(&p, &["--since", "1s"]);
    assert_eq!(since["input"]["window"]["since"], "1s");
    // 1 s before the last record (01:03:24.921 CET).
    assert_eq!(
        since["input"]["window"]["begin"],
        "2026-12-01T00:03:23.921Z"
    );
    let flags = [
        "--begin", "01:03:24", "--user", "ali*", "--query", "^SELECT",
    ];
    for (format, needles) in [
        (
            "text",
            &[
                "01:03:24.000 log time",
                "user ali*",
                "query /^SELECT/",
                "filtered",
            ][..],
        ),
        (
            "md",
            &["01\\:03\\:24.000 log time", "user ali\\*", "filtered"][..],
        ),
        (
            "html",
            &["01:03:24.000 log time", "user ali*", "filtered"][..],
        ),
    ] {
        let mut args = vec!["analyze", "--format", format, "--output", "-"];
        args.extend_from_slice(&flags);
        args.push(p.to_str().unwrap());
        let out = pglog(&args);
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in needles {
            assert!(text.contains(needle), "{format} lacks {needle:?}:\n{text}");
        }
    }
}

#[test]
fn bad_filter_values_name_their_flag() {
    let p = sample("rds/postgresql.csv");
    let p = p.to_str().unwrap();
    for (args, flag) in [
        (vec!["--begin", "yesterday"], "--begin"),
        (vec!["--end", "25:00"], "--end"),
        (
            vec![
                "--begin",
                "2026-12-01T10:00:00Z",
                "--end",
                "2026-12-01T09:00:00Z",
            ],
            "--begin",
        ),
        (vec!["--begin", "10:00", "--end", "10:00"], "--begin"),
        (
            vec!["--begin", "10:00", "--end", "2026-12-01T11:00:00Z"],
            "--end",
        ),
        (vec!["--since", "soon"], "--since"),
        (vec!["--database", "[app"], "--database"),
        (vec!["--exclude-user", "[a-"], "--exclude-user"),
        (vec!["--query", "(unclosed"], "--query"),
        (vec!["--since", "1h", "--begin", "10:00"], "--since"),
        // CloudWatch Logs is read by instants: a time needs its zone there.
        (
            vec!["--cloudwatch-log-group", "/pglog/x", "--begin", "10:00"],
            "--begin",
        ),
    ] {
        let mut all = vec!["analyze"];
        all.extend_from_slice(&args);
        all.push(p);
        let out = pglog(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} names {flag}: {err}");
    }
    // --since counts back from the last record: standard input cannot be read twice.
    let mut child = Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(["analyze", "--since", "1h", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(p).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

#[test]
fn a_window_that_leaves_out_everything_is_an_empty_report_with_a_warning() {
    let p = sample("replica/postgresql.csv");
    let out = pglog(&[
        "analyze",
        "--format",
        "json",
        "--begin",
        "2020-01-01T00:00:00Z",
        "--end",
        "2020-01-02T00:00:00Z",
        p.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["input"]["records"], 0);
    assert_eq!(doc["input"]["filtered"], expected("replica")["records"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out all"));
}

#[test]
fn since_on_a_compressed_log_reads_it_through() {
    // A compressed file has no tail to seek to: its last record is found
    // by a full pass, with the same answer.
    let dir = tmp();
    let csv = std::fs::read(sample("primary/postgresql.csv")).unwrap();
    let mut zst = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    zst.write_all(&csv).unwrap();
    let z = write(dir.path(), "postgresql.csv.zst", &zst.finish().unwrap());
    let plain = analyze_path(&sample("primary/postgresql.csv"), &["--since", "4s"]);
    let packed = analyze_path(&z, &["--since", "4s"]);
    assert_eq!(oracle_shape(&packed), oracle_shape(&plain));
    assert_eq!(packed["input"]["window"], plain["input"]["window"]);
    assert!(n(&plain, "/input/filtered") > 0);
}
