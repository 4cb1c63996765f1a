//! `/metrics` in the Prometheus text format (the last values CloudWatch
//! got, each with the time it was read), `/healthz` (the process answers)
//! and `/readyz` (the last cycle reached the database). A query that runs
//! less often than every cycle keeps its last values, with their time,
//! until it runs again, so Prometheus does not mark its series stale.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write;
use std::sync::{Arc, RwLock};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::catalogue::MetricInfo;
use crate::series::Datum;

#[derive(Default)]
pub struct Exposition {
    text: String,
    ready: bool,
    /// The datums served, by metric.
    last: BTreeMap<String, Vec<Datum>>,
}

#[derive(Clone, Default)]
pub struct Shared(Arc<RwLock<Exposition>>);

impl Shared {
    /// Serves this cycle's datums, and the last ones of the metrics in
    /// `not_due` (their query did not run this cycle).
    pub fn update(
        &self,
        datums: &[Datum],
        not_due: &[String],
        catalogue: &[MetricInfo],
        up: bool,
        extra: &[(&str, &str, &str, f64)],
    ) {
        let fresh: std::collections::BTreeSet<&str> =
            datums.iter().map(|d| d.metric.as_str()).collect();
        let mut e = self.0.write().unwrap();
        let mut by_metric: BTreeMap<String, Vec<Datum>> = std::mem::take(&mut e.last)
            .into_iter()
            .filter(|(m, _)| not_due.contains(m) && !fresh.contains(m.as_str()))
            .collect();
        for d in datums {
            by_metric
                .entry(d.metric.clone())
                .or_default()
                .push(d.clone());
        }
        let mut text = String::new();
        for (metric, ds) in &by_metric {
            let name = prom_name(metric);
            let help = catalogue
                .iter()
                .find(|m| &m.name == metric)
                .map(|m| m.help.as_str())
                .unwrap_or("");
            let _ = writeln!(
                text,
                "# HELP {name} {}",
                help.replace('\\', "\\\\").replace('\n', " ")
            );
            let _ = writeln!(text, "# TYPE {name} gauge");
            for d in ds {
                let labels: Vec<String> = d
                    .dimensions
                    .iter()
                    .map(|(k, v)| format!("{}=\"{}\"", label_name(k), escape(v)))
                    .collect();
                let ms = d
                    .timestamp
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis();
                let _ = writeln!(text, "{name}{{{}}} {} {ms}", labels.join(","), d.value);
            }
        }
        for (name, kind, help, value) in extra {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        e.text = text;
        e.ready = up;
        e.last = by_metric;
    }
}

/// `TransactionsLast10Minutes` becomes `pglog_transactions_last10_minutes`.
pub fn prom_name(metric: &str) -> String {
    let mut out = String::from("pglog_");
    let mut prev_lower = false;
    for c in metric.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out
}

fn label_name(dim: &str) -> String {
    let c: Vec<char> = dim.chars().collect();
    let mut out = String::new();
    for i in 0..c.len() {
        let boundary = i > 0
            && c[i].is_ascii_uppercase()
            && (c[i - 1].is_ascii_lowercase()
                || c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                    && c[i - 1].is_ascii_uppercase());
        if boundary {
            out.push('_');
        }
        out.push(if c[i].is_ascii_alphanumeric() {
            c[i].to_ascii_lowercase()
        } else {
            '_'
        });
    }
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn serve(
    listener: TcpListener,
    shared: Shared,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("serving /metrics on http://{addr}");
    }
    let mut stop = shutdown.clone();
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r?,
            _ = stop.changed() => return Ok(()),
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(respond(&req, &shared)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(req: &Request<hyper::body::Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let e = shared.0.read().unwrap();
    let (status, ctype, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            e.text.clone(),
        ),
        "/healthz" => (StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" if e.ready => (StatusCode::OK, "text/plain", "ready\n".into()),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "the database did not answer the last cycle\n".into(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics, /healthz or /readyz\n".into(),
        ),
    };
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(metric: &str, value: f64, secs: u64) -> Datum {
        Datum {
            metric: metric.into(),
            unit: "None".into(),
            value,
            dimensions: vec![("DBInstance".into(), "db".into())],
            timestamp: std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_slower_query_keeps_its_last_values_with_their_time() {
        let shared = Shared::default();
        let text = || shared.0.read().unwrap().text.clone();
        shared.update(
            &[datum("Up", 1.0, 100), datum("DatabaseSizeBytes", 7.0, 100)],
            &[],
            &[],
            true,
            &[],
        );
        // The size query is not due: its value stays, stamped 100 s.
        let not_due = vec!["DatabaseSizeBytes".to_string()];
        shared.update(&[datum("Up", 1.0, 160)], &not_due, &[], true, &[]);
        let t = text();
        assert!(
            t.contains("pglog_database_size_bytes{db_instance=\"db\"} 7 100000\n"),
            "{t}"
        );
        assert!(t.contains("pglog_up{db_instance=\"db\"} 1 160000\n"), "{t}");
        // It ran and gave nothing: gone.
        shared.update(&[datum("Up", 1.0, 220)], &[], &[], true, &[]);
        assert!(!text().contains("database_size"), "{}", text());
    }

    #[test]
    fn names() {
        assert_eq!(
            prom_name("TransactionsLast10Minutes"),
            "pglog_transactions_last10_minutes"
        );
        assert_eq!(prom_name("Up"), "pglog_up");
        assert_eq!(label_name("DBInstance"), "db_instance");
        assert_eq!(label_name("State"), "state");
    }
}
