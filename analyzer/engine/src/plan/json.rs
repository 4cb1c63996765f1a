//! EXPLAIN's JSON format as auto_explain logs it: `{"Query Text": ..., "Plan": {...}}`.

use super::PlanNode;
use serde_json::Value;

pub fn parse(plan: &str) -> Option<PlanNode> {
    let doc: Value = serde_json::from_str(plan.trim()).ok()?;
    // auto_explain logs one object; EXPLAIN (FORMAT JSON) an array of one.
    let doc = match &doc {
        Value::Array(a) => a.first()?,
        d => d,
    };
    node(doc.get("Plan")?)
}

fn node(v: &Value) -> Option<PlanNode> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let f = |k: &str| v.get(k).and_then(Value::as_f64);
    let mut n = PlanNode {
        node_type: s("Node Type")?,
        relation: s("Relation Name").or_else(|| s("Function Name")),
        alias: s("Alias"),
        index: s("Index Name"),
        estimated_rows: f("Plan Rows"),
        actual_rows: f("Actual Rows"),
        loops: f("Actual Loops"),
        actual_total_ms: f("Actual Total Time"),
        filter: s("Filter"),
        rows_removed_by_filter: f("Rows Removed by Filter"),
        rows_removed_by_join_filter: f("Rows Removed by Join Filter"),
        sort_method: s("Sort Method"),
        sort_space_type: s("Sort Space Type"),
        sort_space_kb: f("Sort Space Used"),
        hash_batches: f("Hash Batches").or_else(|| f("HashAgg Batches")),
        original_hash_batches: f("Original Hash Batches"),
        disk_usage_kb: f("Disk Usage"),
        shared_hit_blocks: f("Shared Hit Blocks"),
        shared_read_blocks: f("Shared Read Blocks"),
        temp_read_blocks: f("Temp Read Blocks"),
        temp_written_blocks: f("Temp Written Blocks"),
        workers_planned: f("Workers Planned"),
        workers_launched: f("Workers Launched"),
        ..PlanNode::default()
    };
    // Join and aggregate strategies name the node as the text format does.
    if let Some(strategy) = s("Strategy").filter(|_| n.node_type == "Aggregate") {
        n.node_type = match strategy.as_str() {
            "Hashed" => "HashAggregate".into(),
            "Sorted" => "GroupAggregate".into(),
            "Mixed" => "MixedAggregate".into(),
            _ => n.node_type,
        };
    }
    if let Some(join) = s("Join Type").filter(|j| j != "Inner") {
        n.node_type = format!("{} {join} Join", n.node_type.trim_end_matches(" Join"));
    }
    // As the text format writes them: `Partial HashAggregate`, `Parallel Seq Scan`.
    if let Some(mode) = s("Partial Mode").filter(|m| m != "Simple") {
        n.node_type = format!("{mode} {}", n.node_type);
    }
    if v.get("Parallel Aware").and_then(Value::as_bool) == Some(true) {
        n.node_type = format!("Parallel {}", n.node_type);
    }
    n.never_executed = n.loops == Some(0.0);
    if let Some(Value::Array(children)) = v.get("Plans") {
        n.children = children.iter().filter_map(node).collect();
    }
    Some(n)
}
