//! Connections to the databases that database-scope queries run in: the
//! server is asked for its databases each cycle such a query is due, and a
//! connection to each is opened when a query needs it. At most
//! `max_connections` are open at once besides the collector's own; when
//! more databases are selected, the one used least recently is closed to
//! make room, so they take turns.

use std::time::Duration;

use crate::database_patterns::{Patterns, Selection};
use crate::pg::{ConnectSpec, QueryError, Source};

/// The databases worth connecting to: templates and databases closed to
/// connections (`datallowconn = false`) have no tables of their own to watch.
const DISCOVER: &str = "/* pglog */ SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

pub struct DatabasePool {
    selection: Selection,
    connect_timeout: Duration,
    /// Open connections, most recently used last.
    open: Vec<(String, Source)>,
}

impl DatabasePool {
    pub fn new(selection: Selection, connect_timeout: Duration) -> DatabasePool {
        DatabasePool {
            selection,
            connect_timeout,
            open: Vec::new(),
        }
    }

    /// New settings: connections to databases no longer selected close.
    pub fn set_selection(&mut self, selection: Selection, connect_timeout: Duration) {
        self.selection = selection;
        self.connect_timeout = connect_timeout;
        self.retain(|_| true);
    }

    /// Closes every connection, for when the collector's own connection
    /// goes to another server.
    pub fn close_all(&mut self) {
        self.open.clear();
    }

    /// The selected databases of the server `main` is connected to, by
    /// name. Connections to databases that are gone, or no longer
    /// selected, are closed.
    pub async fn discover(&mut self, main: &mut Source) -> Result<Vec<String>, QueryError> {
        let rows = main.query(DISCOVER, Duration::from_secs(5)).await?;
        let names: Vec<String> = rows
            .rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .filter(|n| self.selection.selects(n))
            .collect();
        self.retain(|n| names.iter().any(|m| m == n));
        Ok(names)
    }

    fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let selection = &self.selection;
        self.open
            .retain(|(n, _)| selection.selects(n) && keep(n.as_str()));
    }

    /// The connection to `database` (made from `main_spec`), opened on
    /// first use; opening one past the limit closes the least recently
    /// used.
    pub fn source(
        &mut self,
        main_spec: &ConnectSpec,
        database: &str,
    ) -> Result<&mut Source, QueryError> {
        match self.open.iter().position(|(n, _)| n == database) {
            Some(i) => {
                let entry = self.open.remove(i);
                self.open.push(entry);
            }
            None => {
                let spec = main_spec
                    .for_database(database)
                    .map_err(|e| QueryError::Failed(e.to_string()))?;
                while self.open.len() >= self.selection.max_connections {
                    self.open.remove(0);
                }
                self.open.push((
                    database.to_string(),
                    Source::new(spec, self.connect_timeout),
                ));
            }
        }
        Ok(&mut self.open.last_mut().expect("just pushed").1)
    }

    /// How many connections are open (or waiting to reconnect).
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// Whether `query_databases` (a query's own `databases`, if any) lets a
/// query run in `database`.
pub fn query_runs_in(query_databases: Option<&Patterns>, database: &str) -> bool {
    query_databases.is_none_or(|p| p.matches(database))
}
