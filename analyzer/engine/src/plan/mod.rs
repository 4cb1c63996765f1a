//! auto_explain plans, text or JSON, read into one tree, and the problems a
//! DBA looks for in them ("insights"), in the spirit of PEV2 and
//! explain.depesz.com.

mod insights;
mod json;
mod text;

pub use insights::{insights, Insight};

use serde::Serialize;

/// One plan node. Times are per loop, as EXPLAIN prints them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PlanNode {
    /// Pre-order position in the plan, 0 for the root: what insights name.
    pub id: usize,
    pub node_type: String,
    pub relation: Option<String>,
    pub alias: Option<String>,
    pub index: Option<String>,
    /// Rows the planner expected per loop.
    pub estimated_rows: Option<f64>,
    /// Rows returned per loop.
    pub actual_rows: Option<f64>,
    pub loops: Option<f64>,
    /// Time to the last row, per loop (ms).
    pub actual_total_ms: Option<f64>,
    /// Wall time of the node and its children (ms); see [`PlanNode::total_ms`].
    pub wall_ms: Option<f64>,
    /// Time in this node alone (ms): its wall time minus its children's.
    pub exclusive_ms: Option<f64>,
    pub never_executed: bool,
    pub filter: Option<String>,
    pub rows_removed_by_filter: Option<f64>,
    pub rows_removed_by_join_filter: Option<f64>,
    pub sort_method: Option<String>,
    /// `Disk` or `Memory`.
    pub sort_space_type: Option<String>,
    pub sort_space_kb: Option<f64>,
    pub hash_batches: Option<f64>,
    pub original_hash_batches: Option<f64>,
    /// HashAggregate spill (`Disk Usage`), kB.
    pub disk_usage_kb: Option<f64>,
    pub shared_hit_blocks: Option<f64>,
    pub shared_read_blocks: Option<f64>,
    pub temp_read_blocks: Option<f64>,
    pub temp_written_blocks: Option<f64>,
    pub workers_planned: Option<f64>,
    pub workers_launched: Option<f64>,
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    /// `Seq Scan on big b`, `Index Scan using pk on t`.
    pub fn label(&self) -> String {
        let mut s = self.node_type.clone();
        if let Some(i) = &self.index {
            s.push_str(" using ");
            s.push_str(i);
        }
        if let Some(r) = &self.relation {
            s.push_str(" on ");
            s.push_str(r);
            if let Some(a) = self.alias.as_ref().filter(|a| *a != r) {
                s.push(' ');
                s.push_str(a);
            }
        }
        s
    }

    /// Wall time of the node (ms): per-loop time times loops, except below
    /// a Gather, where the loops are parallel workers running at once.
    pub fn total_ms(&self) -> Option<f64> {
        self.wall_ms
    }

    /// Every node, pre-order.
    pub fn walk(&self) -> Vec<&PlanNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// Numbers nodes in pre-order and fills in wall and exclusive times.
    fn finish(&mut self, next_id: &mut usize, parallel: bool) {
        self.id = *next_id;
        *next_id += 1;
        let below = parallel || self.node_type.starts_with("Gather");
        for c in &mut self.children {
            c.finish(next_id, below);
        }
        let loops = if parallel {
            1.0
        } else {
            self.loops.unwrap_or(1.0)
        };
        self.wall_ms = self.actual_total_ms.map(|t| t * loops);
        if let Some(total) = self.wall_ms {
            let children: f64 = self.children.iter().filter_map(PlanNode::total_ms).sum();
            self.exclusive_ms = Some((total - children).max(0.0));
        }
    }
}

/// A parsed plan: its tree and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ParsedPlan {
    pub root: PlanNode,
    pub insights: Vec<Insight>,
}

/// Parses an auto_explain plan (`format` is `json` or `text`); `None` when
/// no node could be read.
pub fn parse_plan(format: &str, plan: &str) -> Option<ParsedPlan> {
    let mut root = if format == "json" {
        json::parse(plan)?
    } else {
        text::parse(plan)?
    };
    root.finish(&mut 0, false);
    let insights = insights(&root);
    Some(ParsedPlan { root, insights })
}
