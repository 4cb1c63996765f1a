//! Container runtimes' log files, as Kubernetes nodes keep them under
//! `/var/log/pods` and `/var/log/containers`:
//! - Docker's `json-file` driver: `{"log":"<line>\n","stream":"stderr","time":"<RFC 3339>"}`;
//!   a line longer than the driver's 16 KiB buffer comes in pieces whose
//!   `log` has no final newline.
//! - CRI (containerd, CRI-O): `<RFC 3339> stderr F <line>`, where the tag
//!   `P` marks a piece of a line split at `max_container_log_line_size`
//!   and `F` its last piece.

use super::envelope::{iso_time, Payload, Text};
use crate::record::MalformedKind;
use crate::time::parse_iso_timestamp;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct JsonFileLine<'a> {
    #[serde(borrow)]
    log: Cow<'a, str>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
}

pub(crate) fn unwrap_docker(line: &[u8]) -> Payload<'_> {
    let entry: JsonFileLine = match serde_json::from_slice(line) {
        Ok(e) => e,
        Err(e) => return super::envelope::bad_json(line, &e, "not a Docker json-file log line"),
    };
    let time = iso_time(entry.time.as_deref());
    let partial = !entry.log.ends_with('\n');
    Payload::Text(Text {
        time,
        partial,
        ..Text::new(super::envelope::cow_bytes(entry.log))
    })
}

pub(crate) fn looks_like_cri(line: &[u8]) -> bool {
    split_cri(line).is_some()
}

pub(crate) fn unwrap_cri(line: &[u8]) -> Payload<'_> {
    let Some((text, tag_partial, time)) = split_cri(line) else {
        return Payload::Bad(MalformedKind::Garbage, "not a CRI log line");
    };
    Payload::Text(Text {
        time: Some(time),
        partial: tag_partial,
        ..Text::new(text)
    })
}

/// `<time> <stream> <tag> <content>`: the content, whether the tag says
/// partial, and the time.
fn split_cri(line: &[u8]) -> Option<(&[u8], bool, crate::time::LogTime)> {
    let (time, n) = parse_iso_timestamp(line)?;
    let rest = line[n..].strip_prefix(b" ")?;
    let rest = rest
        .strip_prefix(b"stderr ")
        .or_else(|| rest.strip_prefix(b"stdout "))?;
    let tag_end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
    // The tag is `F` or `P`, possibly with more `:`-separated flags.
    let partial = match rest[..tag_end].split(|&c| c == b':').next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    let content = rest.get(tag_end + 1..).unwrap_or(b"");
    Some((content, partial, time))
}
