//! The envelope readers on real server lines (the head of
//! `sample-logs/primary/postgresql.log`, whose 36th line starts a
//! multi-line plan) wrapped here the way each envelope carries them, and
//! their edge cases: split lines, byte-array messages, escaped newlines,
//! broken envelope lines.

use pglog_logparse::format::sniff_format;
use pglog_logparse::{InputFormat, Item, LogRecord, MalformedKind, ReaderBuilder};
use serde_json::json;
use std::io::Cursor;

fn primary_head(lines: usize) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-logs/primary/postgresql.log"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take(lines)
        .map(str::to_string)
        .collect()
}

fn read(bytes: Vec<u8>, format: InputFormat) -> (InputFormat, Vec<Item>) {
    let mut reader = ReaderBuilder::new()
        .format(format)
        .build(Box::new(Cursor::new(bytes)))
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        items.push(item);
    }
    (reader.format(), items)
}

/// Records without where they were (which differs between envelope and
/// plain), nor what the reader saw of their language (csvlog rows spell
/// severities in lc_messages, jsonlog in English).
fn records(items: &[Item]) -> Vec<LogRecord> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(LogRecord {
                line: 0,
                offset: 0,
                language: Default::default(),
                ..r.clone()
            }),
            Item::Malformed(_) => None,
        })
        .collect()
}

/// The malformed stretches, foreign lines apart.
fn malformed(items: &[Item]) -> Vec<(u64, MalformedKind)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Malformed(m) if m.kind != MalformedKind::Foreign => Some((m.line, m.kind)),
            _ => None,
        })
        .collect()
}

/// The lines of foreign lines: envelope lines that carry no server output.
fn foreign(items: &[Item]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Malformed(m) if m.kind == MalformedKind::Foreign => Some(m.line),
            _ => None,
        })
        .collect()
}

/// What the plain stderr lines read as.
fn plain(lines: &[String]) -> Vec<LogRecord> {
    let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    records(&read(text.into_bytes(), InputFormat::Stderr).1)
}

fn joined(lines: impl IntoIterator<Item = String>) -> Vec<u8> {
    lines
        .into_iter()
        .map(|l| l + "\n")
        .collect::<String>()
        .into_bytes()
}

/// `2026-12-01 00:03:01.843 UTC` as RFC 3339.
fn iso(line: &str) -> String {
    format!("{}T{}Z", &line[..10], &line[11..23])
}

/// A stderr log cut into messages (a timestamped line and the tab-led ones after it).
fn messages(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some(m) if l.starts_with('\t') => {
                m.push('\n');
                m.push_str(l);
            }
            _ => out.push(l.clone()),
        }
    }
    out
}

/// `bytes` are detected as `format` and read as the plain `lines` are,
/// with nothing malformed.
fn assert_reads_as_plain(bytes: Vec<u8>, format: InputFormat, lines: &[String]) {
    assert_eq!(sniff_format(&bytes), format);
    let (got, items) = read(bytes, InputFormat::Auto);
    assert_eq!(got, format);
    assert_eq!(records(&items), plain(lines));
    assert_eq!(malformed(&items), vec![]);
}

#[test]
fn cri_partial_lines_are_joined() {
    let lines = primary_head(40);
    let mut cri = Vec::new();
    for l in &lines {
        let t = iso(if l.starts_with('\t') { &lines[0] } else { l });
        // Pieces of 7 bytes, as a runtime with that line limit writes them.
        let bytes = l.as_bytes();
        let mut pieces = bytes.chunks(7).peekable();
        while let Some(p) = pieces.next() {
            let tag = if pieces.peek().is_some() { "P" } else { "F" };
            cri.push(format!(
                "{t} stderr {tag} {}",
                std::str::from_utf8(p).unwrap()
            ));
        }
    }
    let bytes = joined(cri);
    assert_reads_as_plain(bytes, InputFormat::Cri, &lines);
}

#[test]
fn cri_input_ending_inside_a_split_line_keeps_what_came() {
    let lines = primary_head(3);
    let t = iso(&lines[0]);
    let mut cri: Vec<String> = lines[..2]
        .iter()
        .map(|l| format!("{t} stderr F {l}"))
        .collect();
    cri.push(format!("{t} stderr P {}", &lines[2][..30]));
    let (_, items) = read(joined(cri), InputFormat::Auto);
    assert_eq!(records(&items).len(), 2);
    assert_eq!(malformed(&items), vec![(3, MalformedKind::Truncated)]);
}

#[test]
fn docker_pieces_without_newline_are_joined() {
    let lines = primary_head(40);
    let mut out = Vec::new();
    for l in &lines {
        let data = format!("{l}\n");
        let (a, b) = data.split_at(data.len() / 2);
        for piece in [a, b] {
            out.push(
                json!({"log": piece, "stream": "stderr", "time": "2026-12-01T00:03:01.843000000Z"})
                    .to_string(),
            );
        }
    }
    assert_reads_as_plain(joined(out), InputFormat::Docker, &lines);
}

#[test]
fn journald_message_may_be_a_byte_array() {
    let lines = primary_head(40);
    let entries = lines.iter().enumerate().map(|(i, l)| {
        // Every other entry as journalctl writes a MESSAGE it cannot print.
        let message = if i % 2 == 0 {
            json!(l.as_bytes())
        } else {
            json!(l)
        };
        json!({"__REALTIME_TIMESTAMP": "1764547381843000", "_PID": "14091",
               "SYSLOG_IDENTIFIER": "postgres", "MESSAGE": message})
        .to_string()
    });
    assert_reads_as_plain(joined(entries), InputFormat::JournaldJson, &lines);
}

#[test]
fn journald_message_bytes_that_are_not_utf8_are_counted() {
    let lines = primary_head(2);
    let mut bad = lines[1].clone().into_bytes();
    let at = bad.len() - 3;
    bad[at] = 0xff;
    let entries = [
        json!({"__REALTIME_TIMESTAMP": "1764547381843000", "MESSAGE": lines[0]}),
        json!({"__REALTIME_TIMESTAMP": "1764547381843000", "MESSAGE": bad}),
    ]
    .map(|e| e.to_string());
    let (_, items) = read(joined(entries), InputFormat::JournaldJson);
    assert_eq!(records(&items).len(), 1);
    assert_eq!(malformed(&items), vec![(2, MalformedKind::InvalidUtf8)]);
}

#[test]
fn journalctl_banners_and_service_manager_lines_are_passed_over() {
    let lines = primary_head(5);
    let mut out = vec![
        "-- Journal begins at Tue 2026-12-01 00:00:00 UTC, ends at Tue 2026-12-01 01:00:00 UTC. --"
            .to_string(),
    ];
    out.push(
        "2026-12-01T00:03:01+0000 pghost systemd[1]: Starting postgresql@15-main.service..."
            .to_string(),
    );
    for l in &lines {
        out.push(format!(
            "2026-12-01T00:03:01+0000 pghost postgres[14091]: {l}"
        ));
    }
    let bytes = joined(out);
    assert_reads_as_plain(bytes.clone(), InputFormat::Journald, &lines);
    // The banner and systemd's line are counted as foreign lines.
    assert_eq!(foreign(&read(bytes, InputFormat::Journald).1), vec![1, 2]);
}

#[test]
fn escaped_newlines_in_a_json_payload_are_lines_of_one_message() {
    let lines = primary_head(40);
    let entries = messages(&lines).into_iter().map(|m| {
        json!({"logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
               "textPayload": m, "timestamp": "2026-12-01T00:03:01.843Z"})
        .to_string()
    });
    let text = joined(entries);
    assert!(
        text.windows(4).any(|w| w == b"\\n\\t"),
        "the plan's lines are escaped"
    );
    let (format, items) = read(text, InputFormat::Auto);
    assert_eq!(format, InputFormat::Cloudsql);
    let got = records(&items);
    assert_eq!(got, plain(&lines));
    assert!(got.iter().any(|r| r.message.contains("\nFunction Scan")));
}

#[test]
fn a_broken_envelope_line_is_malformed_with_its_line() {
    let lines = primary_head(6);
    let mut entries: Vec<String> = lines
        .iter()
        .map(|l| {
            json!({"log": format!("{l}\n"), "stream": "stderr", "time": "2026-12-01T00:03:01Z"})
                .to_string()
        })
        .collect();
    let cut = entries[3].len() / 2;
    entries[3].truncate(cut);
    entries.insert(5, "{\"log\": 17}".to_string());
    let (_, items) = read(joined(entries), InputFormat::Docker);
    assert_eq!(records(&items).len(), 5);
    let mut bad = malformed(&items);
    bad.sort();
    assert_eq!(
        bad,
        vec![(4, MalformedKind::Truncated), (6, MalformedKind::BadFields)]
    );
}

#[test]
fn heroku_later_chunks_continue_their_message() {
    let lines = primary_head(40);
    let mut out = Vec::new();
    for (n, m) in messages(&lines).iter().enumerate() {
        for (c, l) in m.split('\n').enumerate() {
            out.push(format!(
                "2026-12-01T00:03:01.843000+00:00 app[postgres.14091]: [DATABASE] [{}-{}] {l}",
                n + 1,
                c + 1
            ));
        }
    }
    out.push("2026-12-01T00:03:02+00:00 heroku[router]: at=info method=GET path=\"/\"".to_string());
    assert_reads_as_plain(joined(out), InputFormat::Heroku, &lines);
}

#[test]
fn azure_rows_of_other_categories_are_passed_over() {
    let lines = primary_head(10);
    let mut rows: Vec<String> = messages(&lines)
        .iter()
        .map(|m| json!({"Category": "PostgreSQLLogs", "TimeGenerated": "2026-12-01T00:03:01.843Z", "Message": m}).to_string())
        .collect();
    rows.insert(
        2,
        json!({"Category": "PostgreSQLFlexSessions", "TimeGenerated": "2026-12-01T00:03:01.843Z"})
            .to_string(),
    );
    assert_reads_as_plain(joined(rows), InputFormat::Azure, &lines);
}

/// The head of the primary's jsonlog as CloudNativePG lines (its csvlog
/// columns by name, every value a string), and the records the jsonlog
/// reader reads from the same head.
fn cnpg_lines(n: usize) -> (Vec<String>, Vec<LogRecord>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-logs/primary/postgresql.json"
    );
    // The jsonlog file's records, carried as CloudNativePG carries csvlog
    // columns: by name, every value a string.
    let text = std::fs::read_to_string(path).unwrap();
    let jsonlog: Vec<serde_json::Value> = text
        .lines()
        .take(n)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let s = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let lines: Vec<String> = jsonlog
        .iter()
        .map(|j| {
            let host = match (&j["remote_host"], &j["remote_port"]) {
                (serde_json::Value::Null, _) => String::new(),
                (h, serde_json::Value::Null) => s(h),
                (h, p) => format!("{}:{}", s(h), s(p)),
            };
            let location = match (&j["func_name"], &j["file_name"], &j["file_line_num"]) {
                (f, file, n) if !f.is_null() => format!("{}, {}:{}", s(f), s(file), s(n)),
                _ => String::new(),
            };
            json!({"level": "info", "ts": "2026-12-01T00:03:01.843Z", "logger": "postgres",
                   "msg": "record", "logging_pod": "cluster-example-1", "record": {
                "log_time": s(&j["timestamp"]), "user_name": s(&j["user"]),
                "database_name": s(&j["dbname"]), "process_id": s(&j["pid"]),
                "connection_from": host, "session_id": s(&j["session_id"]),
                "session_line_num": s(&j["line_num"]), "command_tag": s(&j["ps"]),
                "session_start_time": s(&j["session_start"]),
                "virtual_transaction_id": s(&j["vxid"]), "transaction_id": s(&j["txid"]),
                "error_severity": s(&j["error_severity"]), "sql_state_code": s(&j["state_code"]),
                "message": s(&j["message"]), "detail": s(&j["detail"]), "hint": s(&j["hint"]),
                "internal_query": s(&j["internal_query"]), "context": s(&j["context"]),
                "query": s(&j["statement"]), "location": location,
                "application_name": s(&j["application_name"]),
                "backend_type": s(&j["backend_type"]), "leader_pid": s(&j["leader_pid"]),
                "query_id": s(&j["query_id"])}})
            .to_string()
        })
        .collect();
    let bytes = text
        .lines()
        .take(n)
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    (
        lines,
        records(&read(bytes.into_bytes(), InputFormat::Json).1),
    )
}

#[test]
fn cnpg_records_read_as_their_csvlog_rows() {
    let (mut lines, want) = cnpg_lines(40);
    // The instance manager's own lines carry no record.
    lines.insert(1, json!({"level": "info", "ts": "2026-12-01T00:03:01.843Z", "logger": "instance-manager", "msg": "Starting up instance", "logging_pod": "cluster-example-1"}).to_string());
    let (format, items) = read(joined(lines), InputFormat::Auto);
    assert_eq!(format, InputFormat::Cnpg);
    assert_eq!(records(&items), want);
    assert!(malformed(&items).is_empty());
}

#[test]
fn cloudwatch_export_lines_lose_only_their_event_time() {
    let lines = primary_head(40);
    let out = messages(&lines)
        .into_iter()
        .map(|m| format!("{} {m}", iso(&m)));
    assert_reads_as_plain(joined(out), InputFormat::CloudwatchExport, &lines);
}

#[test]
fn plain_logs_are_not_taken_for_envelopes() {
    for (rel, want) in [
        ("primary/postgresql.log", InputFormat::Stderr),
        ("primary/postgresql.csv", InputFormat::Csv),
        ("primary/postgresql.json", InputFormat::Json),
        ("rds/postgresql.syslog", InputFormat::Syslog),
    ] {
        let path = format!("{}/../../sample-logs/{rel}", env!("CARGO_MANIFEST_DIR"));
        let head: Vec<u8> = std::fs::read(path)
            .unwrap()
            .into_iter()
            .take(64 * 1024)
            .collect();
        assert_eq!(sniff_format(&head), want, "{rel}");
    }
}

#[test]
fn a_damaged_jsonlog_payload_first_in_the_file_does_not_hide_the_others() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-logs/primary/postgresql.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries: Vec<String> = text
        .lines()
        .take(10)
        .map(|l| {
            let fields: serde_json::Value = serde_json::from_str(l).unwrap();
            json!({"logName": "projects/p/logs/postgresql", "jsonPayload": fields}).to_string()
        })
        .collect();
    // The first line's severity key damaged: it reads as a bare message.
    entries[0] = entries[0].replace("\"error_severity\"", "\"error_sevXrity\"");
    let (format, items) = read(joined(entries), InputFormat::Auto);
    assert_eq!(format, InputFormat::Cloudsql);
    assert_eq!(records(&items).len(), 9);
    assert_eq!(malformed(&items), vec![(1, MalformedKind::Garbage)]);
}

#[test]
fn azure_single_server_rows_put_prefix_level_and_message_together() {
    let lines = primary_head(40);
    let rows = messages(&lines).into_iter().map(|m| {
        // The row splits the line where its level label stands.
        let at = m.find("LOG:  ").unwrap();
        json!({"Category": "PostgreSQLLogs", "TimeGenerated": "2026-12-01T00:03:01.843Z",
               "ResourceType": "SERVERS", "prefix_s": &m[..at], "errorLevel_s": "LOG",
               "Message": &m[at + 6..]})
        .to_string()
    });
    assert_reads_as_plain(joined(rows), InputFormat::Azure, &lines);
}

fn cloudsql_entries(lines: &[String]) -> Vec<serde_json::Value> {
    messages(lines)
        .into_iter()
        .map(|m| {
            json!({"logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
                   "resource": {"type": "cloudsql_database", "labels": {"region": "x{y}[z]"}},
                   "textPayload": m, "timestamp": "2026-12-01T00:03:01.843Z"})
        })
        .collect()
}

#[test]
fn a_json_array_is_read_element_by_element() {
    let lines = primary_head(40);
    let entries = cloudsql_entries(&lines);
    for text in [
        serde_json::to_string_pretty(&entries).unwrap(),
        serde_json::to_string(&entries).unwrap(),
    ] {
        assert_reads_as_plain(text.into_bytes(), InputFormat::Cloudsql, &lines);
    }
}

#[test]
fn a_cut_json_array_keeps_the_whole_elements() {
    let lines = primary_head(40);
    let entries = cloudsql_entries(&lines);
    let text = serde_json::to_string_pretty(&entries).unwrap();
    // Cut inside the last element, after its string values.
    let cut = text.rfind("\"timestamp\"").unwrap();
    let (_, items) = read(text[..cut].as_bytes().to_vec(), InputFormat::Cloudsql);
    assert_eq!(records(&items).len(), entries.len() - 1);
    let bad = malformed(&items);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].1, MalformedKind::Truncated);
}

#[test]
fn an_unclosed_string_in_a_json_array_loses_one_element() {
    let lines = primary_head(40);
    let entries = cloudsql_entries(&lines);
    let text = serde_json::to_string_pretty(&entries).unwrap();
    let mut out: Vec<&str> = text.lines().collect();
    // The fourth element's textPayload line cut in half.
    let at = out
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("\"textPayload\""))
        .nth(3)
        .unwrap()
        .0;
    let half = &out[at][..out[at].len() / 2];
    out[at] = half;
    let (_, items) = read(joined(out.iter().map(|l| l.to_string())), InputFormat::Auto);
    let mut want = plain(&lines);
    want.remove(3);
    assert_eq!(records(&items), want);
    assert_eq!(malformed(&items).len(), 1);
}

#[test]
fn json_log_lines_inside_a_container_envelope_are_records() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sample-logs/primary/postgresql.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let head: Vec<&str> = text.lines().take(40).collect();
    let lines = head.iter().map(|l| {
        json!({"log": format!("{l}\n"), "stream": "stdout", "time": "2026-12-01T00:03:01.843Z"})
            .to_string()
    });
    let (format, items) = read(joined(lines), InputFormat::Auto);
    assert_eq!(format, InputFormat::Docker);
    let bytes = head.iter().map(|l| format!("{l}\n")).collect::<String>();
    let want = records(&read(bytes.into_bytes(), InputFormat::Json).1);
    assert_eq!(records(&items), want);
    assert_eq!(malformed(&items), vec![]);
}

fn read_with_max(bytes: Vec<u8>, max: usize) -> Vec<Item> {
    let mut reader = ReaderBuilder::new()
        .max_record_bytes(max)
        .build(Box::new(Cursor::new(bytes)))
        .unwrap();
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        items.push(item);
    }
    items
}

#[test]
fn split_lines_and_array_elements_over_the_size_limit_are_dropped_not_kept() {
    let lines = primary_head(6);
    let t = iso(&lines[0]);
    // A line of 300 KiB in CRI pieces after the real ones (which prefix
    // detection sees first), then a real one.
    let mut cri: Vec<String> = lines.iter().map(|l| format!("{t} stderr F {l}")).collect();
    let piece = "x".repeat(1000);
    cri.extend((0..300).map(|_| format!("{t} stderr P {piece}")));
    cri.push(format!("{t} stderr F end"));
    cri.push(format!("{t} stderr F {}", lines[0]));
    let items = read_with_max(joined(cri), 64 * 1024);
    let mut want = plain(&lines);
    want.push(want[0].clone());
    assert_eq!(records(&items), want);
    assert_eq!(malformed(&items), vec![(7, MalformedKind::TooLong)]);

    // An array element of 300 KiB after the real ones, then a real one.
    let mut entries = cloudsql_entries(&lines);
    let first = entries[0].clone();
    entries.push(json!({"logName": "projects/p/logs/x", "textPayload": "y".repeat(300 * 1024)}));
    entries.push(first);
    let text = serde_json::to_string_pretty(&entries).unwrap();
    let items = read_with_max(text.into_bytes(), 64 * 1024);
    assert_eq!(records(&items), want);
    let bad = malformed(&items);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].1, MalformedKind::TooLong);
}

#[test]
fn a_cnpg_line_in_a_cloud_logging_json_payload_is_its_record() {
    let (lines, want) = cnpg_lines(40);
    let entries = lines.iter().map(|l| {
        let payload: serde_json::Value = serde_json::from_str(l).unwrap();
        json!({"logName": "projects/p/logs/stdout", "jsonPayload": payload,
               "resource": {"type": "k8s_container"}, "timestamp": "2026-12-01T00:03:01.843Z"})
        .to_string()
    });
    let (format, items) = read(joined(entries), InputFormat::Auto);
    assert_eq!(format, InputFormat::Cloudsql);
    assert_eq!(records(&items), want);
    assert_eq!(malformed(&items), vec![]);
}
