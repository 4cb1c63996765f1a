//! One collection cycle: ask the server who it is, run the queries that are
//! due for its role and version, turn their rows into datums, and time each
//! query as an X-Ray subsegment of the cycle's segment.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};

use crate::catalogue::{Catalogue, MetricSource, Query, Role, Scope, DATABASE_DIMENSION, UP};
use crate::database_patterns::Selection;
use crate::databases::{query_runs_in, DatabasePool};
use crate::pg::{ConnectSpec, QueryError, Rows, ServerInfo, Source};
use crate::pgbouncer::Pgbouncer;
use crate::series::{Datum, OwnTransactions, QueryData, Series};
use crate::state::{ServerIdentity, StateFile};
use crate::text::clip_bytes;
use crate::trace::{cause, epoch, hex_id};

pub const SEGMENT_NAME: &str = "pglog-collector";

/// The share of the interval, from the cycle's start, after which no more
/// databases are begun: the rest of it is for the last queries to finish.
const DATABASE_PHASE_SHARE: f64 = 0.75;

/// What one cycle produced.
#[derive(Debug)]
pub struct CycleOutput {
    pub datums: Vec<Datum>,
    pub segment: Json,
    pub up: bool,
    pub role: Option<Role>,
    /// Queries that failed or timed out, or gave values that are not numbers.
    pub failed_queries: usize,
    /// Metrics of the queries not due this cycle: their last values still hold.
    pub not_due: Vec<String>,
}

pub struct Collector {
    source: Source,
    catalogue: Catalogue,
    instance: String,
    interval: std::time::Duration,
    series: Series,
    last_run: HashMap<String, Instant>,
    server: Option<ServerInfo>,
    /// Where counters and windows are saved after each cycle, if anywhere.
    state: Option<StateFile>,
    pgbouncer: Option<Pgbouncer>,
    /// Connections for the database-scope queries.
    databases: DatabasePool,
}

impl Collector {
    pub fn new(
        source: Source,
        catalogue: Catalogue,
        instance: String,
        interval: std::time::Duration,
    ) -> Collector {
        Collector {
            source,
            catalogue,
            instance,
            interval,
            series: Series::default(),
            last_run: HashMap::new(),
            server: None,
            state: None,
            pgbouncer: None,
            databases: DatabasePool::new(Selection::default(), std::time::Duration::from_secs(5)),
        }
    }

    /// Saves counters and windows in `state` after each cycle, and goes on
    /// from what it holds once the server is known to be the same.
    pub fn keep_state(&mut self, state: StateFile) {
        self.state = Some(state);
    }

    /// The pgbouncer source, or none; a new one starts its counters over.
    pub fn set_pgbouncer(&mut self, pgbouncer: Option<Pgbouncer>) {
        self.pgbouncer = pgbouncer;
    }

    /// Where the database-scope queries run; `connect_timeout` bounds
    /// each new connection.
    pub fn set_databases(&mut self, selection: Selection, connect_timeout: std::time::Duration) {
        self.databases.set_selection(selection, connect_timeout);
    }

    /// A reloaded catalogue; counters and windows of the queries kept go on.
    pub fn set_catalogue(&mut self, catalogue: Catalogue) {
        self.catalogue = catalogue;
    }

    pub fn set_interval(&mut self, interval: std::time::Duration) {
        self.interval = interval;
    }

    /// A reloaded connection setting: the next cycle connects anew. The
    /// counters go on unless it reaches another server.
    pub fn set_source(&mut self, mut source: Source) {
        source.own_transactions = self.source.own_transactions;
        self.source = source;
        self.databases.close_all();
    }

    /// PostgreSQL's part, then pgbouncer's, whose subsegments join the
    /// cycle's segment (whatever became of PostgreSQL's part).
    pub async fn cycle(&mut self) -> CycleOutput {
        let mut out = self.postgres_cycle().await;
        if let Some(b) = &mut self.pgbouncer {
            let b = b.collect(&self.catalogue, &self.instance).await;
            out.datums.extend(b.datums);
            out.failed_queries += b.failed_queries;
            if let Some(subs) = out.segment["subsegments"].as_array_mut() {
                subs.extend(b.subsegments);
            }
            out.segment["end_time"] = json!(epoch(SystemTime::now()));
        }
        out
    }

    async fn postgres_cycle(&mut self) -> CycleOutput {
        let wall = SystemTime::now();
        let start = Instant::now();
        let mut segment = Segment::new(wall);
        let info = self.source.server_info().await;
        let up_dims = vec![("DBInstance".to_string(), self.instance.clone())];
        let up_datum = |v: f64| Datum {
            metric: UP.into(),
            unit: "None".into(),
            value: v,
            dimensions: up_dims.clone(),
            timestamp: wall,
        };
        let info = match info {
            Ok(i) => i,
            Err(e) => {
                segment.fault(&e.to_string());
                let doc = segment.finish(&self.instance, None, Vec::new());
                return CycleOutput {
                    datums: vec![up_datum(0.0)],
                    segment: doc,
                    up: false,
                    role: None,
                    failed_queries: 0,
                    not_due: Vec::new(),
                };
            }
        };
        if self
            .server
            .as_ref()
            .is_some_and(|s| s.address != info.address)
        {
            tracing::info!(
                "now connected to {} (was {}); counters start over",
                info.address,
                self.server.as_ref().unwrap().address
            );
            self.series.clear();
            self.databases.close_all();
        }
        let identity = ServerIdentity::of(&info);
        self.continue_from_saved(&identity);
        let role = if info.in_recovery {
            Role::Standby
        } else {
            Role::Primary
        };
        if let Some(prev) = &self.server {
            if prev.in_recovery != info.in_recovery {
                tracing::info!("role changed to {}", role.as_str());
            }
        }
        let base = vec![
            ("DBInstance".to_string(), self.instance.clone()),
            ("Role".to_string(), role.as_str().to_string()),
        ];
        let mut run = Run::new(wall);
        let due = self.due_queries(role, info.version_num, start, &mut run.not_due);
        for q in due.iter().filter(|q| q.scope == Scope::Instance) {
            self.instance_query(q, &info, &base, &mut run, start).await;
            if !run.up {
                break;
            }
        }
        let per_database: Vec<&Query> = due.iter().filter(|q| q.scope == Scope::Database).collect();
        if run.up && !per_database.is_empty() {
            self.database_queries(&per_database, &info, &base, &mut run, start)
                .await;
        }
        let Run {
            mut datums,
            subsegments,
            failed,
            up,
            not_due,
            ..
        } = run;
        datums.push(up_datum(if up { 1.0 } else { 0.0 }));
        if failed > 0 {
            segment.fault(&format!("{failed} of the cycle's queries failed"));
        }
        segment.version = Some(info.version.clone());
        self.server = Some(info);
        self.save_state();
        let doc = segment.finish(&self.instance, Some(role), subsegments);
        CycleOutput {
            datums,
            segment: doc,
            up,
            role: Some(role),
            failed_queries: failed,
            not_due,
        }
    }
}

impl Collector {
    /// The queries due this cycle for `role` and `version`; the metrics of
    /// those not due go to `not_due`.
    fn due_queries(
        &self,
        role: Role,
        version: u32,
        start: Instant,
        not_due: &mut Vec<String>,
    ) -> Vec<Query> {
        let mut due = Vec::new();
        for q in &self.catalogue.queries {
            if q.source != MetricSource::Postgres || !q.runs_on(role, version) {
                continue;
            }
            let every = q.interval.unwrap_or(self.interval);
            // A tenth of slack so a query due "now" is not put off a whole cycle by timer jitter.
            if self
                .last_run
                .get(&q.id)
                .is_some_and(|t| start.duration_since(*t) + every / 10 < every)
            {
                not_due.extend(q.values.iter().map(|v| v.metric.clone()));
                continue;
            }
            due.push(q.clone());
        }
        due
    }

    /// One query on the collector's own connection.
    async fn instance_query(
        &mut self,
        q: &Query,
        info: &ServerInfo,
        base: &[(String, String)],
        run: &mut Run,
        cycle_start: Instant,
    ) {
        let sql = q.marked_sql();
        let q_wall = SystemTime::now();
        let result = self.source.query(&sql, q.timeout).await;
        let mut sub = query_subsegment(q, &sql, info, self.source.spec(), q_wall);
        match result {
            Ok(rows) => {
                // From the cycle's start: the time earlier queries took
                // must not put this one off a cycle.
                self.last_run.insert(q.id.clone(), cycle_start);
                let own = OwnTransactions {
                    total: self.source.own_transactions,
                    at_connect: self.source.own_at_connect,
                };
                let data = self
                    .series
                    .datums(q, &rows, base, own, Instant::now(), run.wall);
                run.took(data, &mut sub);
            }
            Err(e) => {
                tracing::warn!(query = %q.id, "{e}");
                run.failed(&e, &mut sub);
                if matches!(e, QueryError::Down(_)) {
                    run.up = false;
                }
            }
        }
        run.subsegments.push(sub);
    }

    /// The database-scope queries in every selected database, database by
    /// database so each connection serves all of them in one turn: one
    /// subsegment per query, with one below it per database. No database is
    /// begun past a share of the interval from `cycle_start`; those left
    /// go first next cycle.
    async fn database_queries(
        &mut self,
        queries: &[&Query],
        info: &ServerInfo,
        base: &[(String, String)],
        run: &mut Run,
        cycle_start: Instant,
    ) {
        // The next cycle is due an interval after this one began.
        let deadline = cycle_start + self.interval.mul_f64(DATABASE_PHASE_SHARE);
        let d_wall = SystemTime::now();
        let names = match self.databases.discover(&mut self.source).await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!("listing the databases for the database-scope queries: {e}");
                let mut sub = json!({
                    "name": "databases",
                    "id": hex_id(16),
                    "start_time": epoch(d_wall),
                    "end_time": epoch(SystemTime::now()),
                });
                run.failed(&e, &mut sub);
                run.subsegments.push(sub);
                if matches!(e, QueryError::Down(_)) {
                    run.up = false;
                }
                return;
            }
        };
        let own_db = self.source.spec().dbname().to_string();
        // Each query's text, marked once for all the databases it runs in.
        let sqls: Vec<String> = queries.iter().map(|q| q.marked_sql()).collect();
        let mut tallies: Vec<Tally> = queries.iter().map(|_| Tally::default()).collect();
        let mut children_left = MAX_DATABASE_SUBSEGMENTS;
        let mut behind = Vec::new();
        for db in &names {
            let wanted: Vec<usize> = (0..queries.len())
                .filter(|&i| query_runs_in(queries[i].databases.as_ref(), db))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            if !run.up || Instant::now() >= deadline {
                for &i in &wanted {
                    tallies[i].not_reached += 1;
                }
                behind.push(db.clone());
                continue;
            }
            let mut dims = base.to_vec();
            dims.push((DATABASE_DIMENSION.to_string(), db.clone()));
            // Once the database does not answer, its other queries fail
            // with the same cause rather than wait for the backoff again.
            let mut down: Option<QueryError> = None;
            for i in wanted {
                let q = queries[i];
                let c_wall = SystemTime::now();
                let result = match &down {
                    Some(e) => Err(e.clone()),
                    None if *db == own_db => self.source.query(&sqls[i], q.timeout).await,
                    None => self.query_in(db, &sqls[i], q.timeout).await,
                };
                let mut child = json!({
                    "name": db,
                    "id": hex_id(16),
                    "start_time": epoch(c_wall),
                    "end_time": epoch(SystemTime::now()),
                });
                let tally = &mut tallies[i];
                tally.started.get_or_insert(c_wall);
                tally.ran += 1;
                match result {
                    Ok(rows) => {
                        let data = self.series.datums(
                            q,
                            &rows,
                            &dims,
                            OwnTransactions::default(),
                            Instant::now(),
                            run.wall,
                        );
                        tally.took(data, &mut run.datums, &mut child);
                    }
                    Err(e) => {
                        // A database that does not answer is said by its
                        // connection, once per cause.
                        if matches!(e, QueryError::Down(_)) {
                            if *db == own_db {
                                run.up = false;
                            }
                            down.get_or_insert(e.clone());
                        } else {
                            tracing::warn!(query = %q.id, database = %db, "{e}");
                        }
                        tally.failed(&e, &mut child);
                    }
                }
                if children_left > 0 {
                    children_left -= 1;
                    tally.children.push(child);
                }
            }
        }
        if !behind.is_empty() && run.up {
            tracing::warn!(
                "the database-scope queries ran out of time before reaching {} of {} databases ({}): those go first next cycle",
                behind.len(),
                names.len(),
                clip_bytes(&behind.join(", "), 200)
            );
        }
        self.databases.set_behind(behind);
        for ((q, sql), tally) in queries.iter().zip(&sqls).zip(tallies) {
            // A query that ran nowhere, each database failing, is tried
            // again next cycle, as an instance query would be.
            // From the cycle's start, not the query's end: a phase that
            // takes most of the interval must not put the next run off.
            if tally.succeeded > 0 || tally.ran == 0 && tally.not_reached == 0 {
                self.last_run.insert(q.id.clone(), cycle_start);
            }
            let sub = tally.finish(q, sql, info, self.source.spec(), d_wall, run);
            run.subsegments.push(sub);
        }
    }

    /// `sql` in `database`, on a connection of the pool; the transactions
    /// it runs count as the collector's own (the server's transaction
    /// counts add up every database).
    async fn query_in(
        &mut self,
        database: &str,
        sql: &str,
        timeout: std::time::Duration,
    ) -> Result<Rows, QueryError> {
        let source = self.databases.source(self.source.spec(), database)?;
        let before = source.own_transactions;
        let result = source.query(sql, timeout).await;
        let ran = source.own_transactions - before;
        self.source.own_transactions += ran;
        result
    }
}

/// X-Ray takes segment documents up to 64 kB: past this many (query,
/// database) pairs in a cycle, the queries' subsegments list no more
/// databases (their annotations count them all).
const MAX_DATABASE_SUBSEGMENTS: usize = 60;

/// The longest failure text of a (query, database) subsegment.
const MAX_DATABASE_CAUSE: usize = 256;

/// One database-scope query's outcome over the cycle's databases.
#[derive(Default)]
struct Tally {
    started: Option<SystemTime>,
    ran: usize,
    succeeded: usize,
    failures: usize,
    not_numeric: usize,
    not_reached: usize,
    first_failure: Option<String>,
    children: Vec<Json>,
}

impl Tally {
    fn took(&mut self, data: QueryData, datums: &mut Vec<Datum>, child: &mut Json) {
        self.succeeded += 1;
        datums.extend(data.datums);
        if data.not_numeric > 0 {
            self.not_numeric += data.not_numeric;
            child["fault"] = json!(true);
            child["cause"] = cause(&format!("{} values are not numbers", data.not_numeric));
        }
    }

    fn failed(&mut self, e: &QueryError, child: &mut Json) {
        self.failures += 1;
        let why = e.to_string();
        mark_failed(e, clip_bytes(&why, MAX_DATABASE_CAUSE), child);
        self.first_failure.get_or_insert(why);
    }

    /// The query's subsegment. However many databases it failed in, it
    /// counts once among the cycle's failed queries.
    fn finish(
        self,
        q: &Query,
        sql: &str,
        info: &ServerInfo,
        spec: &ConnectSpec,
        phase_start: SystemTime,
        run: &mut Run,
    ) -> Json {
        let start = self.started.unwrap_or(phase_start);
        let mut sub = query_subsegment(q, sql, info, spec, start);
        let mut annotations = json!({ "databases": self.ran });
        if self.not_reached > 0 {
            annotations["databases_not_reached"] = json!(self.not_reached);
        }
        sub["annotations"] = annotations;
        sub["subsegments"] = json!(self.children);
        let mut why = Vec::new();
        if self.failures > 0 {
            let first = self.first_failure.as_deref().unwrap_or_default();
            why.push(format!(
                "failed in {} of {} databases (first: {})",
                self.failures,
                self.ran,
                clip_bytes(first, MAX_DATABASE_CAUSE)
            ));
        }
        if self.not_numeric > 0 {
            why.push(format!("{} values are not numbers", self.not_numeric));
        }
        if !why.is_empty() {
            run.failed += 1;
            sub["fault"] = json!(true);
            sub["cause"] = cause(&why.join("; "));
        }
        sub
    }
}

/// What the cycle's queries have given so far.
struct Run {
    wall: SystemTime,
    datums: Vec<Datum>,
    subsegments: Vec<Json>,
    failed: usize,
    up: bool,
    not_due: Vec<String>,
}

impl Run {
    fn new(wall: SystemTime) -> Run {
        Run {
            wall,
            datums: Vec::new(),
            subsegments: Vec::new(),
            failed: 0,
            up: true,
            not_due: Vec::new(),
        }
    }

    fn took(&mut self, data: QueryData, sub: &mut Json) {
        self.datums.extend(data.datums);
        if data.not_numeric > 0 {
            self.failed += 1;
            sub["fault"] = json!(true);
            sub["cause"] = cause(&format!("{} values are not numbers", data.not_numeric));
        }
    }

    fn failed(&mut self, e: &QueryError, sub: &mut Json) {
        self.failed += 1;
        mark_failed(e, &e.to_string(), sub);
    }
}

/// Marks `sub` as failed with `e`, whose text is `why`.
fn mark_failed(e: &QueryError, why: &str, sub: &mut Json) {
    sub["fault"] = json!(true);
    if let QueryError::Timeout(_) = e {
        sub["throttle"] = json!(false);
        sub["annotations"] = json!({ "timeout": true });
    }
    sub["cause"] = cause(why);
}

/// A query's subsegment, with its SQL as X-Ray's `sql` block.
fn query_subsegment(
    q: &Query,
    sql: &str,
    info: &ServerInfo,
    spec: &ConnectSpec,
    start: SystemTime,
) -> Json {
    json!({
        "name": q.id,
        "id": hex_id(16),
        "start_time": epoch(start),
        "end_time": epoch(SystemTime::now()),
        "namespace": "remote",
        "sql": {
            // X-Ray takes segment documents up to 64 kB; a long user
            // query must not push the cycle's segment over it.
            "sanitized_query": clip_bytes(sql, 4096),
            "database_type": "PostgreSQL",
            "database_version": info.version,
            "user": spec.user,
            "url": spec.url,
            "driver_version": "tokio-postgres",
        },
    })
}

impl Collector {
    /// Saves the counters and windows of the last whole cycle with the own
    /// transactions counted so far: a cycle cut short by a stop has run
    /// some, which the server counts and the next run must leave out.
    pub fn save_state(&mut self) {
        let (Some(state), Some(info)) = (&mut self.state, &self.server) else {
            return;
        };
        self.series.align_to_wall_clock();
        state.save(
            &ServerIdentity::of(info),
            self.source.own_transactions,
            &self.series,
        );
    }

    /// Takes over the saved counters and windows when they are from this
    /// server and recent enough, and counts the collector's own
    /// transactions on from the saved run's.
    fn continue_from_saved(&mut self, server: &ServerIdentity) {
        let max_age = self.catalogue.longest_window();
        let Some(saved) = self
            .state
            .as_mut()
            .and_then(|s| s.take_for(server, max_age))
        else {
            return;
        };
        self.series.continue_from(saved.series);
        self.source.own_transactions += saved.own_transactions;
        self.source.own_at_connect += saved.own_transactions;
    }
}

struct Segment {
    start: SystemTime,
    trace_id: String,
    fault: Option<String>,
    version: Option<String>,
}

impl Segment {
    fn new(start: SystemTime) -> Segment {
        let secs = start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Segment {
            start,
            trace_id: format!("1-{secs:08x}-{}", hex_id(24)),
            fault: None,
            version: None,
        }
    }

    fn fault(&mut self, why: &str) {
        self.fault.get_or_insert_with(|| why.to_string());
    }

    fn finish(self, instance: &str, role: Option<Role>, subsegments: Vec<Json>) -> Json {
        let mut annotations = json!({ "instance": instance });
        if let Some(r) = role {
            annotations["role"] = json!(r.as_str());
        }
        let mut doc = json!({
            "name": SEGMENT_NAME,
            "id": hex_id(16),
            "trace_id": self.trace_id,
            "start_time": epoch(self.start),
            "end_time": epoch(SystemTime::now()),
            "annotations": annotations,
            "subsegments": subsegments,
        });
        if let Some(v) = self.version {
            doc["metadata"] = json!({ "postgresql": { "version": v } });
        }
        if let Some(why) = self.fault {
            doc["fault"] = json!(true);
            doc["cause"] = cause(&why);
        }
        doc
    }
}
