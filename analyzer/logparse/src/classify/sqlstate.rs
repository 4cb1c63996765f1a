//! SQLSTATE inference for stderr and syslog logs without `%e`, from the
//! English (`lc_messages=C`) text of PostgreSQL's common errors.

use crate::record::{LogRecord, Severity, SqlState};

/// How a message is matched.
enum Pat {
    Starts(&'static str),
    Contains(&'static str),
    /// Starts with the first part and contains the second.
    StartsContains(&'static str, &'static str),
}

/// Checked in order; the first match wins.
const RULES: &[(Pat, &[u8; 5])] = &[
    (Pat::Starts("syntax error at"), b"42601"),
    (Pat::Starts("unterminated quoted string"), b"42601"),
    (Pat::Starts("unterminated dollar-quoted string"), b"42601"),
    (Pat::Starts("zero-length delimited identifier"), b"42601"),
    (
        Pat::StartsContains("relation \"", "\" does not exist"),
        b"42P01",
    ),
    (Pat::Starts("missing FROM-clause entry"), b"42P01"),
    (Pat::StartsContains("column ", " does not exist"), b"42703"),
    (
        Pat::StartsContains("function ", " does not exist"),
        b"42883",
    ),
    (Pat::StartsContains("operator does not exist", ""), b"42883"),
    (
        Pat::StartsContains("procedure ", " does not exist"),
        b"42883",
    ),
    (
        Pat::StartsContains("type \"", "\" does not exist"),
        b"42704",
    ),
    (
        Pat::StartsContains("schema \"", "\" does not exist"),
        b"3F000",
    ),
    (
        Pat::StartsContains("relation \"", "\" already exists"),
        b"42P07",
    ),
    (
        Pat::StartsContains("column reference \"", "\" is ambiguous"),
        b"42702",
    ),
    (
        Pat::Starts("duplicate key value violates unique constraint"),
        b"23505",
    ),
    (Pat::Contains("violates foreign key constraint"), b"23503"),
    (Pat::Contains("violates check constraint"), b"23514"),
    (Pat::Contains("violates not-null constraint"), b"23502"),
    (Pat::Contains("violates exclusion constraint"), b"23P01"),
    (Pat::Starts("division by zero"), b"22012"),
    (Pat::Starts("invalid input syntax for"), b"22P02"),
    (Pat::Starts("invalid input value for enum"), b"22P02"),
    (Pat::StartsContains("value too long for type", ""), b"22001"),
    (Pat::Contains("out of range"), b"22003"),
    (Pat::Starts("invalid byte sequence for encoding"), b"22021"),
    (Pat::Starts("permission denied"), b"42501"),
    (Pat::Starts("must be owner of"), b"42501"),
    (Pat::Starts("must be superuser"), b"42501"),
    (Pat::Starts("deadlock detected"), b"40P01"),
    (Pat::Starts("could not serialize access"), b"40001"),
    (Pat::Contains("due to conflict with recovery"), b"40001"),
    (
        Pat::Starts("canceling statement due to lock timeout"),
        b"55P03",
    ),
    (Pat::Starts("could not obtain lock on"), b"55P03"),
    (
        Pat::Starts("canceling statement due to statement timeout"),
        b"57014",
    ),
    (
        Pat::Starts("canceling statement due to user request"),
        b"57014",
    ),
    (Pat::Starts("canceling autovacuum task"), b"57014"),
    (
        Pat::Starts("terminating connection due to administrator command"),
        b"57P01",
    ),
    (Pat::Contains("due to administrator command"), b"57P01"),
    (
        Pat::Starts("terminating connection due to idle-in-transaction timeout"),
        b"25P03",
    ),
    (
        Pat::Starts("terminating connection due to idle-session timeout"),
        b"57P05",
    ),
    (
        Pat::Starts("terminating connection because of crash of another server process"),
        b"57P02",
    ),
    (Pat::Starts("the database system is"), b"57P03"),
    (
        Pat::Starts("password authentication failed for user"),
        b"28P01",
    ),
    (Pat::Contains("authentication failed for user"), b"28000"),
    (Pat::Starts("no pg_hba.conf entry for"), b"28000"),
    (Pat::Starts("pg_hba.conf rejects"), b"28000"),
    (
        Pat::StartsContains("role \"", "\" is not permitted to log in"),
        b"28000",
    ),
    (
        Pat::StartsContains("database \"", "\" does not exist"),
        b"3D000",
    ),
    (Pat::Starts("cannot execute "), b"25006"),
    (Pat::Starts("current transaction is aborted"), b"25P02"),
    (
        Pat::StartsContains("prepared statement \"", "\" does not exist"),
        b"26000",
    ),
    (
        Pat::StartsContains("cursor \"", "\" does not exist"),
        b"34000",
    ),
    (
        Pat::Starts("more than one row returned by a subquery"),
        b"21000",
    ),
    (Pat::Starts("sorry, too many clients already"), b"53300"),
    (
        Pat::Starts("remaining connection slots are reserved"),
        b"53300",
    ),
    (Pat::Starts("out of memory"), b"53200"),
    (Pat::Starts("out of shared memory"), b"53200"),
    (Pat::Starts("could not extend file"), b"53100"),
    (
        Pat::StartsContains("column \"", "\" must appear in the GROUP BY clause"),
        b"42803",
    ),
];

/// The SQLSTATE for an ERROR/FATAL/PANIC record that does not carry one.
pub fn infer(r: &LogRecord) -> Option<SqlState> {
    let msg = r.message.as_str();
    // A role that does not exist is an authentication failure at connection
    // time, and an undefined object in a statement.
    if msg.starts_with("role \"") && msg.ends_with("\" does not exist") {
        return Some(SqlState::from_static(if r.severity == Severity::Fatal {
            b"28000"
        } else {
            b"42704"
        }));
    }
    for (pat, code) in RULES {
        let hit = match pat {
            Pat::Starts(p) => msg.starts_with(p),
            Pat::Contains(p) => msg.contains(p),
            Pat::StartsContains(a, b) => msg.starts_with(a) && msg.contains(b),
        };
        if hit {
            return Some(SqlState::from_static(code));
        }
    }
    // RAISE without ERRCODE: PL/pgSQL names the RAISE in the context.
    if r.context
        .as_deref()
        .is_some_and(|c| c.contains(" at RAISE"))
    {
        return Some(SqlState::from_static(b"P0001"));
    }
    None
}
