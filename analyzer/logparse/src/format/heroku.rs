//! Heroku Postgres logs as logplex delivers them:
//! `heroku logs` lines, `2026-11-23T10:00:00.123456+00:00 app[postgres.1234]: [DATABASE] [5-1] <line>`,
//! and log drain lines, syslog (RFC 5424) framed with an octet count:
//! `215 <134>1 2026-11-23T10:00:00+00:00 host app postgres.1234 - [DATABASE] [5-1] <line>`.
//! `[DATABASE]` is the add-on's attachment name; `[5-1]` numbers the
//! server's syslog chunks as in any syslog log. Lines of other dynos
//! (`app[web.1]`, `heroku[router]`) are not the database's and are passed over.

use super::envelope::{Payload, Text};
use super::syslog::split_sequence;
use crate::record::MalformedKind;
use crate::time::{parse_iso_timestamp, LogTime};

/// A logplex line split into its parts.
struct Logplex<'a> {
    time: LogTime,
    /// `postgres.1234`, `web.1`, `router`.
    dyno: &'a [u8],
    message: &'a [u8],
}

pub(crate) fn looks_like_heroku(line: &[u8]) -> bool {
    parse(line).is_some_and(|l| l.dyno.starts_with(b"postgres."))
}

pub(crate) fn unwrap(line: &[u8]) -> Payload<'_> {
    let Some(l) = parse(line) else {
        return Payload::Bad(MalformedKind::Garbage, "not a Heroku logplex line");
    };
    let Some(pid) = l.dyno.strip_prefix(b"postgres.") else {
        return Payload::Skip;
    };
    // `[DATABASE] `: the attachment name.
    let mut message = l.message;
    if message.first() == Some(&b'[') {
        if let Some(end) = memchr::memchr(b']', message) {
            if !message[1..end].contains(&b'-') || !message[1].is_ascii_digit() {
                message = &message[end + 1..];
                message = message.strip_prefix(b" ").unwrap_or(message);
            }
        }
    }
    let (seq, content) = split_sequence(message);
    Payload::Text(Text {
        pid: std::str::from_utf8(pid).ok().and_then(|p| p.parse().ok()),
        time: Some(l.time),
        later_chunk: seq.is_some_and(|(_, chunk)| chunk > 1),
        ..Text::new(content)
    })
}

fn parse(line: &[u8]) -> Option<Logplex<'_>> {
    let drain = skip_frame(line);
    let (time, n) = parse_iso_timestamp(drain.unwrap_or(line))?;
    let rest = drain.unwrap_or(line)[n..].strip_prefix(b" ")?;
    match drain {
        // `host app postgres.1234 - message`
        Some(_) => {
            let mut parts = rest.splitn(5, |&c| c == b' ');
            let (_host, _app) = (parts.next()?, parts.next()?);
            let dyno = parts.next()?;
            let _msgid = parts.next()?;
            Some(Logplex {
                time,
                dyno,
                message: parts.next().unwrap_or(b""),
            })
        }
        // `app[postgres.1234]: message`
        None => {
            let open = memchr::memchr(b'[', rest)?;
            let close = memchr::memmem::find(rest, b"]: ")?;
            if close < open || rest[..open].contains(&b' ') {
                return None;
            }
            Some(Logplex {
                time,
                dyno: &rest[open + 1..close],
                message: &rest[close + 3..],
            })
        }
    }
}

/// A drain line's `LEN <PRI>1 ` (the length is optional): what follows.
fn skip_frame(line: &[u8]) -> Option<&[u8]> {
    let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = if digits > 0 {
        line[digits..].strip_prefix(b" ")?
    } else {
        line
    };
    let rest = rest.strip_prefix(b"<")?;
    let pri = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if pri == 0 || pri > 3 {
        return None;
    }
    rest[pri..].strip_prefix(b">1 ")
}
