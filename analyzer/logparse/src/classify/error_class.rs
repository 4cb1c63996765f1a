//! Application errors by SQLSTATE class (PostgreSQL's Appendix A names),
//! with a kind inside the classes applications meet most (constraint
//! violations, syntax and access rules, data exceptions, ...) and the
//! constraint, relation and column a message names.

use crate::message_format::FormatSet;
use crate::record::SqlState;
use serde::Serialize;
use std::sync::OnceLock;

/// An error's class and kind, e.g. `integrity_constraint_violation` /
/// `unique`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ErrorClass {
    /// The SQLSTATE class's name; `unknown` without a code.
    pub class: &'static str,
    pub kind: Option<&'static str>,
}

/// What a message names, when its format is one of [`DETAILS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ErrorDetails {
    pub constraint: Option<String>,
    pub relation: Option<String>,
    pub column: Option<String>,
}

/// The class names of PostgreSQL 15's `src/backend/utils/errcodes.txt`.
const CLASSES: &[(&str, &str)] = &[
    ("00", "successful_completion"),
    ("01", "warning"),
    ("02", "no_data"),
    ("03", "sql_statement_not_yet_complete"),
    ("08", "connection_exception"),
    ("09", "triggered_action_exception"),
    ("0A", "feature_not_supported"),
    ("0B", "invalid_transaction_initiation"),
    ("0F", "locator_exception"),
    ("0L", "invalid_grantor"),
    ("0P", "invalid_role_specification"),
    ("0Z", "diagnostics_exception"),
    ("20", "case_not_found"),
    ("21", "cardinality_violation"),
    ("22", "data_exception"),
    ("23", "integrity_constraint_violation"),
    ("24", "invalid_cursor_state"),
    ("25", "invalid_transaction_state"),
    ("26", "invalid_sql_statement_name"),
    ("27", "triggered_data_change_violation"),
    ("28", "invalid_authorization_specification"),
    ("2B", "dependent_privilege_descriptors_still_exist"),
    ("2D", "invalid_transaction_termination"),
    ("2F", "sql_routine_exception"),
    ("34", "invalid_cursor_name"),
    ("38", "external_routine_exception"),
    ("39", "external_routine_invocation_exception"),
    ("3B", "savepoint_exception"),
    ("3D", "invalid_catalog_name"),
    ("3F", "invalid_schema_name"),
    ("40", "transaction_rollback"),
    ("42", "syntax_error_or_access_rule_violation"),
    ("44", "with_check_option_violation"),
    ("53", "insufficient_resources"),
    ("54", "program_limit_exceeded"),
    ("55", "object_not_in_prerequisite_state"),
    ("57", "operator_intervention"),
    ("58", "system_error"),
    ("72", "snapshot_failure"),
    ("F0", "config_file_error"),
    ("HV", "fdw_error"),
    ("P0", "plpgsql_error"),
    ("XX", "internal_error"),
];

/// Kinds by code (exact, or a class prefix such as `2203`), checked in order.
const KINDS: &[(&str, &str)] = &[
    // 23: the constraint that was violated.
    ("23505", "unique"),
    ("23503", "foreign_key"),
    ("23514", "check"),
    ("23502", "not_null"),
    ("23P01", "exclusion"),
    ("23001", "restrict"),
    // 42
    ("42601", "syntax"),
    ("42602", "syntax"),
    ("42622", "syntax"),
    ("42939", "syntax"),
    ("42501", "privilege"),
    ("42809", "wrong_object_type"),
    ("42P01", "undefined_object"),
    ("42P02", "undefined_object"),
    ("42703", "undefined_object"),
    ("42704", "undefined_object"),
    ("42883", "undefined_object"),
    ("42P03", "duplicate_object"),
    ("42P04", "duplicate_object"),
    ("42P05", "duplicate_object"),
    ("42P06", "duplicate_object"),
    ("42P07", "duplicate_object"),
    ("42701", "duplicate_object"),
    ("42710", "duplicate_object"),
    ("42712", "duplicate_object"),
    ("42723", "duplicate_object"),
    ("42702", "ambiguous"),
    ("42725", "ambiguous"),
    ("42P08", "ambiguous"),
    ("42P09", "ambiguous"),
    ("42803", "grouping"),
    ("42P20", "grouping"),
    ("42804", "datatype_mismatch"),
    ("42846", "datatype_mismatch"),
    ("42P18", "datatype_mismatch"),
    ("42P21", "datatype_mismatch"),
    ("42P22", "datatype_mismatch"),
    ("428C9", "generated_always"),
    ("42P13", "invalid_definition"),
    ("42P16", "invalid_definition"),
    ("42P17", "invalid_definition"),
    ("42P19", "invalid_definition"),
    ("42611", "invalid_definition"),
    ("42830", "invalid_definition"),
    // 22
    ("22012", "division_by_zero"),
    ("22003", "out_of_range"),
    ("22008", "out_of_range"),
    ("22015", "out_of_range"),
    ("22020", "out_of_range"),
    ("22P02", "invalid_text_representation"),
    ("22007", "invalid_text_representation"),
    ("22001", "string_data_right_truncation"),
    ("22026", "string_data_right_truncation"),
    ("22021", "encoding"),
    ("22P05", "encoding"),
    ("2203", "sql_json"),
    ("22025", "invalid_escape"),
    ("22019", "invalid_escape"),
    ("2200C", "invalid_escape"),
    ("22004", "null_value"),
    ("22023", "invalid_parameter_value"),
    // 40
    ("40001", "serialization_failure"),
    ("40P01", "deadlock"),
    // 53
    ("53100", "disk_full"),
    ("53200", "out_of_memory"),
    ("53300", "too_many_connections"),
    ("53400", "configuration_limit_exceeded"),
    // 55
    ("55P03", "lock_not_available"),
    ("55006", "object_in_use"),
    ("55P02", "cant_change_runtime_param"),
    // 57
    ("57014", "query_canceled"),
    ("57P01", "admin_shutdown"),
    ("57P02", "crash_shutdown"),
    ("57P03", "cannot_connect_now"),
    ("57P04", "database_dropped"),
    ("57P05", "idle_session_timeout"),
    // 25
    ("25006", "read_only"),
    ("25P02", "in_failed_transaction"),
    ("25P03", "idle_in_transaction_timeout"),
    // 28
    ("28P01", "invalid_password"),
];

/// What each argument of a message format is, by argument index (a
/// domain's name, a referenced table: skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Constraint,
    Relation,
    Column,
    Skip,
}

/// Message formats (PostgreSQL 15 msgids) whose arguments name the
/// constraint, relation or column; with the kind the message itself tells
/// when it is more precise than the code's (a check violation that is
/// partition routing, an access rule that is row-level security).
const DETAILS: &[(&str, Option<&str>, &[Arg])] = &[
    (
        "duplicate key value violates unique constraint \"%s\"",
        None,
        &[Arg::Constraint],
    ),
    (
        "insert or update on table \"%s\" violates foreign key constraint \"%s\"",
        None,
        &[Arg::Relation, Arg::Constraint],
    ),
    (
        "update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"",
        None,
        // The relation is the constraint's: the referencing table.
        &[Arg::Skip, Arg::Constraint, Arg::Relation],
    ),
    (
        "new row for relation \"%s\" violates check constraint \"%s\"",
        None,
        &[Arg::Relation, Arg::Constraint],
    ),
    (
        "check constraint \"%s\" of relation \"%s\" is violated by some row",
        None,
        &[Arg::Constraint, Arg::Relation],
    ),
    (
        "value for domain %s violates check constraint \"%s\"",
        None,
        &[Arg::Skip, Arg::Constraint],
    ),
    (
        "null value in column \"%s\" of relation \"%s\" violates not-null constraint",
        None,
        &[Arg::Column, Arg::Relation],
    ),
    (
        "column \"%s\" of relation \"%s\" contains null values",
        None,
        &[Arg::Column, Arg::Relation],
    ),
    (
        "conflicting key value violates exclusion constraint \"%s\"",
        None,
        &[Arg::Constraint],
    ),
    (
        "new row for relation \"%s\" violates partition constraint",
        Some("partition_routing"),
        &[Arg::Relation],
    ),
    (
        "no partition of relation \"%s\" found for row",
        Some("partition_routing"),
        &[Arg::Relation],
    ),
    (
        "new row violates row-level security policy for table \"%s\"",
        Some("row_level_security"),
        &[Arg::Relation],
    ),
    (
        "new row violates row-level security policy \"%s\" for table \"%s\"",
        Some("row_level_security"),
        &[Arg::Constraint, Arg::Relation],
    ),
    (
        "new row violates check option for view \"%s\"",
        Some("view_check_option"),
        &[Arg::Relation],
    ),
    ("relation \"%s\" does not exist", None, &[Arg::Relation]),
    ("column \"%s\" does not exist", None, &[Arg::Column]),
    (
        "column \"%s\" of relation \"%s\" does not exist",
        None,
        &[Arg::Column, Arg::Relation],
    ),
    ("relation \"%s\" already exists", None, &[Arg::Relation]),
    ("permission denied for table %s", None, &[Arg::Relation]),
    (
        "value too long for type character varying(%d)",
        None,
        &[Arg::Skip],
    ),
    ("cannot insert into view \"%s\"", None, &[Arg::Relation]),
    ("cannot update view \"%s\"", None, &[Arg::Relation]),
    ("cannot delete from view \"%s\"", None, &[Arg::Relation]),
    ("\"%s\" is not a sequence", None, &[Arg::Relation]),
    ("\"%s\" is not a table", None, &[Arg::Relation]),
    ("\"%s\" is not a view", None, &[Arg::Relation]),
    (
        "could not obtain lock on relation \"%s\"",
        None,
        &[Arg::Relation],
    ),
    (
        "could not obtain lock on row in relation \"%s\"",
        None,
        &[Arg::Relation],
    ),
];

type Detail = (Option<&'static str>, &'static [Arg]);

fn details_set() -> &'static FormatSet<Detail> {
    static SET: OnceLock<FormatSet<Detail>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = FormatSet::new();
        for (format, kind, args) in DETAILS {
            // Every format here parses: the test reads them all.
            let _ = set.insert_str(format, (*kind, *args));
        }
        set
    })
}

/// The name of a SQLSTATE class (`23` -> `integrity_constraint_violation`).
pub fn class_name(class: &str) -> &'static str {
    CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map_or("other", |(_, n)| n)
}

/// The class and kind of an ERROR/FATAL/PANIC with this code and message,
/// and what the message names.
pub fn classify(sqlstate: Option<SqlState>, message: &str) -> (ErrorClass, ErrorDetails) {
    let Some(code) = sqlstate else {
        return (
            ErrorClass {
                class: "unknown",
                kind: None,
            },
            ErrorDetails::default(),
        );
    };
    let code = code.as_str();
    let mut class = ErrorClass {
        class: class_name(&code[..2]),
        kind: KINDS
            .iter()
            .find(|(c, _)| code.starts_with(c))
            .map(|(_, k)| *k),
    };
    let mut details = ErrorDetails::default();
    if let Some((_, (kind, args), values)) = details_set().find_captures(message) {
        if let Some(kind) = kind {
            // Row-level security and view check options are constraints an
            // application's row violated, whatever their code's class.
            class = ErrorClass {
                class: "integrity_constraint_violation",
                kind: Some(kind),
            };
        }
        for (arg, value) in args.iter().zip(values) {
            let value = value.map(str::to_string);
            match arg {
                Arg::Constraint => details.constraint = value,
                Arg::Relation => details.relation = value,
                Arg::Column => details.column = value,
                Arg::Skip => {}
            }
        }
    }
    (class, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> Option<SqlState> {
        SqlState::parse(c.as_bytes())
    }

    #[test]
    fn every_details_format_parses() {
        assert_eq!(details_set().len(), DETAILS.len());
    }

    #[test]
    fn constraint_kinds_and_names() {
        let (c, d) = classify(
            code("23505"),
            "duplicate key value violates unique constraint \"parent_pkey\"",
        );
        assert_eq!(
            (c.class, c.kind),
            ("integrity_constraint_violation", Some("unique"))
        );
        assert_eq!(d.constraint.as_deref(), Some("parent_pkey"));
        let (c, d) = classify(
            code("23514"),
            "no partition of relation \"measure\" found for row",
        );
        assert_eq!(c.kind, Some("partition_routing"));
        assert_eq!(d.relation.as_deref(), Some("measure"));
        let (c, d) = classify(
            code("23502"),
            "null value in column \"parent_id\" of relation \"child\" violates not-null constraint",
        );
        assert_eq!(c.kind, Some("not_null"));
        assert_eq!(
            (d.column.as_deref(), d.relation.as_deref()),
            (Some("parent_id"), Some("child"))
        );
        let (c, d) = classify(
            code("23503"),
            "update or delete on table \"parent\" violates foreign key constraint \"child_parent_id_fkey\" on table \"child\"",
        );
        assert_eq!(c.kind, Some("foreign_key"));
        assert_eq!(
            (d.constraint.as_deref(), d.relation.as_deref()),
            (Some("child_parent_id_fkey"), Some("child"))
        );
        let (c, _) = classify(
            code("42501"),
            "new row violates row-level security policy for table \"secret\"",
        );
        assert_eq!(
            (c.class, c.kind),
            ("integrity_constraint_violation", Some("row_level_security"))
        );
        let (c, _) = classify(code("42501"), "permission denied for table private_t");
        assert_eq!(
            (c.class, c.kind),
            ("syntax_error_or_access_rule_violation", Some("privilege"))
        );
    }

    #[test]
    fn classes_without_a_kind_and_unknown() {
        let (c, _) = classify(
            code("2BP01"),
            "cannot drop table x because other objects depend on it",
        );
        assert_eq!(
            (c.class, c.kind),
            ("dependent_privilege_descriptors_still_exist", None)
        );
        let (c, _) = classify(
            code("22039"),
            "jsonpath item method .size() can only be applied to an array",
        );
        assert_eq!((c.class, c.kind), ("data_exception", Some("sql_json")));
        let (c, _) = classify(None, "custom failure");
        assert_eq!(c.class, "unknown");
    }
}
