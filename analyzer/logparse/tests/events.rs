//! Record stitching and event classification, checked on the real sample
//! logs in `sample-logs/` through the library API.

use pglog_logparse::classify::statement::{PlanFormat, StatementKind};
use pglog_logparse::{source, Classifier, Event, EventKind, InputFormat, Item, ReaderBuilder};

mod common;
use common::{events, sample};

const PRIMARY: [&str; 3] = [
    "primary/postgresql.csv",
    "primary/postgresql.json",
    "primary/postgresql.log",
];

/// The events of one kind, mapped: `pick!(evs, EventKind::Plan(p) => p.clone())`.
macro_rules! pick {
    ($evs:expr, $kind:pat $(if $guard:expr)? => $out:expr) => {
        $evs.iter()
            .filter_map(|e| match &e.kind {
                $kind $(if $guard)? => Some($out),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}

fn queries_with(evs: &[Event], needle: &str) -> Vec<String> {
    pick!(evs, EventKind::Query(s) if s.text.as_deref().is_some_and(|t| t.contains(needle)) => s.text.clone().unwrap_or_default())
}

#[test]
fn literals_that_imitate_log_lines_stay_inside_their_statement() {
    for f in PRIMARY {
        let evs = events(f);
        let fake = queries_with(&evs, "AS fake_stderr_raw");
        assert_eq!(fake.len(), 1, "{f}");
        assert!(
            fake[0].contains("'x\n2026-01-01 00:00:00.000 UTC [999] LOG:  duration: 1.000 ms"),
            "{f}: {}",
            fake[0]
        );
        assert!(
            fake[0].contains("\n2026-01-01 00:00:00.000 UTC,\"alice\",\"app\""),
            "{f}: {}",
            fake[0]
        );
        assert_eq!(queries_with(&evs, "AS fake_stderr").len(), 2, "{f}");
        assert_eq!(queries_with(&evs, "AS fake_csv").len(), 1, "{f}");
        assert_eq!(queries_with(&evs, "AS fake_json").len(), 1, "{f}");
        let multi = queries_with(&evs, "AS two");
        assert!(
            multi[0].contains("'multi\nline literal' AS two,\n       3 AS three"),
            "{f}: {:?}",
            multi
        );
        let quoted = queries_with(&evs, "AS quotes");
        assert!(
            quoted[0].contains("'say \"hi\", ok'") && quoted[0].contains("$q$dollar 'quoted' $q$"),
            "{f}"
        );
    }
}

#[test]
fn multi_line_bind_parameters_are_parsed() {
    for f in PRIMARY {
        let evs = events(f);
        let exec = pick!(evs, EventKind::Query(s)
                if s.kind == StatementKind::Execute
                    && s.text.as_deref().is_some_and(|t| t.contains("AS note")) => s.clone())
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{f}: execute with parameters"));
        assert_eq!(
            exec.params,
            vec![
                Some(
                    "line one\nline 'two'\n2026-01-01 00:00:00.000 UTC [1] LOG:  fake, \"quoted\""
                        .to_string()
                ),
                Some("7".to_string())
            ],
            "{f}"
        );
        assert_eq!(exec.name.as_deref(), Some("<unnamed>"));
        // psycopg's prepared statements are named.
        assert!(
            evs.iter().any(
                |e| matches!(&e.kind, EventKind::Query(s) if s.name.as_deref() == Some("_pg3_0"))
            ),
            "{f}"
        );
    }
}

#[test]
fn extended_protocol_steps_are_told_apart() {
    let count = |evs: &[Event], key: &str| evs.iter().filter(|e| e.kind.key() == key).count();
    let csv = events(PRIMARY[0]);
    let (parse, bind) = (count(&csv, "parse"), count(&csv, "bind"));
    assert!(
        parse > 0 && bind > parse,
        "pgbench -M extended parses every time, -M prepared once"
    );
    for f in &PRIMARY[1..] {
        let evs = events(f);
        assert_eq!(
            (count(&evs, "parse"), count(&evs, "bind")),
            (parse, bind),
            "{f}"
        );
    }
}

#[test]
fn bare_durations_take_the_text_log_statement_wrote() {
    for f in PRIMARY {
        let evs = events(f);
        let carol: Vec<&Event> = evs
            .iter()
            .filter(|e| e.record.user.as_deref() == Some("carol"))
            .collect();
        let queries: Vec<&str> = pick!(carol, EventKind::Query(s) if s.text.is_some() => s.text.as_deref().unwrap_or_default());
        // Two psql statements that ran (the third failed) and five pgbench executes.
        assert_eq!(queries.len(), 7, "{f}: {queries:?}");
        assert!(queries.contains(&"SELECT now()"), "{f}");
        assert_eq!(
            queries
                .iter()
                .filter(|q| q.contains("WHERE aid = $1"))
                .count(),
            5,
            "{f}"
        );
        // Parse and bind durations have no text before them.
        let steps = carol
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Duration { .. }))
            .count();
        assert_eq!(steps, 10, "{f}");
    }
}

#[test]
fn plans_in_text_and_json_carry_their_query() {
    for f in PRIMARY
        .iter()
        .chain(["replica/postgresql.csv", "replica/postgresql.log"].iter())
    {
        let evs = events(f);
        let plans: Vec<_> = pick!(evs, EventKind::Plan(p) => p.clone());
        let json = plans
            .iter()
            .filter(|p| p.format == PlanFormat::Json)
            .count();
        let text = plans
            .iter()
            .filter(|p| p.format == PlanFormat::Text)
            .count();
        assert!(json >= 1 && text >= 1, "{f}: {json} json, {text} text");
        for p in &plans {
            assert!(
                p.query_text.as_deref().is_some_and(|q| !q.is_empty()),
                "{f}: plan without query"
            );
            // 50ms is the threshold, but heavy.sql logs every plan of its own.
            assert!(p.duration_ms > 0.0, "{f}: a plan without its duration");
            match p.format {
                PlanFormat::Json => {
                    assert!(serde_json::from_str::<serde_json::Value>(&p.plan).is_ok())
                }
                PlanFormat::Text => assert!(p.plan.contains("(actual time="), "{f}: {}", p.plan),
            }
        }
    }
}

#[test]
fn deadlock_lists_both_sides_with_their_queries() {
    for f in PRIMARY {
        let evs = events(f);
        let sides = pick!(evs, EventKind::Deadlock { sides } => sides.clone())
            .into_iter()
            .next()
            .unwrap();
        assert_eq!(sides.len(), 2, "{f}");
        assert_eq!(sides[0].blocked_by, Some(sides[1].pid));
        assert_eq!(sides[1].blocked_by, Some(sides[0].pid));
        assert!(
            sides.iter().all(|s| s
                .query
                .as_deref()
                .is_some_and(|q| q.starts_with("UPDATE accounts"))),
            "{f}"
        );
    }
}

#[test]
fn lock_waits_name_mode_object_and_holder() {
    for f in PRIMARY {
        let evs = events(f);
        // The UPDATE that waits for LOCK TABLE (the deadlock scenario may
        // add a ShareLock wait on a transaction, depending on timing).
        let w = pick!(evs, EventKind::LockWait(w) => w.clone())
            .into_iter()
            .find(|w| w.mode == "RowExclusiveLock")
            .unwrap_or_else(|| panic!("{f}: the UPDATE's lock wait"));
        assert!(w.object.starts_with("relation "), "{f}");
        assert!(w.wait_ms.unwrap() >= 200.0);
        assert_eq!(w.holders.len(), 1, "{f}");
        assert!(
            evs.iter()
                .any(|e| matches!(e.kind, EventKind::LockAcquired(_))),
            "{f}"
        );
    }
}

#[test]
fn parallel_workers_are_attributed_to_their_leader() {
    // csvlog and jsonlog name the leader; the workers log no user or database.
    for f in &PRIMARY[..2] {
        let evs = events(f);
        let workers: Vec<&Event> = evs
            .iter()
            .filter(|e| e.record.leader_pid.is_some())
            .collect();
        assert!(!workers.is_empty(), "{f}");
        for w in workers {
            assert!(matches!(w.kind, EventKind::TempFile { .. }), "{f}");
            assert_eq!(w.record.database.as_deref(), Some("app"), "{f}");
            assert_eq!(w.record.user.as_deref(), Some("postgres"), "{f}");
        }
    }
}

#[test]
fn audit_entries_are_parsed() {
    for f in PRIMARY {
        let evs = events(f);
        let audits: Vec<_> = pick!(evs, EventKind::Audit(a) => a.clone());
        assert!(
            audits
                .iter()
                .any(|a| a.class == "DDL" && a.command == "CREATE TABLE"),
            "{f}"
        );
        let write = audits
            .iter()
            .find(|a| a.class == "WRITE")
            .unwrap_or_else(|| panic!("{f}: bob's write"));
        assert_eq!(write.command, "INSERT");
        // Session auditing names no object unless pgaudit.log_relation is on.
        assert_eq!(write.object_name, None);
        assert!(
            write
                .statement
                .as_deref()
                .is_some_and(|s| s.starts_with("INSERT INTO orders")),
            "{f}"
        );
    }
}

#[test]
fn server_activity_has_its_statistics() {
    for f in PRIMARY {
        let evs = events(f);
        let ckpt = pick!(evs, EventKind::CheckpointComplete(c) => c.clone())
            .into_iter()
            .next()
            .unwrap();
        assert!(
            ckpt.total_s.is_some() && ckpt.buffers_written.is_some() && ckpt.distance_kb.is_some(),
            "{f}"
        );
        let vac =
            pick!(evs, EventKind::Autovacuum(v) if v.table == "app.public.accounts" => v.clone())
                .into_iter()
                .next();
        if let Some(v) = vac {
            assert!(v.tuples_removed.is_some() && v.elapsed_s.is_some(), "{f}");
        }
        assert!(evs.iter().any(|e| matches!(&e.kind, EventKind::ParameterChange { name, value } if name == "work_mem" && value.as_deref() == Some("8MB"))));
        assert!(evs
            .iter()
            .any(|e| matches!(e.kind, EventKind::ConfigReload)));
        assert!(
            evs.iter()
                .any(|e| matches!(&e.kind, EventKind::Connection(c) if c.replication)),
            "{f}: walreceiver"
        );
        assert!(evs.iter().any(|e| matches!(&e.kind, EventKind::ReplicationCommand { command } if command.starts_with("START_REPLICATION"))));
        let cancels: Vec<_> = pick!(evs, EventKind::Cancel { reason } => format!("{reason:?}"));
        for want in [
            "StatementTimeout",
            "LockTimeout",
            "UserRequest",
            "AdminTerminate",
            "IdleInTransactionTimeout",
        ] {
            assert!(
                cancels.iter().any(|c| c == want),
                "{f}: {want} in {cancels:?}"
            );
        }
    }
}

#[test]
fn replica_events() {
    for f in [
        "replica/postgresql.csv",
        "replica/postgresql.json",
        "replica/postgresql.log",
    ] {
        let evs = events(f);
        assert!(
            evs.iter()
                .any(|e| matches!(e.kind, EventKind::RecoveryConflict)),
            "{f}"
        );
        assert!(
            evs.iter()
                .any(|e| matches!(e.kind, EventKind::RestartpointComplete(_))),
            "{f}"
        );
        let ro = evs
            .iter()
            .find(|e| e.record.message.contains("read-only transaction"))
            .unwrap();
        assert_eq!(ro.sqlstate.unwrap().as_str(), "25006");
    }
}

#[test]
fn forced_format_mismatch_reads_nothing() {
    let input = source::open(&sample("primary/postgresql.csv")).unwrap();
    let mut reader = ReaderBuilder::new()
        .format(InputFormat::Json)
        .build(input.reader)
        .unwrap();
    let mut records = 0;
    let mut malformed = 0;
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Record(_) => records += 1,
            Item::Malformed(_) => malformed += 1,
        }
    }
    assert_eq!(records, 0);
    assert!(malformed > 0);
}

/// Which fields a log carries: csvlog and jsonlog carry all; a text log
/// only what its `log_line_prefix` has.
#[derive(Clone, Copy)]
struct Carries {
    leader: bool,
    user_db: bool,
    app: bool,
    host: bool,
}

const ALL: Carries = Carries {
    leader: true,
    user_db: true,
    app: true,
    host: true,
};

/// What a record says, independent of the format it came in.
fn fingerprint(e: &Event, c: Carries) -> String {
    let r = &e.record;
    let hide = |on: bool, v: &Option<pglog_logparse::Short>| {
        if on {
            format!("{v:?}")
        } else {
            "-".into()
        }
    };
    // Parallel workers name no user; csvlog's leader_pid lets the parser
    // fill it in, which a text log without %P cannot.
    let worker = r.leader_pid.is_some() || r.user.is_none();
    format!(
        "{} {:?} pid={:?} leader={} user={} db={} app={} host={}:{} state={:?} time={:?}\n{}\nDETAIL {:?}\nHINT {:?}\nCONTEXT {:?}\nSTATEMENT {:?}\nQUERY {:?}",
        e.kind.key(),
        r.severity,
        r.pid,
        if c.leader { format!("{:?}", r.leader_pid) } else { "-".into() },
        hide(c.user_db && !worker, &r.user),
        hide(c.user_db && !worker, &r.database),
        // In a text log, what follows %q is missing for workers too.
        hide(c.app && (c.leader || !worker), &r.application),
        hide(c.host, &r.remote_host),
        if c.host { format!("{:?}", r.remote_port) } else { "-".into() },
        // Codes are inferred for stderr errors only, and not for a RAISE of
        // the application's own text (its ERRCODE is not in a text log).
        e.sqlstate.filter(|_| r.severity.is_error() && !raised(r)),
        r.time.map(|t| t.epoch_ms / 1000),
        r.message,
        r.detail,
        r.hint,
        r.context,
        r.statement,
        r.internal_query,
    )
}

/// A PL/pgSQL RAISE whose text matches none of the server's formats.
fn raised(r: &pglog_logparse::LogRecord) -> bool {
    r.context
        .as_deref()
        .is_some_and(|c| c.ends_with(" at RAISE"))
        && pglog_logparse::classify::sqlstate::infer(r).is_none()
}

/// The server sends each destination its own copy of a message, so
/// processes can interleave differently in each file: compare sorted. The
/// time is kept apart: a prefix's `%t` (whole seconds) and csvlog's
/// timestamp are read from the clock separately and can fall on either side
/// of a second.
fn sorted_fingerprints(rel: &str, c: Carries) -> Vec<(String, Option<i64>)> {
    let mut v: Vec<(String, Option<i64>)> = events(rel)
        .iter()
        .map(|e| {
            let f = fingerprint(e, c);
            let secs = e.record.time.map(|t| t.epoch_ms / 1000);
            (f.replacen(&format!("time={secs:?}"), "time=_", 1), secs)
        })
        .collect();
    v.sort();
    v
}

/// Same records, with times at most a second apart.
fn assert_same_records(a: &[(String, Option<i64>)], b: &[(String, Option<i64>)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, ((fa, ta), (fb, tb))) in a.iter().zip(b).enumerate() {
        assert_eq!(fa, fb, "{what}: sorted record {i} differs from csvlog");
        let close = match (ta, tb) {
            (Some(x), Some(y)) => (x - y).abs() <= 1,
            (x, y) => x == y,
        };
        assert!(close, "{what}: record {i} at {ta:?} vs {tb:?}");
    }
}

#[test]
fn every_record_reads_the_same_in_every_format() {
    let text = |user_db, app, host| Carries {
        leader: false,
        user_db,
        app,
        host,
    };
    let cases = [
        ("primary", text(true, true, false)),
        ("replica", text(false, false, false)),
        ("rds", text(true, false, true)),
    ];
    for (inst, carried) in cases {
        for (f, c) in [("postgresql.json", ALL), ("postgresql.log", carried)] {
            let csv = sorted_fingerprints(&format!("{inst}/postgresql.csv"), c);
            let other = sorted_fingerprints(&format!("{inst}/{f}"), c);
            assert_same_records(&csv, &other, &format!("{inst}/{f}"));
        }
    }
}

#[test]
fn syslog_records_read_the_same_as_csvlog() {
    let c = Carries {
        leader: false,
        user_db: true,
        app: false,
        host: true,
    };
    let csv = sorted_fingerprints("rds/postgresql.csv", c);
    let mut syslog = sorted_fingerprints("rds/postgresql.syslog", c);
    // Sent to syslog before the logging collector that writes the csvlog starts.
    let before_collector = syslog.iter().position(|f| {
        f.0.contains("\nredirecting log output to logging collector process\n")
    });
    syslog.remove(before_collector.expect("the pre-collector record"));
    assert_same_records(&csv, &syslog, "rds/postgresql.syslog");
}

fn lines(rel: &str) -> Vec<Vec<u8>> {
    std::fs::read(sample(rel))
        .unwrap()
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn prefixes_match_every_message_line_of_the_samples() {
    use pglog_logparse::prefix::{detect_prefix, RDS_PREFIX};
    use pglog_logparse::Prefix;
    for (file, prefix) in [
        ("primary/postgresql.log", "%m [%p] %q%u@%d/%a "),
        ("replica/postgresql.log", "%m [%p] "),
        ("rds/postgresql.log", RDS_PREFIX),
    ] {
        let all = lines(file);
        let p = Prefix::parse(prefix).unwrap();
        let heads: Vec<&Vec<u8>> = all.iter().filter(|l| !l.starts_with(b"\t")).collect();
        for l in &heads {
            let m = p
                .match_line(l)
                .unwrap_or_else(|| panic!("{file}: {}", String::from_utf8_lossy(l)));
            assert!(m.fields.pid.is_some() && m.fields.time.is_some(), "{file}");
        }
        assert_eq!(
            detect_prefix(all.iter().map(Vec::as_slice))
                .unwrap()
                .as_str(),
            prefix,
            "{file}"
        );
    }
    let p = Prefix::parse("%m [%p] %q%u@%d/%a ").unwrap();
    let all = lines("primary/postgresql.log");
    let session = all
        .iter()
        .find(|l| l.windows(19).any(|w| w == b" alice@app/billing "))
        .unwrap();
    let m = p.match_line(session).unwrap();
    assert_eq!(
        (m.fields.user, m.fields.database, m.fields.application),
        (
            Some(&b"alice"[..]),
            Some(&b"app"[..]),
            Some(&b"billing"[..])
        )
    );
    assert!(m.session_part);
    let background = all
        .iter()
        .find(|l| l.windows(20).any(|w| w == b"checkpoint starting:"))
        .unwrap();
    let m = p.match_line(background).unwrap();
    assert!(!m.session_part && m.fields.user.is_none());

    let rds = Prefix::parse(RDS_PREFIX).unwrap();
    let all = lines("rds/postgresql.log");
    let tcp = all
        .iter()
        .find(|l| {
            l.windows(10).any(|w| w == b"127.0.0.1(") && l.windows(10).any(|w| w == b":alice@app")
        })
        .unwrap();
    let m = rds.match_line(tcp).unwrap();
    assert!(m.fields.remote_host.unwrap().starts_with(b"127.0.0.1("));
    assert_eq!(
        (m.fields.user, m.fields.database),
        (Some(&b"alice"[..]), Some(&b"app"[..]))
    );
    // Before authentication the server writes [unknown], which is no user.
    let before_auth = all
        .iter()
        .find(|l| l.windows(19).any(|w| w == b"[unknown]@[unknown]"))
        .unwrap();
    assert_eq!(rds.match_line(before_auth).unwrap().fields.user, None);
}

#[test]
fn syslog_headers_and_escapes() {
    use pglog_logparse::format::syslog::{parse_header, unescape};
    let all = lines("rds/postgresql.syslog");
    let first = parse_header(&all[0], 2026).unwrap();
    assert_eq!(first.seq, Some((1, 1)));
    assert!(first.time.is_some());
    let continued = all
        .iter()
        .find_map(|l| parse_header(l, 2026).filter(|h| h.content.starts_with(b"#011")))
        .unwrap();
    assert!(continued.seq.unwrap().1 > 1);
    assert!(unescape(continued.content).starts_with(b"\t"));
    assert!(parse_header(&lines("rds/postgresql.log")[0], 2026).is_none());
}

#[test]
fn formats_are_sniffed_from_content() {
    use pglog_logparse::format::sniff_format;
    for (file, want) in [
        ("primary/postgresql.csv", InputFormat::Csv),
        ("primary/postgresql.json", InputFormat::Json),
        ("primary/postgresql.log", InputFormat::Stderr),
        ("rds/postgresql.log", InputFormat::Stderr),
        ("rds/postgresql.syslog", InputFormat::Syslog),
    ] {
        let head = std::fs::read(sample(file)).unwrap();
        assert_eq!(
            sniff_format(&head[..head.len().min(64 * 1024)]),
            want,
            "{file}"
        );
    }
}

#[test]
fn a_checkpoint_message_with_other_characters_before_its_numbers() {
    // The RDS sample's real record, with each "; " or ", " before a WAL
    // count replaced by a two-byte character (found by fuzz/read_rds).
    let log = std::fs::read_to_string(sample("rds/postgresql.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("checkpoint complete: "))
        .expect("the sample has a checkpoint");
    let garbled = line
        .replace("); ", ")\u{51c}")
        .replace("added, ", "added\u{51c}")
        .replace("removed, ", "removed\u{51c}");
    assert_ne!(garbled, line);
    let mut reader = ReaderBuilder::new()
        .format(InputFormat::Rds)
        .build(Box::new(std::io::Cursor::new(format!("{garbled}\n"))))
        .unwrap();
    let Some(Item::Record(r)) = reader.next_item().unwrap() else {
        panic!("one record")
    };
    let EventKind::CheckpointComplete(c) = Classifier::new().classify(r).kind else {
        panic!("a checkpoint")
    };
    assert_eq!(
        (c.wal_added, c.wal_removed, c.wal_recycled),
        (Some(0), Some(0), Some(1))
    );
}
