//! Connection problems: clients that vanish (`could not receive data from
//! client`, `unexpected EOF on client connection`, `connection to client
//! lost`), broken startup packets, SSL failures, full connection slots and
//! a server that does not take connections yet or any more. A missing
//! `pg_hba.conf` entry stays an [`EventKind::AuthFailure`]. Wording of
//! PostgreSQL 15.

use super::EventKind;
use crate::message_format::FormatSet;
use crate::record::LogRecord;
use serde::Serialize;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ConnectionProblem {
    /// `could not receive data from client: Connection reset by peer`.
    ReceiveFailed { error: String },
    /// `could not send data to client: Broken pipe`.
    SendFailed { error: String },
    /// `unexpected EOF on client connection with an open transaction`, or
    /// without one (logged at DEBUG1 by PostgreSQL 15).
    UnexpectedEof { open_transaction: bool },
    /// `incomplete startup packet`: the client hung up before it said who it is.
    IncompleteStartupPacket,
    /// `invalid length of startup packet`, `unsupported frontend protocol ...`.
    InvalidStartupPacket,
    /// `could not accept SSL connection: ...`, `SSL error: ...`, ...
    SslError { error: String },
    /// `connection to client lost`: the session ends.
    ConnectionLost,
    /// `terminating connection because protocol synchronization was lost`.
    ProtocolSyncLost,
    /// `sorry, too many clients already`, or `remaining connection slots are
    /// reserved for non-replication superuser connections` (`reserved`).
    TooManyConnections { reserved: bool },
    /// `the database system is starting up` (`shutting down`, `in recovery
    /// mode`, `not yet accepting connections`): the state, as worded.
    NotAccepting { state: String },
    /// `hostssl record cannot match because SSL is disabled` (or not
    /// supported by this build; `hostgssenc` and GSSAPI alike): a
    /// pg_hba.conf line no client can match.
    HbaRecordIgnored,
}

impl ConnectionProblem {
    pub fn key(&self) -> &'static str {
        match self {
            ConnectionProblem::ReceiveFailed { .. } => "client_receive_failed",
            ConnectionProblem::SendFailed { .. } => "client_send_failed",
            ConnectionProblem::UnexpectedEof {
                open_transaction: true,
            } => "unexpected_eof_in_transaction",
            ConnectionProblem::UnexpectedEof { .. } => "unexpected_eof",
            ConnectionProblem::IncompleteStartupPacket => "incomplete_startup_packet",
            ConnectionProblem::InvalidStartupPacket => "invalid_startup_packet",
            ConnectionProblem::SslError { .. } => "ssl_error",
            ConnectionProblem::ConnectionLost => "connection_lost",
            ConnectionProblem::ProtocolSyncLost => "protocol_sync_lost",
            ConnectionProblem::TooManyConnections { .. } => "too_many_connections",
            ConnectionProblem::NotAccepting { .. } => "server_not_accepting",
            ConnectionProblem::HbaRecordIgnored => "hba_record_ignored",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Class {
    Receive,
    Send,
    EofInTransaction,
    Eof,
    Incomplete,
    InvalidStartup,
    Ssl,
    Lost,
    SyncLost,
    TooMany,
    Reserved,
    NotAccepting,
    HbaIgnored,
}

/// PostgreSQL 15's message formats (backend/libpq/pqcomm.c, be-secure-openssl.c, hba.c,
/// tcop/postgres.c, postmaster/postmaster.c, utils/init/postinit.c).
const FORMATS: &[(&str, Class)] = &[
    ("could not receive data from client: %m", Class::Receive),
    ("could not send data to client: %m", Class::Send),
    (
        "unexpected EOF on client connection with an open transaction",
        Class::EofInTransaction,
    ),
    ("unexpected EOF on client connection", Class::Eof),
    ("incomplete startup packet", Class::Incomplete),
    ("invalid length of startup packet", Class::InvalidStartup),
    (
        "unsupported frontend protocol %u.%u: server supports %u.0 to %u.%u",
        Class::InvalidStartup,
    ),
    ("could not accept SSL connection: %s", Class::Ssl),
    ("could not initialize SSL connection: %s", Class::Ssl),
    ("SSL error: %s", Class::Ssl),
    ("received unencrypted data after SSL request", Class::Ssl),
    ("connection to client lost", Class::Lost),
    (
        "terminating connection because protocol synchronization was lost",
        Class::SyncLost,
    ),
    ("sorry, too many clients already", Class::TooMany),
    (
        "remaining connection slots are reserved for non-replication superuser connections",
        Class::Reserved,
    ),
    ("the database system is %s", Class::NotAccepting),
    (
        "hostssl record cannot match because SSL is disabled",
        Class::HbaIgnored,
    ),
    (
        "hostssl record cannot match because SSL is not supported by this build",
        Class::HbaIgnored,
    ),
    (
        "hostgssenc record cannot match because GSSAPI is not supported by this build",
        Class::HbaIgnored,
    ),
];

static SET: LazyLock<FormatSet<Class>> = LazyLock::new(|| super::format_table(FORMATS));

/// A connection problem; `None` for anything else.
pub fn classify(r: &LogRecord) -> Option<EventKind> {
    let (_, class, args) = SET.find_captures(&r.message)?;
    let text = || args.first().copied().flatten().unwrap_or("").to_string();
    let p = match class {
        Class::Receive => ConnectionProblem::ReceiveFailed { error: text() },
        Class::Send => ConnectionProblem::SendFailed { error: text() },
        Class::EofInTransaction => ConnectionProblem::UnexpectedEof {
            open_transaction: true,
        },
        Class::Eof => ConnectionProblem::UnexpectedEof {
            open_transaction: false,
        },
        Class::Incomplete => ConnectionProblem::IncompleteStartupPacket,
        Class::InvalidStartup => ConnectionProblem::InvalidStartupPacket,
        Class::Ssl => ConnectionProblem::SslError {
            error: r.message.clone(),
        },
        Class::Lost => ConnectionProblem::ConnectionLost,
        Class::SyncLost => ConnectionProblem::ProtocolSyncLost,
        Class::TooMany => ConnectionProblem::TooManyConnections { reserved: false },
        Class::Reserved => ConnectionProblem::TooManyConnections { reserved: true },
        Class::NotAccepting => {
            let state = text();
            let known = [
                "starting up",
                "shutting down",
                "in recovery mode",
                "not yet accepting connections",
            ];
            if !known.contains(&state.as_str()) {
                return None;
            }
            ConnectionProblem::NotAccepting { state }
        }
        Class::HbaIgnored => ConnectionProblem::HbaRecordIgnored,
    };
    Some(EventKind::ConnectionProblem(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Severity;

    fn problem(msg: &str) -> Option<ConnectionProblem> {
        match classify(&LogRecord::new(1, Severity::Log, msg.to_string())) {
            Some(EventKind::ConnectionProblem(p)) => Some(p),
            None => None,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn vanished_clients() {
        assert_eq!(
            problem("could not receive data from client: Connection reset by peer"),
            Some(ConnectionProblem::ReceiveFailed {
                error: "Connection reset by peer".into()
            })
        );
        assert_eq!(
            problem("unexpected EOF on client connection with an open transaction"),
            Some(ConnectionProblem::UnexpectedEof {
                open_transaction: true
            })
        );
        assert_eq!(
            problem("unexpected EOF on client connection"),
            Some(ConnectionProblem::UnexpectedEof {
                open_transaction: false
            })
        );
        assert_eq!(
            problem("incomplete startup packet"),
            Some(ConnectionProblem::IncompleteStartupPacket)
        );
    }

    #[test]
    fn slots_and_states() {
        assert_eq!(
            problem(
                "remaining connection slots are reserved for non-replication superuser connections"
            ),
            Some(ConnectionProblem::TooManyConnections { reserved: true })
        );
        assert_eq!(
            problem("the database system is in recovery mode"),
            Some(ConnectionProblem::NotAccepting {
                state: "in recovery mode".into()
            })
        );
        assert_eq!(problem("the database system is on fire"), None);
        assert_eq!(
            problem("could not accept SSL connection: EOF detected"),
            Some(ConnectionProblem::SslError {
                error: "could not accept SSL connection: EOF detected".into()
            })
        );
    }
}
