//! Connections to the databases that database-scope queries run in: the
//! server is asked for its databases each cycle such a query is due, and a
//! connection to each is opened when a query needs it. At most
//! `max_connections` are open at once besides the collector's own; when
//! more databases are selected, they take turns, and the visiting order
//! keeps the reconnections to the fewest the cap allows.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::database_patterns::{Patterns, Selection};
use crate::pg::{ConnectSpec, QueryError, Source};

/// The databases worth connecting to: templates, databases closed to
/// connections (`datallowconn = false`) or to the collector's role, and the
/// cloud providers' own (RDS, Azure, Cloud SQL), which no customer role may
/// enter, have no tables of the user's to watch.
const DISCOVER: &str = "/* pglog */ SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND has_database_privilege(datname, 'CONNECT') AND datname NOT IN ('rdsadmin', 'azure_maintenance', 'cloudsqladmin') ORDER BY datname";

pub struct DatabasePool {
    selection: Selection,
    connect_timeout: Duration,
    /// Every selected database met so far, connected or not: one that
    /// refuses keeps its backoff and last error between its turns, so it
    /// is retried and reported as the collector's own connection is.
    sources: BTreeMap<String, Source>,
    /// The databases whose connection may be open, least recently used first.
    recent: Vec<String>,
    /// Databases the last cycle ran out of time before reaching.
    behind: Vec<String>,
}

impl DatabasePool {
    pub fn new(selection: Selection, connect_timeout: Duration) -> DatabasePool {
        DatabasePool {
            selection,
            connect_timeout,
            sources: BTreeMap::new(),
            recent: Vec::new(),
            behind: Vec::new(),
        }
    }

    /// New settings: connections to databases no longer selected close,
    /// and those past a lower cap.
    pub fn set_selection(&mut self, selection: Selection, connect_timeout: Duration) {
        if connect_timeout != self.connect_timeout {
            self.sources.clear();
            self.recent.clear();
        }
        self.selection = selection;
        self.connect_timeout = connect_timeout;
        self.retain(|_| true);
        self.make_room(0);
    }

    /// Closes every connection, for when the collector's own connection
    /// goes to another server.
    pub fn close_all(&mut self) {
        self.sources.clear();
        self.recent.clear();
        self.behind.clear();
    }

    /// The selected databases of the server `main` is connected to, in the
    /// order to visit them: those the last cycle did not reach, then those
    /// with a connection open (least recently used first, so each is used
    /// before it would be closed), then the rest by name. Connections to
    /// databases that are gone, or no longer selected, are closed.
    pub async fn discover(&mut self, main: &mut Source) -> Result<Vec<String>, QueryError> {
        let rows = main.query(DISCOVER, Duration::from_secs(5)).await?;
        let names: Vec<String> = rows
            .rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .filter(|n| self.selection.selects(n))
            .collect();
        self.retain(|n| names.iter().any(|m| m == n));
        self.prune_closed();
        Ok(visiting_order(&self.behind, &self.recent, &names))
    }

    /// The databases the cycle ran out of time before reaching: the next
    /// cycle visits them first.
    pub fn set_behind(&mut self, behind: Vec<String>) {
        self.behind = behind;
    }

    fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let selection = &self.selection;
        self.sources
            .retain(|n, _| selection.selects(n) && keep(n.as_str()));
        let sources = &self.sources;
        self.recent.retain(|n| sources.contains_key(n));
        // Databases not reached may have no connection yet.
        self.behind
            .retain(|n| selection.selects(n) && keep(n.as_str()));
    }

    /// Forgets, as open, the connections that failed or were dropped.
    fn prune_closed(&mut self) {
        let sources = &self.sources;
        self.recent
            .retain(|n| sources.get(n).is_some_and(|s| s.is_connected()));
    }

    /// Closes the least recently used connections until `wanted` more fit.
    fn make_room(&mut self, wanted: usize) {
        self.prune_closed();
        while !self.recent.is_empty() && self.recent.len() + wanted > self.selection.max_connections
        {
            let name = self.recent.remove(0);
            if let Some(s) = self.sources.get_mut(&name) {
                s.disconnect();
            }
        }
    }

    /// The connection to `database` (made from `main_spec`), opened on
    /// first use; opening one past the limit closes the least recently
    /// used.
    pub fn source(
        &mut self,
        main_spec: &ConnectSpec,
        database: &str,
    ) -> Result<&mut Source, QueryError> {
        if !self.sources.contains_key(database) {
            let spec = main_spec
                .for_database(database)
                .map_err(|e| QueryError::Failed(e.to_string()))?;
            self.sources.insert(
                database.to_string(),
                Source::new(spec, self.connect_timeout),
            );
        }
        self.recent.retain(|n| n != database);
        if !self.sources[database].is_connected() {
            self.make_room(1);
        }
        self.recent.push(database.to_string());
        Ok(self.sources.get_mut(database).expect("just made"))
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.sources.values().filter(|s| s.is_connected()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `names` with `behind` first, then `open`, then the rest, each in its
/// own order. Visiting open connections least recently used first means
/// the one closed to make room has served its turn already: with n
/// databases over a cap of k, a cycle opens n - k connections, where
/// visiting by name each cycle would open all n.
fn visiting_order(behind: &[String], open: &[String], names: &[String]) -> Vec<String> {
    let mut order: Vec<String> = Vec::with_capacity(names.len());
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    let wanted: std::collections::HashSet<&String> = names.iter().collect();
    for n in behind.iter().chain(open).chain(names) {
        if wanted.contains(n) && seen.insert(n) {
            order.push(n.clone());
        }
    }
    order
}

/// Whether `query_databases` (a query's own `databases`, if any) lets a
/// query run in `database`.
pub fn query_runs_in(query_databases: Option<&Patterns>, database: &str) -> bool {
    query_databases.is_none_or(|p| p.matches(database))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn behind_then_open_then_the_rest() {
        let names = v(&["a", "b", "c", "d"]);
        assert_eq!(visiting_order(&[], &[], &names), names);
        assert_eq!(
            visiting_order(&v(&["d"]), &v(&["c", "a"]), &names),
            v(&["d", "c", "a", "b"])
        );
        // Gone databases are left out, and none is visited twice.
        assert_eq!(
            visiting_order(&v(&["x", "b"]), &v(&["b", "y"]), &names),
            v(&["b", "a", "c", "d"])
        );
    }

    /// With the least recently used closed to make room, the order above
    /// opens only the connections the cap leaves no room for.
    #[test]
    fn each_cycle_opens_only_what_the_cap_forces() {
        let names = v(&["a", "b", "c", "d", "e"]);
        let cap = 2;
        let mut open: Vec<String> = Vec::new();
        for cycle in 0..4 {
            let mut opened = 0;
            for n in visiting_order(&[], &open, &names) {
                if let Some(i) = open.iter().position(|o| *o == n) {
                    open.remove(i);
                } else {
                    opened += 1;
                    while open.len() >= cap {
                        open.remove(0);
                    }
                }
                open.push(n);
            }
            let want = if cycle == 0 { 5 } else { 3 };
            assert_eq!(opened, want, "cycle {cycle}");
        }
    }
}
