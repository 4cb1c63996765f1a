//! Messages about how an application uses transactions, prepared
//! statements and cursors, common in application logs: statements sent to
//! an aborted transaction (25P02), COMMIT without or BEGIN within a
//! transaction (25P01/25001 warnings), unknown or duplicate prepared
//! statements and cursors, `\'` in a string literal, commands that need a
//! transaction block, GRANT/REVOKE that changed nothing, DROP ... IF EXISTS
//! and CREATE ... IF NOT EXISTS that skipped, and signals sent to a pid that
//! is no backend. (The statements
//! themselves, with their durations, are read in `statement.rs`.)
//!
//! Forms: PostgreSQL 15's src/backend/access/transam/xact.c,
//! src/backend/commands/prepare.c and portalcmds.c, src/backend/tcop/
//! postgres.c, src/backend/utils/mmgr/portalmem.c, src/backend/parser/scan.l.

use super::EventKind;
use crate::message_format::FormatSet;
use crate::record::LogRecord;
use std::sync::LazyLock;

type Build = fn(&[Option<&str>]) -> EventKind;

fn name(a: &[Option<&str>]) -> Option<String> {
    a.first().copied().flatten().map(str::to_string)
}

fn privileges(grant: bool, all: bool) -> EventKind {
    EventKind::PrivilegesNotChanged { grant, none: !all }
}

const FORMATS: &[(&str, Build)] = &[
    (
        "current transaction is aborted, commands ignored until end of transaction block",
        |_| EventKind::TransactionAborted,
    ),
    ("there is no transaction in progress", |_| {
        EventKind::NoTransactionInProgress
    }),
    ("there is already a transaction in progress", |_| {
        EventKind::TransactionAlreadyInProgress
    }),
    ("prepared statement \"%s\" does not exist", |a| {
        EventKind::PreparedStatementMissing { name: name(a) }
    }),
    ("unnamed prepared statement does not exist", |_| {
        EventKind::PreparedStatementMissing { name: None }
    }),
    ("prepared statement \"%s\" already exists", |a| {
        EventKind::PreparedStatementExists { name: name(a) }
    }),
    ("cursor \"%s\" does not exist", |a| {
        EventKind::CursorMissing { name: name(a) }
    }),
    // The extended protocol's Bind/Execute/Describe of a portal.
    ("portal \"%s\" does not exist", |a| {
        EventKind::CursorMissing { name: name(a) }
    }),
    ("cursor \"%s\" already exists", |a| {
        EventKind::CursorExists { name: name(a) }
    }),
    // scan.l, with standard_conforming_strings off; stderr appends the
    // position that csvlog and jsonlog keep apart.
    ("nonstandard use of \\' in a string literal", |_| {
        quote_escape("quote")
    }),
    (
        "nonstandard use of \\' in a string literal at character %d",
        |_| quote_escape("quote"),
    ),
    ("nonstandard use of \\\\ in a string literal", |_| {
        quote_escape("backslash")
    }),
    (
        "nonstandard use of \\\\ in a string literal at character %d",
        |_| quote_escape("backslash"),
    ),
    // xact.c: SET LOCAL, SET TRANSACTION, ... outside BEGIN/COMMIT.
    ("%s can only be used in transaction blocks", |a| {
        EventKind::OutsideTransactionBlock {
            command: name(a).unwrap_or_default(),
        }
    }),
    // catalog/aclchk.c: a GRANT/REVOKE by a user who holds no grant option.
    ("no privileges were granted for \"%s\"", |_| {
        privileges(true, false)
    }),
    (
        "no privileges were granted for column \"%s\" of relation \"%s\"",
        |_| privileges(true, false),
    ),
    ("not all privileges were granted for \"%s\"", |_| {
        privileges(true, true)
    }),
    (
        "not all privileges were granted for column \"%s\" of relation \"%s\"",
        |_| privileges(true, true),
    ),
    ("no privileges could be revoked for \"%s\"", |_| {
        privileges(false, false)
    }),
    (
        "no privileges could be revoked for column \"%s\" of relation \"%s\"",
        |_| privileges(false, false),
    ),
    ("not all privileges could be revoked for \"%s\"", |_| {
        privileges(false, true)
    }),
    (
        "not all privileges could be revoked for column \"%s\" of relation \"%s\"",
        |_| privileges(false, true),
    ),
    // utils/adt/misc.c, storage/ipc/signalfuncs.c: pg_cancel_backend(),
    // pg_terminate_backend(), pg_log_backend_memory_contexts() of a pid
    // that is not a backend.
    ("PID %d is not a PostgreSQL backend process", |a| {
        EventKind::NotABackend {
            pid: a.first().copied().flatten().and_then(|p| p.parse().ok()),
        }
    }),
    ("PID %d is not a PostgreSQL server process", |a| {
        EventKind::NotABackend {
            pid: a.first().copied().flatten().and_then(|p| p.parse().ok()),
        }
    }),
    ("nonstandard use of escape in a string literal", |_| {
        quote_escape("escape")
    }),
    (
        "nonstandard use of escape in a string literal at character %d",
        |_| quote_escape("escape"),
    ),
];

fn quote_escape(escape: &'static str) -> EventKind {
    EventKind::NonstandardStringEscape { escape }
}

static SET: LazyLock<FormatSet<Build>> = LazyLock::new(|| {
    let mut set = FormatSet::new();
    for (format, build) in FORMATS {
        set.insert_str(format, *build)
            .expect("the transaction-state message formats parse");
    }
    set
});

/// The transaction-state or statement-use event of `r`, of any severity.
pub fn classify(r: &LogRecord) -> Option<EventKind> {
    match SET.find_captures(&r.message) {
        Some((_, build, args)) => Some(build(&args)),
        None => if_exists_skip(&r.message),
    }
}

/// The NOTICE of `DROP ... IF EXISTS` of something missing (`... does not
/// exist, skipping`) or `CREATE ... IF NOT EXISTS` of something there
/// (`... already exists, skipping`): some 150 messages of one shape.
fn if_exists_skip(msg: &str) -> Option<EventKind> {
    let (object, exists) = match msg.strip_suffix(" does not exist, skipping") {
        Some(o) => (o, false),
        None => (msg.strip_suffix(" already exists, skipping")?, true),
    };
    Some(EventKind::IfExistsSkipped {
        object: object.to_string(),
        exists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;

    // Forms the sample's psql session cannot send (extended protocol) or
    // that it does not cause, from the format strings cited above.
    #[test]
    fn protocol_level_forms() {
        let kind = |m: &str| classify(&LogRecord::new(1, Severity::Error, m.to_string()));
        assert_eq!(
            kind("unnamed prepared statement does not exist"),
            Some(EventKind::PreparedStatementMissing { name: None })
        );
        assert_eq!(
            kind("portal \"C_1\" does not exist"),
            Some(EventKind::CursorMissing {
                name: Some("C_1".into())
            })
        );
        assert_eq!(
            kind("nonstandard use of escape in a string literal at character 12"),
            Some(EventKind::NonstandardStringEscape { escape: "escape" })
        );
        assert_eq!(kind("cursor \"c\" is not a SELECT query"), None);
    }
}
