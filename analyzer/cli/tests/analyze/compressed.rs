//! Compressed input is decoded by one thread and read in ranges by the
//! others. The report is the same, every field, as the plain file's read
//! whole, whatever the compression, the range size and the thread count;
//! a cut or corrupt stream is reported as when it is read whole.

use super::statistics::assert_same;
use super::*;

/// Sample logs of each format the decoded stream is split for.
const LOGS: &[&str] = &[
    "concurrent/postgresql.csv",
    "primary/postgresql.json",
    "primary/postgresql.log",
    "rds/postgresql.log",
];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(bytes).unwrap();
    bz.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(bytes).unwrap();
    xz.finish().unwrap()
}

/// `bytes` compressed in three parts, one after the other: gzip members or
/// zstd frames. The parts are cut anywhere, not at lines.
fn in_parts(bytes: &[u8], compress: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let third = bytes.len() / 3 + 1;
    bytes.chunks(third).flat_map(compress).collect()
}

/// Every compression `pglog` reads, with its name in the report.
fn compressed_copies(original: &[u8]) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let zstd = |b: &[u8]| zstd::encode_all(b, 1).unwrap();
    vec![
        ("gz", "gzip", gzip(original)),
        ("members.gz", "gzip", in_parts(original, gzip)),
        ("zst", "zstd", zstd(original)),
        ("frames.zst", "zstd", in_parts(original, zstd)),
        ("bz2", "bzip2", bzip2(original)),
        ("xz", "xz", xz(original)),
    ]
}

/// The report of `path` in ranges of `range` bytes, by `jobs` threads.
fn report(path: &Path, range: u64, jobs: usize) -> Value {
    let (range, jobs) = (range.to_string(), jobs.to_string());
    analyze_path(path, &["-j", &jobs, "--chunk-bytes", &range])
}

/// The report of `compressed` as if it were of the plain file `plain`: the
/// input's name and compression replaced.
fn as_plain(doc: Value, compressed: &Path, plain: &Path, kind: &str) -> Value {
    let text = serde_json::to_string(&doc)
        .unwrap()
        .replace(compressed.to_str().unwrap(), plain.to_str().unwrap())
        .replace(
            &format!("\"compression\":\"{kind}\""),
            "\"compression\":\"none\"",
        );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn compressed_logs_give_the_plain_report_at_any_range_and_thread_count() {
    let dir = tmp();
    for (i, log) in LOGS.iter().enumerate() {
        let plain = sample(log);
        let original = std::fs::read(&plain).unwrap();
        let whole = analyze_path(&plain, &["-j", "1", "--chunk-bytes", "1000000000"]);
        assert!(n(&whole, "/input/records") > 0, "{log}");
        for (j, (ext, kind, bytes)) in compressed_copies(&original).into_iter().enumerate() {
            let p = write(
                dir.path(),
                &format!("{}.{ext}", log.replace('/', "-")),
                &bytes,
            );
            // Ranges from a few records to a few hundred.
            let range = [3_000, 20_000, 150_000][(i + j) % 3];
            // Every thread count for one gzip and one zstd copy; one each for the rest.
            let all = [1, 2, 4];
            let jobs: &[usize] = match ext {
                "gz" | "zst" => &all,
                _ => &all[(i + j) % 3..][..1],
            };
            for &jobs in jobs {
                let doc = report(&p, range, jobs);
                assert_eq!(doc["input"]["sources"][0]["compression"], kind);
                assert_same(
                    &as_plain(doc, &p, &plain, kind),
                    &whole,
                    &format!("{log} as {ext} in ranges of {range} bytes, -j {jobs}"),
                );
            }
        }
    }
}

#[test]
fn damaged_compressed_logs_are_reported_as_when_read_whole() {
    let original = std::fs::read(sample("primary/postgresql.log")).unwrap();
    let dir = tmp();
    let zstd = zstd::encode_all(&original[..], 1).unwrap();
    let mut corrupt = gzip(&original);
    let middle = corrupt.len() / 2;
    for b in &mut corrupt[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let gz = gzip(&original);
    let cases = [
        ("cut.log.gz", gz[..gz.len() / 2].to_vec()),
        ("cut.log.zst", zstd[..zstd.len() * 2 / 3].to_vec()),
        ("corrupt.log.gz", corrupt),
    ];
    for (name, bytes) in cases {
        let p = write(dir.path(), name, &bytes);
        // Smaller than the least compressed size read in ranges: read whole.
        let whole = analyze_path(&p, &["-j", "1"]);
        assert!(n(&whole, "/input/records") > 0, "{name}");
        assert!(n(&whole, "/input/malformed") > 0, "{name}");
        if name.starts_with("cut") {
            let samples = whole["input"]["malformed_samples"].as_array().unwrap();
            assert!(
                samples
                    .iter()
                    .any(|s| s["reason"].as_str().unwrap().starts_with("reading stopped")),
                "{name}: {samples:?}"
            );
        }
        for jobs in [1, 2, 4] {
            assert_same(
                &report(&p, 5_000, jobs),
                &whole,
                &format!("{name} in ranges, -j {jobs}"),
            );
        }
    }
}
