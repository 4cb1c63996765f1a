//! Application errors by SQLSTATE class and kind, and the constraints they
//! name, on the real server's error workload (`sample-logs/errors/`,
//! `generate-errors.sh`), whose csvlog copy carries every code.

use super::*;
use std::collections::BTreeMap;

fn class_counts(doc: &Value) -> BTreeMap<String, u64> {
    doc["errors"]["by_error_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = match c["kind"].as_str() {
                Some(k) => format!("{}/{k}", c["class"].as_str().unwrap()),
                None => c["class"].as_str().unwrap().to_string(),
            };
            (key, c["count"].as_u64().unwrap())
        })
        .collect()
}

/// kind, constraint, relation, column, count
type Violation = (String, Option<String>, Option<String>, Option<String>, u64);

fn violations(doc: &Value) -> Vec<Violation> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    doc["errors"]["constraint_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                s(&v["kind"]).unwrap(),
                s(&v["constraint"]),
                s(&v["relation"]),
                s(&v["column"]),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn errors_are_counted_by_class_and_kind() {
    let doc = analyze_path(&sample("errors/postgresql.csv"), &[]);
    let classes = class_counts(&doc);
    assert_eq!(
        classes.values().sum::<u64>(),
        error_records(&doc),
        "{classes:?}"
    );
    for kind in [
        "unique",
        "foreign_key",
        "check",
        "not_null",
        "exclusion",
        "partition_routing",
        "row_level_security",
        "view_check_option",
    ] {
        let key = format!("integrity_constraint_violation/{kind}");
        assert!(
            classes.get(&key).is_some_and(|n| *n > 0),
            "{key}: {classes:?}"
        );
    }
    for key in [
        "syntax_error_or_access_rule_violation/syntax",
        "syntax_error_or_access_rule_violation/undefined_object",
        "syntax_error_or_access_rule_violation/duplicate_object",
        "syntax_error_or_access_rule_violation/privilege",
        "syntax_error_or_access_rule_violation/wrong_object_type",
        "data_exception/division_by_zero",
        "data_exception/out_of_range",
        "data_exception/sql_json",
        "invalid_transaction_state/read_only",
        "transaction_rollback/deadlock",
        "transaction_rollback/serialization_failure",
        "insufficient_resources/too_many_connections",
        "insufficient_resources/configuration_limit_exceeded",
        "object_not_in_prerequisite_state/lock_not_available",
        "operator_intervention/query_canceled",
        "feature_not_supported",
        "program_limit_exceeded",
        "invalid_authorization_specification/invalid_password",
        "invalid_catalog_name",
    ] {
        assert!(
            classes.get(key).is_some_and(|n| *n > 0),
            "{key}: {classes:?}"
        );
    }
    // Class by class, the codes' counts: the kinds of 22 add up to class
    // 22; 23 with row-level security (42501) and view check options (44).
    let by_code = &doc["errors"]["by_class"];
    let class_total = |name: &str| -> u64 {
        classes
            .iter()
            .filter(|(k, _)| k.split('/').next() == Some(name))
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(
        class_total("data_exception"),
        by_code["22"].as_u64().unwrap()
    );
    assert_eq!(
        class_total("integrity_constraint_violation"),
        by_code["23"].as_u64().unwrap()
            + by_code["44"].as_u64().unwrap()
            + classes["integrity_constraint_violation/row_level_security"]
    );
}

#[test]
fn constraint_violations_name_their_constraint_relation_and_column() {
    let doc = analyze_path(&sample("errors/postgresql.csv"), &[]);
    let v = violations(&doc);
    let has =
        |kind: &str, constraint: Option<&str>, relation: Option<&str>, column: Option<&str>| {
            v.iter().any(|(k, c, r, col, _)| {
                k == kind
                    && c.as_deref() == constraint
                    && r.as_deref() == relation
                    && col.as_deref() == column
            })
        };
    assert!(has("unique", Some("parent_pkey"), None, None), "{v:?}");
    assert!(
        has(
            "foreign_key",
            Some("child_parent_id_fkey"),
            Some("child"),
            None
        ),
        "{v:?}"
    );
    assert!(
        has("check", Some("parent_n_check"), Some("parent"), None),
        "{v:?}"
    );
    assert!(
        has("not_null", None, Some("child"), Some("parent_id")),
        "{v:?}"
    );
    assert!(
        has("exclusion", Some("booking_during_excl"), None, None),
        "{v:?}"
    );
    assert!(
        has("partition_routing", None, Some("measure"), None),
        "{v:?}"
    );
    assert!(
        has("row_level_security", None, Some("secret"), None),
        "{v:?}"
    );
    assert!(
        has("view_check_option", None, Some("parent_checked"), None),
        "{v:?}"
    );
    // Both forms of the foreign key violation name the referencing table.
    let fk: u64 = v
        .iter()
        .filter(|(k, c, ..)| k == "foreign_key" && c.as_deref() == Some("child_parent_id_fkey"))
        .map(|(.., n)| n)
        .sum();
    assert_eq!(fk, 3, "{v:?}");
    for m in doc["errors"]["messages"].as_array().unwrap() {
        if m["severity"] != "WARNING" {
            assert!(m["error_class"].is_string(), "{m}");
        }
    }
}

#[test]
fn stderr_classes_equal_csvlog_classes_but_for_the_unknown_codes() {
    let csv = class_counts(&analyze_path(&sample("errors/postgresql.csv"), &[]));
    let log_doc = analyze_path(&sample("errors/postgresql.log"), &[]);
    let log = class_counts(&log_doc);
    let unknown = log.get("unknown").copied().unwrap_or(0);
    assert_eq!(unknown, n(&log_doc, "/summary/sqlstates/unknown"));
    let mut missing = 0;
    for (k, n) in &csv {
        let got = log.get(k).copied().unwrap_or(0);
        assert!(got <= *n, "{k}: {got} from stderr, {n} from csvlog");
        missing += n - got;
    }
    assert_eq!(
        missing, unknown,
        "only the codes inference leaves unknown differ"
    );
}

#[test]
fn error_classes_are_in_every_report_format() {
    let p = sample("errors/postgresql.csv");
    let p = p.to_str().unwrap();
    let md = String::from_utf8(pglog(&["analyze", "--format", "md", p]).stdout).unwrap();
    assert!(md.contains("## Error classes"), "{md}");
    let doc = analyze_path(&sample("errors/postgresql.csv"), &[]);
    let top = &doc["errors"]["by_error_class"][0];
    let row = format!(
        "| {} | {} / {} |",
        top["count"],
        top["class"].as_str().unwrap(),
        top["kind"].as_str().unwrap()
    );
    assert!(md.contains(&row), "{row} missing:\n{md}");
    let text = String::from_utf8(pglog(&["analyze", p]).stdout).unwrap();
    assert!(
        text.contains("error classes: syntax_error_or_access_rule_violation / "),
        "{text}"
    );
    let html = String::from_utf8(pglog(&["analyze", "--format", "html", p]).stdout).unwrap();
    assert!(html.contains("<th>constraint violated</th>"));
    assert!(html.contains("<td>parent_pkey</td><td>unique</td>"));
}
