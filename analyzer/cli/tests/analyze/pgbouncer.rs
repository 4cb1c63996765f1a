//! pgbouncer logs, from a real pgbouncer (the Debian package,
//! `/usr/sbin/pgbouncer`) in front of a real throwaway PostgreSQL 15
//! server, under pgbench: the report's `pgbouncer` section must count the
//! logins and login failures the test made, and match pgbouncer's own
//! `SHOW STATS` totals within the rounding of its `stats:` lines.

use super::cluster::{as_server_user, client, server_dir, wait_for, Cluster};
use super::statistics::{json_of, save_state};
use super::*;
use pglog_testkit::{free_port, run_ok};
use std::collections::BTreeMap;
use std::process::Stdio;

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";
const PASSWORD: &str = "secret";

/// A pgbouncer on a free loopback port, with its config, auth file, pid
/// file and log in a temp dir; `auth_type = md5` for the user `postgres`,
/// also its admin. Dropping it stops it.
pub(super) struct Pgbouncer {
    dir: tempfile::TempDir,
    port: u16,
    running: bool,
}

impl Pgbouncer {
    /// Starts it in front of the server on `server_port`, with its pools
    /// `postgres` and `bench` (both the server's database `postgres`), and
    /// waits for its first `stats:` line (the stats timer runs).
    pub fn start(server_port: u16) -> Pgbouncer {
        let dir = server_dir("pglog-pgbouncer-");
        let port = free_port();
        let d = dir.path().display();
        let ini = format!(
            "[databases]\n\
             postgres = host=127.0.0.1 port={server_port} dbname=postgres user=postgres\n\
             bench = host=127.0.0.1 port={server_port} dbname=postgres user=postgres\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = md5\n\
             auth_file = {d}/userlist.txt\n\
             admin_users = postgres\n\
             logfile = {d}/pgbouncer.log\n\
             pidfile = {d}/pgbouncer.pid\n\
             pool_mode = transaction\n\
             stats_period = 1\n\
             log_connections = 1\n\
             log_disconnections = 1\n"
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), ini).unwrap();
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!("\"postgres\" \"{PASSWORD}\"\n"),
        )
        .unwrap();
        run_ok(
            as_server_user(Path::new(PGBOUNCER))
                .arg("-d")
                .arg(dir.path().join("pgbouncer.ini")),
        );
        let b = Pgbouncer {
            dir,
            port,
            running: true,
        };
        wait_for("pgbouncer's first stats line", || b.stats_lines() >= 1);
        b
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("pgbouncer.log")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    pub fn stats_lines(&self) -> usize {
        self.log_text().matches(" stats: ").count()
    }

    pub fn logins(&self) -> usize {
        self.log_text().matches(" login attempt: ").count()
    }

    /// Waits until `n` more stats lines are written.
    pub fn wait_stats_lines(&self, n: usize) {
        let target = self.stats_lines() + n;
        wait_for("pgbouncer stats lines", || self.stats_lines() >= target);
    }

    /// A client program connecting through pgbouncer as `postgres`.
    pub fn client(&self, name: &str, password: &str) -> Command {
        let mut c = client(name);
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null());
        c
    }

    /// Runs `sql` with psql on `database`; whether it succeeded, and its output.
    pub fn psql(&self, database: &str, password: &str, sql: &str) -> (bool, String) {
        let out = self
            .client("psql", password)
            .args([
                "-X",
                "-A",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// `SHOW STATS` summed over its databases.
    pub fn show_stats(&self) -> BTreeMap<String, u64> {
        let (ok, text) = self.psql("pgbouncer", PASSWORD, "SHOW STATS");
        assert!(ok, "SHOW STATS failed");
        sum_show_stats(&text)
    }

    /// `SHUTDOWN` through the admin console.
    pub fn shutdown(&mut self) {
        let _ = self.psql("pgbouncer", PASSWORD, "SHUTDOWN");
        let pid = self.dir.path().join("pgbouncer.pid");
        wait_for("pgbouncer to stop", || !pid.exists());
        self.running = false;
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if !self.running {
            return;
        }
        // Our own pgbouncer, by its pid file.
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// What the test did through pgbouncer, to be found in its log.
struct Run {
    log: PathBuf,
    show_stats: BTreeMap<String, u64>,
    /// Login attempts made, and of them the failed ones.
    logins: u64,
    failures: u64,
    _pgbouncer: Pgbouncer,
    _server: Cluster,
}

/// Sessions, failed logins, a client killed mid-session and pgbench,
/// through one pgbouncer; then `SHOW STATS`, and two more stats periods so
/// that the log's stats lines cover everything it counted.
fn run() -> Run {
    let mut server = Cluster::init("log_connections = on\nlc_messages = 'C'");
    server.start();
    run_ok(
        client("pgbench")
            .args(["-i", "-s", "1", "-q", "-h", "127.0.0.1", "-U", "postgres"])
            .args(["-p", &server.port().to_string(), "postgres"]),
    );
    let mut b = Pgbouncer::start(server.port());
    let mut logins = 0;
    for _ in 0..2 {
        assert!(b.psql("postgres", PASSWORD, "SELECT 1").0);
        logins += 1;
    }
    assert!(
        !b.psql("postgres", "wrong", "SELECT 1").0,
        "a wrong password"
    );
    assert!(
        !b.psql("nosuchdb", PASSWORD, "SELECT 1").0,
        "an unknown database"
    );
    logins += 2;
    // A client that goes away without a word: killed once logged in.
    let before = b.logins();
    let mut gone = b
        .client("psql", PASSWORD)
        .args(["-X", "-d", "postgres"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("psql runs");
    wait_for("the killed client's login", || b.logins() > before);
    std::thread::sleep(std::time::Duration::from_millis(200));
    gone.kill().unwrap();
    gone.wait().unwrap();
    logins += 1;
    // pgbench opens one connection more than its clients: the first reads
    // the scale factor.
    let clients = 3;
    run_ok(b.client("pgbench", PASSWORD).args([
        "-n",
        "-c",
        &clients.to_string(),
        "-j",
        "1",
        "-T",
        "2",
        "bench",
    ]));
    logins += clients + 1;
    let show_stats = b.show_stats();
    logins += 1;
    b.wait_stats_lines(2);
    b.shutdown();
    logins += 1;
    Run {
        log: b.log(),
        show_stats,
        logins,
        failures: 2,
        _pgbouncer: b,
        _server: server,
    }
}

/// `|got - want| <= tolerance`, or a message saying by how much not.
fn assert_near(what: &str, got: u64, want: u64, tolerance: f64) {
    let diff = (got as f64 - want as f64).abs();
    eprintln!("{what}: the log gives {got}, SHOW STATS {want} (tolerance {tolerance:.1})");
    assert!(
        diff <= tolerance,
        "{what}: the log gives {got}, SHOW STATS {want}: off by {diff}, more than {tolerance:.1}"
    );
}

#[test]
fn a_real_pgbouncer_log_matches_its_show_stats() {
    let r = run();
    let doc = analyze_path(&r.log, &[]);
    let b = &doc["pgbouncer"];
    assert_eq!(doc["input"]["sources"][0]["format"], "pgbouncer");
    assert_eq!(n(&doc, "/input/malformed"), 0, "{}", doc["input"]);
    assert_eq!(n(&doc, "/input/records"), 0, "no PostgreSQL record");
    assert_eq!(n(b, "/logins/total"), r.logins, "{}", b["logins"]);
    assert_eq!(
        n(b, "/login_failures/total"),
        r.failures,
        "{}",
        b["login_failures"]
    );
    let reasons = &b["login_failure_reasons"];
    assert_eq!(
        n(reasons, "/password authentication failed"),
        1,
        "{reasons}"
    );
    assert_eq!(n(reasons, "/no such database: nosuchdb"), 1, "{reasons}");
    assert_eq!(n(b, "/logins/by_database/nosuchdb"), 1, "{}", b["logins"]);
    assert_eq!(
        n(b, "/close_reasons/client unexpected eof"),
        1,
        "{}",
        b["close_reasons"]
    );
    assert_eq!(n(b, "/pooler_errors"), r.failures);
    assert!(n(b, "/server_connections/total") >= 1);
    assert!(n(b, "/sessions/total") >= r.logins - r.failures - 1);
    // pgbench's sessions lasted its 2 seconds.
    assert!(n(b, "/session_s/max_s") >= 2, "{}", b["session_s"]);

    // Each stats line prints rates truncated to whole numbers per second
    // over a period pgbouncer times in µs and logs in ms: the log's total
    // is below the true one by less than one per second covered, and off
    // by at most a rate times 2 ms per line (2 ms in every 1 s period: 0.2%
    // of the total). SHOW STATS counts its own query, hence 2 more.
    let covered_s = b["stats"]["covered_s"].as_f64().unwrap();
    for (json, show) in [
        ("xacts", "total_xact_count"),
        ("queries", "total_query_count"),
        ("bytes_in", "total_received"),
        ("bytes_out", "total_sent"),
    ] {
        let want = r.show_stats[show];
        let got = n(&b["stats"], &format!("/{json}"));
        assert_near(json, got, want, covered_s + 0.002 * want as f64 + 2.0);
    }
    assert!(r.show_stats["total_xact_count"] > 100, "{:?}", r.show_stats);
}

/// The committed sample (`sample-logs/generate-pgbouncer.sh`): pgbouncer's
/// log, the server's csvlog of the same run, and SHOW STATS at its end.
fn sample_show_stats() -> BTreeMap<String, u64> {
    sum_show_stats(&std::fs::read_to_string(sample("pgbouncer/show-stats.tsv")).unwrap())
}

/// `SHOW STATS` as psql prints it unaligned with tabs, summed over its
/// databases: column name → total.
fn sum_show_stats(text: &str) -> BTreeMap<String, u64> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut sums = BTreeMap::new();
    for row in lines.filter(|l| l.contains('\t')) {
        for (name, v) in header.iter().zip(row.split('\t')) {
            if let Ok(v) = v.parse::<u64>() {
                *sums.entry(name.to_string()).or_default() += v;
            }
        }
    }
    sums
}

/// Lines of the sample pgbouncer log holding `what`, counted without pglog.
fn sample_lines_with(what: &str) -> u64 {
    std::fs::read_to_string(sample("pgbouncer/pgbouncer.log"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(what))
        .count() as u64
}

#[test]
fn a_pgbouncer_log_and_its_servers_log_give_one_report_with_both() {
    let both = analyze_json(&[
        sample("pgbouncer/pgbouncer.log").to_str().unwrap(),
        sample("pgbouncer/postgresql.csv").to_str().unwrap(),
    ]);
    let formats: Vec<&str> = both["input"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["pgbouncer", "csv"]);
    // The PostgreSQL side is the csvlog's own, as the independent counter
    // reads it: no pgbouncer line became a record.
    let out = Command::new("python3")
        .arg(sample("count.py"))
        .arg(sample("pgbouncer/postgresql.csv"))
        .output()
        .expect("python3 runs sample-logs/count.py");
    assert!(out.status.success());
    let oracle: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(oracle_shape(&both), oracle);
    // The pgbouncer side is the pgbouncer log's alone.
    let alone = analyze_path(&sample("pgbouncer/pgbouncer.log"), &[]);
    assert_eq!(both["pgbouncer"], alone["pgbouncer"]);
    // Its times name their zone, which the reports show times in.
    assert_eq!(alone["summary"]["time_zone"], "+00:00");
    let b = &both["pgbouncer"];
    assert_eq!(n(b, "/lines"), sample_lines_with(" UTC ["));
    assert_eq!(n(b, "/logins/total"), sample_lines_with(" login attempt: "));
    assert_eq!(
        n(b, "/login_failures/total"),
        2,
        "the script's wrong password and unknown database"
    );
    assert_eq!(n(b, "/stats/lines"), sample_lines_with(" stats: "));
    assert_eq!(
        n(b, "/server_connections/total"),
        sample_lines_with(" new connection to server")
    );
    assert_eq!(n(b, "/close_reasons/client unexpected eof"), 1);
    let show = sample_show_stats();
    let covered_s = b["stats"]["covered_s"].as_f64().unwrap();
    for (json, col) in [
        ("xacts", "total_xact_count"),
        ("queries", "total_query_count"),
    ] {
        let want = show[col];
        assert_near(
            json,
            n(&b["stats"], &format!("/{json}")),
            want,
            covered_s + 0.002 * want as f64 + 2.0,
        );
    }
    // And without a pgbouncer log there is no section.
    let pg = analyze_path(&sample("pgbouncer/postgresql.csv"), &[]);
    assert!(pg["pgbouncer"].is_null(), "{}", pg["pgbouncer"]);
    assert!(
        super::schema::schema_errors(&both).is_empty(),
        "{:?}",
        super::schema::schema_errors(&both)
    );
}

#[test]
fn pgbouncer_statistics_merge_exactly() {
    let dir = tmp();
    let bouncer = save_state("pgbouncer/pgbouncer.log", dir.path(), "b.state");
    let server = save_state("pgbouncer/postgresql.csv", dir.path(), "s.state");
    let merge = |states: &[&Path]| -> Value {
        let mut args = vec!["merge", "--format", "json"];
        args.extend(states.iter().map(|p| p.to_str().unwrap()));
        json_of(&args)
    };
    let together = analyze_json(&[
        sample("pgbouncer/pgbouncer.log").to_str().unwrap(),
        sample("pgbouncer/postgresql.csv").to_str().unwrap(),
    ]);
    let merged = merge(&[&bouncer, &server]);
    assert_eq!(merged["pgbouncer"], together["pgbouncer"]);
    assert_eq!(oracle_shape(&merged), oracle_shape(&together));
    // Twice the same day: every count doubles, every mean stays.
    let one = &together["pgbouncer"];
    let two = merge(&[&bouncer, &bouncer]);
    let two = &two["pgbouncer"];
    for ptr in [
        "/lines",
        "/logins/total",
        "/login_failures/total",
        "/sessions/total",
        "/session_s/total_s",
        "/server_connections/total",
        "/pooler_errors",
        "/stats/lines",
        "/stats/xacts",
        "/stats/queries",
        "/stats/bytes_in",
        "/stats/bytes_out",
        "/minutes/0/xacts",
        "/logins/by_user/alice",
        "/messages/0/count",
    ] {
        assert_eq!(n(two, ptr), 2 * n(one, ptr), "{ptr}");
    }
    assert_eq!(two["stats"]["avg_xact_us"], one["stats"]["avg_xact_us"]);
    assert_eq!(
        two["minutes"].as_array().unwrap().len(),
        one["minutes"].as_array().unwrap().len()
    );
}

#[test]
fn damaged_pgbouncer_lines_are_counted_with_their_place() {
    let original = std::fs::read(sample("pgbouncer/pgbouncer.log")).unwrap();
    let lines = original.split_inclusive(|&c| c == b'\n').count() as u64;
    let dir = tmp();
    // Binary garbage after the 3rd line, and the last line cut short.
    let third = original
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .nth(2)
        .unwrap()
        .0
        + 1;
    let mut damaged = original[..third].to_vec();
    damaged.extend_from_slice(b"\x00\x01\x02\xff garbage\n");
    damaged.extend_from_slice(&original[third..original.len() - 10]);
    let p = write(dir.path(), "pgbouncer.log", &damaged);
    let doc = analyze_path(&p, &["--input-format", "pgbouncer"]);
    assert_eq!(n(&doc, "/input/malformed"), 2, "{}", doc["input"]);
    let samples = &doc["input"]["malformed_samples"];
    assert_eq!(samples[0]["line"], 4);
    assert_eq!(samples[1]["line"], lines + 1);
    assert_eq!(samples[1]["kind"], "truncated");
    assert!(samples[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("pgbouncer.log"));
    assert_eq!(n(&doc, "/pgbouncer/lines"), lines - 1);
    // The text and Markdown summaries name the section.
    for format in ["text", "md"] {
        let out = pglog(&["analyze", "--format", format, p.to_str().unwrap()]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let headline = format!("{} pgbouncer lines", n(&doc, "/pgbouncer/lines"));
        assert!(text.contains(&headline), "{text}");
        assert!(
            text.contains(&format!("{}", n(&doc, "/pgbouncer/logins/total"))),
            "{text}"
        );
    }
}

#[test]
fn the_html_report_has_the_pgbouncer_section_and_chart() {
    let dir = tmp();
    let page = dir.path().join("report.html");
    let out = pglog(&[
        "analyze",
        "-o",
        page.to_str().unwrap(),
        sample("pgbouncer/pgbouncer.log").to_str().unwrap(),
        sample("pgbouncer/postgresql.csv").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for id in [
        "id=\"pgbouncer\"",
        "id=\"chart-pgbouncer\"",
        "href=\"#pgbouncer\"",
        "<svg",
    ] {
        assert!(html.contains(id), "{id} missing");
    }
    let at = html.find("id=\"pgbouncer\"").unwrap();
    assert!(html[at..].contains("password authentication failed"));
    let (dom, console) = super::html::open_in_chromium(&page);
    assert!(
        dom.contains("id=\"chart-pgbouncer\""),
        "the browser shows the chart"
    );
    assert!(console.is_empty(), "{console:?}");
}

/// The parts of the section that copies of one log in other shapes must
/// give alike (the stats lines' totals may differ with the times' precision).
const EVENT_KEYS: &[&str] = &[
    "lines",
    "logins",
    "login_failures",
    "login_failure_reasons",
    "sessions",
    "session_s",
    "close_reasons",
    "server_connections",
    "pooler_errors",
    "other_messages",
];

#[test]
fn pgbouncers_syslog_copy_gives_the_same_section() {
    let file = analyze_path(&sample("pgbouncer/pgbouncer.log"), &[]);
    let syslog = analyze_path(&sample("pgbouncer/pgbouncer.syslog"), &[]);
    assert_eq!(syslog["input"]["sources"][0]["format"], "pgbouncer");
    assert_eq!(n(&syslog, "/input/malformed"), 0, "{}", syslog["input"]);
    let (f, s) = (&file["pgbouncer"], &syslog["pgbouncer"]);
    for key in EVENT_KEYS {
        assert_eq!(s[key], f[key], "{key}");
    }
    let messages = |b: &Value| -> Vec<(Value, Value)> {
        b["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["message"].clone(), m["count"].clone()))
            .collect()
    };
    assert_eq!(messages(s), messages(f));
    // Syslog carries no level; the daemon's times are its own, so the
    // periods differ a little: one count per stats line at most.
    assert_eq!(s["by_level"], serde_json::json!({}));
    let lines = n(f, "/stats/lines");
    assert_eq!(n(s, "/stats/lines"), lines);
    for key in ["xacts", "queries"] {
        let (a, b) = (
            n(f, &format!("/stats/{key}")),
            n(s, &format!("/stats/{key}")),
        );
        assert!(a.abs_diff(b) <= lines, "{key}: {a} and {b}");
    }
}

#[test]
fn the_line_shapes_of_other_pgbouncer_versions_give_the_same_section() {
    let original = analyze_path(&sample("pgbouncer/pgbouncer.log"), &[]);
    let o = &original["pgbouncer"];
    for version in [
        "1.24",
        "bare-pid",
        "whole-seconds",
        "bare-pid-whole-seconds",
    ] {
        let doc = analyze_path(&sample(&format!("pgbouncer/versions/{version}.log")), &[]);
        assert_eq!(
            doc["input"]["sources"][0]["format"], "pgbouncer",
            "{version}"
        );
        assert_eq!(
            n(&doc, "/input/malformed"),
            0,
            "{version}: {}",
            doc["input"]
        );
        let b = &doc["pgbouncer"];
        for key in EVENT_KEYS.iter().chain(&["by_level"]) {
            assert_eq!(b[key], o[key], "{version}: {key}");
        }
        assert_eq!(
            b["messages"].as_array().unwrap().len(),
            o["messages"].as_array().unwrap().len()
        );
        let lines = n(o, "/stats/lines");
        assert_eq!(n(b, "/stats/lines"), lines, "{version}");
        for key in ["xacts", "queries"] {
            let (a, c) = (
                n(o, &format!("/stats/{key}")),
                n(b, &format!("/stats/{key}")),
            );
            // Whole-second times measure 1 s periods to a second.
            let slack = if version.contains("whole") { a / 2 } else { 0 };
            assert!(a.abs_diff(c) <= slack, "{version} {key}: {a} and {c}");
        }
    }
}

#[test]
fn time_windows_and_name_filters_apply_to_pgbouncer_lines() {
    let log = std::fs::read_to_string(sample("pgbouncer/pgbouncer.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    // `2026-12-01 14:49:06.429 UTC`: the same instant in RFC 3339.
    let stamp = |l: &str| format!("{}T{}Z", &l[..10], &l[11..23]);
    let logins: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(" login attempt: "))
        .collect();
    let begin = stamp(logins[2]);
    // Lines at or after --begin, counted here from their text.
    let kept = |what: &str| {
        lines
            .iter()
            .filter(|l| stamp(l) >= begin && l.contains(what))
            .count() as u64
    };
    let doc = analyze_path(&sample("pgbouncer/pgbouncer.log"), &["--begin", &begin]);
    let b = &doc["pgbouncer"];
    assert_eq!(n(b, "/logins/total"), kept(" login attempt: "));
    assert_eq!(n(b, "/lines"), kept(" UTC ["));
    assert_eq!(n(b, "/stats/lines"), kept(" stats: "));
    assert_eq!(
        n(&doc, "/input/filtered"),
        lines.len() as u64 - kept(" UTC [")
    );
    // A user filter keeps that user's connections (stats lines name none).
    let doc = analyze_path(&sample("pgbouncer/pgbouncer.log"), &["--user", "admin"]);
    let b = &doc["pgbouncer"];
    let admin = lines.iter().filter(|l| l.contains("/admin@")).count() as u64;
    assert_eq!(n(b, "/lines"), admin);
    assert_eq!(n(b, "/logins/by_user/admin"), n(b, "/logins/total"));
    assert_eq!(n(b, "/stats/lines"), 0);
    // Everything left out is still a pgbouncer log that was read.
    let doc = analyze_path(&sample("pgbouncer/pgbouncer.log"), &["--user", "nobody"]);
    assert_eq!(n(&doc, "/input/filtered"), lines.len() as u64);
}
