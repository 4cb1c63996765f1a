//! The fields of a jsonlog line, as both of its readers fill them.

use serde::Deserialize;
use std::borrow::Cow;

/// The fields of a jsonlog line the analyzer keeps, as read by serde_json
/// or by the fast path ([`super::json_fast`]).
#[derive(Deserialize, Default)]
pub(super) struct JsonEntry<'a> {
    #[serde(borrow)]
    pub(super) timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) dbname: Option<Cow<'a, str>>,
    pub(super) pid: Option<u32>,
    #[serde(borrow)]
    pub(super) remote_host: Option<Cow<'a, str>>,
    pub(super) remote_port: Option<u32>,
    #[serde(borrow)]
    pub(super) session_id: Option<Cow<'a, str>>,
    pub(super) line_num: Option<u64>,
    #[serde(borrow)]
    pub(super) ps: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) vxid: Option<Cow<'a, str>>,
    pub(super) txid: Option<u64>,
    #[serde(borrow)]
    pub(super) error_severity: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) state_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) message: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) detail: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) hint: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) internal_query: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) context: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) statement: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) func_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) file_name: Option<Cow<'a, str>>,
    pub(super) file_line_num: Option<u32>,
    #[serde(borrow)]
    pub(super) application_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) backend_type: Option<Cow<'a, str>>,
    pub(super) leader_pid: Option<u32>,
    pub(super) query_id: Option<i64>,
}
