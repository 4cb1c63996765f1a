//! Google Cloud Logging's `LogEntry`, one JSON object per line, as a sink
//! to Cloud Storage or `gcloud logging read --format=json | jq -c '.[]'`
//! writes it. Cloud SQL puts each server line in `textPayload`
//! (`logName` `.../logs/cloudsql.googleapis.com%2Fpostgres.log`); agents
//! that read a log file (the Ops Agent, Fluent Bit) put it in
//! `jsonPayload.message`, or, with a JSON parser on jsonlog files, the
//! jsonlog fields themselves in `jsonPayload`.

use super::envelope::{iso_time, Payload, Text};
use crate::record::MalformedKind;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, rename = "textPayload")]
    text_payload: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "jsonPayload")]
    json_payload: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct MessagePayload<'a> {
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

pub(crate) fn unwrap(number: u64, line: &[u8]) -> Payload<'_> {
    let entry: Entry = match serde_json::from_slice(line) {
        Ok(e) => e,
        Err(e) => return super::envelope::bad_json(line, &e, "not a Cloud Logging LogEntry"),
    };
    let time = iso_time(entry.timestamp.as_deref());
    let text = match (entry.text_payload, entry.json_payload) {
        (Some(text), _) => text,
        (None, Some(raw)) if is_jsonlog(raw) => {
            return match super::json::parse_entry(number, raw.get().as_bytes()) {
                Ok(r) => Payload::Record(Box::new(r)),
                Err((kind, why)) => Payload::Bad(kind, why),
            };
        }
        (None, Some(raw)) => match serde_json::from_str::<MessagePayload>(raw.get()) {
            Ok(MessagePayload { message: Some(m) }) => m,
            _ => {
                return Payload::Bad(
                    MalformedKind::BadFields,
                    "jsonPayload has neither message nor jsonlog fields",
                )
            }
        },
        (None, None) => {
            return Payload::Bad(
                MalformedKind::BadFields,
                "LogEntry without textPayload or jsonPayload",
            )
        }
    };
    Payload::Text(Text {
        time,
        ..Text::new(super::envelope::cow_bytes(text))
    })
}

fn is_jsonlog(raw: &RawValue) -> bool {
    memchr::memmem::find(raw.get().as_bytes(), b"\"error_severity\"").is_some()
}
