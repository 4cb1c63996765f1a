//! `log_line_prefix` inference and matching on the logs a real server wrote
//! with many settings (`sample-logs/prefixes/`, see `generate-prefixes.sh`).

use pglog_logparse::prefix::{infer_prefix, Prefix};
use std::path::PathBuf;

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-logs")
        .join(rel)
}

/// Each stderr file, its setting, and its lines that start a message.
fn samples() -> Vec<(String, String, Vec<Vec<u8>>)> {
    let manifest = std::fs::read_to_string(sample("prefixes/prefixes.tsv")).unwrap();
    manifest
        .lines()
        .skip(1)
        .map(|l| {
            let (file, setting) = l.split_once('\t').unwrap();
            let heads = std::fs::read(sample(&format!("prefixes/{file}")))
                .unwrap()
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty() && !l.starts_with(b"\t"))
                .map(<[u8]>::to_vec)
                .collect();
            (file.to_string(), setting.to_string(), heads)
        })
        .collect()
}

#[test]
fn the_setting_matches_every_line_it_wrote() {
    for (file, setting, heads) in samples() {
        let p = Prefix::parse(&setting).unwrap();
        for l in &heads {
            let m = p
                .match_line(l)
                .unwrap_or_else(|| panic!("{file}: {}", String::from_utf8_lossy(l)));
            assert!(m.fields.time.is_some() || !setting.contains("%m"), "{file}");
            if let Some(user) = m.fields.user {
                assert!(
                    !user.contains(&b' ') && !user.contains(&b'['),
                    "{file}: user {user:?}"
                );
            }
        }
    }
}

#[test]
fn the_setting_is_inferred_and_parses_every_line() {
    for (file, setting, heads) in samples() {
        let got = infer_prefix(heads.iter().map(Vec::as_slice))
            .unwrap_or_else(|c| panic!("{file}: {c:?}"));
        assert_eq!(got.prefix.as_str(), setting, "{file}");
        assert_eq!(got.parsed, got.sampled, "{file}: every line parsed");
        assert_eq!(got.sampled, heads.len(), "{file}");
    }
}

#[test]
fn padding_empty_fields_and_zones_before_a_dash_are_read() {
    let all = samples();
    let lines = |name: &str| {
        all.iter()
            .find(|(f, _, _)| f.contains(name))
            .map(|(_, s, h)| (Prefix::parse(s).unwrap(), h.clone()))
            .unwrap()
    };
    // `[%-6p]` and `%-10u %-10d `: the pid and names without their padding.
    let (p, heads) = lines("padding");
    let m = heads
        .iter()
        .find_map(|l| p.match_line(l).filter(|m| m.fields.user == Some(b"alice")))
        .unwrap();
    assert!(m.fields.pid.is_some() && m.fields.database == Some(b"app"));
    // An empty %v takes none of the spaces around it.
    let (p, heads) = lines("vxid");
    assert!(heads.iter().any(|l| p
        .match_line(l)
        .is_some_and(|m| m.fields.vxid.is_none() && m.session_part)));
    // `%t-%c-`: the zone ends at the dash.
    let (p, heads) = lines("azure");
    let m = p.match_line(&heads[0]).unwrap();
    assert_eq!(m.fields.time.unwrap().offset_min, Some(0));
    assert!(m.fields.session_id.is_some());
}

/// Eight free-text fields, each free to end at any of its next eight `:`:
/// without remembering the dead ends, a line of many `:` that never reaches
/// a label takes millions of tries (about a second per line), which the
/// fuzzer found as a hang.
#[test]
fn backtracking_over_free_text_fields_stays_polynomial() {
    let p = Prefix::parse("%a:%u:%d:%a:%u:%d:%a:%u:").unwrap();
    let colons = "x:".repeat(400);
    assert!(p.match_line(colons.as_bytes()).is_none());
    // Where a label does follow, the first split that reaches it wins.
    let line = format!("app:x:y:bob:db:app2:z:{colons}ERROR:  boom");
    assert!(p.match_line(line.as_bytes()).is_none());
    let line = "a:b:c:d:e:f:g::h:LOG:  ok";
    let m = p.match_line(line.as_bytes()).unwrap();
    assert_eq!(&line[m.text_offset..], "ok");
}
