//! One collection cycle: ask the server who it is, run the queries that are
//! due for its role and version, turn their rows into datums, and time each
//! query as an X-Ray subsegment of the cycle's segment.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};

use crate::catalogue::{Catalogue, MetricSource, Role, UP};
use crate::pg::{QueryError, ServerInfo, Source};
use crate::pgbouncer::Pgbouncer;
use crate::series::{Datum, OwnTransactions, Series};
use crate::state::{ServerIdentity, StateFile};
use crate::text::clip_bytes;
use crate::trace::{cause, epoch, hex_id};

pub const SEGMENT_NAME: &str = "pglog-collector";

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
        let mut datums = Vec::new();
        let mut subsegments = Vec::new();
        let mut failed = 0;
        let mut up = true;
        let mut not_due = Vec::new();
        for q in &self.catalogue.queries {
            if q.source != MetricSource::Postgres || !q.runs_on(role, info.version_num) {
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
            let sql = q.marked_sql();
            let q_wall = SystemTime::now();
            let result = self.source.query(&sql, q.timeout).await;
            let q_end = SystemTime::now();
            let mut sub = json!({
                "name": q.id,
                "id": hex_id(16),
                "start_time": epoch(q_wall),
                "end_time": epoch(q_end),
                "namespace": "remote",
                "sql": {
                    // X-Ray takes segment documents up to 64 kB; a long user
                    // query must not push the cycle's segment over it.
                    "sanitized_query": clip_bytes(&sql, 4096),
                    "database_type": "PostgreSQL",
                    "database_version": info.version,
                    "user": self.source.spec().user,
                    "url": self.source.spec().url,
                    "driver_version": "tokio-postgres",
                },
            });
            match result {
                Ok(rows) => {
                    self.last_run.insert(q.id.clone(), Instant::now());
                    let own = OwnTransactions {
                        total: self.source.own_transactions,
                        at_connect: self.source.own_at_connect,
                    };
                    let data = self
                        .series
                        .datums(q, &rows, &base, own, Instant::now(), wall);
                    datums.extend(data.datums);
                    if data.not_numeric > 0 {
                        failed += 1;
                        sub["fault"] = json!(true);
                        sub["cause"] =
                            cause(&format!("{} values are not numbers", data.not_numeric));
                    }
                }
                Err(e) => {
                    failed += 1;
                    tracing::warn!(query = %q.id, "{e}");
                    let timeout = matches!(e, QueryError::Timeout(_));
                    sub["fault"] = json!(true);
                    if timeout {
                        sub["throttle"] = json!(false);
                        sub["annotations"] = json!({ "timeout": true });
                    }
                    sub["cause"] = cause(&e.to_string());
                    subsegments.push(sub);
                    if matches!(e, QueryError::Down(_)) {
                        up = false;
                        break;
                    }
                    continue;
                }
            }
            subsegments.push(sub);
        }
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
