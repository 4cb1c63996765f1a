//! The committed incident logs agree with the times their generator
//! recorded (`sample-logs/incidents/incidents.json`): each incident's
//! window holds the records it caused, counted by `pglog analyze
//! --begin/--end` over the window, and the whole log holds no more of them
//! than the window; the steady run holds none.

use super::incidents::recorded;
use super::*;

fn incident(kind: &str) -> Value {
    recorded()
        .into_iter()
        .find(|i| i["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} incident recorded"))
}

/// The report of the incident's window, with `extra` options.
fn window(i: &Value, extra: &[&str]) -> Value {
    let (start, end) = (i["start"].as_str().unwrap(), i["end"].as_str().unwrap());
    let mut args = vec!["--begin", start, "--end", end];
    args.extend_from_slice(extra);
    analyze_path(&sample("incidents/postgresql.csv.zst"), &args)
}

fn whole(extra: &[&str]) -> Value {
    analyze_path(&sample("incidents/postgresql.csv.zst"), extra)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn sqlstate_count(doc: &Value, code: &str) -> u64 {
    doc["errors"]["by_sqlstate"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sqlstate"] == code)
        .map_or(0, |s| u(&s["count"]))
}

#[test]
fn four_kinds_are_recorded_in_order_apart() {
    let kinds: Vec<Value> = recorded().iter().map(|i| i["kind"].clone()).collect();
    assert_eq!(kinds, ["lock", "errors", "storm", "spill"]);
    let times: Vec<(String, String)> = recorded()
        .iter()
        .map(|i| {
            (
                i["start"].as_str().unwrap().into(),
                i["end"].as_str().unwrap().into(),
            )
        })
        .collect();
    for w in times.windows(2) {
        assert!(w[0].0 < w[0].1 && w[0].1 < w[1].0, "{w:?}");
    }
}

#[test]
fn the_lock_window_holds_the_waits_behind_the_lock() {
    let i = incident("lock");
    let table = i["cause"]["table"].as_str().unwrap();
    let w = window(&i, &[]);
    let locks = &w["locks"];
    // The four pgbench clients and the reconnecting reader queue behind it.
    assert!(u(&locks["waits"]) >= 4, "{locks}");
    assert!(locks["by_query"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["normalized"].as_str().unwrap().contains(table)));
    // Every wait on a relation lock is behind the lock; the day's other
    // waits are pgbench's own row-lock waits on pgbench_branches while the
    // storm and the spill slow the server down.
    let day = &whole(&[])["locks"]["by_object"]["relation"]["waits"];
    assert_eq!(u(day), u(&locks["waits"]), "{locks}");
}

#[test]
fn the_error_window_holds_the_applications_sqlstate() {
    let i = incident("errors");
    let app = i["cause"]["application"].as_str().unwrap();
    let code = i["cause"]["sqlstate"].as_str().unwrap();
    let w = window(&i, &["--application", app]);
    // Ten a second for a minute, less the time psql takes.
    let n = sqlstate_count(&w, code);
    assert!(n >= 300, "{n} {code} from {app}");
    assert_eq!(sqlstate_count(&whole(&[]), code), n);
}

#[test]
fn the_storm_window_holds_the_hosts_connections_and_failed_logins() {
    let i = incident("storm");
    let host = i["cause"]["host"].as_str().unwrap();
    let w = window(&i, &[]);
    let conns = u(&w["sessions"]["by_host"][host]);
    let failed = u(&w["auth_failures"]["by_host"][host]);
    // 20 a second for 45 s, and a wrong password twice a second.
    assert!(conns >= 20, "{conns} connections from {host}");
    assert!(failed >= 20, "{failed} failed logins from {host}");
    let all = whole(&[]);
    assert_eq!(u(&all["sessions"]["by_host"][host]), conns);
    assert_eq!(u(&all["auth_failures"]["by_host"][host]), failed);
}

#[test]
fn the_spill_window_holds_the_sorts_temp_files() {
    let i = incident("spill");
    let app = i["cause"]["application"].as_str().unwrap();
    let w = window(&i, &["--application", app]);
    let temp = &w["temp_files"];
    assert!(u(&temp["files"]) >= 5, "{temp}");
    let top = temp["by_query"][0]["normalized"].as_str().unwrap();
    assert!(top.contains("ORDER BY abalance"), "{top}");
    // The rest of the log's temp files are the setup's index build
    // (`pgbench -i`, application `setup`).
    assert_eq!(
        u(&whole(&["--application", app])["temp_files"]["files"]),
        u(&temp["files"])
    );
}

#[test]
fn the_steady_run_holds_none_of_them() {
    // The setup (`pgbench -i`, application `setup`) spills building its
    // primary key: the load is what must hold none.
    let s = analyze_path(
        &sample("incidents-steady/postgresql.csv.zst"),
        &["--exclude-application", "setup"],
    );
    let x = &s;
    assert!(!x["queries"].as_array().unwrap().is_empty());
    assert_eq!(u(&x["locks"]["waits"]), 0);
    assert_eq!(sqlstate_count(&s, "23505"), 0);
    assert_eq!(u(&x["sessions"]["by_host"]["127.0.0.3"]), 0);
    assert_eq!(u(&x["auth_failures"]["failures"]), 0);
    assert_eq!(u(&x["temp_files"]["files"]), 0);
}
