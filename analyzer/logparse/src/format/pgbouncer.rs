//! pgbouncer's own log, a kind of input of its own (never PostgreSQL
//! records). Its logfile lines, as libusual writes them (1.12 to 1.24):
//!
//! ```text
//! 2026-12-01 14:00:00.123 UTC [1234] LOG C-0x55d5c5b0b0a0: app/alice@127.0.0.1:53504 login attempt: db=app user=alice tls=no
//! ```
//!
//! a timestamp (with or without milliseconds and zone), the pid in brackets
//! (bare in old libusual), the level (`FATAL ERROR WARNING LOG DEBUG NOISE`)
//! and the message. Messages about one connection start with its socket,
//! `C-0x…:` (client) or `S-0x…:` (server), then `db/user@host:port`
//! (`[v6]:port`, `unix:port`, `unix(pid):port`; `(nodb)`/`(nouser)` before
//! login). Through syslog a line is the daemon's header, then the message
//! without time, pid or level.

use super::syslog;
use crate::buffer::ByteSource;
use crate::record::{Malformed, MalformedKind};
use crate::time::{parse_pg_timestamp, parse_wall_clock, LogTime};
use std::io;

/// libusual's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Fatal,
    Error,
    Warning,
    Log,
    Debug,
    Noise,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Fatal => "FATAL",
            Level::Error => "ERROR",
            Level::Warning => "WARNING",
            Level::Log => "LOG",
            Level::Debug => "DEBUG",
            Level::Noise => "NOISE",
        }
    }

    fn parse(s: &[u8]) -> Option<Level> {
        Some(match s {
            b"FATAL" => Level::Fatal,
            b"ERROR" => Level::Error,
            b"WARNING" => Level::Warning,
            b"LOG" => Level::Log,
            b"DEBUG" => Level::Debug,
            b"NOISE" => Level::Noise,
            _ => return None,
        })
    }

    pub fn is_problem(self) -> bool {
        matches!(self, Level::Fatal | Level::Error | Level::Warning)
    }
}

/// The connection a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Socket<'a> {
    /// `S-` (to PostgreSQL) rather than `C-` (from a client).
    pub server: bool,
    pub database: &'a str,
    pub user: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
}

/// The periodic `stats:` line: rates per second and mean times over the
/// last `stats_period`, summed over all pools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub xacts_per_s: u64,
    pub queries_per_s: u64,
    pub bytes_in_per_s: u64,
    pub bytes_out_per_s: u64,
    /// Mean transaction time, µs.
    pub xact_us: u64,
    /// Mean query time, µs.
    pub query_us: u64,
    /// Client wait time per second, µs.
    pub wait_us: u64,
    /// 1.21+: prepared statements parsed by clients and by servers, binds.
    pub client_parses_per_s: Option<u64>,
    pub server_parses_per_s: Option<u64>,
    pub binds_per_s: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What<'a> {
    /// `login attempt: db=… user=… tls=…[ replication=…]` (log_connections).
    LoginAttempt {
        database: &'a str,
        user: &'a str,
        tls: &'a str,
    },
    /// `login failed: db=… user=…` (an unknown database, 1.12+).
    LoginFailed {
        database: &'a str,
        user: &'a str,
    },
    /// `closing because: REASON (age=Ns)` (log_disconnections).
    Closing {
        reason: &'a str,
        age_s: Option<u64>,
    },
    /// `new connection to server[ (from host:port)]`.
    ServerConnection,
    /// `pooler error: …`, the error a client was sent.
    PoolerError {
        message: &'a str,
    },
    /// `process up: PgBouncer 1.18.0, …`: the stats period restarts.
    ProcessUp,
    Stats(PoolStats),
    Other,
}

/// One pgbouncer log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgbouncerLine<'a> {
    pub line: u64,
    pub time: Option<LogTime>,
    pub pid: Option<u32>,
    /// `None` through syslog, which carries no level in the text.
    pub level: Option<Level>,
    pub socket: Option<Socket<'a>>,
    /// The message after the socket.
    pub message: &'a str,
    pub what: What<'a>,
}

/// Parses one line, from a logfile or a syslog daemon's file.
pub fn parse_line(line: &[u8], syslog_year: i64) -> Option<PgbouncerLine<'_>> {
    let mut named = true;
    let (time, pid, level, msg) = match split_file_line(line) {
        Some(parts) => parts,
        None => {
            let sl = syslog::parse_header(line, syslog_year)?;
            named = syslog_ident_is_pgbouncer(line, &sl);
            (sl.time, Some(sl.pid), None, sl.content)
        }
    };
    let msg = std::str::from_utf8(msg).ok()?;
    let (socket, message) = match split_socket(msg) {
        Some((s, rest)) => (Some(s), rest),
        None => (None, msg),
    };
    let what = classify(socket.is_some(), message);
    if !named && socket.is_none() && what == What::Other {
        // A syslog line of another program.
        return None;
    }
    Some(PgbouncerLine {
        line: 0,
        time,
        pid,
        level,
        socket,
        message,
        what,
    })
}

/// Does this line look like pgbouncer's (for sniffing)? Through syslog,
/// the program must be named pgbouncer (its default `syslog_ident`).
pub fn looks_like_pgbouncer(line: &[u8]) -> bool {
    if split_file_line(line).is_some() {
        return true;
    }
    syslog::parse_header(line, 2026).is_some_and(|sl| syslog_ident_is_pgbouncer(line, &sl))
}

/// Is the program in the syslog header `pgbouncer[pid]`?
fn syslog_ident_is_pgbouncer(line: &[u8], sl: &syslog::SyslogLine<'_>) -> bool {
    // The content is the end of the line; the header is before it.
    let header = &line[..line.len() - sl.content.len()];
    memchr::memmem::find(header, b" pgbouncer[").is_some()
}

type FileParts<'a> = (Option<LogTime>, Option<u32>, Option<Level>, &'a [u8]);

/// `[TIME ][[]PID[]] LEVEL message`.
fn split_file_line(line: &[u8]) -> Option<FileParts<'_>> {
    let (time, mut pos) = match parse_pg_timestamp(line) {
        // A bare pid after a zoneless time reads as a numeric zone.
        Some((_, n)) if zone_is_number(&line[..n]) => {
            let (ms, n) = parse_wall_clock(line, b' ')?;
            (Some(zoneless(ms)), n)
        }
        Some((t, n)) => (Some(t), n),
        None => match parse_wall_clock(line, b' ') {
            Some((ms, n)) => (Some(zoneless(ms)), n),
            None => (None, 0),
        },
    };
    if time.is_some() {
        if line.get(pos) != Some(&b' ') {
            return None;
        }
        pos += 1;
    }
    let rest = &line[pos..];
    let (pid, n) = match rest.first() {
        Some(b'[') => {
            let end = memchr::memchr(b']', rest)?;
            (parse_u32(&rest[1..end])?, end + 1)
        }
        _ => {
            let end = rest.iter().position(|c| !c.is_ascii_digit())?;
            (parse_u32(&rest[..end])?, end)
        }
    };
    let rest = rest[n..].strip_prefix(b" ")?;
    let sp = memchr::memchr(b' ', rest)?;
    let level = Level::parse(&rest[..sp])?;
    Some((time, Some(pid), Some(level), &rest[sp + 1..]))
}

fn zone_is_number(stamp: &[u8]) -> bool {
    let zone = match memchr::memrchr(b' ', stamp) {
        Some(i) => &stamp[i + 1..],
        None => stamp,
    };
    zone.iter().all(u8::is_ascii_digit)
}

fn zoneless(ms: i64) -> LogTime {
    LogTime {
        epoch_ms: ms,
        zone_known: false,
        offset_min: None,
    }
}

fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// `C-0x…: db/user@host:port rest` → the socket and `rest`.
fn split_socket(msg: &str) -> Option<(Socket<'_>, &str)> {
    let server = match msg.as_bytes().get(..2)? {
        b"C-" => false,
        b"S-" => true,
        _ => return None,
    };
    let colon = msg.find(": ")?;
    let ptr = &msg[2..colon];
    if ptr.is_empty() || ptr.contains(' ') {
        return None;
    }
    let after = &msg[colon + 2..];
    let (who, rest) = after.split_once(' ').unwrap_or((after, ""));
    let at = who.rfind('@')?;
    let (names, addr) = (&who[..at], &who[at + 1..]);
    let (database, user) = names.split_once('/')?;
    let (host, port) = match addr.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => (h, p.parse().ok()),
        _ => (addr, None),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((
        Socket {
            server,
            database,
            user,
            host,
            port,
        },
        rest,
    ))
}

fn classify(has_socket: bool, message: &str) -> What<'_> {
    if has_socket {
        if let Some(rest) = message.strip_prefix("login attempt: ") {
            return login_attempt(rest).unwrap_or(What::Other);
        }
        if let Some(rest) = message.strip_prefix("login failed: ") {
            return match (field(rest, "db="), field(rest, "user=")) {
                (Some(database), Some(user)) => What::LoginFailed { database, user },
                _ => What::Other,
            };
        }
        if let Some(rest) = message.strip_prefix("closing because: ") {
            return closing(rest);
        }
        if message.starts_with("new connection to server") {
            return What::ServerConnection;
        }
    }
    if let Some(rest) = message.strip_prefix("pooler error: ") {
        return What::PoolerError { message: rest };
    }
    if message.starts_with("process up: ") {
        return What::ProcessUp;
    }
    if let Some(rest) = message
        .strip_prefix("stats: ")
        .or_else(|| message.strip_prefix("Stats: "))
    {
        if let Some(s) = pool_stats(rest) {
            return What::Stats(s);
        }
    }
    What::Other
}

fn login_attempt(rest: &str) -> Option<What<'_>> {
    Some(What::LoginAttempt {
        database: field(rest, "db=")?,
        user: field(rest, "user=")?,
        tls: field(rest, "tls=")?,
    })
}

/// The value of `key` in `db=a user=b tls=c`: up to the next ` key=`.
/// (Names may hold spaces; the keys after them are known.)
fn field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let (at, _) = s
        .match_indices(key)
        .find(|(i, _)| *i == 0 || s.as_bytes()[i - 1] == b' ')?;
    let rest = &s[at + key.len()..];
    let end = [" user=", " tls=", " replication="]
        .iter()
        .filter_map(|k| rest.find(k))
        .min()
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

fn closing(rest: &str) -> What<'_> {
    if let Some(open) = rest.rfind(" (age=") {
        let age = &rest[open + 6..];
        if let Some(secs) = age.strip_suffix("s)").and_then(|n| n.parse().ok()) {
            return What::Closing {
                reason: &rest[..open],
                age_s: Some(secs),
            };
        }
    }
    What::Closing {
        reason: rest,
        age_s: None,
    }
}

/// `12 xacts/s, 80 queries/s, in 1234 B/s, out 5678 B/s, xact 1652 us,
/// query 200 us, wait 12 us` (1.21+ adds `N client parses/s, N server
/// parses/s, N binds/s`; before 1.8 it was `N req/s, in N b/s, out N b/s,
/// query N us`).
fn pool_stats(rest: &str) -> Option<PoolStats> {
    let mut s = PoolStats::default();
    let mut known = 0;
    for item in rest.split(", ") {
        let (a, b) = item.split_once(' ')?;
        let num = |t: &str| t.parse::<u64>().ok();
        match (num(a), a, b) {
            (Some(n), _, "xacts/s") => s.xacts_per_s = n,
            (Some(n), _, "queries/s" | "req/s") => s.queries_per_s = n,
            (Some(n), _, "client parses/s") => s.client_parses_per_s = Some(n),
            (Some(n), _, "server parses/s") => s.server_parses_per_s = Some(n),
            (Some(n), _, "binds/s") => s.binds_per_s = Some(n),
            (None, key, v) => {
                let (n, unit) = v.split_once(' ')?;
                let n = num(n)?;
                match (key, unit) {
                    ("in", "B/s" | "b/s") => s.bytes_in_per_s = n,
                    ("out", "B/s" | "b/s") => s.bytes_out_per_s = n,
                    // `μs` in the status pgbouncer sends systemd (1.15+).
                    ("xact", "us" | "μs" | "µs") => s.xact_us = n,
                    ("query", "us" | "μs" | "µs") => s.query_us = n,
                    ("wait", "us" | "μs" | "µs") => s.wait_us = n,
                    _ => return None,
                }
            }
            _ => return None,
        }
        known += 1;
    }
    (known >= 2).then_some(s)
}

/// What the reader yields: a line, a stretch that is not one, or a blank line.
#[derive(Debug)]
pub enum PgbouncerItem<'a> {
    Line(PgbouncerLine<'a>),
    Malformed(Malformed),
    Blank,
}

/// Reads pgbouncer lines from one input.
pub struct PgbouncerReader {
    src: ByteSource,
    max: usize,
    year: i64,
    sample: String,
}

impl PgbouncerReader {
    pub(crate) fn new(src: ByteSource, max: usize, year: i64, sample: String) -> Self {
        PgbouncerReader {
            src,
            max,
            year,
            sample,
        }
    }

    pub fn sample_line(&self) -> &str {
        &self.sample
    }

    pub fn bytes_read(&self) -> u64 {
        self.src.bytes_read()
    }

    pub fn line_number(&self) -> u64 {
        self.src.line_number()
    }

    pub fn take_read_error(&mut self) -> Option<io::Error> {
        self.src.take_error()
    }

    /// The next item; `None` at the end of input.
    pub fn next_item(&mut self) -> io::Result<Option<PgbouncerItem<'_>>> {
        let year = self.year;
        let Some(l) = self.src.next_line(self.max)? else {
            return Ok(None);
        };
        let malformed = |kind, reason: &str| {
            Ok(Some(PgbouncerItem::Malformed(Malformed {
                line: l.number,
                offset: l.offset,
                kind,
                reason: reason.to_string(),
            })))
        };
        if l.too_long {
            return malformed(
                MalformedKind::TooLong,
                "line longer than --max-record-bytes",
            );
        }
        if l.bytes.trim_ascii().is_empty() {
            return Ok(Some(PgbouncerItem::Blank));
        }
        if !l.terminated {
            return malformed(MalformedKind::Truncated, "last line has no newline: cut");
        }
        match parse_line(l.bytes, year) {
            Some(p) => Ok(Some(PgbouncerItem::Line(PgbouncerLine {
                line: l.number,
                ..p
            }))),
            None if std::str::from_utf8(l.bytes).is_err() => {
                malformed(MalformedKind::InvalidUtf8, "not UTF-8 text")
            }
            None => malformed(MalformedKind::Garbage, "not a pgbouncer log line"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shapes the format strings of pgbouncer 1.12-1.24 give (src/client.c,
    // objects.c, server.c, stats.c), checked against the Debian 1.18 binary
    // by the end-to-end test; the prefixes are libusual's.
    #[test]
    fn parts_of_a_line() {
        let l = parse_line(
            b"2026-12-01 14:24:39.099 UTC [21474] LOG C-0x563f9f7868c0: (nodb)/postgres@[::1]:53504 login attempt: db=no such user=postgres tls=TLSv1.3/TLS_AES_256_GCM_SHA384 replication=no",
            2026,
        )
        .unwrap();
        assert_eq!(l.pid, Some(21474));
        assert_eq!(l.level, Some(Level::Log));
        let s = l.socket.unwrap();
        assert_eq!(
            (s.server, s.database, s.user, s.host, s.port),
            (false, "(nodb)", "postgres", "::1", Some(53504))
        );
        assert_eq!(
            l.what,
            What::LoginAttempt {
                database: "no such",
                user: "postgres",
                tls: "TLSv1.3/TLS_AES_256_GCM_SHA384"
            }
        );
        let l = parse_line(b"2026-12-01 14:24:42 1234 WARNING C-0x1: a/b@unix(77):6432 pooler error: no such database: x", 2026).unwrap();
        assert_eq!(
            (l.pid, l.level, l.socket.unwrap().host),
            (Some(1234), Some(Level::Warning), "unix(77)")
        );
        assert_eq!(
            l.what,
            What::PoolerError {
                message: "no such database: x"
            }
        );
        assert!(!l.time.unwrap().zone_known);
        let l = parse_line(b"2026-12-01 14:24:42.106 UTC [1] LOG C-0x1: a/b@1.2.3.4:5 closing because: client close request (age=2s)", 2026).unwrap();
        assert_eq!(
            l.what,
            What::Closing {
                reason: "client close request",
                age_s: Some(2)
            }
        );
    }

    #[test]
    fn stats_of_every_version() {
        let old = classify(false, "stats: 1037 xacts/s, 7225 queries/s, in 437050 B/s, out 192557 B/s, xact 1652 us, query 200 us, wait 6941 us");
        let What::Stats(s) = old else {
            panic!("{old:?}")
        };
        assert_eq!(
            (
                s.xacts_per_s,
                s.queries_per_s,
                s.bytes_in_per_s,
                s.wait_us,
                s.binds_per_s
            ),
            (1037, 7225, 437050, 6941, None)
        );
        let new = classify(false, "stats: 1 xacts/s, 2 queries/s, 3 client parses/s, 4 server parses/s, 5 binds/s, in 6 B/s, out 7 B/s, xact 8 us, query 9 us, wait 10 us");
        let What::Stats(s) = new else {
            panic!("{new:?}")
        };
        assert_eq!(
            (
                s.client_parses_per_s,
                s.binds_per_s,
                s.bytes_out_per_s,
                s.query_us
            ),
            (Some(3), Some(5), 7, 9)
        );
        assert_eq!(classify(false, "stats: a lot"), What::Other);
    }

    #[test]
    fn syslog_lines_and_postgres_lines() {
        let l = parse_line(b"Dec  1 14:24:39 db1 pgbouncer[21474]: C-0x5: app/alice@10.0.0.1:4000 new connection to server (from 10.0.0.2:5000)", 2026).unwrap();
        assert_eq!(
            (l.level, l.pid, l.what),
            (None, Some(21474), What::ServerConnection)
        );
        assert!(looks_like_pgbouncer(b"Dec  1 14:24:39 db1 pgbouncer[21474]: stats: 0 xacts/s, 0 queries/s, in 0 B/s, out 0 B/s, xact 0 us, query 0 us, wait 0 us"));
        // PostgreSQL's own lines are not pgbouncer's.
        assert!(!looks_like_pgbouncer(
            b"2026-12-01 14:24:39.099 UTC [21474] LOG:  connection received: host=[local]"
        ));
        assert!(!looks_like_pgbouncer(
            b"Dec  1 14:24:39 db1 postgres[21474]: [1-1] LOG:  checkpoint starting: time"
        ));
        // pgbouncer's first syslog lines hold no socket and no stats.
        assert!(looks_like_pgbouncer(
            b"2026-12-01T14:49:05.323808+00:00 vm pgbouncer[13221]: listening on 127.0.0.1:36549"
        ));
    }
}
