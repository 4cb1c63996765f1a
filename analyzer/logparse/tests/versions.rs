//! Message forms of PostgreSQL 9.6 to 18. Only PostgreSQL 15 runs here: its
//! forms are checked on the real sample logs; every other version's lines
//! are written from the message format strings of that version's source,
//! quoted exactly (each case names the file and version), filled with
//! plausible values by the message-format matcher, and read through the
//! stderr reader as the server writes them (continuation lines tab-led).

use pglog_logparse::classify::activity::{CheckpointStats, MaintenanceStats};
use pglog_logparse::classify::server::ServerEvent;
use pglog_logparse::classify::statement::{Plan, PlanFormat};
use pglog_logparse::message_format::MessageFormat;
use pglog_logparse::{Classifier, Event, EventKind, InputFormat, Item, ReaderBuilder};

mod common;
use common::events;

/// `format` filled with `args` in argument order.
fn fill(format: &str, args: &[&str]) -> String {
    let f = MessageFormat::parse(format).unwrap_or_else(|e| panic!("{format}: {e}"));
    assert_eq!(f.arity(), args.len(), "{format}");
    f.render(&args.iter().map(|a| Some(*a)).collect::<Vec<_>>())
}

/// One LOG message as the server writes it to stderr, classified.
fn classify(message: &str) -> Event {
    let log = format!(
        "2026-12-01 10:00:00.000 UTC [4242] LOG:  {}\n",
        message.replace('\n', "\n\t")
    );
    let mut reader = ReaderBuilder::new()
        .format(InputFormat::Stderr)
        .build(Box::new(std::io::Cursor::new(log.into_bytes())))
        .unwrap();
    let mut classifier = Classifier::new();
    let mut events = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Record(r) => events.push(classifier.classify(r)),
            Item::Malformed(m) => panic!("line {}: {}", m.line, m.reason),
        }
    }
    assert_eq!(events.len(), 1, "{message}");
    events.pop().unwrap()
}

fn vacuum(message: &str) -> MaintenanceStats {
    match classify(message).kind {
        EventKind::Autovacuum(m) => *m,
        other => panic!("not an autovacuum: {other:?}\n{message}"),
    }
}

fn analyze(message: &str) -> MaintenanceStats {
    match classify(message).kind {
        EventKind::Autoanalyze(m) => *m,
        other => panic!("not an autoanalyze: {other:?}\n{message}"),
    }
}

fn checkpoint(message: &str) -> CheckpointStats {
    match classify(message).kind {
        EventKind::CheckpointComplete(c) | EventKind::RestartpointComplete(c) => *c,
        other => panic!("not a checkpoint: {other:?}\n{message}"),
    }
}

fn plan(message: &str) -> Plan {
    match classify(message).kind {
        EventKind::Plan(p) => p,
        other => panic!("not a plan: {other:?}\n{message}"),
    }
}

/// pg_rusage_show() of src/backend/utils/misc/pg_rusage.c, PostgreSQL 10 to 18.
const RUSAGE: &str = "CPU: user: %d.%02d s, system: %d.%02d s, elapsed: %d.%02d s";

/// The last line of a vacuum or analyze report, 10 to 18: `system usage: %s`
/// with pg_rusage_show()'s text; the times are `0.04`-like seconds.
fn usage(user: &str, system: &str, elapsed: &str) -> String {
    let parts: Vec<&str> = [user, system, elapsed]
        .iter()
        .flat_map(|t| t.split('.'))
        .collect();
    fill("system usage: %s", &[&fill(RUSAGE, &parts)])
}

// Lines of the vacuum and analyze reports shared by several versions
// (src/backend/access/heap/vacuumlazy.c and src/backend/commands/analyze.c
// of the versions named at each; the `%" PRId64 "` of 18's source is
// written `%lld`, as in its message catalogs).
/// 9.6 to 18.
const VACUUM: &str = "automatic vacuum of table \"%s.%s.%s\": index scans: %d\n";
/// 9.6 to 14.
const PAGES_9_6: &str = "pages: %u removed, %u remain, %u skipped due to pins, %u skipped frozen\n";
/// 15 to 17.
const PAGES_15: &str = "pages: %u removed, %u remain, %u scanned (%.2f%% of total)\n";
/// 11 to 13.
const TUPLES_12: &str =
    "tuples: %.0f removed, %.0f remain, %.0f are dead but not yet removable, oldest xmin: %u\n";
/// 15 to 18.
const TUPLES_15: &str = "tuples: %lld removed, %lld remain, %lld are dead but not yet removable\n";
/// 15 to 18.
const CUTOFF: &str = "removable cutoff: %u, which was %d XIDs old when operation ended\n";
/// 16 to 18.
const FROZEN: &str = "frozen: %u pages from table (%.2f%% of total) had %lld tuples frozen\n";
/// 14 to 18, after `index scan needed: ` or `index scan not needed: `.
const DEAD_ITEMS: &str =
    "%u pages from table (%.2f%% of total) had %lld dead item identifiers removed\n";
/// 14 to 18.
const INDEX_PAGES: &str =
    "index \"%s\": pages: %u in total, %u newly deleted, %u currently deleted, %u reusable\n";
/// 14 to 18 (track_io_timing).
const IO_TIMINGS: &str = "I/O timings: read: %.3f ms, write: %.3f ms\n";
/// 9.6 to 18.
const RATES: &str = "avg read rate: %.3f MB/s, avg write rate: %.3f MB/s\n";
/// 9.6 to 12.
const BUFFERS_9_6: &str = "buffer usage: %d hits, %d misses, %d dirtied\n";
/// 13 to 16.
const BUFFERS_13: &str = "buffer usage: %lld hits, %lld misses, %lld dirtied\n";
/// 17 and 18.
const BUFFERS_17: &str = "buffer usage: %lld hits, %lld reads, %lld dirtied\n";
/// 14 to 17.
const WAL_14: &str = "WAL usage: %lld records, %lld full page images, %llu bytes\n";
/// 18.
const WAL_18: &str =
    "WAL usage: %lld records, %lld full page images, %llu bytes, %lld buffers full\n";
/// 18 (track_cost_delay_timing).
const DELAY: &str = "delay time: %.3f ms\n";
/// 14 to 18.
const ANALYZE: &str = "automatic analyze of table \"%s.%s.%s\"\n";

#[test]
fn vacuum_report_of_9_6() {
    // src/backend/commands/vacuumlazy.c, lazy_vacuum_rel(), REL9_6_STABLE;
    // src/backend/utils/misc/pg_rusage.c, pg_rusage_show(), REL9_6_STABLE.
    let rusage = fill(
        "CPU %d.%02ds/%d.%02du sec elapsed %d.%02d sec",
        &["0", "01", "0", "03", "0", "52"],
    );
    let msg = [
        fill(VACUUM, &["app", "public", "orders", "1"]),
        fill(PAGES_9_6, &["0", "45", "0", "3"]),
        fill(
            "tuples: %.0f removed, %.0f remain, %.0f are dead but not yet removable\n",
            &["120", "4500", "7"],
        ),
        fill(BUFFERS_9_6, &["310", "12", "9"]),
        fill(RATES, &["1.250", "0.830"]),
        fill("system usage: %s", &[&rusage]),
    ]
    .concat();
    let m = vacuum(&msg);
    assert_eq!(m.table, "app.public.orders");
    assert_eq!(
        (m.tuples_removed, m.tuples_remain, m.pages_removed),
        (Some(120), Some(4500), Some(0))
    );
    assert_eq!(m.elapsed_s, Some(0.52));
    let u = &m.usage;
    assert_eq!((u.cpu_system_s, u.cpu_user_s), (Some(0.01), Some(0.03)));
    assert_eq!(u.index_scans, Some(1));
    assert_eq!(u.tuples_dead_not_removable, Some(7));
    assert_eq!(
        (u.buffer_hits, u.buffer_reads, u.buffer_dirtied),
        (Some(310), Some(12), Some(9))
    );
    assert_eq!((u.read_mb_s, u.write_mb_s), (Some(1.25), Some(0.83)));
}

#[test]
fn vacuum_report_of_12_to_prevent_wraparound() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), REL_12_STABLE.
    let msg = [
        fill(
            "automatic aggressive vacuum to prevent wraparound of table \"%s.%s.%s\": index scans: %d\n",
            &["app", "public", "events", "0"],
        ),
        fill(PAGES_9_6, &["2", "800", "0", "0"]),
        fill(TUPLES_12, &["0", "64000", "0", "1999"]),
        fill(BUFFERS_9_6, &["1700", "40", "812"]),
        fill(RATES, &["0.512", "10.400"]),
        usage("0.04", "0.01", "0.61"),
    ]
    .concat();
    let m = vacuum(&msg);
    assert!(m.aggressive && m.wraparound);
    assert_eq!(m.table, "app.public.events");
    assert_eq!((m.pages_removed, m.elapsed_s), (Some(2), Some(0.61)));
    assert_eq!(
        (m.usage.cpu_user_s, m.usage.cpu_system_s),
        (Some(0.04), Some(0.01))
    );
    assert_eq!(m.usage.pages_remain, Some(800));
    assert_eq!(m.usage.buffer_dirtied, Some(812));
}

#[test]
fn vacuum_report_of_13_with_wal_usage_after_system_usage() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), REL_13_STABLE:
    // WAL usage comes last, after `system usage: %s\n`.
    let msg = [
        fill(VACUUM, &["app", "public", "t", "1"]),
        fill(PAGES_9_6, &["0", "10", "0", "0"]),
        fill(TUPLES_12, &["50", "950", "0", "733"]),
        fill(BUFFERS_13, &["60", "3", "11"]),
        fill(RATES, &["2.000", "7.300"]),
        fill(
            "system usage: %s\n",
            &[&fill(RUSAGE, &["0", "00", "0", "00", "0", "01"])],
        ),
        fill(
            "WAL usage: %ld records, %ld full page images, %llu bytes",
            &["25", "4", "30120"],
        ),
    ]
    .concat();
    let m = vacuum(&msg);
    assert_eq!(m.tuples_removed, Some(50));
    assert_eq!(m.elapsed_s, Some(0.01));
    assert_eq!(
        (m.usage.wal_records, m.usage.wal_fpi, m.usage.wal_bytes),
        (Some(25), Some(4), Some(30120))
    );
}

#[test]
fn vacuum_report_of_14_with_io_timings() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), REL_14_STABLE.
    let msg = [
        fill(VACUUM, &["app", "public", "orders", "1"]),
        fill(PAGES_9_6, &["0", "2", "0", "0"]),
        fill(
            "tuples: %lld removed, %lld remain, %lld are dead but not yet removable, oldest xmin: %u\n",
            &["153", "151", "0", "966"],
        ),
        "index scan needed: ".to_string(),
        fill(DEAD_ITEMS, &["2", "100.00", "154"]),
        fill(INDEX_PAGES, &["orders_pkey", "2", "0", "0", "0"]),
        fill(IO_TIMINGS, &["0.412", "0.000"]),
        fill(RATES, &["34.877", "69.754"]),
        fill(BUFFERS_13, &["44", "2", "4"]),
        fill(WAL_14, &["9", "1", "9912"]),
        usage("0.00", "0.00", "0.00"),
    ]
    .concat();
    let m = vacuum(&msg);
    assert_eq!((m.tuples_removed, m.tuples_remain), (Some(153), Some(151)));
    assert_eq!(
        (m.usage.io_read_ms, m.usage.io_write_ms),
        (Some(0.412), Some(0.0))
    );
    assert_eq!(m.usage.buffer_reads, Some(2));
    assert_eq!(m.usage.wal_bytes, Some(9912));
    assert_eq!(m.elapsed_s, Some(0.0));
}

#[test]
fn vacuum_and_analyze_reports_of_the_real_15_server() {
    // PostgreSQL 15, sample-logs/primary (generate.sh): `scanned (...)`,
    // `removable cutoff:`, buffer `misses`, WAL usage before system usage.
    let evs = events("primary/postgresql.log");
    let orders = evs
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Autovacuum(m) if m.table == "app.public.orders" => Some(m.clone()),
            _ => None,
        })
        .expect("the orders vacuum");
    let u = &orders.usage;
    assert_eq!(u.index_scans, Some(1));
    assert_eq!((u.pages_remain, u.pages_scanned), (Some(2), Some(2)));
    assert_eq!(
        (u.buffer_hits, u.buffer_reads, u.buffer_dirtied),
        (Some(44), Some(2), Some(4))
    );
    assert_eq!(
        (u.wal_records, u.wal_fpi, u.wal_bytes),
        (Some(9), Some(1), Some(9912))
    );
    assert_eq!((u.cpu_user_s, u.elapsed_s), (Some(0.0), Some(0.0)));
    let big = evs
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Autoanalyze(m) if m.table == "app.public.big" => Some(m.clone()),
            _ => None,
        })
        .expect("the big analyze");
    assert_eq!(big.elapsed_s, Some(0.15));
    assert_eq!(big.usage.buffer_hits, Some(1888));
    assert_eq!(
        (big.usage.cpu_user_s, big.usage.cpu_system_s),
        (Some(0.09), Some(0.01))
    );
}

#[test]
fn vacuum_report_of_16_with_frozen_pages() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), REL_16_STABLE:
    // 16 adds the `frozen:` line; buffers are still `misses`.
    let msg = [
        fill(VACUUM, &["app", "public", "big", "0"]),
        fill(PAGES_15, &["0", "1667", "1667", "100.00"]),
        fill(TUPLES_15, &["0", "200000", "0"]),
        fill(CUTOFF, &["746", "0"]),
        fill(FROZEN, &["1667", "100.00", "200000"]),
        "index scan not needed: ".to_string(),
        fill(DEAD_ITEMS, &["0", "0.00", "0"]),
        fill(RATES, &["0.337", "16.351"]),
        fill(BUFFERS_13, &["3357", "4", "194"]),
        fill(WAL_14, &["1668", "2", "111791"]),
        usage("0.01", "0.00", "0.09"),
    ]
    .concat();
    let m = vacuum(&msg);
    assert_eq!(
        (m.usage.pages_frozen, m.usage.tuples_frozen),
        (Some(1667), Some(200000))
    );
    assert_eq!(m.usage.pages_scanned, Some(1667));
    assert_eq!(m.usage.buffer_reads, Some(4));
    assert_eq!(m.elapsed_s, Some(0.09));
}

#[test]
fn vacuum_report_of_17_counts_reads() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), REL_17_STABLE:
    // `buffer usage: %lld hits, %lld reads, %lld dirtied` (`misses` before).
    let msg = [
        fill(VACUUM, &["app", "public", "accounts", "0"]),
        fill(PAGES_15, &["0", "164", "164", "100.00"]),
        fill(TUPLES_15, &["12", "10000", "1"]),
        fill(RATES, &["5.100", "2.000"]),
        fill(BUFFERS_17, &["350", "17", "6"]),
        fill(WAL_14, &["30", "5", "41000"]),
        usage("0.02", "0.00", "0.03"),
    ]
    .concat();
    let m = vacuum(&msg);
    assert_eq!(
        (
            m.usage.buffer_hits,
            m.usage.buffer_reads,
            m.usage.buffer_dirtied
        ),
        (Some(350), Some(17), Some(6))
    );
    assert_eq!(m.usage.tuples_dead_not_removable, Some(1));
    assert_eq!(m.tuples_removed, Some(12));
}

#[test]
fn vacuum_report_of_18_with_its_new_lines() {
    // src/backend/access/heap/vacuumlazy.c, heap_vacuum_rel(), PostgreSQL
    // 18.4 (the `%" PRId64 "` of the source is written `%lld` here, as in
    // its message catalogs): eagerly scanned pages, the visibility map line,
    // delay time (track_cost_delay_timing), WAL buffers full.
    let msg = [
        fill(VACUUM, &["app", "public", "orders", "1"]),
        fill(
            "pages: %u removed, %u remain, %u scanned (%.2f%% of total), %u eagerly scanned\n",
            &["0", "40", "12", "30.00", "3"],
        ),
        fill(TUPLES_15, &["200", "3800", "2"]),
        fill(CUTOFF, &["9001", "1"]),
        fill(FROZEN, &["5", "12.50", "310"]),
        fill(
            "visibility map: %u pages set all-visible, %u pages set all-frozen (%u were all-visible)\n",
            &["10", "5", "2"],
        ),
        "index scan needed: ".to_string(),
        fill(DEAD_ITEMS, &["8", "20.00", "200"]),
        fill(INDEX_PAGES, &["orders_pkey", "14", "0", "0", "0"]),
        fill(DELAY, &["12.500"]),
        fill(IO_TIMINGS, &["1.020", "0.300"]),
        fill(RATES, &["4.000", "1.500"]),
        fill(BUFFERS_17, &["120", "9", "15"]),
        fill(WAL_18, &["42", "6", "52000", "1"]),
        usage("0.01", "0.00", "0.05"),
    ]
    .concat();
    let m = vacuum(&msg);
    let u = &m.usage;
    assert_eq!((u.pages_remain, u.pages_scanned), (Some(40), Some(12)));
    assert_eq!((u.pages_frozen, u.tuples_frozen), (Some(5), Some(310)));
    assert_eq!(u.delay_ms, Some(12.5));
    assert_eq!((u.io_read_ms, u.io_write_ms), (Some(1.02), Some(0.3)));
    assert_eq!(
        (u.buffer_hits, u.buffer_reads, u.buffer_dirtied),
        (Some(120), Some(9), Some(15))
    );
    assert_eq!(
        (u.wal_records, u.wal_fpi, u.wal_bytes, u.wal_buffers_full),
        (Some(42), Some(6), Some(52000), Some(1))
    );
    assert_eq!((m.tuples_removed, m.elapsed_s), (Some(200), Some(0.05)));
}

#[test]
fn analyze_reports_of_12_14_and_18() {
    // src/backend/commands/analyze.c, do_analyze_rel(), REL_12_STABLE: one line.
    let m = analyze(&fill(
        "automatic analyze of table \"%s.%s.%s\" system usage: %s",
        &[
            "app",
            "public",
            "big",
            &fill(RUSAGE, &["0", "09", "0", "01", "0", "15"]),
        ],
    ));
    assert_eq!(m.table, "app.public.big");
    assert_eq!((m.elapsed_s, m.usage.cpu_user_s), (Some(0.15), Some(0.09)));
    // REL_14_STABLE: lines, I/O timings when track_io_timing is on.
    let m = analyze(
        &[
            fill(ANALYZE, &["app", "public", "big"]),
            fill(IO_TIMINGS, &["3.100", "0.000"]),
            fill(RATES, &["0.051", "0.355"]),
            fill(BUFFERS_13, &["1888", "1", "7"]),
            usage("0.09", "0.01", "0.15"),
        ]
        .concat(),
    );
    assert_eq!(
        (m.usage.io_read_ms, m.usage.buffer_hits),
        (Some(3.1), Some(1888))
    );
    assert_eq!(m.elapsed_s, Some(0.15));
    // PostgreSQL 18.4: delay time, `reads`, WAL usage with buffers full.
    let m = analyze(
        &[
            fill(ANALYZE, &["app", "public", "big"]),
            fill(DELAY, &["2.000"]),
            fill(RATES, &["0.051", "0.355"]),
            fill(BUFFERS_17, &["1888", "1", "7"]),
            fill(WAL_18, &["3", "0", "450", "0"]),
            usage("0.09", "0.01", "0.15"),
        ]
        .concat(),
    );
    assert_eq!(
        (m.usage.delay_ms, m.usage.buffer_reads),
        (Some(2.0), Some(1))
    );
    assert_eq!((m.usage.wal_bytes, m.elapsed_s), (Some(450), Some(0.15)));
}

#[test]
fn checkpoint_complete_of_12_to_18() {
    // src/backend/access/transam/xlog.c, LogCheckpointEnd(), REL_12_STABLE
    // on (the real 15.18 server of the samples writes this form too).
    let v12 = "checkpoint complete: wrote %d buffers (%.1f%%); %d WAL file(s) added, %d removed, %d recycled; write=%ld.%03d s, sync=%ld.%03d s, total=%ld.%03d s; sync files=%d, longest=%ld.%03d s, average=%ld.%03d s; distance=%d kB, estimate=%d kB";
    let args = [
        "3594", "21.9", "0", "1", "3", "0", "059", "0", "111", "0", "174", "666", "0", "041", "0",
        "001", "44030", "44030",
    ];
    let c = checkpoint(&fill(v12, &args));
    assert_eq!(
        (
            c.buffers_written,
            c.wal_added,
            c.wal_removed,
            c.wal_recycled
        ),
        (Some(3594), Some(0), Some(1), Some(3))
    );
    assert_eq!(
        (c.write_s, c.sync_s, c.total_s),
        (Some(0.059), Some(0.111), Some(0.174))
    );
    assert_eq!((c.distance_kb, c.estimate_kb), (Some(44030), Some(44030)));
    assert_eq!(c.slru_buffers_written, None);
    // REL_17_STABLE (an LLVM build of its xlog.c, told by TransamVariables)
    // adds the LSNs.
    let v15 = format!("{v12}; lsn=%X/%X, redo lsn=%X/%X");
    let lsns = ["0", "3A0C1F8", "0", "3A0C1C0"];
    let c15 = checkpoint(&fill(&v15, &[&args[..], &lsns[..]].concat()));
    assert_eq!(c15, c);
    // PostgreSQL 18.4 adds the SLRU buffers written.
    let v18 = "checkpoint complete: wrote %d buffers (%.1f%%), wrote %d SLRU buffers; %d WAL file(s) added, %d removed, %d recycled; write=%ld.%03d s, sync=%ld.%03d s, total=%ld.%03d s; sync files=%d, longest=%ld.%03d s, average=%ld.%03d s; distance=%d kB, estimate=%d kB; lsn=%X/%X, redo lsn=%X/%X";
    let mut a18 = vec!["3594", "21.9", "12"];
    a18.extend_from_slice(&args[2..]);
    a18.extend_from_slice(&lsns);
    let c18 = checkpoint(&fill(v18, &a18));
    assert_eq!(c18.slru_buffers_written, Some(12));
    assert_eq!(
        CheckpointStats {
            slru_buffers_written: None,
            ..c18.clone()
        },
        c
    );
    // The standby's restartpoint has the same figures (same function).
    let r18 = classify(&fill(&v18.replace("checkpoint", "restartpoint"), &a18));
    assert!(
        matches!(&r18.kind, EventKind::RestartpointComplete(r) if **r == c18),
        "{:?}",
        r18.kind
    );
}

#[test]
fn connection_forms_of_12_to_18() {
    // src/backend/utils/init/postinit.c, PerformAuthentication(),
    // REL_12_STABLE and REL_13_STABLE: SSL details with compression.
    let e = classify(&fill(
        "connection authorized: user=%s database=%s application_name=%s SSL enabled (protocol=%s, cipher=%s, bits=%d, compression=%s)",
        &["alice", "app", "my app", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", "off"],
    ));
    let EventKind::Connection(c) = e.kind else {
        panic!("{:?}", e.kind)
    };
    assert_eq!(
        (
            c.user.as_deref(),
            c.database.as_deref(),
            c.application.as_deref()
        ),
        (Some("alice"), Some("app"), Some("my app"))
    );
    // REL_14_STABLE on: without an application name, the database is the
    // last key, and the SSL details follow it.
    let e = classify(
        &[
            fill(
                "connection authorized: user=%s database=%s",
                &["bob", "shop"],
            ),
            fill(
                " SSL enabled (protocol=%s, cipher=%s, bits=%d)",
                &["TLSv1.3", "TLS_AES_256_GCM_SHA384", "256"],
            ),
        ]
        .concat(),
    );
    let EventKind::Connection(c) = e.kind else {
        panic!("{:?}", e.kind)
    };
    assert_eq!((c.database.as_deref(), c.application), (Some("shop"), None));
    // REL_16_STABLE on: GSS details with delegated credentials.
    let e = classify(
        &[
            fill(
                "replication connection authorized: user=%s application_name=%s",
                &["repl", "walreceiver"],
            ),
            fill(
                " GSS (authenticated=%s, encrypted=%s, delegated_credentials=%s, principal=%s)",
                &["yes", "yes", "no", "repl@EXAMPLE.COM"],
            ),
        ]
        .concat(),
    );
    let EventKind::Connection(c) = e.kind else {
        panic!("{:?}", e.kind)
    };
    assert!(c.replication);
    assert_eq!(c.application.as_deref(), Some("walreceiver"));
    // src/backend/libpq/auth.c, set_authn_id(), REL_14_STABLE to 18.4.
    let e = classify(&fill(
        "connection authenticated: identity=\"%s\" method=%s (%s:%d)",
        &["alice", "scram-sha-256", "/etc/postgresql/pg_hba.conf", "2"],
    ));
    assert!(matches!(
        &e.kind,
        EventKind::ConnectionAuthenticated { identity: Some(i), method: Some(m) }
            if i == "alice" && m == "scram-sha-256"
    ));
    // 18.4, ClientAuthentication(): methods that set no identity (trust).
    let e = classify(&fill(
        "connection authenticated: user=\"%s\" method=%s (%s:%d)",
        &["postgres", "trust", "/etc/postgresql/pg_hba.conf", "1"],
    ));
    assert!(matches!(
        &e.kind,
        EventKind::ConnectionAuthenticated { identity: Some(i), method: Some(m) }
            if i == "postgres" && m == "trust"
    ));
    // 18.4, src/backend/tcop/postgres.c, PostgresMain(): log_connections =
    // setup_durations.
    let e = classify(&fill(
        "connection ready: setup total=%.3f ms, fork=%.3f ms, authentication=%.3f ms",
        &["9.743", "2.870", "1.150"],
    ));
    let EventKind::ConnectionReady(d) = &e.kind else {
        panic!("{:?}", e.kind)
    };
    assert_eq!(
        (d.total_ms, d.fork_ms, d.authentication_ms),
        (Some(9.743), Some(2.87), Some(1.15))
    );
    assert_eq!(e.kind.key(), "connection_ready");
    // src/backend/postmaster/postmaster.c (12 to 17) and
    // src/backend/tcop/backend_startup.c (18), BackendInitialize().
    let e = classify(&fill(
        "connection received: host=%s port=%s",
        &["10.0.0.7", "51234"],
    ));
    assert!(matches!(&e.kind, EventKind::ConnectionReceived { host: Some(h) } if h == "10.0.0.7"));
    // src/backend/tcop/postgres.c, log_disconnections(), 12 to 18.
    let e = classify(&fill(
        "disconnection: session time: %d:%02d:%02d.%03d user=%s database=%s host=%s%s%s",
        &[
            "1", "02", "03", "450", "alice", "app", "10.0.0.7", " port=", "51234",
        ],
    ));
    assert!(matches!(
        e.kind,
        EventKind::Disconnection { session_ms: Some(ms) } if ms == 3_723_450.0
    ));
}

#[test]
fn startup_of_a_standby_before_and_after_14() {
    // src/backend/postmaster/postmaster.c, REL_13_STABLE and older: "read only".
    // A hot standby's start has its own kind (a primary's is `Startup`).
    let standby = EventKind::Server(ServerEvent::StandbyReady);
    let e = classify("database system is ready to accept read only connections");
    assert_eq!(e.kind, standby);
    // REL_14_STABLE on: "read-only".
    let e = classify("database system is ready to accept read-only connections");
    assert_eq!(e.kind, standby);
}

#[test]
fn temp_files_lock_waits_and_replication_commands_of_12_to_18() {
    // src/backend/storage/file/fd.c, ReportTemporaryFileUsage() (18) /
    // FileClose() (12 to 17).
    let e = classify(&fill(
        "temporary file: path \"%s\", size %lu",
        &["base/pgsql_tmp/pgsql_tmp4242.0", "14000128"],
    ));
    assert!(matches!(
        &e.kind,
        EventKind::TempFile { path, size: 14000128 } if path == "base/pgsql_tmp/pgsql_tmp4242.0"
    ));
    // src/backend/storage/lmgr/proc.c, ProcSleep(), 12 to 18.
    let e = classify(&fill(
        "process %d still waiting for %s on %s after %ld.%03d ms",
        &["4242", "ShareLock", "transaction 7301", "1000", "118"],
    ));
    let EventKind::LockWait(w) = &e.kind else {
        panic!("{:?}", e.kind)
    };
    assert_eq!((w.waiting_pid, w.wait_ms), (Some(4242), Some(1000.118)));
    assert_eq!(w.object, "transaction 7301");
    let e = classify(&fill(
        "process %d acquired %s on %s after %ld.%03d ms",
        &["4242", "ShareLock", "transaction 7301", "2502", "007"],
    ));
    assert!(matches!(&e.kind, EventKind::LockAcquired(w) if w.wait_ms == Some(2502.007)));
    // src/backend/replication/walsender.c, exec_replication_command(), 12 to 18.
    let e = classify(&fill(
        "received replication command: %s",
        &["START_REPLICATION SLOT \"s1\" LOGICAL 0/0"],
    ));
    assert!(
        matches!(&e.kind, EventKind::ReplicationCommand { command } if command.starts_with("START_REPLICATION"))
    );
}

/// A plan tree in EXPLAIN's text form (src/backend/commands/explain.c,
/// ExplainNode()), plausible values.
const TEXT_TREE: &str = "Index Scan using accounts_pkey on accounts  (cost=0.29..8.31 rows=1 width=97) (actual time=0.011..0.012 rows=1 loops=1)\n  Index Cond: (aid = $1)";

#[test]
fn query_parameters_of_16_plans_are_the_plans_parameters() {
    // contrib/auto_explain/auto_explain.c, explain_ExecutorEnd(), REL_16_STABLE
    // to 18.4: ExplainQueryText(), then ExplainQueryParameters() (explain.c),
    // which writes the parameters as a `Query Parameters` property: a
    // `Query Parameters: %s` line in text (ExplainPropertyText), a key in JSON.
    let sql = "SELECT abalance FROM pgbench_accounts\nWHERE aid = $1 AND bid = $2";
    let text = format!("Query Text: {sql}\nQuery Parameters: $1 = '42', $2 = 'it''s'\n{TEXT_TREE}");
    let p = plan(&fill("duration: %.3f ms  plan:\n%s", &["0.051", &text]));
    assert_eq!(p.format, PlanFormat::Text);
    assert_eq!(p.query_text.as_deref(), Some(sql));
    assert_eq!(
        p.params,
        vec![Some("42".to_string()), Some("it's".to_string())]
    );
    assert!(p.plan.starts_with("Index Scan using accounts_pkey"));
    // Before 16 there is no such line, and the text is the same.
    let text = format!("Query Text: {sql}\n{TEXT_TREE}");
    let before = plan(&fill("duration: %.3f ms  plan:\n%s", &["0.051", &text]));
    assert_eq!(before.query_text, p.query_text);
    assert!(before.params.is_empty());
    // A NULL parameter, and the JSON form.
    let json = serde_json::json!({
        "Query Text": sql,
        "Query Parameters": "$1 = '42', $2 = NULL",
        "Plan": {"Node Type": "Result"},
        "Query Identifier": -2287342025245040337i64,
    });
    let body = serde_json::to_string_pretty(&json).unwrap();
    let p = plan(&fill("duration: %.3f ms  plan:\n%s", &["0.051", &body]));
    assert_eq!(p.format, PlanFormat::Json);
    assert_eq!(p.query_text.as_deref(), Some(sql));
    assert_eq!(p.params, vec![Some("42".to_string()), None]);
    assert_eq!(p.query_id, Some(-2287342025245040337));
}

#[test]
fn query_identifier_follows_the_tree_of_16_text_plans() {
    // src/backend/commands/explain.c, ExplainPrintPlan(), REL_16_STABLE to
    // 18.4: with log_verbose and compute_query_id, a `Query Identifier`
    // property after the tree (in 14 and 15 only EXPLAIN wrote it).
    let text = format!(
        "Query Text: SELECT 1\n{TEXT_TREE}\n{}",
        fill("Query Identifier: %lld", &["-2287342025245040337"])
    );
    let p = plan(&fill("duration: %.3f ms  plan:\n%s", &["0.051", &text]));
    assert_eq!(p.query_text.as_deref(), Some("SELECT 1"));
    assert_eq!(p.query_id, Some(-2287342025245040337));
}
