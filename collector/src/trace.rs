//! Pieces of X-Ray segment documents shared by the PostgreSQL cycle and
//! the pgbouncer source.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};

/// A subsegment's or segment's `cause`: one exception with `message`.
pub fn cause(message: &str) -> Json {
    json!({ "exceptions": [{ "id": hex_id(16), "message": message }] })
}

/// Seconds since 1970, as X-Ray takes times.
pub fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// `len` random hex digits, for segment and trace ids.
pub fn hex_id(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap())
        .collect()
}
