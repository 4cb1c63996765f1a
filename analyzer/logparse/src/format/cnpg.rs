//! CloudNativePG's instance manager log: one JSON object per line
//! (`{"level":"info","ts":...,"logger":"postgres","msg":"record",
//! "logging_pod":"...","record":{...}}`), where `record` holds the csvlog
//! columns by name, every value a string. The record is read as the csv
//! reader reads a row. Lines of the instance manager itself (no `record`)
//! are not server output and are passed over.

use super::envelope::Payload;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    record: Option<Record<'a>>,
}

/// The csvlog columns, named as CloudNativePG names them, in csvlog order.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Record<'a> {
    #[serde(borrow)]
    log_time: Cow<'a, str>,
    #[serde(borrow)]
    user_name: Cow<'a, str>,
    #[serde(borrow)]
    database_name: Cow<'a, str>,
    #[serde(borrow)]
    process_id: Cow<'a, str>,
    #[serde(borrow)]
    connection_from: Cow<'a, str>,
    #[serde(borrow)]
    session_id: Cow<'a, str>,
    #[serde(borrow)]
    session_line_num: Cow<'a, str>,
    #[serde(borrow)]
    command_tag: Cow<'a, str>,
    #[serde(borrow)]
    session_start_time: Cow<'a, str>,
    #[serde(borrow)]
    virtual_transaction_id: Cow<'a, str>,
    #[serde(borrow)]
    transaction_id: Cow<'a, str>,
    #[serde(borrow)]
    error_severity: Cow<'a, str>,
    #[serde(borrow)]
    sql_state_code: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    detail: Cow<'a, str>,
    #[serde(borrow)]
    hint: Cow<'a, str>,
    #[serde(borrow)]
    internal_query: Cow<'a, str>,
    #[serde(borrow)]
    internal_query_pos: Cow<'a, str>,
    #[serde(borrow)]
    context: Cow<'a, str>,
    #[serde(borrow)]
    query: Cow<'a, str>,
    #[serde(borrow)]
    query_pos: Cow<'a, str>,
    #[serde(borrow)]
    location: Cow<'a, str>,
    #[serde(borrow)]
    application_name: Cow<'a, str>,
    #[serde(borrow)]
    backend_type: Cow<'a, str>,
    #[serde(borrow)]
    leader_pid: Cow<'a, str>,
    #[serde(borrow)]
    query_id: Cow<'a, str>,
}

impl Record<'_> {
    fn columns(&self) -> [&str; 26] {
        [
            &self.log_time,
            &self.user_name,
            &self.database_name,
            &self.process_id,
            &self.connection_from,
            &self.session_id,
            &self.session_line_num,
            &self.command_tag,
            &self.session_start_time,
            &self.virtual_transaction_id,
            &self.transaction_id,
            &self.error_severity,
            &self.sql_state_code,
            &self.message,
            &self.detail,
            &self.hint,
            &self.internal_query,
            &self.internal_query_pos,
            &self.context,
            &self.query,
            &self.query_pos,
            &self.location,
            &self.application_name,
            &self.backend_type,
            &self.leader_pid,
            &self.query_id,
        ]
    }
}

pub(crate) fn unwrap(number: u64, line: &[u8]) -> Payload<'_> {
    let parsed: Line = match serde_json::from_slice(line) {
        Ok(l) => l,
        Err(e) => return super::envelope::bad_json(line, &e, "not a CloudNativePG log line"),
    };
    match parsed.record {
        Some(r) => match super::csv::build_record(number, &r.columns()) {
            Ok(rec) => Payload::Record(Box::new(rec)),
            Err((kind, why)) => Payload::Bad(kind, why),
        },
        None => Payload::Skip,
    }
}
