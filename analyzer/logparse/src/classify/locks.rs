//! Lock messages: waits logged by `log_lock_waits` (`process N still waiting
//! for`, `acquired`, `avoided deadlock`, `detected deadlock while waiting`)
//! with the lock they name read into its parts, and the errors of a lock
//! that was not available (NOWAIT, SKIP LOCKED's neighbours: 55P03).
//! `deadlock detected` and `canceling statement due to lock timeout` are
//! classified with the other errors in `mod.rs`.

use super::EventKind;
use crate::record::LogRecord;
use serde::Serialize;

/// A lock wait: `process 123 still waiting for ShareLock on transaction 456 after 1000.1 ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockWait {
    pub waiting_pid: Option<u32>,
    pub mode: String,
    /// What is locked: `transaction 456`, `relation 16384 of database 5`, `tuple (0,1) of ...`.
    pub object: String,
    /// `object` read into its parts.
    pub lock: LockTag,
    pub wait_ms: Option<f64>,
    /// Pids holding the lock, from the DETAIL.
    pub holders: Vec<u32>,
}

/// The locked object of a lock message, as the server describes it
/// (`DescribeLockTag` in src/backend/storage/lmgr/lmgr.c).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LockTag {
    /// `pg_locks.locktype`: relation, extend, frozenid, page, tuple,
    /// transactionid, virtualxid, spectoken, object, userlock, advisory,
    /// applytransaction; `unknown` for anything else.
    pub lock_type: &'static str,
    pub database_oid: Option<u32>,
    pub relation_oid: Option<u32>,
    pub page: Option<u32>,
    /// The tuple's line pointer on `page`.
    pub tuple: Option<u32>,
    pub transaction_id: Option<u64>,
    /// `backend/local xid` of a virtual transaction.
    pub virtual_transaction: Option<String>,
    /// The object and its catalog (`object N of class C`), or the
    /// subscription of a remote transaction.
    pub object_oid: Option<u32>,
    pub class_oid: Option<u32>,
    /// The numbers of an advisory or user lock, as logged (`[5,0,42,1]`).
    pub key: Vec<u32>,
}

/// `process N ...` lock messages of `log_lock_waits`.
pub fn process_message(msg: &str, detail: Option<&str>) -> Option<EventKind> {
    if let Some(w) = lock_wait(msg, "still waiting for ", detail) {
        Some(EventKind::LockWait(Box::new(w)))
    } else if let Some(w) = lock_wait(msg, "acquired ", detail) {
        Some(EventKind::LockAcquired(Box::new(w)))
    } else if let Some(w) = lock_wait(msg, "avoided deadlock for ", detail) {
        Some(EventKind::DeadlockAvoided(Box::new(w)))
    } else {
        lock_wait(msg, "detected deadlock while waiting for ", detail)
            .map(|w| EventKind::DeadlockWhileWaiting(Box::new(w)))
    }
}

/// `could not obtain lock on row in relation "t"` and `could not obtain
/// lock on relation "t"` (55P03).
pub fn classify_error(r: &LogRecord) -> Option<EventKind> {
    let rest = r.message.strip_prefix("could not obtain lock on ")?;
    let (row, rest) = match rest.strip_prefix("row in relation \"") {
        Some(rest) => (true, rest),
        None => (false, rest.strip_prefix("relation \"")?),
    };
    let relation = rest.rsplit_once('"').map(|(name, _)| name)?;
    Some(EventKind::LockNotAvailable {
        relation: relation.to_string(),
        row,
    })
}

pub fn lock_wait(msg: &str, verb: &str, detail: Option<&str>) -> Option<LockWait> {
    let rest = msg.strip_prefix("process ")?;
    let (pid, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix(verb)?;
    let (mode, rest) = rest.split_once(" on ")?;
    let (object, wait) = match rest.rsplit_once(" after ") {
        Some((o, w)) => (o, w.strip_suffix(" ms").and_then(|v| v.parse().ok())),
        None => (rest, None),
    };
    // `avoided deadlock for X on Y by rearranging queue order after N ms`
    let object = object
        .strip_suffix(" by rearranging queue order")
        .unwrap_or(object);
    let holders = detail
        .and_then(|d| {
            d.split_once("holding the lock: ")
                .or_else(|| d.split_once("holding the locks: "))
        })
        .map(|(_, h)| {
            h.split(['.', ','].as_ref())
                .map_while(|p| p.trim().parse::<u32>().ok())
                .collect()
        })
        .unwrap_or_default();
    Some(LockWait {
        waiting_pid: pid.parse().ok(),
        mode: mode.to_string(),
        object: object.to_string(),
        lock: lock_tag(object),
        wait_ms: wait,
        holders,
    })
}

/// Reads `relation 16384 of database 5`, `tuple (0,1) of relation ...`,
/// `advisory lock [5,0,42,1]`, ... into a [`LockTag`].
pub fn lock_tag(object: &str) -> LockTag {
    let mut t = LockTag {
        lock_type: "unknown",
        ..LockTag::default()
    };
    let of_relation = |t: &mut LockTag, rest: &str| {
        let (rel, db) = rest.split_once(" of database ").unwrap_or((rest, ""));
        t.relation_oid = rel.parse().ok();
        t.database_oid = db.parse().ok();
    };
    if let Some(rest) = object.strip_prefix("relation ") {
        t.lock_type = "relation";
        of_relation(&mut t, rest);
    } else if let Some(rest) = object.strip_prefix("extension of relation ") {
        t.lock_type = "extend";
        of_relation(&mut t, rest);
    } else if let Some(rest) = object.strip_prefix("pg_database.datfrozenxid of database ") {
        t.lock_type = "frozenid";
        t.database_oid = rest.parse().ok();
    } else if let Some(rest) = object.strip_prefix("page ") {
        t.lock_type = "page";
        if let Some((page, rel)) = rest.split_once(" of relation ") {
            t.page = page.parse().ok();
            of_relation(&mut t, rel);
        }
    } else if let Some(rest) = object.strip_prefix("tuple (") {
        t.lock_type = "tuple";
        if let Some((ctid, rel)) = rest.split_once(") of relation ") {
            let (page, tuple) = ctid.split_once(',').unwrap_or((ctid, ""));
            t.page = page.parse().ok();
            t.tuple = tuple.parse().ok();
            of_relation(&mut t, rel);
        }
    } else if let Some(rest) = object.strip_prefix("transaction ") {
        t.lock_type = "transactionid";
        t.transaction_id = rest.parse().ok();
    } else if let Some(rest) = object.strip_prefix("virtual transaction ") {
        t.lock_type = "virtualxid";
        t.virtual_transaction = Some(rest.to_string());
    } else if let Some(rest) = object.strip_prefix("speculative token ") {
        t.lock_type = "spectoken";
        if let Some((_, xid)) = rest.split_once(" of transaction ") {
            t.transaction_id = xid.parse().ok();
        }
    } else if let Some(rest) = object.strip_prefix("object ") {
        t.lock_type = "object";
        if let Some((obj, rest)) = rest.split_once(" of class ") {
            t.object_oid = obj.parse().ok();
            let (class, db) = rest.split_once(" of database ").unwrap_or((rest, ""));
            t.class_oid = class.parse().ok();
            t.database_oid = db.parse().ok();
        }
    } else if let Some(rest) = object.strip_prefix("advisory lock [") {
        t.lock_type = "advisory";
        t.key = numbers(rest);
        t.database_oid = t.key.first().copied();
    } else if let Some(rest) = object.strip_prefix("user lock [") {
        t.lock_type = "userlock";
        t.key = numbers(rest);
    } else if let Some(rest) = object.strip_prefix("remote transaction ") {
        // PostgreSQL 16+: `remote transaction %u of subscription %u of database %u`.
        t.lock_type = "applytransaction";
        if let Some((xid, rest)) = rest.split_once(" of subscription ") {
            t.transaction_id = xid.parse().ok();
            let (sub, db) = rest.split_once(" of database ").unwrap_or((rest, ""));
            t.object_oid = sub.parse().ok();
            t.database_oid = db.parse().ok();
        }
    }
    t
}

/// `5,0,42,1]` -> [5, 0, 42, 1]
fn numbers(s: &str) -> Vec<u32> {
    s.trim_end_matches(']')
        .split(',')
        .map_while(|n| n.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The forms of DescribeLockTag (src/backend/storage/lmgr/lmgr.c,
    // REL_15_STABLE; `remote transaction` is REL_16_STABLE's) that the
    // sample log has no wait on.
    #[test]
    fn lock_tags_are_read_into_their_parts() {
        let t = lock_tag("extension of relation 16399 of database 5");
        assert_eq!(
            (t.lock_type, t.relation_oid, t.database_oid),
            ("extend", Some(16399), Some(5))
        );
        let t = lock_tag("page 3 of relation 16399 of database 5");
        assert_eq!(
            (t.lock_type, t.page, t.relation_oid),
            ("page", Some(3), Some(16399))
        );
        let t = lock_tag("virtual transaction 4/123");
        assert_eq!(t.lock_type, "virtualxid");
        assert_eq!(t.virtual_transaction.as_deref(), Some("4/123"));
        let t = lock_tag("speculative token 7 of transaction 900");
        assert_eq!((t.lock_type, t.transaction_id), ("spectoken", Some(900)));
        let t = lock_tag("object 16400 of class 1259 of database 5");
        assert_eq!(
            (t.lock_type, t.object_oid, t.class_oid, t.database_oid),
            ("object", Some(16400), Some(1259), Some(5))
        );
        let t = lock_tag("pg_database.datfrozenxid of database 5");
        assert_eq!((t.lock_type, t.database_oid), ("frozenid", Some(5)));
        let t = lock_tag("user lock [1,2,3]");
        assert_eq!((t.lock_type, t.key.clone()), ("userlock", vec![1, 2, 3]));
        let t = lock_tag("remote transaction 745 of subscription 16390 of database 5");
        assert_eq!(
            (t.lock_type, t.transaction_id, t.object_oid, t.database_oid),
            ("applytransaction", Some(745), Some(16390), Some(5))
        );
        assert_eq!(
            lock_tag("unrecognized locktag type 99").lock_type,
            "unknown"
        );
    }
}
