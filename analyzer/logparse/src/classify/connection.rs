//! Connection messages in the forms that differ between server versions.

use super::numbers::number_after;
use serde::Serialize;

/// PostgreSQL 18's `connection ready: setup total=9.743 ms, fork=2.870 ms,
/// authentication=1.150 ms` (`log_connections = setup_durations`): how long
/// the server took from accepting the connection to being ready for queries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SetupDurations {
    pub total_ms: Option<f64>,
    pub fork_ms: Option<f64>,
    pub authentication_ms: Option<f64>,
}

pub fn setup_durations(rest: &str) -> SetupDurations {
    SetupDurations {
        total_ms: number_after(rest, "total="),
        fork_ms: number_after(rest, "fork="),
        authentication_ms: number_after(rest, "authentication="),
    }
}

/// `connection authorized:` without its encryption details: ` SSL enabled
/// (protocol=..., cipher=..., bits=..., compression=...)` (`compression`
/// up to 13) and ` GSS (authenticated=..., encrypted=..., principal=...)`
/// (`delegated_credentials` from 16) follow the last key, which is
/// `database` when no application name was given.
pub fn without_encryption(rest: &str) -> &str {
    [" SSL enabled (", " GSS (", " SSL ("]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .map_or(rest, |end| &rest[..end])
}
