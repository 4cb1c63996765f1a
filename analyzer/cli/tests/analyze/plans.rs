//! Plans from the sample workload (text and JSON, serial and parallel) read
//! into trees, and the problems the workload was built to show: a join
//! misestimated through correlated conditions, sorts and a hash spilling to disk, a
//! sequential scan that throws away nearly every row, a nested loop whose
//! inner scan runs 2,000 times.

use super::*;

fn plans(file: &str) -> Vec<Value> {
    analyze_path(&sample(file), &[])["plans"]
        .as_array()
        .unwrap()
        .clone()
}

fn insights<'a>(plans: &'a [Value], kind: &str) -> Vec<&'a Value> {
    plans
        .iter()
        .flat_map(|p| p["insights"].as_array().unwrap())
        .filter(|i| i["kind"] == kind)
        .collect()
}

/// The node with pre-order id `id` in a plan tree.
fn node(tree: &Value, id: u64) -> Option<&Value> {
    if tree["id"] == id {
        return Some(tree);
    }
    tree["children"]
        .as_array()?
        .iter()
        .find_map(|c| node(c, id))
}

#[test]
fn the_workload_problems_are_flagged() {
    for file in [
        "primary/postgresql.csv",
        "primary/postgresql.json",
        "primary/postgresql.log",
    ] {
        let plans = plans(file);
        assert!(plans.len() >= 8, "{file}");
        let mis = insights(&plans, "misestimate");
        let join = mis
            .iter()
            .find(|i| i["node_label"] == "Parallel Hash Join")
            .unwrap_or_else(|| panic!("{file}: the misestimated join: {mis:?}"));
        assert!(join["numbers"]["factor"].as_f64().unwrap() >= 10.0);
        assert!(
            join["numbers"]["actual_rows"].as_f64() > join["numbers"]["estimated_rows"].as_f64()
        );
        let spills = insights(&plans, "disk_spill");
        assert!(
            spills
                .iter()
                .any(|i| i["node_label"] == "Sort"
                    && i["numbers"]["sort_space_kb"].as_f64() > Some(0.0)),
            "{file}: a sort on disk: {spills:?}"
        );
        assert!(
            spills
                .iter()
                .any(|i| i["node_label"].as_str().unwrap().ends_with("Hash")
                    && i["numbers"]["hash_batches"].as_f64() > Some(1.0)),
            "{file}: a hash built in batches: {spills:?}"
        );
        let scans = insights(&plans, "seq_scan_filter");
        assert!(
            scans.iter().any(|i| i["node_label"]
                .as_str()
                .unwrap()
                .ends_with("Seq Scan on big")
                && i["numbers"]["removed_share"].as_f64() > Some(0.9)),
            "{file}: the big filtered scan: {scans:?}"
        );
        let loops = insights(&plans, "many_loops");
        assert!(
            loops.iter().any(|i| i["node_label"]
                .as_str()
                .unwrap()
                .starts_with("Index Only Scan using accounts_pkey")
                && i["numbers"]["loops"].as_f64() >= Some(1000.0)),
            "{file}: the nested loop's inner scan: {loops:?}"
        );
        // Every insight names a node of its own plan.
        for p in &plans {
            let tree = &p["tree"];
            assert!(tree.is_object(), "{file}: unread plan {p}");
            for i in p["insights"].as_array().unwrap() {
                let n = node(tree, i["node"].as_u64().unwrap()).expect("the node exists");
                assert!(i["node_label"]
                    .as_str()
                    .unwrap()
                    .starts_with(n["node_type"].as_str().unwrap()));
            }
        }
    }
}

#[test]
fn text_and_json_plans_read_into_the_same_shape() {
    // The parallel sort: Aggregate > Limit > Gather Merge > Sort > Parallel Seq Scan.
    let plans = plans("primary/postgresql.csv");
    let sort = plans
        .iter()
        .find(|p| {
            p["normalized"]
                .as_str()
                .is_some_and(|q| q.contains("ORDER BY md5"))
        })
        .expect("the md5 sort's plan");
    let mut types = Vec::new();
    let mut n = &sort["tree"];
    loop {
        types.push(n["node_type"].as_str().unwrap().to_string());
        match n["children"].as_array().and_then(|c| c.first()) {
            Some(c) => n = c,
            None => break,
        }
    }
    assert_eq!(
        types,
        [
            "Aggregate",
            "Limit",
            "Gather Merge",
            "Sort",
            "Parallel Seq Scan"
        ]
    );
    assert_eq!(n["relation"], "big");
    // The JSON plan of the join has the same vocabulary as text plans.
    let join = plans
        .iter()
        .find(|p| {
            p["format"] == "json" && p["normalized"].as_str().is_some_and(|q| q.contains("JOIN"))
        })
        .expect("the JSON join plan");
    let labels: Vec<&str> = join["insights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["node_label"].as_str().unwrap())
        .collect();
    // A parallel-aware node is named as the text format names it.
    assert!(
        labels.contains(&"Parallel Seq Scan on big b1"),
        "{labels:?}"
    );
    // Plans are the slowest first, and the replica's JSON plan is read too.
    let d: Vec<f64> = plans
        .iter()
        .map(|p| p["duration_ms"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] >= w[1]));
    let replica = super::plans::plans("replica/postgresql.json");
    assert!(replica
        .iter()
        .any(|p| p["format"] == "json" && p["tree"].is_object()));
}
