mod daemon;
mod harness;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use std::time::{Duration, Instant};

use daemon::{datums, dim, value, Daemon};
use harness::{
    eventually, http_get, list_metrics, log_events, metric_stat_values, metric_values, Moto,
    MotoClients, Pg, LOGGING,
};

/// The harness itself: a primary with a streaming standby, pgbench, and a
/// moto server that stores CloudWatch and X-Ray data and can be restarted.
#[tokio::test(flavor = "multi_thread")]
async fn harness_smoke() {
    let primary = Pg::primary();
    let standby = primary.standby();
    assert_eq!(standby.psql("select pg_is_in_recovery()"), "t");
    assert_eq!(primary.psql("select pg_is_in_recovery()"), "f");

    assert_eq!(primary.pgbench(&["-i", "-s", "1", "-q"]), 0);
    assert_eq!(primary.pgbench(&["-c", "2", "-t", "25"]), 50);

    let moto = Moto::start_new();
    let cw = moto.cloudwatch().await;
    let dims = [("cluster", "smoke")];
    cw.put_metric_data()
        .namespace("pglog/test")
        .metric_data(
            MetricDatum::builder()
                .metric_name("xact_commit")
                .dimensions(Dimension::builder().name("cluster").value("smoke").build())
                .value(42.0)
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData");
    let values: Vec<f64> = metric_values(&cw, "pglog/test", "xact_commit", &dims)
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values, [42.0]);
    assert_eq!(
        list_metrics(&cw, "pglog/test").await,
        [(
            "xact_commit".to_string(),
            vec![("cluster".to_string(), "smoke".to_string())]
        )]
    );

    // X-Ray: segments are read back through trace IDs.
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs_f64();
    let trace_id = format!("1-{:08x}-0123456789abcdef01234567", now as u64);
    let segment = serde_json::json!({
        "name": "smoke", "id": "70de5b6f19ff9a0a", "trace_id": trace_id,
        "start_time": now, "end_time": now + 0.5,
    });
    moto.xray()
        .await
        .put_trace_segments()
        .trace_segment_documents(segment.to_string())
        .send()
        .await
        .expect("PutTraceSegments");
    let segments = moto.xray_segments().await;
    assert_eq!(segments.len(), 1, "{segments:?}");
    assert_eq!(segments[0]["trace_id"], trace_id.as_str());

    // A restart keeps the port and loses moto's state.
    moto.stop();
    moto.start();
    assert!(list_metrics(&cw, "pglog/test").await.is_empty());
}

fn with_env(base: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = base;
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// The whole path on a real primary and standby: the catalogue's values
/// reach CloudWatch (read back with GetMetricData), one X-Ray segment per
/// cycle with a subsegment per query, Prometheus serves the same values,
/// `TransactionsLast10Minutes` equals what pgbench ran, and SIGTERM ends
/// the daemon within 5 s with everything delivered.
#[tokio::test(flavor = "multi_thread")]
async fn ships_metrics_traces_and_prometheus() {
    // Autovacuum off: its transactions would count too.
    let primary = Pg::primary_with("autovacuum = off");
    let standby = primary.standby();
    primary.pgbench(&["-i", "-s", "1", "-q"]);
    primary.psql("CREATE ROLE app LOGIN PASSWORD 'x' VALID UNTIL '2030-01-01'");
    let moto = Moto::start_new();
    let listen = format!("127.0.0.1:{}", harness::free_port());
    let p = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--instance",
            "db-p",
            "--interval",
            "1s",
            "--storage-resolution",
            "1",
            "--listen",
            &listen,
        ],
        &moto.env(),
    );
    let s = Daemon::start(
        &[
            "--dsn",
            &standby.dsn(),
            "--instance",
            "db-s",
            "--interval",
            "1s",
            "--storage-resolution",
            "1",
        ],
        &moto.env(),
    );
    let cw = moto.cloudwatch().await;
    let up = |inst: &'static str| {
        let cw = cw.clone();
        async move {
            let v = metric_values(&cw, "PgLog", "Up", &[("DBInstance", inst)]).await;
            (v.len() >= 2).then_some(v)
        }
    };
    eventually("Up from the primary", Duration::from_secs(60), || {
        up("db-p")
    })
    .await;
    eventually("Up from the standby", Duration::from_secs(60), || {
        up("db-s")
    })
    .await;

    // Transactions: what pgbench ran, and nothing of the collector's own
    // (the server publishes a backend's counts up to a second late, so a
    // cycle's worth of the collector's own queries may be in flight).
    let ran = primary.pgbench(&["-n", "-c", "2", "-t", "300"]);
    assert_eq!(ran, 600);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let dims = [("DBInstance", "db-p"), ("Role", "primary")];
    let tx = metric_stat_values(&cw, "PgLog", "TransactionsLast10Minutes", &dims, "Maximum").await;
    let last = tx.last().unwrap().1;
    eprintln!("TransactionsLast10Minutes {last} after pgbench ran {ran}");
    assert!(
        (ran as f64 - 15.0..=ran as f64 + 15.0).contains(&last),
        "TransactionsLast10Minutes {last} after pgbench ran {ran}: {tx:?}"
    );

    // Every connection state is reported, zero included.
    let metrics = list_metrics(&cw, "PgLog").await;
    let states: Vec<&str> = metrics
        .iter()
        .filter(|(n, d)| n == "Connections" && d.contains(&("DBInstance".into(), "db-p".into())))
        .filter_map(|(_, d)| {
            d.iter()
                .find(|(k, _)| k == "State")
                .map(|(_, v)| v.as_str())
        })
        .collect();
    for state in [
        "active",
        "idle",
        "idle in transaction",
        "idle in transaction (aborted)",
        "fastpath function call",
        "disabled",
    ] {
        assert!(
            states.contains(&state),
            "Connections State={state} missing: {states:?}"
        );
    }
    // Replication lag: per standby on the primary, replay versus receive on the standby.
    assert!(
        metrics
            .iter()
            .any(|(n, d)| n == "ReplicationLagBytes" && d.iter().any(|(k, _)| k == "Standby")),
        "no per-standby lag on the primary: {metrics:?}"
    );
    let lag_s = metric_stat_values(
        &cw,
        "PgLog",
        "ReplicationLagSeconds",
        &[("DBInstance", "db-s"), ("Role", "standby")],
        "Maximum",
    )
    .await;
    assert!(
        !lag_s.is_empty() && lag_s.iter().all(|(_, v)| *v >= 0.0 && *v < 60.0),
        "{lag_s:?}"
    );
    let expiry = metric_stat_values(&cw, "PgLog", "PasswordExpiresInDays", &dims, "Minimum").await;
    assert!(
        expiry.first().is_some_and(|(_, v)| *v > 365.0),
        "{expiry:?}"
    );
    for name in [
        "CacheHitRatio",
        "WalBytesPerSecond",
        "XidWraparoundAge",
        "DatabaseSizeBytes",
        "LocksWaiting",
        "LongestTransactionSeconds",
        "CollectorStarts",
    ] {
        assert!(metrics.iter().any(|(n, _)| n == name), "{name} not shipped");
    }

    // Prometheus: the same metrics, and ready.
    let body = http_get(&listen, "/metrics");
    assert!(body.contains("pglog_up{db_instance=\"db-p\"} 1"), "{body}");
    assert!(
        body.contains("pglog_connections{db_instance=\"db-p\",role=\"primary\",state=\"idle\"}"),
        "{body}"
    );
    assert!(http_get(&listen, "/readyz").contains("ready"));
    assert!(http_get(&listen, "/healthz").starts_with("HTTP/1.1 200"));

    // X-Ray: a segment per cycle, a subsegment per query with its SQL.
    let segments = eventually("X-Ray segments", Duration::from_secs(30), || async {
        let s = moto.xray_segments().await;
        (s.len() >= 3).then_some(s)
    })
    .await;
    let seg = segments
        .iter()
        .find(|s| s["annotations"]["instance"] == "db-p")
        .expect("a primary segment");
    assert_eq!(seg["name"], "pglog-collector");
    assert_eq!(seg["annotations"]["role"], "primary");
    let subs = seg["subsegments"].as_array().unwrap();
    assert!(subs.len() >= 8, "{seg}");
    for sub in subs {
        let sql = &sub["sql"];
        assert_eq!(sql["database_type"], "PostgreSQL");
        assert!(sql["sanitized_query"]
            .as_str()
            .unwrap()
            .starts_with("/* pglog */ "));
        assert!(sql["database_version"].as_str().unwrap().starts_with("15"));
        assert_eq!(sql["user"], "postgres");
        assert_eq!(
            sql["url"],
            format!(
                "postgresql://postgres@127.0.0.1:{}/postgres",
                primary.port()
            )
        );
    }
    assert!(segments
        .iter()
        .any(|s| s["annotations"]["role"] == "standby"));

    let rss = p.peak_rss_kib();
    let (status, took) = p.terminate();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?}");
    let (status, _) = s.terminate();
    assert!(status.success());
    assert!(rss < 40 * 1024, "peak RSS {rss} KiB");
    eprintln!("collector peak RSS: {rss} KiB");
}

/// The database killed and restarted: Up goes 0 then back to 1 and the
/// daemon lives on. The standby promoted: its Role follows without a restart.
#[test]
fn survives_restart_and_follows_promotion() {
    let primary = Pg::primary();
    let standby = primary.standby();
    let p = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--instance",
            "p",
            "--interval",
            "500ms",
            "--dry-run",
        ],
        &[],
    );
    let s = Daemon::start(
        &[
            "--dsn",
            &standby.dsn(),
            "--instance",
            "s",
            "--interval",
            "500ms",
            "--dry-run",
        ],
        &[],
    );
    p.cycle_where("Up 1", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(1.0)
    });
    let c = s.cycle_where("a standby cycle", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(1.0)
    });
    assert_eq!(c["segments"][0]["annotations"]["role"], "standby");

    primary.kill();
    let down = p.cycle_where("Up 0", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(0.0)
    });
    assert_eq!(down["segments"][0]["fault"], true);
    // Down cycles still come, each with only Up.
    let again = p.next_cycle(Duration::from_secs(10));
    assert_eq!(datums(&again, "Up").len(), 1);
    primary.start();
    let back = p.cycle_where("Up 1 again", Duration::from_secs(60), |c| {
        value(c, "Up") == Some(1.0)
    });
    assert!(datums(&back, "Connections").len() >= 6);
    // The crash reset the server's statistics: counters restart from what
    // they hold now, never negative.
    for _ in 0..3 {
        let c = p.next_cycle(Duration::from_secs(10));
        for m in [
            "TransactionsLast10Minutes",
            "Rollbacks",
            "DatabaseDeadlocks",
            "TempBytes",
            "CheckpointsRequested",
            "WalBytesPerSecond",
        ] {
            for (_, v) in datums(&c, m) {
                assert!((0.0..1e9).contains(&v), "{m} = {v} after the restart");
            }
        }
    }

    standby.promote();
    let promoted = s.cycle_where("Role primary", Duration::from_secs(60), |c| {
        c["segments"][0]["annotations"]["role"] == "primary"
    });
    let (dims, _) = &datums(&promoted, "Connections")[0];
    assert_eq!(dim(dims, "Role"), Some("primary"));
    assert_eq!(dim(dims, "DBInstance"), Some("s"));
    assert!(p.terminate().0.success());
    assert!(s.terminate().0.success());
}

/// CloudWatch down for a while: datums wait in the buffer, then arrive
/// with the time they were read, each once.
#[tokio::test(flavor = "multi_thread")]
async fn buffers_through_an_outage() {
    let primary = Pg::primary();
    let moto = Moto::start_new();
    let d = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--instance",
            "o",
            "--interval",
            "1s",
            "--storage-resolution",
            "1",
            "--xray",
            "false",
        ],
        &moto.env(),
    );
    let cw = moto.cloudwatch().await;
    eventually("first Up", Duration::from_secs(60), || async {
        let v = metric_values(&cw, "PgLog", "Up", &[("DBInstance", "o")]).await;
        (!v.is_empty()).then_some(())
    })
    .await;
    moto.stop();
    let outage_start = std::time::SystemTime::now();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let outage_end = std::time::SystemTime::now();
    moto.start();
    // moto starts empty: everything it holds from the outage came from the buffer.
    let points = eventually("buffered Up datums", Duration::from_secs(60), || async {
        let v = metric_stat_values(&cw, "PgLog", "Up", &[("DBInstance", "o")], "SampleCount").await;
        let during: Vec<_> = v
            .iter()
            .filter(|(t, _)| {
                let t = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(t.secs() as u64);
                t >= outage_start && t + Duration::from_secs(1) <= outage_end
            })
            .cloned()
            .collect();
        (during.len() >= 6).then_some(during)
    })
    .await;
    // One datum per cycle second: nothing sent twice.
    assert!(points.iter().all(|(_, n)| *n == 1.0), "{points:?}");
    assert!(d.stderr().contains("retrying"), "{}", d.stderr());
    let (status, took) = d.terminate();
    assert!(status.success() && took < Duration::from_secs(5));
}

/// A query slower than its timeout is cancelled and marked as a fault;
/// the others still ship; `--once` says it did not fully work.
#[test]
fn slow_query_times_out_and_others_ship() {
    let primary = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extra.toml");
    std::fs::write(
        &file,
        "[[query]]\nid = \"slow\"\nsql = \"SELECT pg_sleep(30) IS NULL AS v\"\nroles = [\"primary\"]\ntimeout = \"1s\"\n[[query.value]]\ncolumn = \"v\"\nmetric = \"Slow\"\nkind = \"gauge\"\nunit = \"None\"\n",
    )
    .unwrap();
    let t = Instant::now();
    let d = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--once",
            "--dry-run",
            "--metrics",
            file.to_str().unwrap(),
        ],
        &[],
    );
    let (status, lines, stderr) = d.wait(Duration::from_secs(20));
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(status.code(), Some(1), "{stderr}");
    let cycle: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(value(&cycle, "Up"), Some(1.0));
    assert!(datums(&cycle, "Connections").len() >= 6);
    assert!(datums(&cycle, "Slow").is_empty());
    let seg = &cycle["segments"][0];
    assert_eq!(seg["fault"], true);
    let slow = seg["subsegments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "slow")
        .unwrap();
    assert_eq!(slow["fault"], true);
    assert!(
        slow["cause"]["exceptions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{slow}"
    );
    // The server cancelled it: nothing of it is still running.
    assert_eq!(primary.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"), "0");
}

/// Flags win over the environment, which wins over the file; a bad value
/// names the key, the value and what is expected.
#[test]
fn config_precedence_and_errors() {
    let primary = Pg::primary();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!("dsn = \"{}\"\ninstance = \"from-file\"\n", primary.dsn()),
    )
    .unwrap();
    let cfg = file.to_str().unwrap();
    let instance = |args: &[&str], env: &[(&str, &str)]| {
        let mut a = vec!["--config", cfg, "--once", "--dry-run"];
        a.extend_from_slice(args);
        let (status, lines, stderr) =
            Daemon::start(&a, &with_env(vec![], env)).wait(Duration::from_secs(20));
        assert!(status.success(), "{stderr}");
        let c: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        c["segments"][0]["annotations"]["instance"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(instance(&[], &[]), "from-file");
    assert_eq!(instance(&[], &[("PGLOG_INSTANCE", "from-env")]), "from-env");
    assert_eq!(
        instance(
            &["--instance", "from-flag"],
            &[("PGLOG_INSTANCE", "from-env")]
        ),
        "from-flag"
    );

    let fails = |args: &[&str], file_text: Option<&str>| {
        let f = dir.path().join("bad.toml");
        let mut a: Vec<&str> = args.to_vec();
        if let Some(t) = file_text {
            std::fs::write(&f, t).unwrap();
            a.extend(["--config", f.to_str().unwrap()]);
        }
        let (status, _, stderr) = Daemon::start(&a, &[]).wait(Duration::from_secs(20));
        assert_eq!(status.code(), Some(2), "{stderr}");
        stderr
    };
    let e = fails(&["--dsn", &primary.dsn(), "--interval", "soon"], None);
    assert!(
        e.contains("`interval`") && e.contains("soon") && e.contains("30s"),
        "{e}"
    );
    let e = fails(&[], Some("dsn = \"host=x\"\nintervall = \"1s\"\n"));
    assert!(e.contains("intervall") && e.contains("bad.toml"), "{e}");
    let e = fails(&[], None);
    assert!(e.contains("`dsn`") && e.contains("PGLOG_DSN"), "{e}");
    let e = fails(&["--dsn", "host=x user=u sslmode=sometimes"], None);
    assert!(e.contains("sslmode") && e.contains("verify-full"), "{e}");
    let e = fails(
        &["--dsn", "host=x user=u password=hunter2 port=notaport"],
        None,
    );
    assert!(e.contains("dsn") && !e.contains("hunter2"), "{e}");
    let e = fails(
        &[
            "--dsn",
            &primary.dsn(),
            "--password-env",
            "PGLOG_TEST_PASSWORD_NOT_SET",
        ],
        None,
    );
    assert!(
        e.contains("`password_env`") && e.contains("PGLOG_TEST_PASSWORD_NOT_SET"),
        "{e}"
    );
    let e = fails(
        &["--dsn", &primary.dsn(), "--aws-attempt-timeout", "soon"],
        None,
    );
    assert!(
        e.contains("`aws_attempt_timeout`") && e.contains("soon"),
        "{e}"
    );
}

/// The password from PGPASSFILE (never from the DSN), and it is not logged.
#[test]
fn password_from_pgpass_is_not_logged() {
    let primary = Pg::primary();
    primary.psql("CREATE ROLE mon LOGIN PASSWORD 'Secr3t-pw'; GRANT pg_monitor TO mon");
    require_password(&primary, "mon");
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:mon:Secr3t-pw\n", primary.port()),
    )
    .unwrap();
    let dsn = format!(
        "host=127.0.0.1 port={} user=mon dbname=postgres",
        primary.port()
    );
    let without = Daemon::start(
        &["--dsn", &dsn, "--once", "--dry-run"],
        &[("PGPASSFILE".into(), "/nonexistent".into())],
    );
    let (status, _, stderr) = without.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("password"), "{stderr}");
    let with = Daemon::start(
        &["--dsn", &dsn, "--once", "--dry-run"],
        &[("PGPASSFILE".into(), pgpass.to_str().unwrap().into())],
    );
    let (status, lines, stderr) = with.wait(Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("Secr3t") && !lines.concat().contains("Secr3t"));
}

/// Makes `user` log in with its password over TCP.
fn require_password(pg: &Pg, user: &str) {
    let hba = pg.data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("host all {user} 127.0.0.1/32 scram-sha-256\n{old}"),
    )
    .unwrap();
    pg.psql("SELECT pg_reload_conf()");
}

/// A CA and a server certificate for localhost / 127.0.0.1, made with
/// openssl, owned by the server's OS user.
fn make_certs(
    dir: &std::path::Path,
    name: &str,
    uid: u32,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ca_key = format!("{name}-ca.key");
    let ca = format!("{name}-ca.pem");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
        "-days",
        "2",
        "-subj",
        &format!("/CN={name} test CA"),
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    for f in ["server.key", "server.pem"] {
        std::os::unix::fs::chown(dir.join(f), Some(uid), None).unwrap();
    }
    std::fs::set_permissions(
        dir.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    (
        dir.join(&ca),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

/// TLS: sslmode=require encrypts, verify-full checks the chain and the host
/// name against sslrootcert and refuses a certificate from another CA.
#[test]
fn tls_require_and_verify_full() {
    let primary = Pg::primary();
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(primary.data_dir()).unwrap());
    let dir = tempfile::Builder::new()
        .prefix("pglog-tls-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (ca, cert, key) = make_certs(dir.path(), "good", uid);
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (other_ca, _, _) = make_certs(&other, "other", uid);
    // TLS turned on by a reload; plain TCP refused, so a working cycle proves TLS.
    let hba = primary.data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("hostnossl all all 127.0.0.1/32 reject\n{old}"),
    )
    .unwrap();
    primary.psql(&format!(
        "ALTER SYSTEM SET ssl_cert_file = '{}'",
        cert.display()
    ));
    primary.psql(&format!(
        "ALTER SYSTEM SET ssl_key_file = '{}'",
        key.display()
    ));
    primary.psql("ALTER SYSTEM SET ssl = on");
    primary.psql("SELECT pg_reload_conf()");
    let once = |dsn: String| {
        let (status, lines, stderr) = Daemon::start(&["--dsn", &dsn, "--once", "--dry-run"], &[])
            .wait(Duration::from_secs(30));
        (status.code(), lines, stderr)
    };
    let base = format!(
        "host=localhost port={} user=postgres dbname=postgres",
        primary.port()
    );
    let (code, _, stderr) = once(format!("{base} sslmode=disable"));
    assert_eq!(code, Some(1), "{stderr}");
    let (code, _, stderr) = once(format!("{base} sslmode=require"));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = once(format!(
        "{base} sslmode=verify-full sslrootcert={}",
        ca.display()
    ));
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = once(format!(
        "{base} sslmode=verify-full sslrootcert={}",
        other_ca.display()
    ));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}

/// `pglog metrics list --format json`: every metric with its unit and
/// dimensions, the contract names among them.
#[test]
fn metrics_list_json() {
    let out = std::process::Command::new(daemon::pglog_bin())
        .args(["metrics", "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    for m in list {
        assert!(
            m["name"].is_string() && m["unit"].is_string() && m["dimensions"].is_array(),
            "{m}"
        );
    }
    let find = |n: &str| {
        list.iter()
            .find(|m| m["name"] == n)
            .unwrap_or_else(|| panic!("{n} not listed"))
    };
    assert_eq!(find("Up")["dimensions"], serde_json::json!(["DBInstance"]));
    assert_eq!(
        find("Connections")["dimensions"],
        serde_json::json!(["DBInstance", "Role", "State"])
    );
    assert_eq!(find("ReplicationLagBytes")["unit"], "Bytes");
    for n in [
        "TransactionsLast10Minutes",
        "ReplicationLagSeconds",
        "PasswordExpiresInDays",
    ] {
        find(n);
    }
}

/// Segments over UDP to a local X-Ray daemon: the daemon's header line,
/// then the segment.
#[test]
fn xray_daemon_over_udp() {
    let primary = Pg::primary();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let d = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--once",
            "--cloudwatch",
            "false",
            "--xray-daemon",
            &addr,
        ],
        &[
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ],
    );
    let mut buf = vec![0u8; 65536];
    let n = socket.recv(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    let (header, body) = text.split_once('\n').unwrap();
    assert_eq!(header, r#"{"format": "json", "version": 1}"#);
    let seg: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(seg["name"], "pglog-collector");
    assert!(seg["trace_id"].as_str().unwrap().starts_with("1-"));
    assert!(seg["subsegments"].as_array().unwrap().len() >= 8);
    let (status, _, stderr) = d.wait(Duration::from_secs(20));
    assert!(status.success(), "{stderr}");
}

/// A backend that stops answering (SIGSTOP, as a network partition would
/// look): the cycle gives up after the query's timeout plus a second, the
/// daemon reconnects, and collection goes on.
#[test]
fn hung_backend_does_not_hang_the_cycle() {
    let primary = Pg::primary();
    let d = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--interval",
            "500ms",
            "--dry-run",
            "--instance",
            "h",
        ],
        &[],
    );
    d.cycle_where("Up 1", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(1.0)
    });
    let pid =
        primary.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'pglog-collector'");
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    let t = Instant::now();
    let stuck = d.cycle_where("the stuck cycle", Duration::from_secs(20), |c| {
        value(c, "Up") != Some(1.0) || c["segments"][0]["fault"] == true
    });
    signal("-CONT");
    // The server-info query has a 5 s timeout; the client waits one more second.
    assert!(t.elapsed() < Duration::from_secs(9), "{:?}", t.elapsed());
    assert!(
        stuck["segments"][0]["cause"]["exceptions"][0]["message"]
            .as_str()
            .unwrap()
            .contains("timeout"),
        "{stuck}"
    );
    d.cycle_where("Up 1 on a new connection", Duration::from_secs(30), |c| {
        value(c, "Up") == Some(1.0) && c["segments"][0].get("fault").is_none()
    });
    let pids = primary.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pglog-collector' AND pid <> 0");
    assert!(pids == "1" || pids == "2", "{pids}");
    // Both steps are logged: the timeout firing, and the new connection.
    let log = d.stderr();
    assert!(
        log.contains("gave no answer within 6s") && log.contains("replacing the connection"),
        "{log}"
    );
    assert!(log.contains("replaces the one that stalled"), "{log}");
    assert!(d.terminate().0.success());
}

/// A buffer smaller than the outage: the oldest datums are dropped, the
/// drop is counted and logged, and the newest arrive.
#[tokio::test(flavor = "multi_thread")]
async fn full_buffer_drops_the_oldest() {
    let primary = Pg::primary();
    let moto = Moto::start_new();
    let listen = format!("127.0.0.1:{}", harness::free_port());
    let d = Daemon::start(
        &[
            "--dsn",
            &primary.dsn(),
            "--instance",
            "f",
            "--interval",
            "1s",
            "--storage-resolution",
            "1",
            "--xray",
            "false",
            "--buffer-max-datums",
            "100",
            "--listen",
            &listen,
        ],
        &moto.env(),
    );
    let cw = moto.cloudwatch().await;
    eventually("first Up", Duration::from_secs(60), || async {
        (!metric_values(&cw, "PgLog", "Up", &[("DBInstance", "f")])
            .await
            .is_empty())
        .then_some(())
    })
    .await;
    moto.stop();
    let outage_start = std::time::SystemTime::now();
    // About 20 datums a cycle: 10 cycles overflow a buffer of 100.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let metrics = http_get(&listen, "/metrics");
    let dropped: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("pglog_cloudwatch_datums_dropped_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(dropped > 20.0, "{metrics}");
    assert!(
        metrics.contains("pglog_cloudwatch_datums_buffered 100\n"),
        "{metrics}"
    );
    moto.start();
    let ups = eventually("Up after the outage", Duration::from_secs(60), || async {
        let v = metric_values(&cw, "PgLog", "Up", &[("DBInstance", "f")]).await;
        (v.len() >= 3).then_some(v)
    })
    .await;
    // The first cycles of the outage were dropped to make room for the last.
    let first = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(ups[0].0.secs() as u64);
    assert!(first > outage_start + Duration::from_secs(2), "{ups:?}");
    assert!(d.stderr().contains("dropping the oldest"), "{}", d.stderr());
    assert!(d.terminate().0.success());
}

/// Every event of a log group, per stream, oldest first.
/// Records in a log directory, as `pglog analyze` counts them.
fn records_in(dir: &std::path::Path) -> u64 {
    let out = std::process::Command::new(daemon::pglog_bin())
        .args(["analyze", "--format", "json", "-q"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    r["input"]["records"].as_u64().unwrap() + r["input"]["malformed"].as_u64().unwrap()
}

/// `pglog collect` shipping `log_dir` to `group` in moto, with `extra` flags.
fn start_shipping(
    pg: &Pg,
    moto: &Moto,
    log_dir: &std::path::Path,
    state: &std::path::Path,
    group: &str,
    extra: &[&str],
) -> Daemon {
    let dsn = pg.dsn();
    let mut args = vec![
        "--dsn",
        &dsn,
        "--log-dir",
        log_dir.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--log-group",
        group,
    ];
    args.extend_from_slice(extra);
    Daemon::start(&args, &moto.env())
}

fn ship_once(pg: &Pg, moto: &Moto, log_dir: &std::path::Path, state: &std::path::Path) -> String {
    ship_once_to(pg, moto, log_dir, state, "/pglog/test")
}

fn ship_once_to(
    pg: &Pg,
    moto: &Moto,
    log_dir: &std::path::Path,
    state: &std::path::Path,
    group: &str,
) -> String {
    let d = start_shipping(
        pg,
        moto,
        log_dir,
        state,
        group,
        &[
            "--once",
            "--cloudwatch",
            "false",
            "--xray",
            "false",
            "--log-retention-days",
            "7",
        ],
    );
    let (status, _, stderr) = d.wait(Duration::from_secs(120));
    // A stopped server makes the metric part of the run fail (exit 1); the
    // log part must have caught up all the same.
    assert!(
        status.success() || stderr.contains("database unreachable"),
        "{stderr}"
    );
    assert!(
        stderr.contains("log shipping:") && !stderr.contains("not delivered"),
        "{stderr}"
    );
    stderr
}

/// The server's csvlog shipped to CloudWatch Logs in several runs, across a
/// rotation, and once more after the checkpoint was set back (as after a
/// crash between the write and the checkpoint): the group holds each record
/// exactly once, each as one event with the record's own time.
#[tokio::test(flavor = "multi_thread")]
async fn log_shipping_exactly_once() {
    let pg = Pg::primary_with(LOGGING);
    let log_dir = pg.data_dir().join("log");
    let state = tempfile::tempdir().unwrap();
    let moto = Moto::start_new();
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    pg.pgbench(&["-n", "-c", "2", "-t", "200"]);
    daemon::pglog_bin();
    let t = Instant::now();
    ship_once(&pg, &moto, &log_dir, state.path());
    let first = log_events(&moto, "/pglog/test").await.len();
    eprintln!("first run: {first} events in {:?}", t.elapsed());
    assert!(first > 1000, "{first}");
    let checkpoint_then = std::fs::read(state.path().join("log-shipping.json")).unwrap();

    // More load, a rotation in the middle of it, another run.
    pg.pgbench(&["-n", "-c", "2", "-t", "100"]);
    std::thread::sleep(Duration::from_millis(1100));
    pg.psql("SELECT pg_rotate_logfile()");
    pg.pgbench(&["-n", "-c", "2", "-t", "100"]);
    ship_once(&pg, &moto, &log_dir, state.path());

    // As if that run had died after its writes and before its checkpoint.
    std::fs::write(state.path().join("log-shipping.json"), &checkpoint_then).unwrap();
    let stderr = ship_once(&pg, &moto, &log_dir, state.path());
    assert!(stderr.contains("shipped before the last stop"), "{stderr}");

    // The server stopped: every record it wrote is in a file now.
    pg.stop();
    ship_once(&pg, &moto, &log_dir, state.path());
    let events = log_events(&moto, "/pglog/test").await;
    let records = records_in(&log_dir);
    // The .log files beside the csvlog ones hold what was written before
    // the csvlog was open (the first lines), or nothing.
    let files = std::fs::read_dir(&log_dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().metadata().unwrap().len() > 0)
        .count();
    assert!(files >= 2, "rotation made {files} files");
    let streams: std::collections::BTreeSet<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(streams.len(), files, "one stream per file: {streams:?}");
    assert_eq!(
        events.len() as u64,
        records,
        "events in the group versus records in the files"
    );
    // Each event is one csv record with its own time.
    let mut seen = std::collections::HashSet::new();
    for (_, ts, msg) in &events {
        assert!(msg.starts_with("20") && !msg.ends_with('\n'), "{msg}");
        assert!(seen.insert((*ts, msg.clone())), "shipped twice: {msg}");
    }
}

/// kill -9 while a large backlog is being shipped, then a restart: the
/// count is exact.
#[tokio::test(flavor = "multi_thread")]
async fn log_shipping_survives_kill_9() {
    let pg = Pg::primary_with(LOGGING);
    let log_dir = pg.data_dir().join("log");
    let state = tempfile::tempdir().unwrap();
    let moto = Moto::start_new();
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    pg.pgbench(&["-n", "-c", "4", "-t", "800"]);
    let mut d = start_shipping(
        &pg,
        &moto,
        &log_dir,
        state.path(),
        "/pglog/test",
        &[
            "--interval",
            "1s",
            "--cloudwatch",
            "false",
            "--xray",
            "false",
        ],
    );
    let t = Instant::now();
    // The checkpoint appears once the first batch is accepted: kill then,
    // with most of the backlog still to go.
    harness::wait_until("the first checkpoint", Duration::from_secs(60), || {
        state.path().join("log-shipping.json").exists()
    });
    d.kill9();
    let at_kill = log_events(&moto, "/pglog/test").await.len();
    eprintln!(
        "killed after {:?} with {at_kill} events shipped",
        t.elapsed()
    );
    pg.stop();
    ship_once(&pg, &moto, &log_dir, state.path());
    let events = log_events(&moto, "/pglog/test").await;
    assert_eq!(events.len() as u64, records_in(&log_dir));
}

fn analyze_json(args: &[&str], env: &[(String, String)]) -> serde_json::Value {
    let out = std::process::Command::new(daemon::pglog_bin())
        .args(["analyze", "--format", "json", "-q"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What must be equal between two analyses of the same records.
fn essence(r: &serde_json::Value) -> serde_json::Value {
    let calls: std::collections::BTreeMap<String, (u64, f64)> = r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["normalized"].as_str().unwrap().to_string(),
                (
                    q["calls"].as_u64().unwrap(),
                    (q["total_ms"].as_f64().unwrap() * 1000.0).round(),
                ),
            )
        })
        .collect();
    serde_json::json!({
        "records": r["input"]["records"],
        "malformed": r["input"]["malformed"],
        "summary": r["summary"],
        "errors": r["errors"],
        "queries": calls,
        "plans": r["plans"].as_array().unwrap().len(),
    })
}

/// A real server's log shipped to CloudWatch Logs and analyzed back from the
/// group gives the same report as the files; an RDS-style group (stderr with
/// RDS's prefix, named as RDS names it) too.
#[tokio::test(flavor = "multi_thread")]
async fn analyze_reads_a_log_group_back() {
    let moto = Moto::start_new();
    for (group, conf) in [
        ("/pglog/roundtrip", LOGGING.to_string()),
        (
            "/aws/rds/instance/db1/postgresql",
            LOGGING.replace("'csvlog'", "'stderr'") + "log_line_prefix = '%t:%r:%u@%d:[%p]:'\n",
        ),
    ] {
        let pg = Pg::primary_with(&conf);
        pg.pgbench(&["-i", "-s", "1", "-q"]);
        pg.pgbench(&["-n", "-c", "2", "-t", "100"]);
        let _ = pg.try_psql("SELECT * FROM no_such_table");
        let _ = pg.try_psql("SELECT 1/0");
        // The log spans more than its first second even where its times
        // have whole seconds (%t), so a window from its first to its last
        // instant is never empty.
        pg.psql("SELECT pg_sleep(1.1)");
        pg.stop();
        let log_dir = pg.data_dir().join("log");
        let state = tempfile::tempdir().unwrap();
        ship_once_to(&pg, &moto, &log_dir, state.path(), group);
        let local = analyze_json(&[log_dir.to_str().unwrap()], &[]);
        let remote = analyze_json(
            &["--cloudwatch-log-group", group, "--since", "2h"],
            &moto.env(),
        );
        assert!(local["input"]["records"].as_u64().unwrap() > 1000);
        assert_eq!(essence(&remote), essence(&local), "{group}");
        // A window (--start is --begin's alias) is where the group is read
        // from, and it keeps the same records of it as of the files (the
        // last instant is past the end, so some are left out).
        let first = local["summary"]["first_timestamp"].as_str().unwrap();
        let last = local["summary"]["last_timestamp"].as_str().unwrap();
        let window = ["--start", first, "--end", last];
        let local = analyze_json(&[&window[..], &[log_dir.to_str().unwrap()]].concat(), &[]);
        let remote = analyze_json(
            &[&window[..], &["--cloudwatch-log-group", group]].concat(),
            &moto.env(),
        );
        assert!(local["input"]["filtered"].as_u64().unwrap() > 0, "{group}");
        assert_eq!(essence(&remote), essence(&local), "{group}");
    }
}

/// Errors, slow statements, checkpoints and temp files in the shipped log
/// become per-minute CloudWatch metrics stamped with the minute they were
/// logged in.
#[tokio::test(flavor = "multi_thread")]
async fn live_log_metrics() {
    let pg = Pg::primary_with(&format!(
        "{LOGGING}log_temp_files = 0\nlog_checkpoints = on\n"
    ));
    let _ = pg.try_psql("SELECT 1/0");
    let _ = pg.try_psql("SELECT * FROM no_such_table");
    let _ = pg.try_psql("SELECT * FROM no_such_table");
    pg.psql("SELECT pg_sleep(0.3)");
    pg.psql("SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s");
    pg.psql("CHECKPOINT");
    let moto = Moto::start_new();
    let state = tempfile::tempdir().unwrap();
    let log_dir = pg.data_dir().join("log");
    let d = start_shipping(
        &pg,
        &moto,
        &log_dir,
        state.path(),
        "/pglog/postgresql",
        &[
            "--once",
            "--instance",
            "lm",
            "--xray",
            "false",
            "--storage-resolution",
            "1",
            "--slow-query-ms",
            "250",
        ],
    );
    let (status, _, stderr) = d.wait(Duration::from_secs(120));
    assert!(status.success(), "{stderr}");
    let cw = moto.cloudwatch().await;
    let sum = |name: &'static str, dims: Vec<(&'static str, &'static str)>| {
        let cw = cw.clone();
        async move {
            let mut all = vec![("DBInstance", "lm")];
            all.extend(dims);
            metric_values(&cw, "PgLog", name, &all)
                .await
                .iter()
                .map(|(_, v)| v)
                .sum::<f64>()
        }
    };
    assert_eq!(
        sum(
            "LogErrors",
            vec![("Severity", "ERROR"), ("SqlStateClass", "22")]
        )
        .await,
        1.0
    );
    assert_eq!(
        sum(
            "LogErrors",
            vec![("Severity", "ERROR"), ("SqlStateClass", "42")]
        )
        .await,
        2.0
    );
    assert!(sum("SlowQueries", vec![]).await >= 1.0);
    assert!(sum("Checkpoints", vec![]).await >= 1.0);
    assert!(sum("TempFileBytes", vec![]).await > 1_000_000.0);
    // Stamped with their minute.
    let points = metric_values(
        &cw,
        "PgLog",
        "LogErrors",
        &[
            ("DBInstance", "lm"),
            ("Severity", "ERROR"),
            ("SqlStateClass", "42"),
        ],
    )
    .await;
    assert!(points.iter().all(|(t, _)| t.secs() % 60 == 0), "{points:?}");
}

/// The daemon ships while pgbench runs and the server rotates its log
/// twice (pg_rotate_logfile): every record of every file arrives once, and
/// SIGTERM leaves nothing behind that a restart would send again.
#[tokio::test(flavor = "multi_thread")]
async fn rotation_while_shipping() {
    let pg = Pg::primary_with(LOGGING);
    let log_dir = pg.data_dir().join("log");
    let state = tempfile::tempdir().unwrap();
    let moto = Moto::start_new();
    pg.pgbench(&["-i", "-s", "1", "-q"]);
    let d = start_shipping(
        &pg,
        &moto,
        &log_dir,
        state.path(),
        "/pglog/test",
        &[
            "--interval",
            "1s",
            "--xray",
            "false",
            "--instance",
            "rot",
            "--prefix",
            "%m [%p] ",
        ],
    );
    for _ in 0..2 {
        pg.pgbench(&["-n", "-c", "2", "-T", "2"]);
        std::thread::sleep(Duration::from_millis(1100));
        pg.psql("SELECT pg_rotate_logfile()");
    }
    pg.pgbench(&["-n", "-c", "2", "-T", "2"]);
    pg.stop();
    // Wait for the daemon to reach the end of the last file, then stop it.
    harness::wait_until("the daemon to catch up", Duration::from_secs(60), || {
        let cp =
            std::fs::read_to_string(state.path().join("log-shipping.json")).unwrap_or_default();
        let cp: serde_json::Value = serde_json::from_str(&cp).unwrap_or_default();
        let sizes: u64 = std::fs::read_dir(&log_dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        let shipped: u64 = cp["files"]
            .as_object()
            .map(|f| {
                f.values()
                    .filter(|m| m["path"].as_str().unwrap().ends_with(".csv"))
                    .map(|m| m["offset"].as_u64().unwrap())
                    .sum()
            })
            .unwrap_or(0);
        shipped == sizes
    });
    let (status, took) = d.terminate();
    assert!(
        status.success() && took < Duration::from_secs(5),
        "{status:?} {took:?}"
    );
    // A restart finds nothing new.
    let stderr = ship_once(&pg, &moto, &log_dir, state.path());
    assert!(
        stderr.contains("log shipping: 0 records shipped"),
        "{stderr}"
    );
    let events = log_events(&moto, "/pglog/test").await;
    let csv_files = std::fs::read_dir(&log_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".csv")
        })
        .count();
    assert!(csv_files >= 3, "{csv_files} csv files");
    assert_eq!(events.len() as u64, records_in(&log_dir));
}

/// A file emptied and written again under the same name and inode (what
/// `log_truncate_on_rotation` does at a time-based rotation) is shipped
/// again from its start; the new content is a later real log of the server.
#[tokio::test(flavor = "multi_thread")]
async fn truncated_file_starts_over() {
    let pg = Pg::primary_with(LOGGING);
    let log_dir = pg.data_dir().join("log");
    let state = tempfile::tempdir().unwrap();
    let moto = Moto::start_new();
    pg.pgbench(&["-n", "-i", "-s", "1", "-q"]);
    std::thread::sleep(Duration::from_millis(1100));
    pg.psql("SELECT pg_rotate_logfile()");
    pg.pgbench(&["-n", "-c", "2", "-t", "50"]);
    pg.stop();
    let mut csv: Vec<std::path::PathBuf> = std::fs::read_dir(&log_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    csv.sort();
    assert_eq!(csv.len(), 2);
    ship_once(&pg, &moto, &log_dir, state.path());
    let before = log_events(&moto, "/pglog/test").await.len() as u64;
    assert_eq!(before, records_in(&log_dir));
    // The first file, truncated in place and filled with the second's records.
    let later = std::fs::read(&csv[1]).unwrap();
    let ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&csv[0]).unwrap());
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&csv[0])
            .unwrap();
        f.write_all(&later).unwrap();
    }
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&csv[0]).unwrap()),
        ino
    );
    ship_once(&pg, &moto, &log_dir, state.path());
    let after = log_events(&moto, "/pglog/test").await;
    let second = records_in(&csv[1]);
    assert_eq!(after.len() as u64, before + second);
}
