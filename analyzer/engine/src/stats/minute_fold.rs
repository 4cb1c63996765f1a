//! The fold's part for incident detection: the per-minute series beyond
//! queries and connections (errors by severity, cancellations, lock waits,
//! deadlocks, auth failures) and the per-minute detail for attribution
//! (`minute_detail`), one function per event kind.

use super::blockers::Holder;
use super::minute_detail::{lock_key, ClientCell};
use super::{minute, queries, Folder};
use crate::totals::add_to;
use pglog_logparse::classify::activity::LockWait;
use pglog_logparse::{Event, EventKind, Severity};

impl Folder {
    /// Folds the minute series and detail of an event timed `tm`.
    pub(super) fn add_to_minute(&mut self, e: &Event, tm: i64) {
        let start = minute(tm);
        match &e.kind {
            EventKind::Cancel { .. } => self.minute_mut(start).cancellations += 1,
            EventKind::Deadlock { .. } => self.minute_mut(start).deadlocks += 1,
            EventKind::LockWait(w) => self.add_lock_wait(e, w, start, true),
            EventKind::LockAcquired(w) => self.add_lock_wait(e, w, start, false),
            EventKind::TempFile { size, .. } => self.add_temp_file(e, *size, start),
            EventKind::Connection(c) => {
                let r = &e.record;
                let names = [
                    c.application.as_deref().or(r.application.as_deref()),
                    c.user.as_deref().or(r.user.as_deref()),
                    r.remote_host.as_deref(),
                ];
                let add = ClientCell {
                    connections: 1,
                    ..ClientCell::default()
                };
                let l = &self.stats.limits;
                self.stats.minute_detail.add_client(start, names, add, l);
            }
            EventKind::AuthFailure => {
                self.minute_mut(start).auth_failures += 1;
                let add = ClientCell {
                    auth_failures: 1,
                    ..ClientCell::default()
                };
                self.add_client(e, start, add);
            }
            _ => {}
        }
    }

    pub(super) fn note_disconnection(&mut self, pid: Option<u32>) {
        if let Some(pid) = pid {
            self.blockers.statements.ended(pid);
        }
    }

    /// An ERROR, FATAL, PANIC or WARNING record's minute counts and detail.
    pub(super) fn add_error_to_minute(&mut self, e: &Event, tm: i64, sqlstate: Option<&str>) {
        let start = minute(tm);
        let sev = e.record.severity;
        if sev == Severity::Warning {
            self.minute_mut(start).warnings += 1;
            return;
        }
        if matches!(sev, Severity::Fatal | Severity::Panic) {
            self.minute_mut(start).fatals += 1;
        }
        let l = &self.stats.limits;
        self.stats
            .minute_detail
            .add_error(start, sqlstate, &e.record.message, l);
        let add = ClientCell {
            errors: 1,
            ..ClientCell::default()
        };
        self.add_client(e, start, add);
    }

    fn add_client(&mut self, e: &Event, start: i64, add: ClientCell) {
        let r = &e.record;
        let names = [
            r.application.as_deref(),
            r.user.as_deref(),
            r.remote_host.as_deref(),
        ];
        let l = &self.stats.limits;
        self.stats.minute_detail.add_client(start, names, add, l);
    }

    fn add_lock_wait(&mut self, e: &Event, w: &LockWait, start: i64, waiting_logged: bool) {
        let m = self.minute_mut(start);
        if waiting_logged {
            m.lock_waits += 1;
        } else {
            add_to(
                &mut m.lock_wait_us,
                queries::micros(w.wait_ms.unwrap_or(0.0)),
            );
        }
        let waiting = self.fingerprint_of(e.record.statement.as_deref());
        let key = lock_key(w, waiting);
        let holder = w.holders.first().copied();
        let blocking = match holder.map(|pid| (pid, self.blockers.statements.get(pid))) {
            Some((_, Holder::Statement(f))) => Some(f),
            Some((pid, Holder::NotSeen)) => {
                // Named when the ranges are put together, if one before
                // this range saw the pid's statement.
                self.blockers.unresolved.add(start, &key, pid);
                None
            }
            Some((_, Holder::Ended)) | None => None,
        };
        let l = &self.stats.limits;
        self.stats
            .minute_detail
            .add_lock(start, &key, w, waiting, blocking, waiting_logged, l);
    }

    fn add_temp_file(&mut self, e: &Event, size: u64, start: i64) {
        let fingerprint = self.fingerprint_of(e.record.statement.as_deref());
        let l = &self.stats.limits;
        self.stats
            .minute_detail
            .add_temp(start, fingerprint, size, l);
    }

    fn fingerprint_of(&mut self, text: Option<&str>) -> Option<u64> {
        match text {
            Some(t) if !crate::fingerprint::is_own_query(t) => {
                Some(self.fingerprints.key(t).fingerprint)
            }
            _ => None,
        }
    }

    fn minute_mut(&mut self, start: i64) -> &mut super::Minute {
        self.minute.at(start, &mut self.stats.minutes)
    }
}
