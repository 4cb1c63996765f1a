//! EXPLAIN's text format: node lines (`->  Seq Scan on t  (cost=...)`)
//! nested by the column of their arrow, each followed by its property lines.

use super::PlanNode;

pub fn parse(plan: &str) -> Option<PlanNode> {
    // (arrow column, node) from the root down to the node read last.
    let mut stack: Vec<(usize, PlanNode)> = Vec::new();
    for line in plan.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() {
            continue;
        }
        let node_text = match trimmed.strip_prefix("->") {
            Some(rest) => Some(rest.trim_start()),
            None if stack.is_empty() && is_node_line(trimmed) => Some(trimmed),
            None => None,
        };
        match node_text {
            Some(text) => {
                let node = parse_node_line(text);
                while stack.len() > 1 && stack.last().is_some_and(|(d, _)| *d >= indent) {
                    attach_last(&mut stack);
                }
                stack.push((indent, node));
            }
            None => {
                if let Some((_, node)) = stack.last_mut() {
                    apply_property(node, trimmed);
                }
            }
        }
    }
    while stack.len() > 1 {
        attach_last(&mut stack);
    }
    stack.pop().map(|(_, n)| n)
}

fn attach_last(stack: &mut Vec<(usize, PlanNode)>) {
    let (_, child) = stack.pop().expect("two or more");
    stack.last_mut().expect("a parent").1.children.push(child);
}

fn is_node_line(s: &str) -> bool {
    s.contains("  (cost=") || s.contains("  (actual ") || s.contains("  (never executed)")
}

fn parse_node_line(text: &str) -> PlanNode {
    let head_end = text.find("  (").unwrap_or(text.len());
    let head = &text[..head_end];
    let mut node = PlanNode::default();
    let (node_type, target) = match head.split_once(" using ") {
        Some((t, rest)) => {
            let mut words = rest.split_whitespace();
            node.index = words.next().map(str::to_string);
            (t, rest.split_once(" on ").map(|(_, r)| r))
        }
        None => match head.split_once(" on ") {
            Some((t, r)) => (t, Some(r)),
            None => (head, None),
        },
    };
    node.node_type = node_type.trim().to_string();
    if let Some(target) = target {
        let mut words = target.split_whitespace();
        node.relation = words.next().map(str::to_string);
        node.alias = words.next().map(str::to_string);
    }
    let rest = &text[head_end..];
    if let Some(cost) = section(rest, "(cost=") {
        node.estimated_rows = num_after(cost, "rows=");
    }
    if let Some(actual) = section(rest, "(actual ") {
        node.actual_total_ms = actual
            .strip_prefix("time=")
            .and_then(|t| t.split_once(".."))
            .and_then(|(_, end)| num_prefix(end));
        node.actual_rows = num_after(actual, "rows=");
        node.loops = num_after(actual, "loops=");
    }
    node.never_executed = rest.contains("(never executed)");
    node
}

/// The text inside the parentheses that start with `open`.
fn section<'a>(s: &'a str, open: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(')').map_or(s.len(), |e| start + e);
    Some(&s[start..end])
}

fn num_prefix(s: &str) -> Option<f64> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(s.len());
    s[..end].parse().ok()
}

fn num_after(s: &str, key: &str) -> Option<f64> {
    num_prefix(&s[s.find(key)? + key.len()..])
}

fn apply_property(node: &mut PlanNode, line: &str) {
    if let Some(v) = line.strip_prefix("Filter: ") {
        node.filter = Some(v.to_string());
    } else if let Some(v) = line.strip_prefix("Rows Removed by Filter: ") {
        node.rows_removed_by_filter = num_prefix(v);
    } else if let Some(v) = line.strip_prefix("Rows Removed by Join Filter: ") {
        node.rows_removed_by_join_filter = num_prefix(v);
    } else if let Some(v) = line.strip_prefix("Sort Method: ") {
        let (method, space) = v.split_once("  ").unwrap_or((v, ""));
        node.sort_method = Some(method.to_string());
        if let Some((kind, amount)) = space.split_once(": ") {
            node.sort_space_type = Some(kind.to_string());
            node.sort_space_kb = num_prefix(amount);
        }
    } else if line.starts_with("Buckets: ") || line.starts_with("Batches: ") {
        node.hash_batches = num_after(line, "Batches: ");
        node.original_hash_batches = line
            .split_once("Batches: ")
            .and_then(|(_, r)| r.split_once("(originally "))
            .and_then(|(_, o)| num_prefix(o));
        node.disk_usage_kb = num_after(line, "Disk Usage: ");
    } else if let Some(v) = line.strip_prefix("Buffers: ") {
        for group in v.split(", ") {
            let (kind, counts) = group.split_once(' ').unwrap_or((group, ""));
            let get = |k: &str| num_after(counts, k);
            match kind {
                "shared" => {
                    node.shared_hit_blocks = get("hit=");
                    node.shared_read_blocks = get("read=");
                }
                "temp" => {
                    node.temp_read_blocks = get("read=");
                    node.temp_written_blocks = get("written=");
                }
                _ => {}
            }
        }
    } else if let Some(v) = line.strip_prefix("Workers Planned: ") {
        node.workers_planned = num_prefix(v);
    } else if let Some(v) = line.strip_prefix("Workers Launched: ") {
        node.workers_launched = num_prefix(v);
    }
}
