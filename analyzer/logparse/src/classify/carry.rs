//! The classifier's state carried from one part of a log to the next, so that
//! a log read in parts classifies every record as a reading from its start
//! would.
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
use std::collections::{BTreeSet, HashMap, HashSet};

/// The exact classifier state at a point of a log: each process's statement
/// text waiting for its `duration:` line, and each session's user, database
/// and application. The default is the state at the start of a log.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Carry {
    pub(super) logged: HashMap<u32, Statement>,
    pub(super) sessions: HashMap<u32, SessionInfo>,
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

/// What a classifier started in the middle of a log has learnt itself.
#[derive(Debug, Default)]
pub(super) struct MidLog {
    /// Pids whose waiting statement a record read here set or cleared.
    statements_known: HashSet<u32>,
    /// Pids whose session a record read here set or ended.
    sessions_known: HashSet<u32>,
    /// Sessions set here only by records without an application: their
    /// application is the one from before.
    applications_inherited: HashSet<u32>,
    needs: Needs,
}

/// Which pids' state changed since [`Tracker::start`].
#[derive(Debug, Default)]
pub(super) struct Changes {
    logged: HashSet<u32>,
    sessions: HashSet<u32>,
}

/// The bookkeeping of a classifier that reads part of a log.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    pub(super) mid_log: Option<MidLog>,
    changes: Option<Changes>,
}

impl Tracker {
    pub(super) fn mid_log() -> Tracker {
        Tracker {
            mid_log: Some(MidLog::default()),
            changes: None,
        }
    }

    /// From now on, changes are kept for the handoff and unknown state is
    /// noted in the needs.
    pub(super) fn start(&mut self) {
        self.changes.get_or_insert_with(Changes::default);
    }

    pub(super) fn statement_known(&self, pid: u32) -> bool {
        self.mid_log
            .as_ref()
            .is_none_or(|m| m.statements_known.contains(&pid))
    }

    pub(super) fn session_known(&self, pid: u32) -> bool {
        self.mid_log
            .as_ref()
            .is_none_or(|m| m.sessions_known.contains(&pid))
    }

    pub(super) fn application_inherited(&self, pid: u32) -> bool {
        self.mid_log
            .as_ref()
            .is_some_and(|m| m.applications_inherited.contains(&pid))
    }

    pub(super) fn statement_changed(&mut self, pid: u32) {
        if let Some(m) = &mut self.mid_log {
            m.statements_known.insert(pid);
        }
        if let Some(c) = &mut self.changes {
            c.logged.insert(pid);
        }
    }

    /// `inherited`: the session's application is still the one from before.
    pub(super) fn session_changed(&mut self, pid: u32, inherited: bool) {
        if let Some(m) = &mut self.mid_log {
            m.sessions_known.insert(pid);
            if inherited {
                m.applications_inherited.insert(pid);
            } else {
                m.applications_inherited.remove(&pid);
            }
        }
        if let Some(c) = &mut self.changes {
            c.sessions.insert(pid);
        }
    }

    fn need(&mut self, f: impl FnOnce(&mut Needs)) {
        if let (Some(m), Some(_)) = (&mut self.mid_log, &self.changes) {
            f(&mut m.needs);
        }
    }

    pub(super) fn need_statement(&mut self, pid: u32) {
        self.need(|n| {
            n.statements.insert(pid);
        });
    }

    pub(super) fn need_session(&mut self, pid: u32) {
        self.need(|n| {
            n.sessions.insert(pid);
        });
    }

    pub(super) fn need_application(&mut self, pid: u32) {
        self.need(|n| {
            n.applications.insert(pid);
        });
    }

    pub(super) fn needs(&self) -> Needs {
        self.mid_log
            .as_ref()
            .map(|m| m.needs.clone())
            .unwrap_or_default()
    }

    /// The changed pids' current state.
    pub(super) fn handoff(
        &self,
        logged: &HashMap<u32, Statement>,
        sessions: &HashMap<u32, SessionInfo>,
    ) -> Handoff {
        let Some(c) = &self.changes else {
            return Handoff::default();
        };
        Handoff {
            logged: c
                .logged
                .iter()
                .map(|p| (*p, logged.get(p).cloned()))
                .collect(),
            sessions: c
                .sessions
                .iter()
                .map(|p| {
                    let s = sessions
                        .get(p)
                        .map(|i| (i.clone(), self.application_inherited(*p)));
                    (*p, s)
                })
                .collect(),
        }
    }
}
