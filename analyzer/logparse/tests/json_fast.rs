//! The jsonlog fast path against serde_json: on every line of the sample
//! jsonlog files, and on mutations of those lines that the fast path must
//! leave to serde_json (or read exactly as it does).

use pglog_logparse::format::json::{parse_line_fast, parse_line_full};
use pglog_logparse::source;
use std::io::Read;
use std::path::PathBuf;

const JSONLOGS: [&str; 8] = [
    "primary/postgresql.json",
    "replica/postgresql.json",
    "rds/postgresql.json",
    "concurrent/postgresql.json",
    "errors/postgresql.json.gz",
    "maintenance-events/postgresql.json.gz",
    "server-events/primary/postgresql.json",
    "server-events/standby/postgresql.json",
];

fn lines(rel: &str) -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel);
    let mut bytes = Vec::new();
    source::open(&path)
        .unwrap()
        .reader
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn all_lines() -> Vec<Vec<u8>> {
    JSONLOGS.iter().flat_map(|rel| lines(rel)).collect()
}

/// Fast and full agree on `bytes`; true when the fast path read it.
fn agree(bytes: &[u8]) -> bool {
    let full = parse_line_full(7, bytes);
    match parse_line_fast(7, bytes) {
        Some(fast) => {
            assert_eq!(fast, full, "{}", String::from_utf8_lossy(bytes));
            true
        }
        None => false,
    }
}

/// The top-level members (`"key":value`) of a jsonlog line.
fn members(line: &[u8]) -> Vec<Vec<u8>> {
    let body = &line[1..line.len() - 1];
    let (mut out, mut start, mut in_string, mut escaped) = (Vec::new(), 0, false, false);
    for (i, &c) in body.iter().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b',' if !in_string => {
                out.push(body[start..i].to_vec());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(body[start..].to_vec());
    out
}

fn object(members: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"{".to_vec();
    out.extend(members.join(&b","[..]));
    out.push(b'}');
    out
}

fn key(member: &[u8]) -> &[u8] {
    let end = member.iter().position(|&c| c == b':').unwrap();
    &member[1..end - 1]
}

fn with_value(member: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = member[..key(member).len() + 3].to_vec();
    out.extend_from_slice(value);
    out
}

/// A few real lines of different shapes: the first (server start), one
/// with an escape, the longest, one with a statement, one with a detail.
fn picked(all: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let has = |l: &Vec<u8>, s: &[u8]| memchr::memmem::find(l, s).is_some();
    let mut out = vec![all[0].clone()];
    out.extend(all.iter().find(|l| has(l, b"\\\"")).cloned());
    out.extend(all.iter().max_by_key(|l| l.len()).cloned());
    out.extend(all.iter().find(|l| has(l, b"\"statement\"")).cloned());
    out.extend(all.iter().find(|l| has(l, b"\"detail\"")).cloned());
    out
}

#[test]
fn the_fast_path_reads_every_sample_jsonlog_line_as_serde_json_does() {
    for rel in JSONLOGS {
        let lines = lines(rel);
        assert!(!lines.is_empty(), "{rel}");
        for (i, l) in lines.iter().enumerate() {
            // Every line the server wrote has the server's shape.
            assert!(agree(l), "{rel}:{}: left to serde_json", i + 1);
        }
    }
}

#[test]
fn a_line_cut_at_any_byte_gets_the_same_outcome() {
    let all = all_lines();
    for line in picked(&all) {
        for cut in 0..line.len() {
            agree(&line[..cut]);
        }
    }
}

#[test]
fn swapped_or_repeated_keys_are_left_to_serde_json() {
    for line in picked(&all_lines()) {
        let m = members(&line);
        for i in 0..m.len() - 1 {
            let mut swapped = m.clone();
            swapped.swap(i, i + 1);
            assert!(!agree(&object(&swapped)));
            let mut repeated = m.clone();
            repeated.insert(i + 1, m[i].clone());
            assert!(!agree(&object(&repeated)));
        }
        // An unknown key, read by serde_json as if it were not there.
        let mut unknown = m.clone();
        unknown.insert(1, b"\"pglog\":1".to_vec());
        assert!(!agree(&object(&unknown)));
        assert_eq!(
            parse_line_full(7, &object(&unknown)),
            parse_line_full(7, &line)
        );
    }
}

#[test]
fn whitespace_is_left_to_serde_json() {
    for line in picked(&all_lines()) {
        let m = members(&line);
        for ws in [&b" "[..], b"\t", b"\r\n"] {
            let spaced: Vec<Vec<u8>> = m.iter().map(|x| [ws, x.as_slice(), ws].concat()).collect();
            let spaced = object(&spaced);
            assert!(!agree(&spaced));
            assert_eq!(parse_line_full(7, &spaced), parse_line_full(7, &line));
            assert!(!agree(&[ws, line.as_slice()].concat()));
            assert!(!agree(&[line.as_slice(), ws].concat()));
        }
    }
}

#[test]
fn escapes_are_read_as_serde_json_reads_them() {
    for line in picked(&all_lines()) {
        let m = members(&line);
        let message = m.iter().position(|x| key(x) == b"message").unwrap();
        let escaped = |escape: &[u8]| {
            let mut v = m.clone();
            let value = &m[message][b"\"message\":".len()..];
            let mut s = value[..value.len() - 1].to_vec();
            s.extend_from_slice(escape);
            s.push(b'"');
            v[message] = with_value(&m[message], &s);
            object(&v)
        };
        for read in [
            &b"\\n"[..],
            b"\\t",
            b"\\r",
            b"\\b",
            b"\\f",
            b"\\/",
            b"\\\\",
            b"\\\"",
            b"\\u0001",
            b"\\u001F",
            b"\\u00e9",
            b"\\u20AC",
            b"\\u0000",
        ] {
            assert!(agree(&escaped(read)), "{}", String::from_utf8_lossy(read));
        }
        // A surrogate pair, lone surrogates, bad escapes: serde_json decides.
        for left in [
            &b"\\ud83d\\ude00"[..],
            b"\\ud83d",
            b"\\ude00",
            b"\\x41",
            b"\\u12",
            b"\\u12g4",
            b"\\",
            b"\x01",
        ] {
            assert!(!agree(&escaped(left)), "{}", String::from_utf8_lossy(left));
        }
    }
}

#[test]
fn numbers_other_than_the_servers_are_left_to_serde_json() {
    for line in picked(&all_lines()) {
        let m = members(&line);
        for (i, member) in m.iter().enumerate() {
            if member.ends_with(b"\"") {
                continue;
            }
            for value in [
                &b"01"[..],
                b"-0",
                b"1.0",
                b"1e3",
                b"-1",
                b"\"1\"",
                b"null",
                b"4294967296",
                b"18446744073709551616",
                b"9223372036854775807",
                b"9223372036854775808",
                b"-9223372036854775808",
                b"-9223372036854775809",
            ] {
                let mut v = m.clone();
                v[i] = with_value(member, value);
                agree(&object(&v));
            }
            // What the server writes, in every numeric field's range.
            for value in [&b"0"[..], b"4294967295"] {
                let mut v = m.clone();
                v[i] = with_value(member, value);
                assert!(agree(&object(&v)));
            }
        }
    }
}
