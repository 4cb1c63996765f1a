//! What is wrong with a plan, node by node.
//!
//! | kind | flagged when |
//! |---|---|
//! | `misestimate` | actual and estimated rows differ 10x or more either way, on a node that returned or expected 100+ rows |
//! | `disk_spill` | a sort on disk (external sort/merge), hash batches > 1, a HashAggregate disk usage, or temp blocks written |
//! | `seq_scan_filter` | a Seq Scan whose filter removed 90%+ of the 10,000+ rows it read |
//! | `many_loops` | a node below the root executed 1,000+ times |
//! | `slow_node` | the node with the largest exclusive time, when it is over half the plan's time |

use super::PlanNode;
use serde::Serialize;
use std::collections::BTreeMap;

pub const MISESTIMATE_FACTOR: f64 = 10.0;
const MISESTIMATE_MIN_ROWS: f64 = 100.0;
pub const SEQ_SCAN_REMOVED_SHARE: f64 = 0.9;
const SEQ_SCAN_MIN_ROWS: f64 = 10_000.0;
pub const MANY_LOOPS: f64 = 1000.0;
pub const SLOW_NODE_SHARE: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Insight {
    /// `misestimate`, `disk_spill`, `seq_scan_filter`, `many_loops` or `slow_node`.
    pub kind: &'static str,
    /// The node's pre-order id in the plan tree.
    pub node: usize,
    /// The node, as EXPLAIN names it (`Seq Scan on big`).
    pub node_label: String,
    pub message: String,
    /// The figures behind the message.
    pub numbers: BTreeMap<&'static str, f64>,
}

pub fn insights(root: &PlanNode) -> Vec<Insight> {
    let mut out = Vec::new();
    let plan_ms = root.total_ms();
    for n in root.walk() {
        let mut push = |kind, message: String, numbers: &[(&'static str, f64)]| {
            out.push(Insight {
                kind,
                node: n.id,
                node_label: n.label(),
                message,
                numbers: numbers.iter().copied().collect(),
            })
        };
        if let (Some(est), Some(act)) = (n.estimated_rows, n.actual_rows) {
            let (hi, lo) = (est.max(act), est.min(act).max(1.0));
            let factor = hi / lo;
            if !n.never_executed && factor >= MISESTIMATE_FACTOR && hi >= MISESTIMATE_MIN_ROWS {
                let way = if act > est { "under" } else { "over" };
                push(
                    "misestimate",
                    format!(
                        "{}: the planner expected {est:.0} rows and got {act:.0} ({factor:.0}x {way}estimate); check statistics (ANALYZE, extended statistics) for its conditions",
                        n.label()
                    ),
                    &[("estimated_rows", est), ("actual_rows", act), ("factor", factor)],
                );
            }
        }
        let on_disk = n.sort_space_type.as_deref() == Some("Disk")
            || n.sort_method
                .as_deref()
                .is_some_and(|m| m.contains("external"));
        let batches = n.hash_batches.unwrap_or(1.0);
        let agg_disk = n.disk_usage_kb.unwrap_or(0.0);
        // Buffer counts include the children's: only this node's own writes count.
        let temp = (n.temp_written_blocks.unwrap_or(0.0)
            - n.children
                .iter()
                .filter_map(|c| c.temp_written_blocks)
                .sum::<f64>())
        .max(0.0);
        if on_disk || batches > 1.0 || agg_disk > 0.0 || temp > 0.0 {
            let what = if on_disk {
                format!("sorts on disk ({} kB)", n.sort_space_kb.unwrap_or(0.0))
            } else if batches > 1.0 {
                format!("hashes in {batches:.0} batches")
            } else if agg_disk > 0.0 {
                format!("spills {agg_disk:.0} kB of its hash table to disk")
            } else {
                format!("writes {temp:.0} temp blocks")
            };
            push(
                "disk_spill",
                format!(
                    "{} {what}; more work_mem for this query would keep it in memory",
                    n.label()
                ),
                &[
                    (
                        "sort_space_kb",
                        if on_disk {
                            n.sort_space_kb.unwrap_or(0.0)
                        } else {
                            0.0
                        },
                    ),
                    ("hash_batches", batches),
                    ("disk_usage_kb", agg_disk),
                    ("temp_written_blocks", temp),
                ],
            );
        }
        if n.node_type.ends_with("Seq Scan") {
            if let (Some(removed), Some(rows)) = (n.rows_removed_by_filter, n.actual_rows) {
                let loops = n.loops.unwrap_or(1.0);
                let read = (removed + rows) * loops;
                let share = if removed + rows > 0.0 {
                    removed / (removed + rows)
                } else {
                    0.0
                };
                if read >= SEQ_SCAN_MIN_ROWS && share >= SEQ_SCAN_REMOVED_SHARE {
                    push(
                        "seq_scan_filter",
                        format!(
                            "{} read {read:.0} rows to keep {:.0} ({:.1}% removed by its filter); an index on the filter's columns would read only those",
                            n.label(),
                            rows * loops,
                            share * 100.0
                        ),
                        &[("rows_read", read), ("rows_kept", rows * loops), ("removed_share", share)],
                    );
                }
            }
        }
        if let Some(loops) = n.loops.filter(|&l| l >= MANY_LOOPS && n.id > 0) {
            push(
                "many_loops",
                format!("{} ran {loops:.0} times (once per outer row)", n.label()),
                &[("loops", loops)],
            );
        }
    }
    // The one node where most of the time went.
    if let Some(total) = plan_ms.filter(|&t| t > 0.0) {
        if let Some(n) = root
            .walk()
            .into_iter()
            .filter(|n| n.exclusive_ms.is_some())
            .max_by(|a, b| {
                a.exclusive_ms
                    .unwrap_or(0.0)
                    .total_cmp(&b.exclusive_ms.unwrap_or(0.0))
            })
        {
            let ms = n.exclusive_ms.unwrap_or(0.0);
            let share = ms / total;
            // In a one-node plan that node is trivially all of the time.
            if share > SLOW_NODE_SHARE && !root.children.is_empty() {
                out.push(Insight {
                    kind: "slow_node",
                    node: n.id,
                    node_label: n.label(),
                    message: format!(
                        "{} took {ms:.1} ms of the plan's {total:.1} ms ({:.0}%)",
                        n.label(),
                        share * 100.0
                    ),
                    numbers: [("exclusive_ms", ms), ("plan_ms", total), ("share", share)]
                        .into_iter()
                        .collect(),
                });
            }
        }
    }
    out
}
