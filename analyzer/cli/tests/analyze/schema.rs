//! `reports/report.schema.json` is the report's published JSON Schema: it
//! must be what `pglog schema` prints (regenerate it with
//! `pglog schema > reports/report.schema.json` after adding fields), and
//! every report must validate against it.

use super::*;

fn published() -> Value {
    let text = std::fs::read_to_string(repo().join("reports/report.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_published_schema_is_the_current_one() {
    let out = pglog(&["schema"]);
    assert!(out.status.success());
    let current: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        current == published(),
        "reports/report.schema.json is out of date: run `pglog schema > reports/report.schema.json`"
    );
}

/// Where `doc` breaks the published schema (empty when it validates).
pub(super) fn schema_errors(doc: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(&published()).expect("a valid JSON Schema");
    validator
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn reports_validate_against_the_schema() {
    let validator = jsonschema::validator_for(&published()).expect("a valid JSON Schema");
    let docs = [
        analyze_path(&sample("primary/postgresql.csv"), &[]),
        analyze_path(&sample("primary/postgresql.log"), &[]),
        analyze_path(&sample("replica/postgresql.json"), &[]),
        analyze_path(&sample("rds/postgresql.syslog"), &[]),
    ];
    for doc in &docs {
        let errors = schema_errors(doc);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    // And the schema is not vacuous: a wrong document fails.
    let mut wrong = docs[0].clone();
    wrong["queries"][0]["calls"] = Value::from("many");
    assert!(!validator.is_valid(&wrong));
    wrong = docs[0].clone();
    wrong["schema"] = Value::from("pglog.report/0");
    assert!(!validator.is_valid(&wrong));
}
