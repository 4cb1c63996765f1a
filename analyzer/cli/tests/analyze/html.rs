//! The HTML report of the primary's sample log, whose workload logs markup
//! on purpose (`hostile.sql`). A real headless Chromium opens it.

use super::*;

pub(super) fn render(dir: &Path) -> (PathBuf, String) {
    let out = dir.join("report.html");
    let run = pglog(&[
        "analyze",
        "-o",
        out.to_str().unwrap(),
        sample("primary/postgresql.csv").to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    (out, html)
}

/// The ids of the page's sections, each shown whatever the log holds.
pub(super) const SECTIONS: &[&str] = &[
    "overview",
    "charts",
    "top-queries",
    "top-total",
    "top-calls",
    "top-p95",
    "top-max",
    "details",
    "plans",
    "errors",
    "locks",
    "temp",
    "checkpoints",
    "autovacuum",
    "sessions",
    "auth",
    "audit",
];

#[test]
fn the_page_is_self_contained_and_has_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = render(dir.path());
    assert!(html.len() < 5 << 20, "{} bytes", html.len());
    for id in SECTIONS {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    for chart in [
        "chart-queries",
        "chart-errors",
        "chart-durations",
        "chart-connections",
        "chart-checkpoints",
    ] {
        let at = html
            .find(&format!("id=\"{chart}\""))
            .unwrap_or_else(|| panic!("{chart} missing"));
        assert!(
            html[at..]
                .trim_start_matches(|c| c != '>')
                .get(1..200)
                .unwrap()
                .contains("<svg"),
            "{chart} has no SVG"
        );
    }
    // Nothing is fetched: no scripts, stylesheets, images or fonts by URL.
    // The one script is the page's own, inline (its hash is in the policy).
    assert_eq!(html.matches("<script").count(), 1);
    for needle in [
        "<script src",
        "<link",
        "<img",
        "src=\"",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    // The plans section shows the flagged nodes of the workload's plans.
    assert!(html.contains("class=\"flag\""));
    for kind in ["misestimate", "disk_spill", "seq_scan_filter", "many_loops"] {
        assert!(
            html.contains(&format!("<span class=\"kind\">{kind}</span>")),
            "{kind} not shown"
        );
    }
}

#[test]
fn log_text_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = render(dir.path());
    // The hostile table name (in an error) and application name are shown…
    assert!(
        html.contains("&lt;script&gt;alert(2)"),
        "the table name is not shown"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(3)&gt;"),
        "the application is not shown"
    );
    // …and none of them is markup.
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>bold"));
    assert!(!html.to_lowercase().contains("onerror=alert(3)>"));
}

fn chromium() -> String {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .unwrap_or_else(|| {
            panic!("no Chromium: .ci/test.sh installs the Debian package `chromium`")
        })
        .to_string()
}

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

/// The DOM of `page` after a headless Chromium loaded it, and what the page
/// wrote to the browser console (script errors, blocked loads: nothing is
/// expected).
pub(super) fn open_in_chromium(page: &Path) -> (String, Vec<String>) {
    dump_dom(&format!("file://{}", page.display()), &[])
}

/// The DOM at `url` after load, with `flags` added, and the console lines.
pub(super) fn dump_dom(url: &str, flags: &[&str]) -> (String, Vec<String>) {
    let out = Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
        .args(flags)
        .arg(url)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

#[test]
fn chromium_renders_the_page_and_runs_nothing_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (page, html) = render(dir.path());
    let url = format!("file://{}", page.display());
    let shot = dir.path().join("report.png");
    let out = Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2400")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    // The DOM after load: the same elements the page was written with, no
    // script, and the log's markup still text.
    let (dom, console) = open_in_chromium(&page);
    assert!(console.is_empty(), "{console:?}");
    assert!(
        dom.contains("PostgreSQL log report"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert_eq!(dom.matches("<script").count(), 1);
    assert!(!dom.contains("<img"));
    assert!(dom.contains("&lt;script&gt;alert(2)"));
    assert_eq!(dom.matches("<svg").count(), html.matches("<svg").count());
}
