//! The statements of lock holders, named across the ranges of a split read.
//!
//! A lock wait names the holder's pid; its statement is the last one that
//! pid logged. Read in ranges, that statement may lie in an earlier range
//! than the wait. So each range hands on, with its statistics, the last
//! statement of each pid it saw ([`LastStatements`]) and the waits whose
//! holder it did not see at all ([`Unresolved`]). The ranges are put
//! together in order ([`RangeBlockers`]), and a range's unresolved waits
//! look at the ranges before it, latest first: what one pass over the file
//! would have found.

use super::minute_detail::MinuteDetail;
use std::collections::{BTreeMap, HashMap, HashSet};

type PidMap<V> = HashMap<u32, V, foldhash::fast::FixedState>;
type PidSet = HashSet<u32, foldhash::fast::FixedState>;

/// Pids kept, statements and ended sessions each. Past it the table starts
/// again (a holder not seen since is then unnamed).
const MAX_PIDS: usize = 16 * 1024;
/// Unresolved waits a range keeps; later ones stay unnamed.
const MAX_UNRESOLVED: usize = 4 * 1024;

/// What the records read so far say of a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Its last logged statement.
    Statement(u64),
    /// Its session ended, and the pid logged no statement since.
    Ended,
    /// Nothing: the answer lies before these records, if anywhere.
    NotSeen,
}

/// Each backend's last logged statement (its fingerprint), and the pids
/// whose session ended since.
#[derive(Debug, Default)]
pub(crate) struct LastStatements {
    by_pid: PidMap<u64>,
    ended: PidSet,
}

impl LastStatements {
    pub(crate) fn set(&mut self, pid: u32, fingerprint: u64) {
        if self.by_pid.len() >= MAX_PIDS && !self.by_pid.contains_key(&pid) {
            self.by_pid.clear();
        }
        self.by_pid.insert(pid, fingerprint);
        self.ended.remove(&pid);
    }

    pub(crate) fn ended(&mut self, pid: u32) {
        self.by_pid.remove(&pid);
        if self.ended.len() >= MAX_PIDS {
            self.ended.clear();
        }
        self.ended.insert(pid);
    }

    pub(crate) fn get(&self, pid: u32) -> Holder {
        match self.by_pid.get(&pid) {
            Some(f) => Holder::Statement(*f),
            None if self.ended.contains(&pid) => Holder::Ended,
            None => Holder::NotSeen,
        }
    }

    /// Takes in what later records said: theirs is the newer word.
    fn absorb(&mut self, later: LastStatements) {
        for pid in later.ended {
            self.ended(pid);
        }
        for (pid, f) in later.by_pid {
            self.set(pid, f);
        }
    }
}

/// A lock cell of the minute detail and the holder pid its waits named.
type WaitKey = (i64, String, u32);

/// Lock waits whose holder the range's records did not name, with how many
/// times each was counted.
#[derive(Debug, Default)]
pub(crate) struct Unresolved {
    waits: BTreeMap<WaitKey, u64>,
}

impl Unresolved {
    /// Notes a wait in the lock cell `lock` of the minute `start`.
    pub(crate) fn add(&mut self, start: i64, lock: &str, holder: u32) {
        let key = (start, lock.to_string(), holder);
        if let Some(n) = self.waits.get_mut(&key) {
            *n = n.saturating_add(1);
        } else if self.waits.len() < MAX_UNRESOLVED {
            self.waits.insert(key, 1);
        }
    }
}

/// What a range hands on for naming holders in the ranges after it.
#[derive(Debug, Default)]
pub struct BlockerCarry {
    pub(crate) statements: LastStatements,
    pub(crate) unresolved: Unresolved,
}

/// The ranges of one input put together in order: the holders' statements
/// as of the last range added.
#[derive(Debug, Default)]
pub struct RangeBlockers {
    statements: LastStatements,
}

impl RangeBlockers {
    /// Names the holders of the next range's unresolved waits in `detail`
    /// (which holds that range's cells already), then takes in its table.
    pub fn add(&mut self, range: BlockerCarry, detail: &mut MinuteDetail) {
        for ((start, lock, pid), n) in range.unresolved.waits {
            if let Holder::Statement(f) = self.statements.get(pid) {
                detail.add_blocker(start, &lock, f, n);
            }
        }
        self.statements.absorb(range.statements);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_word_on_a_pid_wins() {
        let mut earlier = LastStatements::default();
        earlier.set(1, 10);
        earlier.set(2, 20);
        earlier.set(3, 30);
        let mut later = LastStatements::default();
        later.ended(1);
        later.set(2, 21);
        later.ended(4);
        earlier.absorb(later);
        assert_eq!(earlier.get(1), Holder::Ended);
        assert_eq!(earlier.get(2), Holder::Statement(21));
        assert_eq!(earlier.get(3), Holder::Statement(30));
        assert_eq!(earlier.get(4), Holder::Ended);
        assert_eq!(earlier.get(5), Holder::NotSeen);
        earlier.set(4, 40);
        assert_eq!(earlier.get(4), Holder::Statement(40));
    }

    #[test]
    fn unresolved_waits_are_bounded() {
        let mut u = Unresolved::default();
        for pid in 0..(MAX_UNRESOLVED as u32 + 10) {
            u.add(0, "lock", pid);
        }
        u.add(0, "lock", 0);
        assert_eq!(u.waits.len(), MAX_UNRESOLVED);
        assert_eq!(u.waits[&(0, "lock".to_string(), 0)], 2);
    }
}
