//! Inputs that change under the reader are reported, not passed off as
//! whole.

use super::*;

/// A copy of a real log, many times over, so that reading it takes a while.
fn long_log(dir: &Path) -> PathBuf {
    let one = std::fs::read(sample("primary/postgresql.log")).unwrap();
    let path = dir.join("postgresql.log");
    let mut f = std::fs::File::create(&path).unwrap();
    for _ in 0..30 {
        f.write_all(&one).unwrap();
    }
    path
}

/// Runs `pglog analyze` on `path` and calls `change` once pglog has the
/// file open.
fn analyze_while(path: &Path, change: impl FnOnce(&Path)) -> (Value, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_pglog"))
        .args(["analyze", "--format", "json", "-q", "-j", "1"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let is_open = || {
        std::fs::read_dir(&fds).is_ok_and(|d| {
            d.flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == path))
        })
    };
    while !is_open() {
        assert!(
            std::time::Instant::now() < deadline,
            "pglog never opened the file"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    change(path);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_file_appended_while_read_is_reported() {
    let dir = tmp();
    let path = long_log(dir.path());
    let size = std::fs::metadata(&path).unwrap().len();
    let more = std::fs::read(sample("primary/postgresql.log")).unwrap();
    let (doc, err) = analyze_while(&path, |p| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(p)
            .unwrap()
            .write_all(&more)
            .unwrap();
    });
    let c = &doc["input"]["changed"][0];
    assert_eq!(c["path"], path.to_str().unwrap());
    assert_eq!(c["change"], "appended");
    assert_eq!(c["bytes_at_start"].as_u64(), Some(size));
    assert_eq!(c["bytes_at_end"].as_u64(), Some(size + more.len() as u64));
    assert_eq!(doc["input"]["sources"][0]["changed"]["change"], "appended");
    assert!(err.contains("changed while it was read (appended"), "{err}");
}

#[test]
fn a_file_truncated_while_read_is_reported() {
    let dir = tmp();
    let path = long_log(dir.path());
    let (doc, err) = analyze_while(&path, |p| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(p)
            .unwrap()
            .set_len(1000)
            .unwrap();
    });
    assert_eq!(doc["input"]["changed"][0]["change"], "truncated");
    assert_eq!(
        doc["input"]["changed"][0]["bytes_at_end"].as_u64(),
        Some(1000)
    );
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn a_steady_file_has_no_change() {
    let doc = analyze_path(&sample("primary/postgresql.log"), &[]);
    assert_eq!(doc["input"]["changed"], serde_json::json!([]));
    assert!(doc["input"]["sources"][0]["changed"].is_null());
}
