//! Who ran a statement (user, database, application), interned: a
//! session's records all name the same three, so a record is matched
//! against the one before by comparing short strings, and queries count
//! calls by a small id instead of looking the names up in their
//! breakdown maps on every call.

use pglog_logparse::same::same_str;
use std::collections::HashMap;
use std::fmt::Write;

/// An interned (user, database, application).
pub(crate) type WhoId = u32;

/// The names of one [`WhoId`], as the breakdowns key them.
#[derive(Debug)]
pub(crate) struct WhoNames {
    pub(crate) user: String,
    pub(crate) database: String,
    pub(crate) application: String,
    /// `user@database`.
    pub(crate) user_database: String,
}

/// Distinct (user, database, application) seen since the last [`Whos::clear`].
#[derive(Debug, Default)]
pub(crate) struct Whos {
    names: Vec<WhoNames>,
    /// Length-prefixed `user`, `database`, `application` to its id.
    ids: HashMap<String, WhoId, foldhash::fast::FixedState>,
    /// The id of the last record's names.
    last: Option<WhoId>,
    scratch: String,
}

/// Ids held before the table is cleared (see [`Whos::is_full`]): a forged
/// log may name any number of users.
const MAX_WHOS: usize = 4096;

impl Whos {
    /// The id of `(user, database, application)`.
    pub(crate) fn id(&mut self, user: &str, database: &str, application: &str) -> WhoId {
        if let Some(last) = self.last {
            let n = &self.names[last as usize];
            // Names are often empty (a stderr prefix without them): see `same`.
            if same_str(&n.user, user)
                && same_str(&n.database, database)
                && same_str(&n.application, application)
            {
                return last;
            }
        }
        let id = self.lookup(user, database, application);
        self.last = Some(id);
        id
    }

    fn lookup(&mut self, user: &str, database: &str, application: &str) -> WhoId {
        self.scratch.clear();
        for s in [user, database, application] {
            // Lengths keep `("a@", "b")` and `("a", "@b")` apart.
            // Into the reused key: no String per number.
            let _ = write!(self.scratch, "{}:{s}", s.len());
        }
        if let Some(&id) = self.ids.get(self.scratch.as_str()) {
            return id;
        }
        let id = self.names.len() as WhoId;
        self.names.push(WhoNames {
            user: user.to_string(),
            database: database.to_string(),
            application: application.to_string(),
            user_database: format!("{user}@{database}"),
        });
        self.ids.insert(self.scratch.clone(), id);
        id
    }

    pub(crate) fn names(&self, id: WhoId) -> &WhoNames {
        &self.names[id as usize]
    }

    /// Holds so many that the calls counted by id should be put into the
    /// breakdowns and the table cleared.
    pub(crate) fn is_full(&self) -> bool {
        self.names.len() >= MAX_WHOS
    }

    pub(crate) fn clear(&mut self) {
        self.names.clear();
        self.ids.clear();
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_names_get_the_same_id_and_others_another() {
        let mut w = Whos::default();
        let a = w.id("alice", "shop", "psql");
        let b = w.id("bob", "shop", "psql");
        assert_ne!(a, b);
        assert_eq!(w.id("alice", "shop", "psql"), a);
        assert_eq!(w.id("bob", "shop", "psql"), b);
        // Where one name ends and the next begins counts.
        assert_ne!(w.id("a@", "b", ""), w.id("a", "@b", ""));
        assert_eq!(w.names(b).user_database, "bob@shop");
        w.clear();
        assert_eq!(w.id("bob", "shop", "psql"), 0);
        assert_eq!(w.names(0).user, "bob");
    }
}
