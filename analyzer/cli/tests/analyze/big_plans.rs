//! Plans of any size: the real server's parallel plans of 780 KB (JSON) and
//! 170 KB (text) from `sample-logs/generate-big-plan.sh` are read into whole
//! trees, and many of them stay within the memory bound.

use super::bounded::pglog_peak_with;
use super::*;
use std::io::Read;

const LOGS: [&str; 2] = ["big-plan/postgresql.log.gz", "big-plan/postgresql.csv.gz"];

/// Nodes of a plan tree, pre-order.
fn nodes(tree: &Value) -> Vec<&Value> {
    let mut out = vec![tree];
    for c in tree["children"].as_array().into_iter().flatten() {
        out.extend(nodes(c));
    }
    out
}

fn count_type(tree: &Value, node_type: &str) -> usize {
    nodes(tree)
        .iter()
        .filter(|n| n["node_type"] == node_type)
        .count()
}

fn big_plans(doc: &Value) -> Vec<&Value> {
    doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["logged_chars"].as_u64().unwrap() > 100_000)
        .collect()
}

#[test]
fn parallel_plans_of_hundreds_of_kb_are_read_into_whole_trees() {
    for log in LOGS {
        let doc = analyze_path(&sample(log), &[]);
        let big = big_plans(&doc);
        assert_eq!(big.len(), 2, "{log}: the JSON and the text plan");
        let mut shapes = Vec::new();
        for p in &big {
            let format = p["format"].as_str().unwrap();
            assert!(p["cut"].is_null(), "{log} {format}: {}", p["cut"]);
            let tree = &p["tree"];
            assert!(tree.is_object(), "{log} {format}: no tree");
            // Gather Merge over a Parallel Append of the 300 partitions, each
            // scanned by a Parallel Seq Scan.
            let all = nodes(tree);
            assert!(all.len() > 300, "{log} {format}: {} nodes", all.len());
            assert_eq!(count_type(tree, "Parallel Seq Scan"), 300, "{log} {format}");
            assert_eq!(count_type(tree, "Parallel Append"), 1, "{log} {format}");
            let gather = all
                .iter()
                .find(|n| n["node_type"] == "Gather Merge")
                .unwrap_or_else(|| panic!("{log} {format}: no Gather Merge"));
            assert_eq!(gather["workers_launched"], 2.0, "{log} {format}");
            // The insights name nodes of this tree.
            let insights = p["insights"].as_array().unwrap();
            assert!(!insights.is_empty(), "{log} {format}: no insights");
            for i in insights {
                let id = i["node"].as_u64().unwrap() as usize;
                assert!(id < all.len(), "{log} {format}: {i}");
            }
            shapes.push((
                all.len(),
                all.iter()
                    .map(|n| n["node_type"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
            ));
        }
        // The same query's plan reads into the same tree from both formats.
        assert_eq!(shapes[0], shapes[1], "{log}");
        // Its query's own list keeps a head of the JSON plan, and says so.
        let q = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| {
                q["normalized"]
                    .as_str()
                    .unwrap()
                    .contains("FROM measurements WHERE")
            })
            .expect("the partitioned query");
        let json = q["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["format"] == "json")
            .expect("its JSON plan");
        assert!(json["logged_chars"].as_u64().unwrap() > 700_000);
        let cut = json["cut"].as_str().expect("a cut note");
        assert!(cut.contains("kept whole"), "{cut}");
        assert!(json["plan"].as_str().unwrap().chars().count() <= 64 * 1024 + 1);
    }
}

/// The JSON plan's record of the stderr sample, its lines as logged.
fn json_plan_record() -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(sample(LOGS[0])).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let start = text.find("plan:\n\t{").expect("a JSON plan");
    let start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let len = text[start..]
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| text[start + i..].starts_with("20"))
        .expect("a record after it");
    text[start..start + len].to_string()
}

#[test]
fn many_big_plans_keep_only_the_slowest_whole_within_the_memory_bound() {
    // 100 copies of the real 780 KB record, each with its own duration:
    // 78 MB of plans, of which the 50 slowest are kept.
    let record = json_plan_record();
    let (head, tail) = record.split_once("duration: ").unwrap();
    let (_, tail) = tail.split_once(" ms").unwrap();
    let dir = tmp();
    let path = dir.path().join("postgresql.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..100 {
        write!(f, "{head}duration: {}.000 ms{tail}", 1000 + i).unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let args = ["analyze", "--format", "json", "-q", path.to_str().unwrap()];
    let (out, peak) = pglog_peak_with(&args, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("100 plans of 780 KB: peak RSS {peak} MB");
    assert!(peak <= 256, "peaked at {peak} MB");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plans = doc["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 50);
    let durations: Vec<f64> = plans
        .iter()
        .map(|p| p["duration_ms"].as_f64().unwrap())
        .collect();
    let slowest: Vec<f64> = (50..100).rev().map(|i| (1000 + i) as f64).collect();
    assert_eq!(durations, slowest);
    // Whole texts up to the run's budget (32 MiB: 42 of them); the rest keep
    // a head and say why.
    let whole: Vec<_> = plans.iter().filter(|p| p["cut"].is_null()).collect();
    let chars = plans[0]["logged_chars"].as_u64().unwrap() as usize;
    assert_eq!(whole.len(), (32 << 20) / chars);
    for p in &whole {
        assert_eq!(count_type(&p["tree"], "Parallel Seq Scan"), 300);
    }
    for p in plans.iter().filter(|p| !p["cut"].is_null()) {
        let cut = p["cut"].as_str().unwrap();
        assert!(cut.contains("budget"), "{cut}");
    }
}
