//! `/metrics` in the Prometheus text format (gauges as CloudWatch got them,
//! each with the time it was read; counters as running totals), `/healthz`
//! (the process answers) and `/readyz` (the last cycle reached the
//! database). A query that runs less often than every cycle keeps its last
//! values, with their time, until it runs again, so Prometheus does not
//! mark its series stale. [`naming`] names every series; [`rules`] writes
//! the recording and alerting rules over those names.

pub mod exposition;
pub mod naming;
pub mod rules;

use std::convert::Infallible;
use std::sync::{Arc, RwLock};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::catalogue::MetricInfo;
use crate::series::Datum;
use exposition::Exposition;

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
        self.0
            .write()
            .unwrap()
            .update(datums, not_due, catalogue, up, extra);
    }
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
}
