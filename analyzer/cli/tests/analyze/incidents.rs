//! Incident detection on logs of a real server: `sample-logs/incidents/`
//! holds 12 minutes of a steady pgbench load with four incidents caused at
//! recorded times (`incidents.json`, written by `generate-incidents.sh`),
//! `sample-logs/incidents-steady/` the same load with none. Each recorded
//! incident must be found, start and end within a minute of the recorded
//! times, with its cause ranked first; the steady run and the other sample
//! logs (all shorter than the 10 minutes a baseline needs) report none; in
//! csvlog, jsonlog and stderr, with `-j 1` and `-j 2`.

use super::statistics::assert_same;
use super::*;
use std::time::SystemTime;

const FORMATS: [&str; 3] = ["csv", "json", "log"];
const JOBS: [&str; 2] = ["1", "2"];

fn epoch_ms(t: &str) -> i64 {
    let t: SystemTime = humantime::parse_rfc3339(t).unwrap_or_else(|e| panic!("{t}: {e}"));
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn incidents_of(folder: &str, format: &str, jobs: &str) -> Vec<Value> {
    let p = sample(&format!("{folder}/postgresql.{format}.zst"));
    let doc = analyze_path(&p, &["-j", jobs]);
    doc["incidents"].as_array().expect("incidents list").clone()
}

pub(super) fn recorded() -> Vec<Value> {
    let f = std::fs::read(sample("incidents/incidents.json")).unwrap();
    let v: Value = serde_json::from_slice(&f).unwrap();
    v["incidents"].as_array().unwrap().clone()
}

/// The report's incident whose window is within a minute of the recorded one.
fn matching<'a>(found: &'a [Value], rec: &Value, what: &str) -> &'a Value {
    let (start, end) = (
        epoch_ms(rec["start"].as_str().unwrap()),
        epoch_ms(rec["end"].as_str().unwrap()),
    );
    found
        .iter()
        .find(|i| {
            let s = epoch_ms(i["start"].as_str().unwrap());
            let e = epoch_ms(i["end"].as_str().unwrap());
            (s - start).abs() <= 60_000 && (e - end).abs() <= 60_000
        })
        .unwrap_or_else(|| {
            let windows: Vec<String> = found
                .iter()
                .map(|i| format!("{}..{}", i["start"], i["end"]))
                .collect();
            panic!(
                "{what}: no incident within a minute of {}..{}; found {windows:?}",
                rec["start"], rec["end"]
            )
        })
}

fn first<'a>(i: &'a Value, list: &str, what: &str) -> &'a Value {
    i[list]
        .get(0)
        .unwrap_or_else(|| panic!("{what}: no {list} in {i}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Whitespace-insensitive: the normalized text spaces tokens its own way.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

fn assert_cause(i: &Value, rec: &Value, what: &str) {
    let cause = &rec["cause"];
    match rec["kind"].as_str().unwrap() {
        "lock" => {
            let lock = first(i, "locks", what);
            let blocker = squash(text(&cause["blocker_statement"]));
            assert_eq!(
                squash(text(&lock["blocking"])),
                blocker,
                "{what}: the blocker's statement"
            );
            let table = text(&cause["table"]);
            let waiting = lock["waiting"].as_array().unwrap();
            assert!(
                !waiting.is_empty() && waiting.iter().all(|w| text(w).contains(table)),
                "{what}: the waiting statements are on {table}: {lock}"
            );
            let q = first(i, "top_queries", what);
            assert!(
                text(&q["normalized"]).contains(table),
                "{what}: the blocked statements added the most time: {q}"
            );
        }
        "errors" => {
            let e = first(i, "top_errors", what);
            assert_eq!(e["sqlstate"], cause["sqlstate"], "{what}: {e}");
            let c = first(i, "clients", what);
            assert_eq!(
                (text(&c["kind"]), text(&c["name"])),
                ("application", text(&cause["application"])),
                "{what}: {c}"
            );
            assert!(n(c, "/errors") >= n(e, "/count") / 2, "{what}: {c}");
        }
        "storm" => {
            // About 20 new sessions a second from one host for 45 s, and
            // failed logins of another user from the same host: the host
            // ranks first alone, its connections far above the baseline.
            let clients = i["clients"].as_array().unwrap();
            let burst = |c: &Value| n(c, "/connections") + n(c, "/auth_failures") + n(c, "/errors");
            let host = first(i, "clients", what);
            assert_eq!(
                (text(&host["kind"]), text(&host["name"])),
                ("host", text(&cause["host"])),
                "{what}: {clients:?}"
            );
            if let Some(second) = clients.get(1) {
                assert!(burst(host) > burst(second), "{what}: {clients:?}");
            }
            assert!(n(host, "/auth_failures") >= 20, "{what}: {host}");
            let app = clients
                .iter()
                .find(|c| text(&c["kind"]) == "application")
                .unwrap_or_else(|| panic!("{what}: no application in {clients:?}"));
            assert_eq!(text(&app["name"]), text(&cause["application"]), "{what}");
            let signal = i["signals"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| text(&s["name"]) == "connections")
                .unwrap_or_else(|| panic!("{what}: no connections signal in {i}"));
            let baseline = signal["baseline"].as_f64().unwrap();
            assert!(
                signal["peak"].as_f64().unwrap() > 10.0 * baseline,
                "{what}: {signal}"
            );
            assert!(
                n(host, "/connections") as f64 > 10.0 * baseline,
                "{what}: {host} against {signal}"
            );
        }
        "spill" => {
            let t = first(i, "temp_files", what);
            let query = squash(text(&cause["query"]).trim_end_matches(';'));
            assert_eq!(squash(text(&t["normalized"])), query, "{what}: {t}");
            assert!(n(t, "/files") >= 10, "{what}: {t}");
            let q = first(i, "top_queries", what);
            assert_eq!(q["fingerprint"], t["fingerprint"], "{what}: {q}");
        }
        k => panic!("unknown incident kind {k}"),
    }
}

#[test]
fn recorded_incidents_are_found_with_their_causes() {
    let recs = recorded();
    assert_eq!(recs.len(), 4);
    let mut reference: Option<Vec<Value>> = None;
    // Every format carries the session fields: the clients are csvlog's.
    let mut csv_clients: Option<Vec<Value>> = None;
    let clients =
        |found: &[Value]| -> Vec<Value> { found.iter().map(|i| i["clients"].clone()).collect() };
    for format in FORMATS {
        for jobs in JOBS {
            let found = incidents_of("incidents", format, jobs);
            let what = format!("{format} -j {jobs}");
            for rec in &recs {
                let what = format!("{what}, {}", rec["kind"]);
                assert_cause(matching(&found, rec, &what), rec, &what);
            }
            match &csv_clients {
                None => csv_clients = Some(clients(&found)),
                Some(c) => assert_eq!(&clients(&found), c, "{what}: clients against csvlog's"),
            }
            // Nothing else stands out in the steady minutes between them.
            assert_eq!(found.len(), recs.len(), "{what}: {found:?}");
            // The split gives the same incidents.
            if jobs == "1" {
                reference = Some(found);
            } else {
                let a = Value::Array(reference.take().unwrap());
                assert_same(&a, &Value::Array(found), &what);
            }
        }
    }
}

/// The steady load (read-only sessions of `pgbench-ro` from 127.0.0.1) runs
/// through every incident near its baseline: no incident lists it.
#[test]
fn clients_near_their_baseline_are_left_out() {
    for format in FORMATS {
        let found = incidents_of("incidents", format, "1");
        assert!(!found.is_empty(), "{format}");
        for i in &found {
            for c in i["clients"].as_array().unwrap() {
                let name = (text(&c["kind"]), text(&c["name"]));
                assert!(
                    name != ("application", "pgbench-ro") && name != ("host", "127.0.0.1"),
                    "{format}: the steady load is listed: {c} in {}..{}",
                    i["start"],
                    i["end"]
                );
            }
        }
    }
}

#[test]
fn the_steady_run_reports_no_incident() {
    for format in FORMATS {
        for jobs in JOBS {
            let found = incidents_of("incidents-steady", format, jobs);
            assert!(found.is_empty(), "{format} -j {jobs}: {found:?}");
        }
    }
}

/// The other sample logs span a few minutes each: too short for a baseline.
#[test]
fn the_other_samples_report_no_incident() {
    for log in [
        "primary/postgresql.csv",
        "replica/postgresql.csv",
        "concurrent/postgresql.log",
        "errors/postgresql.csv",
        "rds/postgresql.csv",
    ] {
        let doc = analyze_path(&sample(log), &[]);
        assert_eq!(doc["incidents"], serde_json::json!([]), "{log}");
    }
}

/// Read in many small ranges, the lock waits still name their holder's
/// statement, logged in an earlier range: the same `locks` as one pass.
#[test]
fn lock_holders_are_named_across_small_ranges() {
    // The carry is the same for every format; csvlog and stderr (whose
    // ranges start on prefixes) keep the test short.
    for format in ["csv", "log"] {
        let p = sample(&format!("incidents/postgresql.{format}.zst"));
        let locks = |args: &[&str]| -> Vec<Value> {
            let doc = analyze_path(&p, args);
            let all = doc["incidents"].as_array().expect("incidents list");
            all.iter().map(|i| i["locks"].clone()).collect()
        };
        let whole = locks(&["-j", "1"]);
        let named = whole
            .iter()
            .flat_map(|l| l.as_array().unwrap())
            .filter(|l| l["blocking"].is_string())
            .count();
        assert!(named > 0, "{format}: no named blocker in {whole:?}");
        let ranged = locks(&["-j", "2", "--chunk-bytes", "16384"]);
        assert_eq!(ranged, whole, "{format}: 16 KiB ranges");
    }
}
