//! Google Cloud Logging's `LogEntry`, one JSON object per line as a sink
//! to Cloud Storage writes it, or a JSON array of them as
//! `gcloud logging read --format=json` prints it. Cloud SQL puts each
//! server message in `textPayload` (`logName`
//! `.../logs/cloudsql.googleapis.com%2Fpostgres.log`); agents that read a
//! log file (the Ops Agent, Fluent Bit) put each line in
//! `jsonPayload.message`, or, with a JSON parser, the jsonlog fields
//! themselves in `jsonPayload`; GKE puts a CloudNativePG pod's JSON line
//! there.

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
        (None, Some(raw)) => {
            // jsonlog fields, or a CloudNativePG line (its pod on GKE).
            if let Some(record) = super::envelope::inner_record(number, raw.get().as_bytes()) {
                return record;
            }
            match serde_json::from_str::<MessagePayload>(raw.get()) {
                Ok(MessagePayload { message: Some(m) }) => m,
                _ => {
                    return Payload::Bad(
                        MalformedKind::BadFields,
                        "jsonPayload has neither message nor jsonlog fields",
                    )
                }
            }
        }
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
