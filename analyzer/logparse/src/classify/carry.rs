//! The classifier's state, and how it is carried from one part of a log to
//! the next, so that a log read in parts classifies every record as a
//! reading from its start would.
//!
//! A classifier started in the middle of a log ([`Classifier::mid_log`])
//! knows only what it read itself. Where an answer depends on a record
//! before its start (a `duration:` line whose statement text it has not
//! seen, a parallel worker whose leader it has not seen), it answers as if
//! there were none and notes the question in [`Needs`]. Once the exact
//! state at its start is known ([`Carry`], built from the previous parts'
//! [`Handoff`]s), [`Carry::answers`] tells whether any of those answers was
//! wrong; then the part is read again with [`Classifier::resume`].
//!
//! [`Classifier::mid_log`]: super::Classifier::mid_log
//! [`Classifier::resume`]: super::Classifier::resume

use super::statement::Statement;
use super::SessionInfo;
use crate::record::Short;
use std::collections::hash_map::Entry;
use std::collections::BTreeSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Maps keyed by pid, looked up for nearly every record: a pid needs no
/// keyed hash, one multiplication spreads it.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<PidHasher>>;

#[derive(Default)]
struct PidHasher(u64);

impl Hasher for PidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The exact classifier state at a point of a log: each process's statement
/// text waiting for its `duration:` line, and each session's user, database
/// and application. The default is the state at the start of a log.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Carry {
    logged: HashMap<u32, Statement>,
    sessions: HashMap<u32, SessionInfo>,
}

/// Questions a mid-log classifier answered without knowing the state before
/// its start.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Pids whose `duration:` line may belong to statement text logged before.
    statements: BTreeSet<u32>,
    /// Leaders whose session a parallel worker took its user and database from.
    sessions: BTreeSet<u32>,
    /// Leaders whose application was set before (their user and database were not).
    applications: BTreeSet<u32>,
}

impl Needs {
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.sessions.is_empty() && self.applications.is_empty()
    }
}

/// What a stretch of a log changed in the classifier state: per pid, the
/// new waiting statement and session, or `None` where they ended.
#[derive(Debug, Default, Clone)]
pub struct Handoff {
    logged: HashMap<u32, Option<Statement>>,
    /// With whether the application is still the one from before the stretch.
    sessions: HashMap<u32, Option<(SessionInfo, bool)>>,
}

impl Carry {
    /// The state after a stretch of log that starts where `self` is.
    pub fn apply(&mut self, h: &Handoff) {
        for (pid, s) in &h.logged {
            match s {
                Some(s) => {
                    self.logged.insert(*pid, s.clone());
                }
                None => {
                    self.logged.remove(pid);
                }
            }
        }
        for (pid, s) in &h.sessions {
            match s {
                Some((info, inherited)) => {
                    let mut info = info.clone();
                    if *inherited {
                        info.application =
                            self.sessions.get(pid).and_then(|o| o.application.clone());
                    }
                    self.sessions.insert(*pid, info);
                }
                None => {
                    self.sessions.remove(pid);
                }
            }
        }
    }

    /// Would this state have answered any of `needs` differently from "none"?
    pub fn answers(&self, needs: &Needs) -> bool {
        needs.statements.iter().any(|p| self.logged.contains_key(p))
            || needs.sessions.iter().any(|p| self.sessions.contains_key(p))
            || needs.applications.iter().any(|p| {
                self.sessions
                    .get(p)
                    .is_some_and(|i| i.application.is_some())
            })
    }
}

/// A process's statement text waiting for its `duration:` line. `None`
/// records that it has none (kept only when reading part of a log).
#[derive(Debug, Clone)]
struct StatementSlot {
    statement: Option<Statement>,
    /// Set or cleared since the changes are tracked.
    changed: bool,
}

#[derive(Debug, Clone)]
struct SessionSlot {
    /// `None`: the session ended (kept only when reading part of a log).
    info: Option<SessionInfo>,
    /// Set by records without an application only, in a mid-log classifier
    /// that did not see the session before: the application is the one from
    /// before its start.
    application_inherited: bool,
    changed: bool,
}

/// The classifier's state, with the bookkeeping for reading part of a log.
#[derive(Debug, Default)]
pub(super) struct State {
    logged: HashMap<u32, StatementSlot>,
    sessions: HashMap<u32, SessionSlot>,
    /// Started in the middle of a log: what was not seen is unknown.
    mid_log: bool,
    /// Changes are kept for the handoff and needs are noted.
    tracking: bool,
    needs: Needs,
}

impl State {
    pub(super) fn mid_log() -> State {
        State {
            mid_log: true,
            ..State::default()
        }
    }

    pub(super) fn resume(carry: Carry) -> State {
        let slot = |statement| StatementSlot {
            statement: Some(statement),
            changed: false,
        };
        State {
            logged: carry
                .logged
                .into_iter()
                .map(|(p, s)| (p, slot(s)))
                .collect(),
            sessions: carry
                .sessions
                .into_iter()
                .map(|(p, info)| {
                    let s = SessionSlot {
                        info: Some(info),
                        application_inherited: false,
                        changed: false,
                    };
                    (p, s)
                })
                .collect(),
            ..State::default()
        }
    }

    pub(super) fn track_changes(&mut self) {
        self.tracking = true;
    }

    /// Ended state is remembered (as known, and for the handoff) only when
    /// reading part of a log.
    fn keeps_ended(&self) -> bool {
        self.mid_log || self.tracking
    }

    /// A record of `pid` with its user or database.
    pub(super) fn session_seen(
        &mut self,
        pid: u32,
        user: &Option<Short>,
        database: &Option<Short>,
        application: &Option<Short>,
        host: &Option<Short>,
    ) {
        let (mid_log, tracking) = (self.mid_log, self.tracking);
        let slot = match self.sessions.entry(pid) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(SessionSlot {
                info: None,
                application_inherited: mid_log,
                changed: false,
            }),
        };
        let info = slot.info.get_or_insert_with(SessionInfo::default);
        info.user.clone_from(user);
        info.database.clone_from(database);
        info.host.clone_from(host);
        // Without an application here, the session keeps the one it had.
        if application.is_some() {
            info.application.clone_from(application);
            slot.application_inherited = false;
        }
        slot.changed |= tracking;
    }

    /// The session a parallel worker of `leader` takes its user, database
    /// and (when `with_application`) application from.
    pub(super) fn leader(&mut self, leader: u32, with_application: bool) -> Option<&SessionInfo> {
        match self.sessions.get(&leader) {
            Some(SessionSlot {
                info: Some(info),
                application_inherited,
                ..
            }) => {
                if with_application && *application_inherited && self.tracking {
                    self.needs.applications.insert(leader);
                }
                Some(info)
            }
            Some(_) => None,
            None => {
                if self.mid_log && self.tracking {
                    self.needs.sessions.insert(leader);
                }
                None
            }
        }
    }

    /// Statement text of `pid` that waits for its `duration:` line.
    pub(super) fn log_statement(&mut self, pid: u32, s: Statement) {
        let changed = self.tracking;
        self.logged.insert(
            pid,
            StatementSlot {
                statement: Some(s),
                changed,
            },
        );
    }

    /// The statement text a `duration:` line of `pid` ends.
    pub(super) fn take_statement(&mut self, pid: u32) -> Option<Statement> {
        if !self.keeps_ended() {
            return self.logged.remove(&pid).and_then(|s| s.statement);
        }
        let tracking = self.tracking;
        match self.logged.entry(pid) {
            Entry::Occupied(o) => {
                let slot = o.into_mut();
                slot.changed |= tracking;
                slot.statement.take()
            }
            Entry::Vacant(v) => {
                if self.mid_log && tracking {
                    self.needs.statements.insert(pid);
                }
                v.insert(StatementSlot {
                    statement: None,
                    changed: tracking,
                });
                None
            }
        }
    }

    /// `pid` disconnected: its statement and session end.
    pub(super) fn disconnected(&mut self, pid: u32) {
        if !self.keeps_ended() {
            self.logged.remove(&pid);
            self.sessions.remove(&pid);
            return;
        }
        let changed = self.tracking;
        self.logged.insert(
            pid,
            StatementSlot {
                statement: None,
                changed,
            },
        );
        self.sessions.insert(
            pid,
            SessionSlot {
                info: None,
                application_inherited: false,
                changed,
            },
        );
    }

    pub(super) fn needs(&self) -> Needs {
        self.needs.clone()
    }

    /// The changed pids' current state.
    pub(super) fn handoff(&self) -> Handoff {
        Handoff {
            logged: self
                .logged
                .iter()
                .filter(|(_, s)| s.changed)
                .map(|(p, s)| (*p, s.statement.clone()))
                .collect(),
            sessions: self
                .sessions
                .iter()
                .filter(|(_, s)| s.changed)
                .map(|(p, s)| {
                    let info = s.info.clone().map(|i| (i, s.application_inherited));
                    (*p, info)
                })
                .collect(),
        }
    }
}
