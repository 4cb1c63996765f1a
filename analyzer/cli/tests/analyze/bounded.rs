//! Bounded memory on hostile input. The logs come from a real server
//! (`sample-logs/generate-adversarial.sh`): statements of several MiB that
//! the parser must not be given whole, one of 100,000 lines, and the same
//! records with a statement grown to 50 MiB. Peak RSS is read from the
//! kernel for each run.

use super::*;
use std::io::Read;
use std::sync::OnceLock;

/// The budget the issue sets for any input.
const PEAK_RSS_LIMIT_MB: u64 = 256;

/// The adversarial logs, made once per test run into one place in the
/// target dir (about 200 MB): a run replaces the last run's, so they do not
/// pile up in the temp dir.
fn adversarial() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("adversarial-logs");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("bash")
            .arg(repo().join("sample-logs/generate-adversarial.sh"))
            .arg(&dir)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "generate-adversarial.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// Runs pglog and returns its output with its peak resident set in MB.
fn pglog_peak(args: &[&str]) -> (Output, u64) {
    pglog_peak_with(args, &[])
}

/// [`pglog_peak`] with more environment variables for the child.
pub(super) fn pglog_peak_with(args: &[&str], env: &[(String, String)]) -> (Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pglog runs");
    let hwm = watch_high_water(child.id());
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).unwrap();
        v
    });
    let mut stdout = Vec::new();
    so.read_to_end(&mut stdout).unwrap();
    let stderr = err.join().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4 gives this child's own peak, unlike RUSAGE_CHILDREN, which the
    // tests running in parallel would share.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    // ru_maxrss also counts the high-water mark of the test process the
    // child was forked from (Linux keeps it across exec), so a test that
    // holds big buffers would see its own size. The child's VmHWM is its own.
    let peak_kb = match hwm.finish() {
        0 => usage.ru_maxrss as u64,
        kb => kb,
    };
    let peak_mb = peak_kb / 1024;
    (
        Output {
            status,
            stdout,
            stderr,
        },
        peak_mb,
    )
}

/// Polls a running child's VmHWM (its peak resident set since exec) until
/// it is reaped.
struct HighWater {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    poller: std::thread::JoinHandle<u64>,
}

fn watch_high_water(pid: u32) -> HighWater {
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let stop = done.clone();
    let poller = std::thread::spawn(move || {
        let mut peak_kb = 0;
        while !stop.load(Ordering::Relaxed) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak_kb
    });
    HighWater { done, poller }
}

impl HighWater {
    /// The highest VmHWM seen, in kB (0 when none was read).
    fn finish(self) -> u64 {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        self.poller.join().unwrap()
    }
}

/// `pglog analyze --format json` of `path`, checked to succeed within the
/// memory budget.
fn analyze_bounded(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", "--format", "json", "-q"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let (out, peak) = pglog_peak(&args);
    assert!(
        out.status.success(),
        "pglog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        peak <= PEAK_RSS_LIMIT_MB,
        "pglog {args:?} peaked at {peak} MB"
    );
    eprintln!("pglog {args:?}: peak RSS {peak} MB");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn skipped_groups(doc: &Value) -> Vec<String> {
    doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["parse_skipped"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn statements_of_several_mib_are_grouped_without_the_parser() {
    for ext in ["log", "csv", "json"] {
        let doc = analyze_bounded(&adversarial().join(format!("real/postgresql.{ext}")), &[]);
        assert_eq!(n(&doc, "/input/malformed"), 0, "{ext}");
        // The 4 MiB ARRAY[...] ran and was timed; the failing 2 MiB target
        // list and `1+1+...` are kept as the statements of their errors.
        let array = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| {
                q["normalized"]
                    .as_str()
                    .unwrap()
                    .starts_with("SELECT cardinality(ARRAY[$1,$2")
            })
            .unwrap_or_else(|| panic!("{ext}: no ARRAY query in {}", doc["queries"]));
        assert_eq!(array["calls"], 1, "{ext}");
        let why = array["parse_skipped"].as_str().expect("parse_skipped");
        assert!(why.contains("over the parser's limit"), "{why}");
        assert!(
            array["normalized"].as_str().unwrap().chars().count() <= 16 * 1024 + 1,
            "{ext}: the shown text is clipped"
        );
        assert_eq!(array["parse_failed"], false);
        let errors = doc["errors"].to_string();
        assert!(errors.contains("target lists can have at most"), "{ext}");
        assert!(errors.contains("stack depth limit exceeded"), "{ext}");
        // Ordinary statements of the same log are parsed as always.
        let create = doc["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["normalized"] == "CREATE TABLE t (a int)")
            .expect("CREATE TABLE");
        assert!(create["parse_skipped"].is_null());
    }
}

#[test]
fn a_fifty_mib_statement_in_every_format() {
    for ext in ["log", "csv", "json"] {
        let real = analyze_bounded(&adversarial().join(format!("real/postgresql.{ext}")), &[]);
        let big = analyze_bounded(&adversarial().join(format!("big/postgresql.{ext}")), &[]);
        assert_eq!(n(&big, "/input/malformed"), 0, "{ext}");
        assert_eq!(
            n(&big, "/input/records"),
            n(&real, "/input/records"),
            "{ext}: every record is kept"
        );
        assert_eq!(
            big["errors"]["by_sqlstate"], real["errors"]["by_sqlstate"],
            "{ext}"
        );
        assert!(!skipped_groups(&big).is_empty(), "{ext}");
    }
}

#[test]
fn the_record_limit_holds_for_multi_line_records_in_every_format() {
    let mut seen = Vec::new();
    for ext in ["log", "csv", "json"] {
        let whole = analyze_bounded(&adversarial().join(format!("real/postgresql.{ext}")), &[]);
        let doc = analyze_bounded(
            &adversarial().join(format!("real/postgresql.{ext}")),
            &["--max-record-bytes", "65536"],
        );
        // The 100,000-line statement and the three of several MiB are over
        // the limit; each record is counted once, the rest are kept.
        let samples = doc["input"]["malformed_samples"].as_array().unwrap();
        assert_eq!(n(&doc, "/input/malformed"), 4, "{ext}: {samples:?}");
        assert!(
            samples.iter().all(|s| s["kind"] == "too_long"),
            "{samples:?}"
        );
        assert_eq!(
            n(&doc, "/input/records") + 4,
            n(&whole, "/input/records"),
            "{ext}"
        );
        assert!(
            skipped_groups(&doc).is_empty(),
            "{ext}: nothing huge is left"
        );
        seen.push(n(&doc, "/input/records"));
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "same records in every format: {seen:?}"
    );
    // The stderr record says how many lines it had.
    let doc = analyze_bounded(
        &adversarial().join("real/postgresql.log"),
        &["--max-record-bytes", "65536"],
    );
    let reasons = doc["input"]["malformed_samples"].to_string();
    assert!(reasons.contains("(100001 lines)"), "{reasons}");
}

#[test]
fn a_flood_of_blank_lines_in_a_gzip_is_counted_in_bounded_memory() {
    // Six records of a real log, then 16 Mi blank lines, then the rest:
    // PostgreSQL writes no blank line, so each is a foreign line, counted
    // and not kept, and the record before them is whole.
    let original = std::fs::read(sample("replica/postgresql.log")).unwrap();
    let starts = record_start_lines(&original, "stderr");
    let cut = starts[6];
    let dir = tmp();
    let path = dir.path().join("flood.log.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&original[..cut]).unwrap();
    let blank = vec![b'\n'; 1 << 20];
    for _ in 0..16 {
        gz.write_all(&blank).unwrap();
    }
    gz.write_all(&original[cut..]).unwrap();
    gz.finish().unwrap();

    let base = analyze_bounded(&sample("replica/postgresql.log"), &[]);
    let doc = analyze_bounded(&path, &["--max-record-bytes", "1048576"]);
    assert_eq!(n(&doc, "/input/malformed"), 0);
    assert_eq!(n(&doc, "/input/foreign_lines"), 16 << 20);
    let s = &doc["input"]["foreign_samples"][0];
    let line = 1 + original[..cut].iter().filter(|&&c| c == b'\n').count() as u64;
    assert_eq!(s["line"].as_u64().unwrap(), line, "{s}");
    assert_eq!(s["text"], "");
    assert_eq!(base["summary"], doc["summary"]);
}
