//! `s3://` prefixes and `--rds-instance`, against a real moto server on
//! loopback (`pglog-testkit`). The objects hold the sample logs as the
//! server wrote them, plain and compressed by the test; each report must be
//! the report of the same files read from disk.

use super::bounded::pglog_peak_with;
use super::*;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::StorageClass;
use pglog_testkit::moto::Moto;

const BUCKET: &str = "pglog-sources";

/// A bucket on a fresh moto server, and the client that fills it.
struct Bucket {
    moto: Moto,
    rt: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
}

impl Bucket {
    fn new() -> Bucket {
        let moto = Moto::start_new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let sdk = rt.block_on(moto.sdk_config());
        let conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        rt.block_on(s3.create_bucket().bucket(BUCKET).send())
            .expect("CreateBucket");
        Bucket { moto, rt, s3 }
    }

    fn put(&self, key: &str, body: Vec<u8>) {
        self.put_as(key, body, None);
    }

    fn put_as(&self, key: &str, body: Vec<u8>, class: Option<StorageClass>) {
        self.rt
            .block_on(
                self.s3
                    .put_object()
                    .bucket(BUCKET)
                    .key(key)
                    .set_storage_class(class)
                    .body(ByteStream::from(body))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
    }

    fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    fn pglog(&self, args: &[&str]) -> Output {
        pglog_in(args, &self.moto.env())
    }
}

fn pglog_in(args: &[&str], env: &[(String, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("pglog runs")
}

/// `pglog analyze --format json` of `args`; the report, whatever the exit
/// status, with the status.
fn report(out: &Output, args: &[&str]) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pglog {args:?} ({}) gave no report ({e}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn analyze_in(bucket: &Bucket, inputs: &[&str]) -> Value {
    let mut args = vec!["analyze", "--format", "json", "-q"];
    args.extend_from_slice(inputs);
    let out = bucket.pglog(&args);
    assert!(
        out.status.success(),
        "pglog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    report(&out, &args)
}

/// What a report found, leaving out where the bytes came from.
fn findings(doc: &Value) -> Value {
    let mut d = doc.clone();
    let input = d.as_object_mut().unwrap().remove("input").unwrap();
    d["records"] = input["records"].clone();
    d["malformed"] = input["malformed"].clone();
    d["bytes"] = input["bytes"].clone();
    d
}

/// Two fields of each entry of an `input` list.
fn pairs(doc: &Value, list: &str, a: &str, b: &str) -> Vec<(String, String)> {
    doc["input"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[a].as_str().unwrap().into(), e[b].as_str().unwrap().into()))
        .collect()
}

/// Each source's path and compression.
fn sources(doc: &Value) -> Vec<(String, String)> {
    pairs(doc, "sources", "path", "compression")
}

/// Records in one sample log of `instance`, as the independent counter says.
fn records_of(instance: &str) -> u64 {
    expected(instance)["records"].as_u64().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap()
}

/// The primary's three sample logs, in the order a directory lists them.
fn primary_logs() -> Vec<(&'static str, Vec<u8>)> {
    FORMATS
        .iter()
        .map(|f| (*f, std::fs::read(sample(&format!("primary/{f}"))).unwrap()))
        .collect()
}

/// Plain, gzip and zstd objects, and the layout a CloudWatch Logs export
/// task writes (its permission-check marker, then
/// `PREFIX/TASK-ID/STREAM/000000.gz`), each give the report of the files;
/// and a prefix mixed with a local directory gives the report of both
/// directories.
#[test]
fn s3_prefixes_read_like_the_local_files() {
    let b = Bucket::new();
    b.put(
        "export/aws-logs-write-test",
        b"Permission Check Successful".to_vec(),
    );
    for (name, bytes) in primary_logs() {
        b.put(&format!("plain/{name}"), bytes.clone());
        b.put(&format!("gzip/{name}.gz"), gzip(&bytes));
        b.put(&format!("zstd/{name}.zst"), zstd(&bytes));
        let stream = name.replace('.', "-");
        b.put(
            &format!("export/0b7c6a2e-task/{stream}/000000.gz"),
            gzip(&bytes),
        );
    }
    let local = analyze_path(&sample("primary"), &[]);
    assert_eq!(n(&local, "/input/records"), 3 * records_of("primary"));
    for (prefix, compression) in [
        ("plain/", "none"),
        ("gzip/", "gzip"),
        ("zstd/", "zstd"),
        ("export/", "gzip"),
    ] {
        let doc = analyze_in(&b, &[&b.url(prefix)]);
        assert_eq!(findings(&doc), findings(&local), "{prefix}");
        let read = sources(&doc);
        assert_eq!(read.len(), 3, "{prefix}: {read:?}");
        for (path, c) in &read {
            assert!(path.starts_with(&b.url(prefix)), "{path}");
            assert_eq!(c, compression, "{path}");
        }
        // The export task's marker is not an input at all.
        assert_eq!(doc["input"]["skipped"], serde_json::json!([]), "{prefix}");
    }

    let replica = sample("replica");
    let mixed = analyze_in(&b, &[replica.to_str().unwrap(), &b.url("plain/")]);
    let both = analyze_json(&[
        replica.to_str().unwrap(),
        sample("primary").to_str().unwrap(),
    ]);
    assert_eq!(findings(&mixed), findings(&both));
    assert_eq!(sources(&mixed).len(), 6);
}

/// A CloudWatch Logs export of an RDS instance's group, as the export task
/// writes it (each line an ISO timestamp, then the RDS line; gzip objects
/// under `TASK-ID/STREAM/`), gives the report of the RDS log it holds.
#[test]
fn an_s3_export_of_rds_lines_reads_like_the_rds_log() {
    let b = Bucket::new();
    b.put(
        "rds-export/aws-logs-write-test",
        b"Permission Check Successful".to_vec(),
    );
    let export = std::fs::read(sample("wrapped/cloudwatch-export.gz")).unwrap();
    b.put("rds-export/4f1d-task/pg-rds/000000.gz", export);
    let doc = analyze_in(&b, &[&b.url("rds-export/")]);
    let local = analyze_path(&sample("rds/postgresql.log"), &[]);
    // The same findings; more bytes, for the export's timestamps.
    let without_bytes = |d: &Value| {
        let mut f = findings(d);
        f["bytes"] = Value::Null;
        f
    };
    assert_eq!(without_bytes(&doc), without_bytes(&local));
    assert_eq!(doc["input"]["sources"][0]["format"], "cloudwatch-export");
    assert_eq!(doc["input"]["skipped"], serde_json::json!([]));
}

/// An archived object (GetObject refused) and a damaged gzip object are
/// listed as skipped with their reasons, a text object as not a log; the
/// other objects are read and the report is written.
#[test]
fn an_object_that_cannot_be_read_does_not_sink_the_run() {
    let b = Bucket::new();
    let log = std::fs::read(sample("primary/postgresql.log")).unwrap();
    b.put("mixed/a-good.log", log.clone());
    b.put_as("mixed/b-archived.log", log, Some(StorageClass::Glacier));
    let mut damaged = gzip(b"not a log, and cut short\n");
    damaged.truncate(damaged.len() / 2);
    damaged.extend_from_slice(&[0xff; 64]);
    b.put("mixed/c-damaged.log.gz", damaged);
    b.put("mixed/d-notes.txt", b"kept next to the logs\n".to_vec());
    let args = ["analyze", "--format", "json", "-q", &b.url("mixed/")];
    let out = b.pglog(&args);
    // Inputs that could not be read: exit status 1, the report written.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = report(&out, &args);
    assert_eq!(
        sources(&doc),
        [(b.url("mixed/a-good.log"), "none".to_string())]
    );
    assert_eq!(n(&doc, "/input/records"), records_of("primary"));
    let skipped = pairs(&doc, "skipped", "path", "reason");
    let kinds: Vec<String> = pairs(&doc, "skipped", "path", "kind")
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    assert_eq!(kinds, ["unreadable", "unreadable", "not_log"]);
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped[0].0, b.url("mixed/b-archived.log"));
    assert!(
        skipped[0].1.contains("archived") && skipped[0].1.contains("restore"),
        "{}",
        skipped[0].1
    );
    assert_eq!(skipped[1].0, b.url("mixed/c-damaged.log.gz"));
    assert!(skipped[1].1.contains("decompress"), "{}", skipped[1].1);
    assert_eq!(
        skipped[2],
        (
            b.url("mixed/d-notes.txt"),
            "not a PostgreSQL log".to_string()
        )
    );
}

/// Listing failures stop the run (exit 2) with the bucket and the fix.
#[test]
fn s3_errors_name_the_bucket_and_the_fix() {
    let b = Bucket::new();
    b.put("logs/postgresql.log", b"x\n".to_vec());
    let no_keys = tmp();
    let without_credentials: Vec<(String, String)> = b
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY") && !k.starts_with("AWS_SECRET"))
        .chain(
            [
                ("HOME", no_keys.path().to_str().unwrap()),
                ("AWS_CONFIG_FILE", "/nonexistent/config"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .collect();
    // The URL, the environment, what the message must say.
    type Case<'a> = (&'a str, &'a [(String, String)], &'a [&'a str]);
    let without_region: Vec<(String, String)> = without_credentials
        .iter()
        .filter(|(k, _)| k != "AWS_REGION")
        .cloned()
        .chain(
            b.moto
                .env()
                .into_iter()
                .filter(|(k, _)| k.starts_with("AWS_ACCESS_KEY") || k.starts_with("AWS_SECRET")),
        )
        .collect();
    let cases: [Case; 5] = [
        (
            "s3://pglog-no-such-bucket/logs/",
            &b.moto.env(),
            &[
                "s3://pglog-no-such-bucket/logs/: no such bucket",
                "AWS_REGION",
            ],
        ),
        (
            "s3://pglog-sources/nothing-here/",
            &b.moto.env(),
            &["s3://pglog-sources/nothing-here/: no objects under this prefix"],
        ),
        (
            "s3://pglog-sources/logs/",
            &without_credentials,
            &["no AWS credentials found", "AWS_ACCESS_KEY_ID"],
        ),
        ("s3:///logs/", &b.moto.env(), &["write s3://BUCKET/PREFIX"]),
        (
            "s3://pglog-sources/logs/",
            &without_region,
            &["no AWS region: set AWS_REGION"],
        ),
    ];
    for (url, env, said) in cases {
        let out = pglog_in(&["analyze", "-q", url], env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {stderr}");
        for s in said {
            assert!(stderr.contains(s), "{url}: {s:?} not in {stderr}");
        }
    }
}

/// 100 objects under one prefix (the RDS sample log, gzip), and one large
/// object (the primary's log 40 times, 42 MB), are read with about the peak
/// memory of the same files on disk: objects are streamed, never held whole.
#[test]
fn s3_objects_are_streamed_in_bounded_memory() {
    let b = Bucket::new();
    let dir = tmp();
    let packed = gzip(&std::fs::read(sample("rds/postgresql.log")).unwrap());
    for i in 0..100 {
        let name = format!("part-{i:03}.log.gz");
        b.put(&format!("many/{name}"), packed.clone());
        write(dir.path(), &name, &packed);
    }
    let big = std::fs::read(sample("primary/postgresql.log"))
        .unwrap()
        .repeat(40);
    b.put("big/postgresql.log", big.clone());
    let big_dir = tmp();
    let big_file = write(big_dir.path(), "postgresql.log", &big);
    drop(big);

    let env = b.moto.env();
    let peak_of = |input: &str| {
        let args = ["analyze", "--format", "json", "-q", "--jobs", "2", input];
        let (out, peak) = pglog_peak_with(&args, &env);
        assert!(
            out.status.success(),
            "{input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (report(&out, &args), peak)
    };
    for (remote, local, records) in [
        (
            b.url("many/"),
            dir.path().to_path_buf(),
            100 * records_of("rds"),
        ),
        (b.url("big/"), big_file, 40 * records_of("primary")),
    ] {
        let (local_doc, local_peak) = peak_of(local.to_str().unwrap());
        let (remote_doc, remote_peak) = peak_of(&remote);
        eprintln!(
            "{remote}: peak RSS {remote_peak} MB, the same files on disk {local_peak} MB (ratio {:.2})",
            remote_peak as f64 / local_peak as f64
        );
        assert_eq!(n(&remote_doc, "/input/records"), records, "{remote}");
        assert_eq!(findings(&remote_doc), findings(&local_doc), "{remote}");
        // The AWS client and its runtime cost about 10 MB; a whole object
        // held in memory would cost its size (42 MB for big/: 45 MB more
        // was measured when the body was collected before reading).
        assert!(
            remote_peak <= local_peak + 24,
            "{remote}: peak RSS {remote_peak} MB, local {local_peak} MB"
        );
    }
}

/// `pglog merge s3://...` of saved states gives the report of merging the
/// same state files.
#[test]
fn merge_reads_saved_states_from_s3() {
    let b = Bucket::new();
    let dir = tmp();
    let mut local = Vec::new();
    // Keys sort as the files are given, so both merge in the same order.
    for (i, inst) in INSTANCES.iter().enumerate() {
        let state = dir.path().join(format!("{inst}.state"));
        let out = pglog(&[
            "analyze",
            "-q",
            "--output",
            dir.path().join(format!("{inst}.txt")).to_str().unwrap(),
            "--save-state",
            state.to_str().unwrap(),
            sample(&format!("{inst}/postgresql.log")).to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        b.put(
            &format!("states/{i}-{inst}.state"),
            std::fs::read(&state).unwrap(),
        );
        local.push(state);
    }
    let mut args = vec!["merge", "--format", "json"];
    args.extend(local.iter().map(|p| p.to_str().unwrap()));
    let from_files = b.pglog(&args);
    assert!(from_files.status.success());
    let url = b.url("states/");
    let from_s3 = b.pglog(&["merge", "--format", "json", &url]);
    assert!(
        from_s3.status.success(),
        "{}",
        String::from_utf8_lossy(&from_s3.stderr)
    );
    let merged = report(&from_s3, &[]);
    assert_eq!(merged, report(&from_files, &[]));
    let records: u64 = INSTANCES.iter().map(|i| records_of(i)).sum();
    assert_eq!(n(&merged, "/input/records"), records);
}

/// What moto 5.2.5 serves of the RDS API: CreateDBInstance and
/// DescribeDBLogFiles (one made-up file per instance), but not
/// DownloadDBLogFilePortion (HTTP 500). So the listing is tested end to
/// end, and the download's failure is a skipped input that names the
/// instance, the file and the call, beside a local log that is read.
#[test]
fn rds_log_files_are_listed_and_a_failed_download_is_skipped() {
    let b = Bucket::new();
    let rds = aws_sdk_rds::Client::new(&b.rt.block_on(b.moto.sdk_config()));
    b.rt.block_on(
        rds.create_db_instance()
            .db_instance_identifier("pglog-db1")
            .engine("postgres")
            .db_instance_class("db.t3.micro")
            .master_username("pglog")
            .master_user_password("not-a-secret-1")
            .allocated_storage(20)
            .send(),
    )
    .expect("CreateDBInstance");
    let files =
        b.rt.block_on(
            rds.describe_db_log_files()
                .db_instance_identifier("pglog-db1")
                .send(),
        )
        .expect("DescribeDBLogFiles");
    let file = files.describe_db_log_files()[0]
        .log_file_name()
        .unwrap()
        .to_string();
    let stream = format!("rds://pglog-db1/{file}");

    let local = sample("rds/postgresql.log");
    let args = [
        "analyze",
        "--format",
        "json",
        "-q",
        "--rds-instance",
        "pglog-db1",
        local.to_str().unwrap(),
    ];
    let out = b.pglog(&args);
    assert_eq!(out.status.code(), Some(1), "the download failed");
    let doc = report(&out, &args);
    assert_eq!(
        findings(&doc),
        findings(&analyze_path(&local, &[])),
        "the local log is read as alone"
    );
    let skipped = &doc["input"]["skipped"][0];
    assert_eq!(skipped["path"], stream.as_str());
    assert_eq!(skipped["kind"], "unreadable");
    let reason = skipped["reason"].as_str().unwrap();
    assert!(
        reason.contains("DownloadDBLogFilePortion") && reason.contains("HTTP 500"),
        "{reason}"
    );

    // Alone, nothing is read: exit 2, naming the file.
    let out = b.pglog(&["analyze", "-q", "--rds-instance", "pglog-db1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&stream), "{stderr}");

    let out = b.pglog(&["analyze", "-q", "--rds-instance", "pglog-no-such-db"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("RDS instance pglog-no-such-db: no such DB instance; check --rds-instance"),
        "{stderr}"
    );
}
