//! What pgbouncer's logs hold: logins, sessions, login failures, errors and
//! warnings, server connections, and the `stats:` lines as a series per
//! minute. Everything is an integer count or sum, so values from files,
//! hosts and days add up exactly with `+=` in any order.

use super::activity::SESSION_BUCKETS_S;
use super::{bump, merge_counts, normalize_message, Limits};
use crate::text::truncate_chars;
use crate::totals::add_to;
use pglog_logparse::format::pgbouncer::{Level, PgbouncerLine, PoolStats, What};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// pgbouncer's default `stats_period`, assumed for a file's only stats line.
const DEFAULT_STATS_PERIOD_MS: u64 = 60_000;

/// Client close reasons that end a login, not a session (the login-phase
/// `disconnect_client` reasons of src/client.c and the janitor's
/// `client_login_timeout`, 1.12-1.24). Matched as prefixes.
const LOGIN_FAILURES: &[&str] = &[
    "password authentication failed",
    "SASL authentication failed",
    "certificate authentication failed",
    "no such database",
    "no such user",
    "login rejected",
    "unix socket login rejected",
    "login failed",
    "no authentication method is found",
    "empty password returned by client",
    "client selected an invalid SASL authentication mechanism",
    "no username supplied",
    "username too long",
    "password too long",
    "client_login_timeout",
    "SSL required",
    "no more connections allowed",
    "client connections exceeded",
    "unsupported startup parameter",
    "unsupported options startup parameter",
    "pgbouncer cannot connect to server",
];

/// A reason with its values blanked; most (`client close request`) have
/// none, and are kept as they are without a copy per line.
fn blanked(reason: &str) -> std::borrow::Cow<'_, str> {
    if reason
        .bytes()
        .any(|c| c.is_ascii_digit() || c == b'"' || c == b'\'')
    {
        normalize_message(reason).into()
    } else {
        reason.into()
    }
}

pub fn is_login_failure(reason: &str) -> bool {
    LOGIN_FAILURES.iter().any(|p| reason.starts_with(p))
}

/// Durations in whole seconds (pgbouncer's `age=`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ages {
    pub count: u64,
    pub sum_s: u64,
    pub max_s: u64,
    /// Counts per [`SESSION_BUCKETS_S`] bucket, plus one for longer.
    pub histogram: Vec<u64>,
}

impl Ages {
    fn add(&mut self, s: u64) {
        add_to(&mut self.count, 1);
        add_to(&mut self.sum_s, s);
        self.max_s = self.max_s.max(s);
        self.histogram.resize(SESSION_BUCKETS_S.len() + 1, 0);
        let b = SESSION_BUCKETS_S
            .iter()
            .position(|&u| (s as f64) < u)
            .unwrap_or(SESSION_BUCKETS_S.len());
        add_to(&mut self.histogram[b], 1);
    }

    fn merge(&mut self, o: &Ages) {
        add_to(&mut self.count, o.count);
        add_to(&mut self.sum_s, o.sum_s);
        self.max_s = self.max_s.max(o.max_s);
        // A forged state may hold any length; keep the known buckets.
        let n = SESSION_BUCKETS_S.len() + 1;
        self.histogram.resize(n, 0);
        for (i, v) in o.histogram.iter().take(n).enumerate() {
            add_to(&mut self.histogram[i], *v);
        }
    }
}

/// Counts by database, user and client host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Who {
    pub total: u64,
    pub by_database: BTreeMap<String, u64>,
    pub by_user: BTreeMap<String, u64>,
    pub by_host: BTreeMap<String, u64>,
}

impl Who {
    fn add(&mut self, database: &str, user: &str, host: &str) {
        add_to(&mut self.total, 1);
        bump(&mut self.by_database, database, 1);
        bump(&mut self.by_user, user, 1);
        bump(&mut self.by_host, host, 1);
    }

    fn merge(&mut self, o: &Who) {
        add_to(&mut self.total, o.total);
        merge_counts(&mut self.by_database, &o.by_database);
        merge_counts(&mut self.by_user, &o.by_user);
        merge_counts(&mut self.by_host, &o.by_host);
    }
}

/// A warning or error message, grouped with its values blanked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub level: String,
    pub count: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// The earliest one as logged, with its socket.
    pub sample: String,
}

/// The `stats:` lines of one minute (by the line's time), as totals over
/// the periods they cover: each line's rate times its period, rounded to a
/// whole count per line (so that sums are exact in any merge order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsMinute {
    pub lines: u64,
    /// Milliseconds the lines cover.
    pub covered_ms: u64,
    pub xacts: u64,
    pub queries: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Mean times weighted by the transactions/queries they are the mean
    /// of (µs × count).
    pub xact_us_weighted: u64,
    pub query_us_weighted: u64,
    /// Client wait, µs.
    pub wait_us: u64,
}

impl StatsMinute {
    fn add(&mut self, s: &PoolStats, period_ms: u64) {
        // rate/s × ms / 1000, to the nearest whole.
        let over = |rate: u64| rate.saturating_mul(period_ms).saturating_add(500) / 1000;
        let xacts = over(s.xacts_per_s);
        let queries = over(s.queries_per_s);
        add_to(&mut self.lines, 1);
        add_to(&mut self.covered_ms, period_ms);
        add_to(&mut self.xacts, xacts);
        add_to(&mut self.queries, queries);
        add_to(&mut self.bytes_in, over(s.bytes_in_per_s));
        add_to(&mut self.bytes_out, over(s.bytes_out_per_s));
        add_to(&mut self.xact_us_weighted, s.xact_us.saturating_mul(xacts));
        add_to(
            &mut self.query_us_weighted,
            s.query_us.saturating_mul(queries),
        );
        add_to(&mut self.wait_us, over(s.wait_us));
    }

    pub fn merge(&mut self, o: &StatsMinute) {
        add_to(&mut self.lines, o.lines);
        add_to(&mut self.covered_ms, o.covered_ms);
        add_to(&mut self.xacts, o.xacts);
        add_to(&mut self.queries, o.queries);
        add_to(&mut self.bytes_in, o.bytes_in);
        add_to(&mut self.bytes_out, o.bytes_out);
        add_to(&mut self.xact_us_weighted, o.xact_us_weighted);
        add_to(&mut self.query_us_weighted, o.query_us_weighted);
        add_to(&mut self.wait_us, o.wait_us);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgbouncerStats {
    /// pgbouncer lines read (malformed ones are in the summary's count).
    pub lines: u64,
    pub by_level: BTreeMap<String, u64>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// `login attempt` lines, by the database and user asked for.
    pub logins: Who,
    /// Client closes that ended a login ([`LOGIN_FAILURES`]), by socket.
    pub login_failures: Who,
    pub login_failure_reasons: BTreeMap<String, u64>,
    /// Client closes after a login: sessions, with their `age=` durations.
    pub sessions: Who,
    pub session_s: Ages,
    pub close_reasons: BTreeMap<String, u64>,
    /// `new connection to server`, by database and user of the pool.
    pub server_connections: Who,
    pub server_closes: u64,
    pub server_close_reasons: BTreeMap<String, u64>,
    pub server_s: Ages,
    /// `pooler error:` lines (errors sent to clients).
    pub pooler_errors: u64,
    /// WARNING, ERROR and FATAL lines by message.
    pub messages: BTreeMap<String, Message>,
    pub other_messages: u64,
    /// Keyed by the minute's start, epoch ms (UTC).
    pub minutes: BTreeMap<i64, StatsMinute>,
}

impl PgbouncerStats {
    pub fn merge(&mut self, o: &PgbouncerStats, l: &Limits) {
        add_to(&mut self.lines, o.lines);
        merge_counts(&mut self.by_level, &o.by_level);
        self.first_ms = match (self.first_ms, o.first_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_ms = self.last_ms.max(o.last_ms);
        self.logins.merge(&o.logins);
        self.login_failures.merge(&o.login_failures);
        merge_counts(&mut self.login_failure_reasons, &o.login_failure_reasons);
        self.sessions.merge(&o.sessions);
        self.session_s.merge(&o.session_s);
        merge_counts(&mut self.close_reasons, &o.close_reasons);
        self.server_connections.merge(&o.server_connections);
        add_to(&mut self.server_closes, o.server_closes);
        merge_counts(&mut self.server_close_reasons, &o.server_close_reasons);
        self.server_s.merge(&o.server_s);
        add_to(&mut self.pooler_errors, o.pooler_errors);
        for (k, m) in &o.messages {
            self.add_message(k, m.clone(), l);
        }
        add_to(&mut self.other_messages, o.other_messages);
        for (k, m) in &o.minutes {
            self.minutes.entry(*k).or_default().merge(m);
        }
    }

    fn add_message(&mut self, key: &str, m: Message, l: &Limits) {
        if let Some(e) = self.messages.get_mut(key) {
            add_to(&mut e.count, m.count);
            if e.first_ms.is_none() || m.first_ms.is_some() && m.first_ms < e.first_ms {
                e.first_ms = m.first_ms;
                e.sample = m.sample;
            }
            e.last_ms = e.last_ms.max(m.last_ms);
        } else if self.messages.len() < l.error_messages {
            self.messages.insert(key.to_string(), m);
        } else {
            add_to(&mut self.other_messages, m.count);
        }
    }
}

/// The message with the connection it is about, `db/user@host: message`.
fn with_socket(l: &PgbouncerLine<'_>) -> String {
    match l.socket {
        Some(s) => format!("{}/{}@{}: {}", s.database, s.user, s.host, l.message),
        None => l.message.to_string(),
    }
}

/// Folds one file's lines, in order. A `stats:` line's rates are over the
/// time since the stats line before it (or since `process up`); a file's
/// first one waits for the next to learn the period.
pub struct PgbouncerFolder {
    pub stats: PgbouncerStats,
    limits: Limits,
    /// The last stats line's (or start's) time.
    period_start: Option<i64>,
    /// A first stats line whose period is not known yet.
    pending: Option<(i64, PoolStats)>,
}

impl PgbouncerFolder {
    pub fn new(limits: Limits) -> PgbouncerFolder {
        PgbouncerFolder {
            stats: PgbouncerStats::default(),
            limits,
            period_start: None,
            pending: None,
        }
    }

    pub fn add(&mut self, l: &PgbouncerLine<'_>) {
        let st = &mut self.stats;
        add_to(&mut st.lines, 1);
        let time = l.time.map(|t| t.epoch_ms);
        if let Some(t) = time {
            st.first_ms = Some(st.first_ms.map_or(t, |f| f.min(t)));
            st.last_ms = Some(st.last_ms.map_or(t, |f| f.max(t)));
        }
        if let Some(level) = l.level {
            bump(&mut st.by_level, level.as_str(), 1);
        }
        let (database, user, host) = l
            .socket
            .map(|s| (s.database, s.user, s.host))
            .unwrap_or(("", "", ""));
        match l.what {
            What::LoginAttempt { database, user, .. } => st.logins.add(database, user, host),
            What::Closing { reason, age_s } if l.socket.is_some_and(|s| s.server) => {
                add_to(&mut st.server_closes, 1);
                bump(&mut st.server_close_reasons, &blanked(reason), 1);
                if let Some(a) = age_s {
                    st.server_s.add(a);
                }
            }
            What::Closing { reason, age_s } => {
                let reason = blanked(reason);
                if is_login_failure(&reason) {
                    st.login_failures.add(database, user, host);
                    bump(&mut st.login_failure_reasons, &reason, 1);
                } else {
                    st.sessions.add(database, user, host);
                    bump(&mut st.close_reasons, &reason, 1);
                    if let Some(a) = age_s {
                        st.session_s.add(a);
                    }
                }
            }
            What::ServerConnection => st.server_connections.add(database, user, host),
            What::PoolerError { .. } => add_to(&mut st.pooler_errors, 1),
            What::ProcessUp => {
                self.period_start = time;
                self.pending = None;
            }
            What::Stats(s) => self.add_stats(time, s),
            What::LoginFailed { .. } | What::Other => {}
        }
        if l.level.is_some_and(Level::is_problem) || matches!(l.what, What::PoolerError { .. }) {
            self.add_problem(l, time);
        }
    }

    /// A line the filters leave out: not counted, but a stats line or
    /// `process up` still ends the period of the next stats line.
    pub fn pass(&mut self, l: &PgbouncerLine<'_>) {
        let time = l.time.map(|t| t.epoch_ms);
        match l.what {
            What::ProcessUp => {
                self.period_start = time;
                self.pending = None;
            }
            What::Stats(_) => {
                let Some(t) = time else { return };
                if let Some((pt, ps)) = self.pending.take() {
                    self.put(pt, &ps, t.saturating_sub(pt).max(0) as u64);
                }
                self.period_start = Some(t);
            }
            _ => {}
        }
    }

    fn add_problem(&mut self, l: &PgbouncerLine<'_>, time: Option<i64>) {
        let level = l.level.map_or("WARNING", Level::as_str);
        let m = Message {
            level: level.to_string(),
            count: 1,
            first_ms: time,
            last_ms: time,
            sample: truncate_chars(&with_socket(l), self.limits.sample_chars),
        };
        let key = normalize_message(l.message);
        let limits = self.limits;
        self.stats.add_message(&key, m, &limits);
    }

    fn add_stats(&mut self, time: Option<i64>, s: PoolStats) {
        let Some(t) = time else { return };
        match (self.period_start, self.pending.take()) {
            (_, Some((pt, ps))) => {
                let period = t.saturating_sub(pt).max(0) as u64;
                self.put(pt, &ps, period);
                self.put(t, &s, period);
            }
            (Some(start), None) => self.put(t, &s, t.saturating_sub(start).max(0) as u64),
            (None, None) => self.pending = Some((t, s)),
        }
        self.period_start = Some(t);
    }

    fn put(&mut self, t: i64, s: &PoolStats, period_ms: u64) {
        let minute = t - t.rem_euclid(60_000);
        self.stats
            .minutes
            .entry(minute)
            .or_default()
            .add(s, period_ms);
    }

    pub fn finish(mut self) -> PgbouncerStats {
        if let Some((t, s)) = self.pending.take() {
            self.put(t, &s, DEFAULT_STATS_PERIOD_MS);
        }
        self.stats
    }
}
