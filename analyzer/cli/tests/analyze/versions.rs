//! What the version forms of the classifier add to the report: per-table
//! buffer, WAL and freezing totals of the vacuum and analyze reports, and
//! PostgreSQL 18's connection setup times.

use super::*;

#[test]
fn vacuum_and_analyze_figures_add_up_per_table() {
    // The real 15 server's sample: app.public.big has one vacuum report
    // (3357 hits, 4 misses, 194 dirtied; 1668 WAL records, 2 full page
    // images, 111791 bytes; 0 index scans) and one analyze report (1888 hits,
    // 1 miss, 7 dirtied).
    for f in [
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "primary/postgresql.log",
    ] {
        let doc = analyze_path(&sample(f), &[]);
        let big = doc["autovacuum"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == "app.public.big")
            .unwrap_or_else(|| panic!("{f}: no app.public.big"));
        let u = &big["usage"];
        assert_eq!(
            (&u["buffer_hits"], &u["buffer_reads"], &u["buffer_dirtied"]),
            (
                &Value::from(3357 + 1888),
                &Value::from(5),
                &Value::from(201)
            ),
            "{f}"
        );
        assert_eq!(
            (&u["wal_records"], &u["wal_fpi"], &u["wal_bytes"]),
            (&Value::from(1668), &Value::from(2), &Value::from(111791)),
            "{f}"
        );
        assert_eq!(u["index_scans"], 0, "{f}");
    }
}

#[test]
fn connection_setup_times_of_18_are_summed() {
    // src/backend/tcop/postgres.c, PostgresMain(), PostgreSQL 18.4:
    // "connection ready: setup total=%.3f ms, fork=%.3f ms, authentication=%.3f ms",
    // filled with plausible values, as the server writes it to stderr.
    let dir = tmp();
    let log = [
        "2026-12-01 10:00:00.100 UTC [41] LOG:  connection ready: setup total=9.743 ms, fork=2.870 ms, authentication=1.150 ms",
        "2026-12-01 10:00:01.200 UTC [42] LOG:  connection ready: setup total=1.032 ms, fork=0.146 ms, authentication=0.083 ms",
    ]
    .map(|l| format!("{l}\n"))
    .concat();
    let path = write(dir.path(), "postgresql.log", log.as_bytes());
    let doc = analyze_path(&path, &[]);
    assert_eq!(doc["summary"]["events"]["connection_ready"], 2);
    let setup = &doc["sessions"]["setup_ms"];
    assert_eq!(setup["count"], 2);
    assert_eq!(setup["sum"], 10.775);
    assert_eq!(setup["max"], 9.743);
}

#[test]
fn a_16_plan_with_query_parameters_belongs_to_its_query() {
    // src/backend/tcop/postgres.c, exec_execute_message(), 12 to 18:
    // "duration: %s ms  execute %s%s%s%s: %s" with its DETAIL "Parameters: %s"
    // (errdetail_params); contrib/auto_explain/auto_explain.c, REL_16_STABLE
    // to 18.4: "duration: %.3f ms  plan:\n%s" with `Query Text: %s` and
    // `Query Parameters: %s` lines before the tree; the tree's two lines are
    // in EXPLAIN's text form (src/backend/commands/explain.c), plausible values.
    let sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
    let log = [
        "2026-12-01 10:00:00.100 UTC [41] LOG:  duration: 0.051 ms  plan:".to_string(),
        format!("\tQuery Text: {sql}"),
        "\tQuery Parameters: $1 = '42'".to_string(),
        "\tIndex Scan using pgbench_accounts_pkey on pgbench_accounts  (cost=0.29..8.31 rows=1 width=4) (actual time=0.011..0.012 rows=1 loops=1)".to_string(),
        "\t  Index Cond: (aid = $1)".to_string(),
        format!("2026-12-01 10:00:00.101 UTC [41] LOG:  duration: 0.090 ms  execute <unnamed>: {sql}"),
        "2026-12-01 10:00:00.101 UTC [41] DETAIL:  Parameters: $1 = '42'".to_string(),
    ]
    .map(|l| format!("{l}\n"))
    .concat();
    let dir = tmp();
    let doc = analyze_path(&write(dir.path(), "postgresql.log", log.as_bytes()), &[]);
    let queries = doc["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 1, "one query: {queries:?}");
    let q = &queries[0];
    assert_eq!(q["normalized"], sql);
    let plan = &q["plans"][0];
    assert_eq!(plan["params"], serde_json::json!(["42"]));
    let analysed = &doc["plans"][0];
    assert_eq!(analysed["fingerprint"], q["fingerprint"]);
    assert_eq!(analysed["params"], serde_json::json!(["42"]));
    assert_eq!(analysed["tree"]["node_type"], "Index Scan");
}
