//! Server, connection-problem and WAL events on the logs of a real
//! PostgreSQL 15 primary and standby (`sample-logs/server-events/`, written
//! by `generate-server-events.sh`): backends killed with SIGKILL and
//! SIGQUIT, an out-of-memory error, a failing archive_command, WAL restored
//! from the archive, a corrupted page, vanished clients, too many
//! connections, SSL failures, every shutdown mode and a promotion. The
//! counts are checked against `expected.json` (each class counted in the
//! csvlog by Python's csv module) in all three formats, the details against
//! what the script did (`facts.json`).

use super::statistics::merged_and_together;
use super::*;

const SERVERS: &[&str] = &["primary", "standby"];

fn read_json(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(sample(rel)).unwrap()).unwrap()
}

fn facts() -> Value {
    read_json("server-events/facts.json")
}

fn report(server: &str, format: &str) -> Value {
    analyze_path(&sample(&format!("server-events/{server}/{format}")), &[])
}

#[test]
fn every_class_counts_as_the_csvlog_says_in_every_format() {
    let expected = read_json("server-events/expected.json");
    for server in SERVERS {
        let want = &expected[server];
        for f in FORMATS {
            let doc = report(server, f);
            assert_eq!(doc["input"]["records"], want["records"], "{server}/{f}");
            assert_eq!(n(&doc, "/input/malformed"), 0, "{server}/{f}");
            let events = &doc["summary"]["events"];
            for (class, count) in want["events"].as_object().unwrap() {
                assert_eq!(
                    events[class].as_u64().unwrap_or(0),
                    count.as_u64().unwrap(),
                    "{server}/{f}: {class}"
                );
            }
        }
    }
    // The script provoked every class, on one server or the other.
    for (class, _) in expected["primary"]["events"].as_object().unwrap() {
        let seen: u64 = SERVERS
            .iter()
            .map(|s| expected[s]["events"][class].as_u64().unwrap())
            .sum();
        assert!(seen > 0, "{class} is in neither log");
    }
}

#[test]
fn the_server_section_is_the_same_in_every_format() {
    for server in SERVERS {
        let csv = report(server, "postgresql.csv");
        for f in ["postgresql.json", "postgresql.log"] {
            assert_eq!(report(server, f)["server"], csv["server"], "{server}/{f}");
        }
    }
}

#[test]
fn crashes_name_the_killed_backends_and_their_statements() {
    let facts = facts();
    let doc = report("primary", "postgresql.log");
    let s = &doc["server"];
    assert_eq!(s["crashes_total"], 2);
    assert_eq!(s["crash_restarts"], 2);
    let crashes = s["crashes"].as_array().unwrap();
    let killed = &crashes[0];
    assert_eq!(killed["process"], "server process");
    assert_eq!(killed["crashed_pid"], facts["killed_pid"]);
    assert_eq!(killed["signal"], 9);
    assert_eq!(killed["signal_name"], "Killed");
    assert_eq!(killed["statement"], facts["killed_statement"]);
    // SIGQUIT: the backend's quickdie exits with code 2.
    let quit = &crashes[1];
    assert_eq!(quit["crashed_pid"], facts["quit_pid"]);
    assert_eq!(quit["exit_code"], 2);
    assert!(quit["signal"].is_null());
    assert_eq!(quit["statement"], facts["quit_statement"]);
    // The failed parallel worker exited with code 1: no crash restart.
    assert_eq!(
        s["process_exits"]["background worker \"parallel worker\""],
        2
    );
    assert_eq!(s["shutdowns"]["smart"], 1);
    assert_eq!(s["shutdowns"]["immediate"], 1);
}

#[test]
fn out_of_memory_carries_the_request_and_statement() {
    let facts = facts();
    let doc = report("primary", "postgresql.csv");
    let oom = &doc["server"]["out_of_memory"][0];
    assert_eq!(doc["server"]["out_of_memory_total"], 1);
    assert_eq!(oom["pid"], facts["oom_pid"]);
    // repeat() asked for its 300 MiB and a varlena header.
    assert_eq!(oom["request_bytes"], 300 * 1024 * 1024 + 4);
    assert_eq!(oom["context"], "ExprContext");
    assert_eq!(oom["user"], "postgres");
    assert!(oom["statement"].as_str().unwrap().contains("repeat('x'"));
}

#[test]
fn archive_failures_name_the_command_as_run_and_its_file() {
    let facts = facts();
    let doc = report("primary", "postgresql.json");
    let s = &doc["server"];
    let failures = s["archive_failures"].as_array().unwrap();
    assert_eq!(s["archive_failures_total"], failures.len() as u64);
    let gave_up = s["archive_gave_up"].as_array().unwrap();
    assert!(!gave_up.is_empty());
    let file = gave_up[0]["file"].as_str().unwrap();
    let command = facts["archive_command"]
        .as_str()
        .unwrap()
        .replace("%p", &format!("pg_wal/{file}"))
        .replace("%f", file);
    for f in failures {
        assert_eq!(f["exit_code"], 1);
        assert_eq!(f["file"], file);
        assert_eq!(f["command"], command.as_str());
    }
    // The standby restored WAL from that archive once it worked.
    let standby = report("standby", "postgresql.json");
    assert!(n(&standby, "/server/wal_restored") > 0);
    assert_eq!(
        n(&standby, "/server/wal_restored"),
        n(&standby, "/summary/events/wal_restored")
    );
}

#[test]
fn page_verification_pairs_the_checksum_with_relation_and_block() {
    let facts = facts();
    for f in FORMATS {
        let doc = report("primary", f);
        let pages = doc["server"]["page_verification"].as_array().unwrap();
        assert_eq!(pages.len(), 1, "{f}");
        let p = &pages[0];
        assert_eq!(p["relation"], facts["corrupted_relation"], "{f}");
        assert_eq!(p["block"], facts["corrupted_block"], "{f}");
        assert_eq!(p["zeroed"], false);
        let (calc, want) = (&p["calculated_checksum"], &p["expected_checksum"]);
        assert!(calc.is_u64() && want.is_u64() && calc != want, "{f}: {p}");
    }
}

#[test]
fn connection_problems_by_kind_and_client() {
    let doc = report("primary", "postgresql.log");
    let c = &doc["server"]["connection_problems"];
    for kind in [
        "client_receive_failed",
        "client_send_failed",
        "connection_lost",
        "incomplete_startup_packet",
        "unexpected_eof_in_transaction",
        "ssl_error",
        "too_many_connections",
        "server_not_accepting",
    ] {
        assert_eq!(c["by_kind"][kind], doc["summary"]["events"][kind], "{kind}");
    }
    let by_client: u64 = c["by_client"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_client, n(&doc, "/server/connection_problems/total"));
    // The raw-protocol and SSL clients came over TCP: %h names them.
    assert!(n(&doc, "/server/connection_problems/by_client/127.0.0.1") >= 7);
    // A TCP client without SSL, where only hostssl lets it in, stays an
    // authentication failure.
    assert_eq!(doc["summary"]["events"]["auth_failure"], 1);
}

#[test]
fn next_to_nothing_is_left_unclassified() {
    for server in SERVERS {
        for f in FORMATS {
            let doc = report(server, f);
            let other = doc["summary"]["events"]["other"].as_u64().unwrap_or(0);
            let records = n(&doc, "/input/records");
            assert!(other * 100 < records, "{server}/{f}: {other} of {records}");
        }
    }
}

#[test]
fn summaries_show_crashes_archiving_and_out_of_memory() {
    let facts = facts();
    let log = sample("server-events/primary/postgresql.csv");
    let log = log.to_str().unwrap();
    let text = pglog(&["analyze", "-q", log]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("crashes: 2 (2 crash restarts)"), "{text}");
    let killed = format!(
        "server process (PID {}) signal 9 (Killed)",
        facts["killed_pid"]
    );
    assert!(text.contains(&killed), "{text}");
    assert!(text.contains("out of memory: 1"), "{text}");
    assert!(text.contains("archive failures: "), "{text}");
    assert!(text.contains("page verification failures: 1"), "{text}");
    let md = pglog(&["analyze", "-q", "--format", "md", log]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        md.contains("## Server") && md.contains("**crashes\\: 2"),
        "{md}"
    );
    let html = pglog(&["analyze", "-q", "--format", "html", log]);
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains("<h2 id=\"server\">"), "html section");
    assert!(html.contains(&format!("<td class=\"n\">{}</td>", facts["killed_pid"])));
    // The page escapes `/` as `&#x2f;`.
    let relation = facts["corrupted_relation"].as_str().unwrap();
    assert!(
        html.contains(&relation.replace('/', "&#x2f;")),
        "relation in html"
    );
}

#[test]
fn merged_states_add_up_the_server_sections() {
    let (merged, both) = merged_and_together(
        "server-events/primary/postgresql.csv",
        "server-events/standby/postgresql.csv",
    );
    assert_eq!(merged["server"], both["server"]);
    assert_eq!(n(&merged, "/server/crashes_total"), 2);
    assert!(n(&merged, "/server/wal_restored") > 0);
}
