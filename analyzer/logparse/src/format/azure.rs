//! Azure Database for PostgreSQL server logs, category `PostgreSQLLogs`,
//! one JSON object per line, in either of Azure Monitor's shapes:
//! - a row of the Log Analytics table `AzureDiagnostics` (a query's result
//!   exported as JSON lines): `Message`, `errorLevel_s`, `prefix_s`, ...;
//! - a resource log as diagnostic settings archive it to a storage account:
//!   `{"time", "resourceId", "category", "operationName", "properties": {...}}`.
//!
//! Flexible server puts the whole server line, `log_line_prefix` included,
//! in the message. Single server splits it: the prefix (`prefix_s`,
//! `properties.prefix`), the level (`errorLevel_s`, `properties.errorLevel`)
//! and the text after `LEVEL:  ` (`Message`); the line is put back together.

use super::envelope::{iso_time, Payload, Text};
use crate::record::MalformedKind;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow, rename = "Category")]
    category_column: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "TimeGenerated")]
    time_generated: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "Message")]
    message_column: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "prefix_s")]
    prefix_column: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "errorLevel_s")]
    level_column: Option<Cow<'a, str>>,
    #[serde(borrow)]
    category: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    properties: Option<Properties<'a>>,
}

#[derive(Deserialize)]
struct Properties<'a> {
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow)]
    prefix: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "errorLevel")]
    error_level: Option<Cow<'a, str>>,
}

/// Whether a JSON line looks like one of Azure Monitor's PostgreSQL rows.
pub(crate) fn looks_like_azure(line: &[u8]) -> bool {
    let has = |key: &[u8]| memchr::memmem::find(line, key).is_some();
    has(b"\"PostgreSQLLogs\"") || has(b"\"errorLevel_s\"") || has(b"DBFORPOSTGRESQL")
}

pub(crate) fn unwrap(line: &[u8]) -> Payload<'_> {
    let row: Row = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => return super::envelope::bad_json(line, &e, "not an Azure Monitor log row"),
    };
    let category = row.category_column.as_deref().or(row.category.as_deref());
    if category.is_some_and(|c| c != "PostgreSQLLogs") {
        // Query Store, sessions and the like share the table.
        return Payload::Skip;
    }
    let time = iso_time(row.time_generated.as_deref().or(row.time.as_deref()));
    let (message, prefix, level) = match row.properties {
        Some(p) => (p.message, p.prefix, p.error_level),
        None => (row.message_column, row.prefix_column, row.level_column),
    };
    let Some(message) = message else {
        return Payload::Bad(
            MalformedKind::BadFields,
            "an Azure log row without a message",
        );
    };
    let bytes = match (prefix, level) {
        (Some(prefix), Some(level)) => {
            Cow::Owned(format!("{prefix}{level}:  {message}").into_bytes())
        }
        _ => super::envelope::cow_bytes(message),
    };
    Payload::Text(Text {
        time,
        ..Text::new(bytes)
    })
}
